import type { A_Const, Node } from 'libpg-query';
import { KnexsafeError } from '../errors.js';
import type { ColumnInfo, IndexInfo, TableInfo } from '../schema/types.js';
import { constantValue, nodeOf, unwrap } from '../sql/ast.js';
import { parseTypeText, sameType, typeChange } from '../sql/datatypes.js';
import { parseSqlSync } from '../sql/parse.js';
import { ident, jsSql as sqlLiteral, jsString as js, sqlString } from '../codegen/index.js';
import type { Intent } from './grammar.js';
import { referencedTableOf } from './grammar.js';
import { identifierWithin63, singular } from './naming.js';
import type { SchemaView } from './schema-lookup.js';
import type { MigrationBody } from './stubs.js';
import { guessColumnType, parseTypeWords, typeFromCatalog, TYPE_WORDS_HELP, type ColumnType } from './types.js';

export interface GenerateOptions {
  /** The seed's simple forms (plain index, unique, foreign key, NOT NULL, one-statement backfill): for small tables. */
  simple?: boolean;
  /** Keep a copy of dropped columns' values so down can restore them (default true). */
  backup?: boolean;
  /** Enum values (create_<type>_enum, add_<col>_enum_to_<table>). */
  values?: string[];
  /** The SQL expression a backfill sets. */
  set?: string;
  batchSize?: number;
  /** ON DELETE action of a foreign key. */
  onDelete?: string;
  /** Column types for add_<col>_to_<table>, by column: type words as in change_<col>_to_<type>. */
  types?: Record<string, string>;
  /** lock_timeout set before DDL that locks existing tables; default 5s. */
  lockTimeout?: string;
  /** Target PostgreSQL major version, for rewrite predictions. */
  pgVersion?: number;
  /** The project runs migrations without knex's transaction (knexfile `disableTransactions`). */
  transactionsDisabled?: boolean;
  typescript?: boolean;
}

/** One file to write: its name is the migration name plus `suffix`. */
export interface PlannedFile {
  suffix: string;
  body: MigrationBody;
  /** What this file does, for --json and the summary. */
  role: string;
}

export interface Generated {
  files: PlannedFile[];
  warnings: string[];
  /** Facts found while generating (column types, names of created objects), reported with the intent. */
  details: Record<string, unknown>;
}

const I = '  ';

function indent(lines: string[], depth = 1): string[] {
  return lines.map((l) => (l === '' ? l : I.repeat(depth) + l));
}

function raw(db: string, sql: string): string {
  return `await ${db}.raw(${sqlLiteral(sql)});`;
}

function usage(message: string, hint?: string): KnexsafeError {
  return new KnexsafeError('MAKE_UNRESOLVED', message, hint ? { hint } : {});
}

/** Code lines and the helpers they share. */
class Writer {
  readonly warnings: string[] = [];
  readonly details: Record<string, unknown> = {};
  constructor(
    readonly schema: SchemaView,
    readonly options: GenerateOptions,
  ) {}

  get lockTimeout(): string {
    return `SET LOCAL lock_timeout = ${sqlString(this.options.lockTimeout ?? '5s')}`;
  }

  get simple(): boolean {
    return this.options.simple === true;
  }

  /**
   * Statements that take a strong lock on an existing table, preceded by a lock_timeout: an ALTER
   * waiting for its lock blocks every query queued behind it, so it should give up quickly instead.
   * In a migration knex runs in a transaction SET LOCAL suffices; otherwise they get their own.
   */
  locked(transactional: boolean, body: (db: string) => string[], comment = true): string[] {
    if (this.simple) return body('knex');
    const why = comment ? ['// Give up after lock_timeout rather than queue: a waiting ALTER holds up every query behind it.'] : [];
    if (transactional && !this.options.transactionsDisabled) return [...why, raw('knex', this.lockTimeout), ...body('knex')];
    return [...why, 'await knex.transaction(async (trx) => {', ...indent([raw('trx', this.lockTimeout), ...body('trx')]), '});'];
  }

  table(name: string): TableInfo {
    const t = this.schema.table(name);
    if (!t) throw usage(`The table ${name} does not exist in the schema the migrations build.`);
    return t;
  }
}

/** The migration files for an intent. */
export function generate(intent: Intent, schema: SchemaView, options: GenerateOptions = {}): Generated {
  const w = new Writer(schema, options);
  let files: PlannedFile[];
  switch (intent.kind) {
    case 'create-table':
      files = createTables(intent.tables);
      break;
    case 'add-columns':
      files = addColumns(w, intent.table, intent.columns);
      break;
    case 'drop-columns':
      files = dropColumns(w, intent.table, intent.columns);
      break;
    case 'add-index':
      files = addIndex(w, intent.table, intent.columns);
      break;
    case 'add-unique':
      files = addUnique(w, intent.table, intent.columns);
      break;
    case 'add-foreign-key':
      files = addForeignKey(w, intent.table, intent.columns, intent.references);
      break;
    case 'rename-column':
      files = renameColumn(w, intent.table, intent.from, intent.to);
      break;
    case 'rename-table':
      files = renameTable(w, intent.from, intent.to);
      break;
    case 'change-type':
      files = changeType(w, intent.table, intent.column, intent.type);
      break;
    case 'set-not-null':
      files = setNotNull(w, intent.table, intent.column);
      break;
    case 'drop-not-null':
      files = dropNotNull(w, intent.table, intent.column);
      break;
    case 'backfill':
      files = backfill(w, intent.table, intent.column);
      break;
    case 'create-enum':
      files = createEnum(w, intent.type);
      break;
    case 'add-enum-column':
      files = addEnumColumn(w, intent.table, intent.column);
      break;
    case 'add-enum-value':
      files = addEnumValue(w, intent.type, intent.value);
      break;
  }
  return { files, warnings: w.warnings, details: w.details };
}

// ---------------------------------------------------------------------------------------------
// Tables

function createTables(tables: string[]): PlannedFile[] {
  const up: string[] = [];
  for (const t of tables) {
    up.push(
      `await knex.schema.createTable(${js(t)}, (table) => {`,
      ...indent([
        `// knex 3 has no identity builder; an identity column ties its sequence to the column (unlike increments()).`,
        `table.specificType('id', 'bigint generated by default as identity').primary();`,
        `// TODO: the columns of ${t}, e.g. table.text('name').notNullable();`,
        `table.timestamps(true, true);`,
      ]),
      `});`,
    );
  }
  const down = [...tables].reverse().map((t) => `await knex.schema.dropTable(${js(t)});`);
  return [{ suffix: '', role: tables.length > 1 ? 'create the tables' : 'create the table', body: { up, down } }];
}

function renameTable(w: Writer, from: string, to: string): PlannedFile[] {
  const header = [
    `// Renaming ${from} breaks every running app server that still queries it by its old name:`,
    `// deploy code that can use either name first (or leave a view named ${from} behind), then rename.`,
  ];
  return [
    {
      suffix: '',
      role: 'rename the table',
      body: {
        header,
        up: w.locked(true, (db) => [`await ${db}.schema.renameTable(${js(from)}, ${js(to)});`]),
        down: w.locked(true, (db) => [`await ${db}.schema.renameTable(${js(to)}, ${js(from)});`], false),
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Columns

function columnTypeFor(w: Writer, table: string, column: string): { type: ColumnType; modifiers: string; reason: string } {
  const given = w.options.types?.[column];
  if (given !== undefined) {
    const type = parseTypeWords(given.split(/[_\s]+/).filter(Boolean), w.schema.enumNames());
    if (!type) throw usage(`--type ${column}:${given}: "${given}" is not a type knexsafe knows.`, `Types: ${TYPE_WORDS_HELP}.`);
    return { type, modifiers: '', reason: 'given with --type' };
  }
  const ref = referencedTableOf(column, w.schema);
  const key = ref ? w.schema.primaryKey(ref) : undefined;
  const keyType = key?.columns.length === 1 ? ref?.columns[key.columns[0]!]?.type : undefined;
  const guess = guessColumnType(column, keyType);
  if (ref && keyType) guess.reason = `refers to ${ref.name}.${key!.columns[0]} (add the foreign key with: knexsafe make add_foreign_key_on_${table}_${column})`;
  return guess;
}

function addColumns(w: Writer, table: string, columns: string[]): PlannedFile[] {
  const lines: string[] = [];
  const described: { name: string; type: string; guessed: boolean }[] = [];
  for (const c of columns) {
    const { type, modifiers, reason } = columnTypeFor(w, table, c);
    lines.push(`${type.builder(c)}${modifiers}; // ${reason}`);
    described.push({ name: c, type: type.sql, guessed: reason !== 'given with --type' });
  }
  w.details.columns = described;
  if (described.some((d) => d.guessed)) {
    w.warnings.push(`Column types are guessed from the names (${described.map((d) => `${d.name}: ${d.type}`).join(', ')}); check them, or pass --type <column>:<type>.`);
  }
  const up = w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent(lines), `});`]);
  const down = w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([...columns].reverse().map((c) => `table.dropColumn(${js(c)});`)), `});`], false);
  return [{ suffix: '', role: 'add the column(s)', body: { up, down } }];
}

/** A literal that fits a NOT NULL column of this type, for rows that have no saved value. */
function placeholderFor(w: Writer, column: ColumnInfo): string | undefined {
  const enumType = Object.values(w.schema.snapshot.enums).find((e) => `${e.schema}.${e.name}` === column.type || e.name === column.type);
  if (enumType) return sqlString(enumType.values[0] ?? '');
  const ref = parseTypeText(column.type);
  if (!ref) return undefined;
  if (ref.array) return `'{}'`;
  switch (ref.name) {
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'citext':
    case 'bytea':
      return `''`;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'float4':
    case 'float8':
    case 'money':
      return '0';
    case 'bool':
      return 'false';
    case 'json':
    case 'jsonb':
      return `'{}'`;
    case 'uuid':
      return `'00000000-0000-0000-0000-000000000000'`;
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return `'1970-01-01'`;
    case 'interval':
      return `'0'`;
    default:
      return undefined;
  }
}

/** The knex builder call that re-creates `column` as it is (type, default, comment; NOT NULL handled by the caller). */
function recreateColumn(w: Writer, table: TableInfo, column: ColumnInfo, options: { notNull: boolean; placeholder?: string; withDefault?: boolean }): string {
  let call = column.collation ? `table.specificType(${js(column.name)}, ${js(`${column.type} COLLATE ${column.collation}`)})` : typeFromCatalog(column.type).builder(column.name);
  if (options.notNull) call += '.notNullable()';
  if (column.default !== null && options.withDefault !== false) call += `.defaultTo(knex.raw(${sqlLiteral(column.default)}))`;
  else if (options.placeholder !== undefined) call += `.defaultTo(knex.raw(${sqlLiteral(options.placeholder)}))`;
  const comment = w.schema.comment(`column ${table.schema}.${table.name}.${column.name}`);
  if (comment !== undefined) call += `.comment(${js(comment)})`;
  return `${call};`;
}

/** Whether the column's default draws from a sequence that dropping the column drops too (serial). */
function ownsSequence(w: Writer, table: TableInfo, column: ColumnInfo): boolean {
  const owner = `${table.schema}.${table.name}.${column.name}`;
  return column.default !== null && column.default.startsWith('nextval(') && Object.values(w.schema.snapshot.sequences).some((s) => s.ownedBy === owner);
}

function dropColumns(w: Writer, tableName: string, columns: string[]): PlannedFile[] {
  const table = w.table(tableName);
  const t = ident(table.name);
  for (const c of columns) {
    const refs = w.schema.referencesTo(table).filter((r) => r.constraint.references?.columns.includes(c));
    if (refs.length) {
      throw usage(
        `${table.name}.${c} is referenced by the foreign key ${refs.map((r) => `${r.constraint.name} on ${r.table.name}`).join(', ')}; dropping it would fail (or, with CASCADE, silently drop the key).`,
        `Drop the foreign key first, in its own migration.`,
      );
    }
  }
  const infos = columns.map((c) => {
    const info = table.columns[c]!;
    // A serial's sequence goes with the column; down re-creates a plain column (see the warning below).
    return ownsSequence(w, table, info) ? { ...info, default: null } : info;
  });
  const pk = w.schema.primaryKey(table);
  const backup = w.options.backup !== false && pk !== undefined && !pk.columns.some((k) => columns.includes(k));
  const special = columns.map((c) => table.columns[c]!).filter((c) => c.identity !== null || ownsSequence(w, table, c));
  for (const c of special) {
    w.warnings.push(`${table.name}.${c.name} takes its values from a sequence (serial or identity): down re-creates it as a plain column with the saved values; re-attach the sequence by hand if you roll back.`);
  }
  if (w.options.backup !== false && !backup) {
    w.warnings.push(`${table.name} has no primary key (outside the dropped columns), so knexsafe cannot keep the values to restore: down re-creates ${columns.length > 1 ? 'the columns' : 'the column'} without them.`);
  }
  const stored = infos.filter((c) => c.generated === null);
  const backupTable = identifierWithin63(`knexsafe_backup_${table.name}_${columns.join('_')}`);
  const constraints = Object.values(table.constraints).filter((c) => c.columns.some((col) => columns.includes(col)));
  if (pk?.columns.some((k) => columns.includes(k))) {
    w.warnings.push(`${columns.length > 1 ? 'The columns include' : `${table.name}.${columns[0]} is`} part of the primary key ${pk.name}: down re-adds the key, which fails unless the values come back unique and not null.`);
  }
  const indexes = w.schema.indexesOf(table).filter((i) => i.columns.some((col) => columns.includes(col)));
  w.details.columns = infos.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, default: c.default }));
  if (backup && stored.length) w.details.backupTable = backupTable;

  const header: string[] = [
    `// Dropping ${columns.length > 1 ? 'columns' : 'a column'} breaks app servers that still use ${columns.length > 1 ? 'them' : 'it'}: ship code that no longer reads or writes`,
    `// ${columns.map((c) => `${table.name}.${c}`).join(', ')} first. down re-creates ${columns.length > 1 ? 'them' : 'it'} as ${columns.length > 1 ? 'they were' : 'it was'} (type, NOT NULL, default, indexes, constraints)${backup && stored.length ? ',' : '.'}`,
  ];
  if (backup && stored.length) {
    header.push(`// with the values up copies to ${backupTable}. Drop that copy in a later migration once you are sure.`);
  }
  const up: string[] = [];
  if (backup && stored.length) {
    const keep = [...pk!.columns, ...stored.map((c) => c.name)].map(ident).join(', ');
    up.push(`// Keep the values: down puts them back.`, raw('knex', `CREATE TABLE ${ident(backupTable)} AS SELECT ${keep} FROM ${t}`));
  }
  up.push(...w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table.name)}, (table) => {`, ...indent(columns.map((c) => `table.dropColumn(${js(c)});`)), `});`]));

  // down: columns back (nullable while the values come back), values, NOT NULL, constraints, indexes.
  const adds: string[] = [];
  const after: ((db: string) => string)[] = [];
  const notNullLater: string[] = [];
  for (const c of infos) {
    if (c.generated !== null) {
      after.push((db) => raw(db, `ALTER TABLE ${t} ADD COLUMN ${ident(c.name)} ${c.type} GENERATED ALWAYS AS ${c.generated}`));
      continue;
    }
    if (c.nullable) {
      adds.push(recreateColumn(w, table, c, { notNull: false }));
    } else if (backup || c.default !== null) {
      adds.push(recreateColumn(w, table, c, { notNull: c.default !== null && !backup }));
      if (backup || c.default === null) notNullLater.push(c.name);
    } else {
      const placeholder = placeholderFor(w, c);
      if (placeholder !== undefined) {
        adds.push(`// ${c.name} is NOT NULL without a default: existing rows get ${placeholder}, then the default goes.`);
        adds.push(recreateColumn(w, table, c, { notNull: true, placeholder }));
        after.unshift((db) => raw(db, `ALTER TABLE ${t} ALTER COLUMN ${ident(c.name)} DROP DEFAULT`));
      } else {
        adds.push(recreateColumn(w, table, c, { notNull: false }));
        notNullLater.push(c.name);
      }
    }
  }
  const down: string[] = [];
  const downBody = (db: string): string[] => {
    const lines: string[] = [];
    if (adds.length) lines.push(`await ${db}.schema.alterTable(${js(table.name)}, (table) => {`, ...indent(adds), `});`);
    if (backup && stored.length) {
      const sets = stored.map((c) => `${ident(c.name)} = b.${ident(c.name)}`).join(', ');
      const on = pk!.columns.map((k) => `${t}.${ident(k)} = b.${ident(k)}`).join(' AND ');
      lines.push(raw(db, `UPDATE ${t} SET ${sets} FROM ${ident(backupTable)} b WHERE ${on}`));
    }
    if (notNullLater.length) {
      if (backup) lines.push(`// Rows inserted after up have no saved value: give them one before this if it fails.`);
      lines.push(`await ${db}.schema.alterTable(${js(table.name)}, (table) => {`, ...indent(notNullLater.map((c) => `table.dropNullable(${js(c)});`)), `});`);
    }
    lines.push(...after.map((line) => line(db)));
    for (const c of constraints) lines.push(raw(db, `ALTER TABLE ${t} ADD CONSTRAINT ${ident(c.name)} ${c.definition}`));
    for (const i of indexes) lines.push(raw(db, i.definition));
    if (backup && stored.length) lines.push(`await ${db}.schema.dropTable(${js(backupTable)});`);
    return lines;
  };
  down.push(...w.locked(true, downBody, false));
  return [{ suffix: '', role: 'drop the column(s)', body: { header, up, down } }];
}

function renameColumn(w: Writer, table: string, from: string, to: string): PlannedFile[] {
  const header = [
    `// Renaming ${table}.${from} breaks every running app server that still uses the old name: deploy code`,
    `// that works with both names first (or add ${to} and copy, then drop ${from} later), then rename.`,
  ];
  return [
    {
      suffix: '',
      role: 'rename the column',
      body: {
        header,
        up: w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([`table.renameColumn(${js(from)}, ${js(to)});`]), `});`]),
        down: w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([`table.renameColumn(${js(to)}, ${js(from)});`]), `});`], false),
      },
    },
  ];
}

/** `'new'::character varying` → `'new'`, so the default fits the new type; other expressions as they are. */
function portableDefault(expression: string): string {
  try {
    const [statement] = parseSqlSync(`select ${expression}`);
    const select = nodeOf<{ targetList?: Node[] }>(statement?.ast, 'SelectStmt');
    const value = nodeOf<{ val?: Node }>(select?.targetList?.[0], 'ResTarget')?.val;
    const cast = nodeOf<{ arg?: Node }>(value, 'TypeCast');
    const constant = nodeOf<A_Const>(cast?.arg, 'A_Const');
    if (constant && unwrap(cast?.arg)?.[0] === 'A_Const') {
      const v = constantValue(constant);
      if (typeof v === 'string') return sqlString(v);
      if (typeof v === 'number') return String(v);
      if (typeof v === 'boolean') return v ? 'true' : 'false';
    }
  } catch {
    // Not parseable alone: keep it as PostgreSQL printed it.
  }
  return expression;
}

function changeType(w: Writer, tableName: string, columnName: string, typeWords: string[]): PlannedFile[] {
  const table = w.table(tableName);
  const column = table.columns[columnName]!;
  const target = parseTypeWords(typeWords, w.schema.enumNames());
  if (!target) {
    throw usage(`"${typeWords.join('_')}" is not a type knexsafe knows.`, `Types: ${TYPE_WORDS_HELP}. Example: change_price_to_decimal_12_2_in_products.`);
  }
  const from = parseTypeText(column.type);
  const to = parseTypeText(target.sql);
  if (from && to && sameType(from, to)) throw usage(`${table.name}.${columnName} is already ${column.type}.`, 'Nothing to change.');
  w.details.from = column.type;
  w.details.to = target.sql;
  // Unknown types (enums, domains) are assumed to rewrite, as PostgreSQL would for a real conversion.
  const change = from && to ? typeChange(from, to, { pgVersion: w.options.pgVersion ?? 13 }) : { rewrite: true, certain: false, reason: '' };
  w.details.rewrites = change.rewrite;
  if (change.rewrite && !w.simple) {
    w.details.pattern = 'expand-contract';
    return expandContract(w, table, column, target);
  }
  const header: string[] = [];
  if (change.rewrite) {
    header.push(
      `// ${column.type} → ${target.sql} rewrites ${table.name} (and its indexes) under an ACCESS EXCLUSIVE lock: reads and`,
      `// writes wait until it is done. Fine for a small table; without --simple knexsafe writes the expand / contract steps.`,
    );
    w.warnings.push(`Changing ${table.name}.${columnName} from ${column.type} to ${target.sql} rewrites the whole table while blocking reads and writes (knexsafe check reports it); without --simple knexsafe writes the online expand / contract steps instead.`);
  }
  const current = typeFromCatalog(column.type);
  const plain = column.identity === null && column.generated === null;
  const t = ident(table.name);
  const c = ident(column.name);
  const keepDefault = (expr: string | null) => (expr === null ? '' : `.defaultTo(knex.raw(${sqlLiteral(expr)}))`);
  if (plain) {
    header.push(`// .alter() drops the column's DEFAULT (and NOT NULL, unless told not to): both are kept here as they were.`);
  }
  const up = w.locked(true, (db) =>
    plain
      ? [`await ${db}.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`${target.builder(column.name)}${keepDefault(column.default === null ? null : portableDefault(column.default))}.alter({ alterNullable: false });`]), `});`]
      : [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${target.sql} USING ${c}::${target.sql}`)],
  );
  const down = w.locked(
    true,
    (db) =>
      plain
        ? [`await ${db}.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`${current.builder(column.name)}${keepDefault(column.default)}.alter({ alterNullable: false });`]), `});`]
        : [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${column.type} USING ${c}::${column.type}`)],
    false,
  );
  return [{ suffix: '', role: 'change the column type', body: { header, up, down } }];
}

/** The SQL of a plain index on columns (no expression, predicate, order or operator class), or undefined. */
function simpleIndexSql(index: IndexInfo, table: TableInfo, name: string, columns: string[], concurrently: boolean): string | undefined {
  const plainDefinition = `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${ident(index.name)} ON ${ident(table.schema)}.${ident(table.name)} USING btree (${index.columns.map(ident).join(', ')})`;
  if (index.definition !== plainDefinition || index.predicate !== null) return undefined;
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX${concurrently ? ' CONCURRENTLY IF NOT EXISTS' : ''} ${ident(name)} ON ${ident(table.name)} (${columns.map(ident).join(', ')})`;
}

/**
 * A type change that would rewrite the table, done online: a new column kept in sync by a trigger,
 * a batched copy, indexes built concurrently, NOT NULL proven by a validated check, then a
 * catalog-only swap under the old name. Each step is its own migration and its own exact inverse.
 */
function expandContract(w: Writer, table: TableInfo, column: ColumnInfo, target: ColumnType): PlannedFile[] {
  const name = table.name;
  const t = ident(name);
  const c = ident(column.name);
  let next = `${column.name}_new`;
  for (let i = 2; table.columns[next]; i++) next = `${column.name}_new${i}`;
  const n = ident(next);
  const sync = identifierWithin63(`${name}_${next}_sync`);
  const check = identifierWithin63(`${name}_${next}_not_null`);
  const notNull = !column.nullable;

  const blockers: string[] = [];
  if (column.identity !== null) blockers.push('its identity');
  if (column.generated !== null) blockers.push('its generation expression');
  if (ownsSequence(w, table, column)) blockers.push('its serial sequence');
  for (const con of Object.values(table.constraints)) if (con.columns.includes(column.name)) blockers.push(`constraint ${con.name}`);
  for (const r of w.schema.referencesTo(table)) if (r.constraint.references?.columns.includes(column.name)) blockers.push(`foreign key ${r.constraint.name} of ${r.table.name}`);
  const indexes = w.schema.indexesOf(table).filter((i) => i.columns.includes(column.name));
  const rebuilt = indexes.map((i) => {
    const temp = identifierWithin63(`${i.name}_new`);
    const build = simpleIndexSql(i, table, temp, i.columns.map((col) => (col === column.name ? next : col)), true);
    const restore = simpleIndexSql(i, table, i.name, i.columns, true);
    if (!build || !restore) blockers.push(`index ${i.name} (not a plain column index)`);
    return { index: i, temp, build: build ?? '', restore: restore ?? '' };
  });
  if (blockers.length) {
    throw usage(
      `Changing ${name}.${column.name} to ${target.sql} rewrites the table, and the online expand / contract steps knexsafe writes cannot carry ${blockers.join(', ')}.`,
      `Pass --simple for the in-place ALTER (it blocks ${name} while it rewrites: fine for a small table), or write the steps by hand.`,
    );
  }
  w.details.newColumn = next;
  const execute = (w.options.pgVersion ?? 13) >= 11 ? 'EXECUTE FUNCTION' : 'EXECUTE PROCEDURE';
  const createFunction = [`CREATE FUNCTION ${ident(sync)}() RETURNS trigger LANGUAGE plpgsql AS $$`, `BEGIN`, `  NEW.${n} := NEW.${c}::${target.sql};`, `  RETURN NEW;`, `END`, `$$`].join('\n');
  const createTrigger = `CREATE TRIGGER ${ident(sync)} BEFORE INSERT OR UPDATE OF ${c} ON ${t} FOR EACH ROW ${execute} ${ident(sync)}()`;
  const addCheck = `ALTER TABLE ${t} ADD CONSTRAINT ${ident(check)} CHECK (${n} IS NOT NULL)`;
  const comment = w.schema.comment(`column ${table.schema}.${table.name}.${column.name}`);
  const steps = 3 + (rebuilt.length ? 1 : 0) + (notNull ? 1 : 0);
  let step = 0;
  const of = () => `step ${++step} of ${steps}`;
  const files: PlannedFile[] = [];
  const ts = w.options.typescript === true;

  files.push({
    suffix: '',
    role: `expand: add ${next}, kept in sync by a trigger`,
    body: {
      header: [
        `// ${column.type} → ${target.sql} in place would rewrite ${name} under ACCESS EXCLUSIVE (reads and writes wait for the`,
        `// whole copy). Online instead, in ${steps} migrations (deploy them in order; --simple writes the in-place ALTER):`,
        `// ${of()}: add ${next} (${target.sql}), filled by a trigger whenever ${column.name} is written. Catalog-only, brief locks.`,
      ],
      up: w.locked(true, (db) => [
        raw(db, `ALTER TABLE ${t} ADD COLUMN ${n} ${target.sql}`),
        raw(db, createFunction),
        raw(db, createTrigger),
      ]),
      down: w.locked(true, (db) => [raw(db, `DROP TRIGGER ${ident(sync)} ON ${t}`), raw(db, `DROP FUNCTION ${ident(sync)}()`), raw(db, `ALTER TABLE ${t} DROP COLUMN ${n}`)], false),
    },
  });
  const pk = w.schema.primaryKey(table);
  const key = pk?.columns.length === 1 ? pk.columns[0]! : undefined;
  if (!key) w.warnings.push(`${name} has no single-column primary key: the copy walks the id column; replace it with a unique, indexed column.`);
  files.push({
    suffix: '_backfill',
    role: `copy ${column.name} into ${next} in batches`,
    body: {
      header: [
        `// ${name}.${column.name} → ${target.sql}, ${of()}: copy the existing rows into ${next} in batches by primary key, each UPDATE`,
        `// committing on its own (no transaction around the loop). Safe to run again.`,
        `// down empties ${next} again (it only ever holds copies; the previous step's down drops it).`,
      ],
      preamble: batchPreamble(w.options.batchSize ?? 1000),
      up: keysetLoop(name, key ?? 'id', sqlLiteral(`UPDATE ${t} SET ${n} = ${c}::${target.sql} WHERE ${n} IS NULL AND ${t}.${ident(key ?? 'id')} BETWEEN ? AND ?`), ts),
      down: [raw('knex', `UPDATE ${t} SET ${n} = NULL WHERE ${n} IS NOT NULL`)],
      transaction: false,
    },
  });
  if (rebuilt.length) {
    files.push({
      suffix: '_indexes',
      role: `build ${next}'s indexes concurrently`,
      body: {
        header: [
          `// ${name}.${column.name} → ${target.sql}, ${of()}: build the indexes ${next} needs, CONCURRENTLY (reads and writes go on;`,
          `// not inside a transaction, hence config below). The swap gives them the old names.`,
        ],
        up: rebuilt.map((r) => raw('knex', r.build)),
        down: rebuilt.map((r) => raw('knex', `DROP INDEX CONCURRENTLY IF EXISTS ${ident(r.temp)}`)),
        transaction: false,
      },
    });
  }
  if (notNull) {
    files.push({
      suffix: '_validate',
      role: `prove ${next} IS NOT NULL`,
      body: {
        header: [
          `// ${name}.${column.name} → ${target.sql}, ${of()}: prove every row of ${next} is filled, so the swap can set NOT NULL without`,
          `// a scan: a CHECK ... NOT VALID (instant, in its own short transaction), then VALIDATE, which reads the rows under`,
          `// SHARE UPDATE EXCLUSIVE (reads and writes go on). No transaction around the two (config below).`,
        ],
        up: [...w.locked(false, (db) => [raw(db, `${addCheck} NOT VALID`)], false), raw('knex', `ALTER TABLE ${t} VALIDATE CONSTRAINT ${ident(check)}`)],
        down: w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(check)}`)], false),
        transaction: false,
      },
    });
  }
  const newDefault = column.default === null ? null : portableDefault(column.default);
  const swapUp = (db: string): string[] => [
    ...(notNull ? [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${n} SET NOT NULL`), raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(check)}`)] : []),
    ...(newDefault !== null ? [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${n} SET DEFAULT ${newDefault}`)] : []),
    raw(db, `DROP TRIGGER ${ident(sync)} ON ${t}`),
    raw(db, `DROP FUNCTION ${ident(sync)}()`),
    `// knexsafe-ignore drop-column: ${next} holds the converted values and takes the name ${column.name} below, in the same transaction`,
    raw(db, `ALTER TABLE ${t} DROP COLUMN ${c}`),
    `// knexsafe-ignore rename-column: the copy takes the name of the column it replaces; code keeps using ${column.name}`,
    raw(db, `ALTER TABLE ${t} RENAME COLUMN ${n} TO ${c}`),
    ...rebuilt.map((r) => raw(db, `ALTER INDEX ${ident(r.temp)} RENAME TO ${ident(r.index.name)}`)),
    ...(comment !== undefined ? [raw(db, `COMMENT ON COLUMN ${t}.${c} IS ${sqlString(comment)}`)] : []),
  ];
  const swapDown = (db: string): string[] => [
    ...rebuilt.map((r) => raw(db, `ALTER INDEX ${ident(r.index.name)} RENAME TO ${ident(r.temp)}`)),
    raw(db, `ALTER TABLE ${t} RENAME COLUMN ${c} TO ${n}`),
    ...(newDefault !== null ? [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${n} DROP DEFAULT`)] : []),
    ...(notNull ? [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${n} DROP NOT NULL`)] : []),
    ...(comment !== undefined ? [raw(db, `COMMENT ON COLUMN ${t}.${n} IS NULL`)] : []),
    raw(db, `ALTER TABLE ${t} ADD COLUMN ${c} ${column.type}${column.default !== null ? ` DEFAULT ${column.default}` : ''}`),
    raw(db, `UPDATE ${t} SET ${c} = ${n}::${column.type}`),
    ...(notNull ? [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${c} SET NOT NULL`), raw(db, addCheck)] : []),
    ...(comment !== undefined ? [raw(db, `COMMENT ON COLUMN ${t}.${c} IS ${sqlString(comment)}`)] : []),
    raw(db, createFunction),
    raw(db, createTrigger),
  ];
  files.push({
    suffix: '_swap',
    role: `contract: ${next} takes the place of ${column.name}`,
    body: {
      header: [
        `// ${name}.${column.name} → ${target.sql}, ${of()} (contract): swap the columns in one short transaction, catalog-only,`,
        `// brief ACCESS EXCLUSIVE${notNull ? ' (SET NOT NULL uses the validated check instead of a scan, PostgreSQL 12+)' : ''}. Deploy it once the copy has run.`,
        `// down goes back to two columns; it copies every row in one UPDATE (not online)${rebuilt.length ? ' and rebuilds the old column\'s indexes concurrently' : ''}.`,
      ],
      up: w.locked(false, swapUp, false),
      down: [...w.locked(false, swapDown, false), ...rebuilt.map((r) => raw('knex', r.restore))],
      transaction: false,
    },
  });
  return files;
}

function notNullCheckName(table: string, column: string): string {
  return identifierWithin63(`${table}_${column}_not_null_check`);
}

function setNotNull(w: Writer, tableName: string, column: string): PlannedFile[] {
  const t = ident(tableName);
  const c = ident(column);
  if (w.simple) {
    return [
      {
        suffix: '',
        role: 'set NOT NULL',
        body: {
          header: [`// SET NOT NULL reads every row under an ACCESS EXCLUSIVE lock: fine for a small table.`],
          up: [`await knex.schema.alterTable(${js(tableName)}, (table) => {`, ...indent([`table.dropNullable(${js(column)});`]), `});`],
          down: [`await knex.schema.alterTable(${js(tableName)}, (table) => {`, ...indent([`table.setNullable(${js(column)});`]), `});`],
        },
      },
    ];
  }
  const check = notNullCheckName(tableName, column);
  w.details.checkConstraint = check;
  const add = `ALTER TABLE ${t} ADD CONSTRAINT ${ident(check)} CHECK (${c} IS NOT NULL) NOT VALID`;
  return [
    {
      suffix: '',
      role: 'add CHECK (… IS NOT NULL) NOT VALID',
      body: {
        header: [
          `// NOT NULL on a filled table, step 1 of 2: a CHECK ... NOT VALID is instant (existing rows are not read;`,
          `// new and updated rows are checked). The next migration validates it without blocking writes, then sets NOT NULL.`,
        ],
        up: w.locked(true, (db) => [raw(db, add)]),
        down: w.locked(true, (db) => [raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(check)}`)], false),
      },
    },
    {
      suffix: '_validate',
      role: 'validate, SET NOT NULL, drop the CHECK',
      body: {
        header: [
          `// NOT NULL, step 2 of 2. VALIDATE reads every row under SHARE UPDATE EXCLUSIVE: reads and writes go on. It fails if a`,
          `// row is still NULL: backfill first (knexsafe make backfill_${tableName}_${column}). With the check validated,`,
          `// SET NOT NULL needs no scan (PostgreSQL 12+), and the check is no longer needed.`,
          `// This migration runs outside knex's transaction so that the validation is not held up with step 1's lock.`,
        ],
        up: [
          raw('knex', `ALTER TABLE ${t} VALIDATE CONSTRAINT ${ident(check)}`),
          ...w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${c} SET NOT NULL`), raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(check)}`)], false),
        ],
        down: w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${c} DROP NOT NULL`), raw(db, add)], false),
        transaction: false,
      },
    },
  ];
}

function dropNotNull(w: Writer, table: string, column: string): PlannedFile[] {
  return [
    {
      suffix: '',
      role: 'drop NOT NULL',
      body: {
        up: w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([`table.setNullable(${js(column)});`]), `});`]),
        down: w.locked(
          true,
          (db) => [`// Fails if NULLs were written since up: fill them first.`, `await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([`table.dropNullable(${js(column)});`]), `});`],
          false,
        ),
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Indexes and constraints

function indexName(w: Writer, table: string, columns: string[], suffix: 'index' | 'unique' | 'foreign'): string {
  // knex's default names, so that table.dropIndex(columns) / dropUnique / dropForeign find them.
  const name = identifierWithin63(`${table}_${columns.join('_')}_${suffix}`.toLowerCase().replace(/[-.]/g, '_'));
  if (w.schema.nameTaken(name)) throw usage(`The name ${name} is already taken in the schema.`, `An earlier migration created it; knexsafe make does not overwrite.`);
  return name;
}

function columnList(columns: string[]): string {
  return columns.map(ident).join(', ');
}

function jsList(columns: string[]): string {
  return columns.length === 1 ? js(columns[0]!) : `[${columns.map(js).join(', ')}]`;
}

function addIndex(w: Writer, tableName: string, columns: string[]): PlannedFile[] {
  const table = w.table(tableName);
  const same = w.schema.indexesOf(table).find((i) => i.columns.join(',') === columns.join(',') && i.predicate === null);
  if (same) w.warnings.push(`${table.name} already has the index ${same.name} on (${columns.join(', ')}).`);
  const name = indexName(w, table.name, columns, 'index');
  w.details.index = name;
  if (w.simple) {
    return [
      {
        suffix: '',
        role: 'create the index',
        body: {
          header: [`// A plain CREATE INDEX blocks writes to ${table.name} while it builds: fine for a small table.`],
          up: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.index(${jsList(columns)}, ${js(name)});`]), `});`],
          down: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.dropIndex(${jsList(columns)}, ${js(name)});`]), `});`],
        },
      },
    ];
  }
  return [
    {
      suffix: '',
      role: 'create the index concurrently',
      body: {
        header: [
          `// CREATE INDEX CONCURRENTLY builds the index while reads and writes go on. It cannot run inside a transaction,`,
          `// so this migration opts out of knex's (config below). If it fails halfway it leaves an INVALID index behind:`,
          `// DROP INDEX CONCURRENTLY ${name}, then run it again.`,
        ],
        up: [raw('knex', `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${ident(name)} ON ${ident(table.name)} (${columnList(columns)})`)],
        down: [raw('knex', `DROP INDEX CONCURRENTLY IF EXISTS ${ident(name)}`)],
        transaction: false,
      },
    },
  ];
}

function addUnique(w: Writer, tableName: string, columns: string[]): PlannedFile[] {
  const table = w.table(tableName);
  const key = columns.join(',');
  const existing = Object.values(table.constraints).find((c) => (c.kind === 'unique' || c.kind === 'primary') && c.columns.join(',') === key);
  if (existing) throw usage(`${table.name} (${columns.join(', ')}) is already unique: ${existing.name}.`, 'Nothing to add.');
  const name = indexName(w, table.name, columns, 'unique');
  w.details.constraint = name;
  const t = ident(table.name);
  const create = `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(name)} ON ${t} (${columnList(columns)})`;
  if (w.simple) {
    return [
      {
        suffix: '',
        role: 'add the unique constraint',
        body: {
          header: [`// A plain unique constraint builds its index while blocking writes to ${table.name}: fine for a small table.`],
          up: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.unique(${jsList(columns)}, { indexName: ${js(name)} });`]), `});`],
          down: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.dropUnique(${jsList(columns)}, ${js(name)});`]), `});`],
        },
      },
    ];
  }
  return [
    {
      suffix: '',
      role: 'build the unique index concurrently',
      body: {
        header: [
          `// Unique constraint, step 1 of 2: build its index with CREATE UNIQUE INDEX CONCURRENTLY, which does not block`,
          `// writes. It cannot run inside a transaction, so this migration opts out of knex's. It fails if duplicates exist`,
          `// (and then leaves an INVALID index: DROP INDEX CONCURRENTLY ${name} before running it again).`,
        ],
        up: [raw('knex', create)],
        down: [raw('knex', `DROP INDEX CONCURRENTLY IF EXISTS ${ident(name)}`)],
        transaction: false,
      },
    },
    {
      suffix: '_constraint',
      role: 'attach the constraint USING INDEX',
      body: {
        header: [
          `// Unique constraint, step 2 of 2: adopt the index built by step 1. Instant: no scan, only a brief lock.`,
          `// down: dropping the constraint drops its index, so down builds the index again (concurrently) for step 1.`,
        ],
        up: w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} ADD CONSTRAINT ${ident(name)} UNIQUE USING INDEX ${ident(name)}`)]),
        down: [...w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(name)}`)], false), raw('knex', create)],
        transaction: false,
      },
    },
  ];
}

const FK_ACTIONS = new Set(['cascade', 'restrict', 'set null', 'set default', 'no action']);

function addForeignKey(w: Writer, tableName: string, columns: string[], references: { table: string; columns: string[] }): PlannedFile[] {
  const table = w.table(tableName);
  const ref = w.table(references.table);
  const existing = Object.values(table.constraints).find((c) => c.kind === 'foreign' && c.columns.join(',') === columns.join(',') && c.references?.table === w.schema.qualified(ref));
  if (existing) throw usage(`${table.name} (${columns.join(', ')}) already refers to ${ref.name}: ${existing.name}.`, 'Nothing to add.');
  columns.forEach((c, i) => {
    const a = table.columns[c]?.type;
    const b = ref.columns[references.columns[i]!]?.type;
    if (a && b && a !== b) w.warnings.push(`${table.name}.${c} is ${a} but ${ref.name}.${references.columns[i]} is ${b}: the types of a foreign key should match.`);
  });
  const refKey = references.columns.join(',');
  const uniqueOnRef =
    Object.values(ref.constraints).some((c) => (c.kind === 'primary' || c.kind === 'unique') && c.columns.join(',') === refKey) ||
    w.schema.indexesOf(ref).some((i) => i.unique && i.predicate === null && i.columns.join(',') === refKey);
  if (!uniqueOnRef) {
    throw usage(`${ref.name} (${references.columns.join(', ')}) is not a primary key or unique: a foreign key cannot refer to it.`, `Add a unique constraint first (knexsafe make add_unique_on_${ref.name}_${references.columns.join('_')}).`);
  }
  const onDelete = w.options.onDelete?.toLowerCase().replace(/[_-]/g, ' ');
  if (onDelete !== undefined && !FK_ACTIONS.has(onDelete)) throw usage(`--on-delete takes cascade, restrict, set null, set default or no action, not "${w.options.onDelete}".`);
  const name = indexName(w, table.name, columns, 'foreign');
  w.details.constraint = name;
  w.details.references = references;
  const t = ident(table.name);
  const definition = `FOREIGN KEY (${columnList(columns)}) REFERENCES ${ident(ref.name)} (${columnList(references.columns)})${onDelete && onDelete !== 'no action' ? ` ON DELETE ${onDelete.toUpperCase()}` : ''}`;
  const addNotValid = `ALTER TABLE ${t} ADD CONSTRAINT ${ident(name)} ${definition} NOT VALID`;
  const hasIndex = w.schema.indexesOf(table).some((i) => i.columns[0] === columns[0]) || Object.values(table.constraints).some((c) => (c.kind === 'primary' || c.kind === 'unique') && c.columns[0] === columns[0]);
  if (!hasIndex) {
    w.warnings.push(`No index starts with ${table.name}.${columns[0]}: deletes and key updates on ${ref.name} will scan ${table.name}. Consider knexsafe make add_index_on_${table.name}_${columns.join('_')}.`);
  }
  if (w.simple) {
    const builder = `table.foreign(${jsList(columns)}, ${js(name)}).references(${jsList(references.columns)}).inTable(${js(ref.name)})${onDelete && onDelete !== 'no action' ? `.onDelete(${js(onDelete.toUpperCase())})` : ''};`;
    return [
      {
        suffix: '',
        role: 'add the foreign key',
        body: {
          header: [`// Adding a validated foreign key reads all of ${table.name} while blocking its writes: fine for a small table.`],
          up: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([builder]), `});`],
          down: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.dropForeign(${jsList(columns)}, ${js(name)});`]), `});`],
        },
      },
    ];
  }
  return [
    {
      suffix: '',
      role: 'add the foreign key NOT VALID',
      body: {
        header: [
          `// Foreign key, step 1 of 2: NOT VALID makes this instant (existing rows are not checked; new ones are).`,
          `// The next migration validates the existing rows without blocking writes.`,
        ],
        up: w.locked(true, (db) => [raw(db, addNotValid)]),
        down: w.locked(true, (db) => [raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(name)}`)], false),
      },
    },
    {
      suffix: '_validate',
      role: 'validate the foreign key',
      body: {
        header: [
          `// Foreign key, step 2 of 2: VALIDATE reads ${table.name} under SHARE UPDATE EXCLUSIVE (reads and writes go on) and fails`,
          `// if a row refers to a missing ${ref.name}. It runs outside knex's transaction, so never in one with step 1.`,
          `// down: a constraint cannot be un-validated, so down puts back the NOT VALID one of step 1.`,
        ],
        up: [raw('knex', `ALTER TABLE ${t} VALIDATE CONSTRAINT ${ident(name)}`)],
        down: w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(name)}`), raw(db, addNotValid)], false),
        transaction: false,
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Data

/**
 * Lines of a loop that walks the table's key in order, BATCH_SIZE keys at a time, and runs one
 * UPDATE per key range (`updateCode`: a JS string expression ending in `BETWEEN ? AND ?`). Each
 * statement commits on its own when the migration runs without a transaction; the loop ends
 * whatever the UPDATE writes.
 */
function keysetLoop(table: string, key: string, updateCode: string, ts: boolean): string[] {
  const t = ident(table);
  const k = ident(key);
  const prop = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${js(key)}]`;
  const bang = ts ? '!' : '';
  return [
    ts ? `let last: string | number | null = null;` : `let last = null;`,
    `for (;;) {`,
    ...indent([
      `const { rows }${ts ? `: { rows: { ${/^[A-Za-z_$][\w$]*$/.test(key) ? key : js(key)}: string | number }[] }` : ''} = await knex.raw(`,
      ...indent([
        `last === null`,
        `  ? ${js(`SELECT ${k} FROM ${t} ORDER BY ${k} LIMIT ?`)}`,
        `  : ${js(`SELECT ${k} FROM ${t} WHERE ${k} > ? ORDER BY ${k} LIMIT ?`)},`,
        `last === null ? [BATCH_SIZE] : [last, BATCH_SIZE],`,
      ]),
      `);`,
      `if (rows.length === 0) break;`,
      `last = rows[rows.length - 1]${bang}${prop};`,
      `await knex.raw(${updateCode}, [rows[0]${bang}${prop}, last]);`,
      `await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));`,
    ]),
    `}`,
  ];
}

function batchPreamble(size: number): string[] {
  return [`const BATCH_SIZE = ${size};`, `const PAUSE_MS = 50; // between batches: lets replicas, WAL archiving and autovacuum keep up`];
}

function backfill(w: Writer, tableName: string, column: string): PlannedFile[] {
  const table = w.table(tableName);
  const t = ident(table.name);
  const c = ident(column);
  const pk = w.schema.primaryKey(table);
  const expression = w.options.set;
  if (expression === undefined) {
    w.warnings.push(`Write the SQL expression for ${table.name}.${column} into EXPRESSION (or pass --set "<expression>").`);
  }
  w.details.expression = expression ?? null;
  const ts = w.options.typescript === true;
  const expressionLines = [
    expression === undefined ? `// TODO: the SQL that computes ${column} for a row of ${table.name}, e.g. upper(name).` : `// The SQL that computes ${column} for a row of ${table.name}.`,
    `const EXPRESSION = ${sqlLiteral(expression ?? '')};`,
  ];
  const guard = [`if (!EXPRESSION) throw new Error(${js(`Set EXPRESSION to the SQL that computes ${table.name}.${column}`)});`];
  const down = [`// A backfill is not undone: the values it wrote cannot be told apart from values written since.`];
  const template = (sql: string) => '`' + sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
  if (w.simple) {
    return [
      {
        suffix: '',
        role: 'backfill in one statement',
        body: {
          preamble: expressionLines,
          header: [`// One UPDATE of every row, in knex's transaction: it locks all the rows it touches until the end. Fine for a small table.`],
          up: [...guard, `await knex.raw(${template(`UPDATE ${t} SET ${c} = \${EXPRESSION} WHERE ${c} IS NULL`)});`],
          down,
        },
      },
    ];
  }
  const key = pk?.columns.length === 1 ? pk.columns[0]! : undefined;
  if (!key) {
    w.warnings.push(`${table.name} has no single-column primary key: the batches walk the id column; replace it with a unique, indexed column.`);
  }
  const k = key ?? 'id';
  const update = template(`UPDATE ${t} SET ${c} = \${EXPRESSION} WHERE ${c} IS NULL AND ${t}.${ident(k)} BETWEEN ? AND ?`);
  return [
    {
      suffix: '',
      role: 'backfill in batches',
      body: {
        header: [
          `// Backfill in batches of BATCH_SIZE rows by primary key, each UPDATE committing on its own (this migration`,
          `// opts out of knex's transaction), so rows stay locked for milliseconds and replicas keep up. It only fills`,
          `// rows where ${column} IS NULL: running it again continues where it stopped.`,
        ],
        preamble: [...expressionLines, ...batchPreamble(w.options.batchSize ?? 1000)],
        up: [...guard, ...keysetLoop(table.name, k, update, ts)],
        down,
        transaction: false,
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Enums

function enumValues(w: Writer, what: string): string[] {
  const values = w.options.values;
  if (!values || values.length === 0) throw usage(`${what} needs its values: pass --values a,b,c.`);
  if (new Set(values).size !== values.length) throw usage(`--values repeats a value: ${values.join(', ')}.`);
  return values;
}

function createEnum(w: Writer, type: string): PlannedFile[] {
  const values = enumValues(w, `The enum ${type}`);
  w.details.values = values;
  return [
    {
      suffix: '',
      role: 'create the enum type',
      body: {
        up: [raw('knex', `CREATE TYPE ${ident(type)} AS ENUM (${values.map(sqlString).join(', ')})`)],
        down: [raw('knex', `DROP TYPE ${ident(type)}`)],
      },
    },
  ];
}

function addEnumColumn(w: Writer, tableName: string, column: string): PlannedFile[] {
  const values = enumValues(w, `The enum column ${tableName}.${column}`);
  let type = `${singular(tableName)}_${column}`;
  if (w.schema.nameTaken(type)) type = `${tableName}_${column}`;
  if (w.schema.nameTaken(type)) throw usage(`The type names ${singular(tableName)}_${column} and ${type} are both taken.`, 'Create the type with create_<type>_enum, then add the column with --type.');
  w.details.type = type;
  w.details.values = values;
  return [
    {
      suffix: '',
      role: 'create the enum type and add the column',
      body: {
        header: [`// A native enum: knex's dropTable/dropColumn never drop the type, so down does it explicitly.`],
        up: [
          raw('knex', `CREATE TYPE ${ident(type)} AS ENUM (${values.map(sqlString).join(', ')})`),
          ...w.locked(true, (db) => [
            `await ${db}.schema.alterTable(${js(tableName)}, (table) => {`,
            ...indent([`table.specificType(${js(column)}, ${js(type)}).defaultTo(${js(values[0]!)});`]),
            `});`,
          ]),
        ],
        down: [
          ...w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(tableName)}, (table) => {`, ...indent([`table.dropColumn(${js(column)});`]), `});`], false),
          raw('knex', `DROP TYPE ${ident(type)}`),
        ],
      },
    },
  ];
}

function addEnumValue(w: Writer, typeName: string, value: string): PlannedFile[] {
  const type = w.schema.enumType(typeName)!;
  const qualified = `${type.schema}.${type.name}`;
  const users: { table: TableInfo; column: ColumnInfo }[] = [];
  for (const table of Object.values(w.schema.snapshot.tables)) {
    for (const column of Object.values(table.columns)) {
      if (column.type === qualified || column.type === type.name) users.push({ table, column });
      else if (column.type === `${qualified}[]` || column.type === `${type.name}[]`) {
        w.warnings.push(`${table.name}.${column.name} is an array of ${type.name}: down does not convert it; adjust by hand.`);
      }
    }
  }
  w.details.values = [...type.values, value];
  const tname = ident(type.name);
  const old = identifierWithin63(`${type.name}_old`);
  const downBody = (db: string): string[] => {
    const lines = [raw(db, `ALTER TYPE ${tname} RENAME TO ${ident(old)}`), raw(db, `CREATE TYPE ${tname} AS ENUM (${type.values.map(sqlString).join(', ')})`)];
    for (const { table, column } of users) {
      const t = ident(table.name);
      const c = ident(column.name);
      const parts = [`ALTER TABLE ${t}`];
      const alters: string[] = [];
      if (column.default !== null) alters.push(`ALTER COLUMN ${c} DROP DEFAULT`);
      alters.push(`ALTER COLUMN ${c} TYPE ${tname} USING ${c}::text::${tname}`);
      if (column.default !== null) alters.push(`ALTER COLUMN ${c} SET DEFAULT ${column.default}`);
      lines.push(raw(db, `${parts[0]} ${alters.join(', ')}`));
    }
    lines.push(raw(db, `DROP TYPE ${ident(old)}`));
    return lines;
  };
  return [
    {
      suffix: '',
      role: 'add the enum value',
      body: {
        header: [
          `// ALTER TYPE ... ADD VALUE runs outside knex's transaction (required before PostgreSQL 12, and the new value is`,
          `// usable by the next migration only once committed).`,
          `// down: PostgreSQL cannot remove an enum value, so down rebuilds the type without it${users.length ? ` and converts ${users.map((u) => `${u.table.name}.${u.column.name}`).join(', ')}` : ''}.`,
          `// It fails if a row still uses ${sqlString(value)}: change those rows first.`,
        ],
        up: [raw('knex', `ALTER TYPE ${tname} ADD VALUE IF NOT EXISTS ${sqlString(value)}`)],
        down: w.locked(false, downBody, false),
        transaction: false,
      },
    },
  ];
}

