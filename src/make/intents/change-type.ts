import type { A_Const, Node } from 'libpg-query';
import type { ColumnInfo, IndexInfo, TableInfo } from '../../schema/types.js';
import { constantValue, nodeOf, unwrap } from '../../sql/ast.js';
import { parseTypeText, sameType, typeChange } from '../../sql/datatypes.js';
import { parseSqlSync } from '../../sql/parse.js';
import { ident, jsSql as sqlLiteral, jsString as js, sqlString } from '../../codegen/index.js';
import { identifierWithin63 } from '../naming.js';
import { parseTypeWords, typeFromCatalog, TYPE_WORDS_HELP, type ColumnType } from '../types.js';
import { indent, raw, usage, type PlannedFile, type Writer } from './writer.js';
import { keysetLoop, batchPreamble } from './batches.js';
import { ownsSequence } from './columns.js';

// make change_<column>_to_<type>_in_<table>: in place when PostgreSQL does not rewrite, else expand/contract.

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

export function changeType(w: Writer, tableName: string, columnName: string, typeWords: string[]): PlannedFile[] {
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
    w.warnings.push(
      `Changing ${table.name}.${columnName} from ${column.type} to ${target.sql} rewrites the whole table while blocking reads and writes (knexsafe check reports it); without --simple knexsafe writes the online expand / contract steps instead.`,
    );
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
      ? [
          `await ${db}.schema.alterTable(${js(table.name)}, (table) => {`,
          ...indent([`${target.builder(column.name)}${keepDefault(column.default === null ? null : portableDefault(column.default))}.alter({ alterNullable: false });`]),
          `});`,
        ]
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
    const build = simpleIndexSql(
      i,
      table,
      temp,
      i.columns.map((col) => (col === column.name ? next : col)),
      true,
    );
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
      up: w.locked(true, (db) => [raw(db, `ALTER TABLE ${t} ADD COLUMN ${n} ${target.sql}`), raw(db, createFunction), raw(db, createTrigger)]),
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
        `// down goes back to two columns; it copies every row in one UPDATE (not online)${rebuilt.length ? " and rebuilds the old column's indexes concurrently" : ''}.`,
      ],
      up: w.locked(false, swapUp, false),
      down: [...w.locked(false, swapDown, false), ...rebuilt.map((r) => raw('knex', r.restore))],
      transaction: false,
    },
  });
  return files;
}
