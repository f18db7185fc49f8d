import { scanSync, type ScanToken } from 'libpg-query';
import type { ColumnInfo, ConstraintInfo, ConstraintKind, SchemaSnapshot } from '../../schema/types.js';
import type { ConstraintFacts, QualifiedName, StatementFacts } from '../../sql/facts.js';
import { ident, NEXT_MIGRATION, shortName, tableName } from '../helpers.js';
import type { AnalyzedStatement, MigrationUnit, RuleContext } from '../types.js';

/**
 * Code generation shared by the lock rules of `locks-a.ts` (drop-index-not-concurrent,
 * concurrently-in-transaction, unique-constraint-locks, add-primary-key-locks,
 * foreign-key-not-valid, check-not-valid, validate-in-same-transaction). The shapes follow the
 * write-stall benchmark's fixes (bench/stall/cases/<case>/fix/): each step in a short transaction of
 * its own with a lock timeout, so a step that cannot get its lock fails fast instead of queueing
 * every other query on the table behind it.
 */

/** Set first in every short transaction of a fix (the benchmark's value). */
export const LOCK_TIMEOUT_SQL = "SET LOCAL lock_timeout = '2s'";

/** A JS string literal for generated code: single quotes, double quotes when the text has single ones. */
export function str(value: string): string {
  if (value.includes("'") && !value.includes('"') && !value.includes('\\')) return `"${value}"`;
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A relation name for generated SQL: `users`, `app.users` (public is left implicit). */
export function sqlName(name: QualifiedName | string): string {
  const short = shortName(name);
  const dot = short.indexOf('.');
  if (dot < 0) return ident(short);
  return `${ident(short.slice(0, dot))}.${ident(short.slice(dot + 1))}`;
}

/** The schema part of a qualified relation name, to qualify an index name in the same schema. */
export function qualifiedIndex(table: string, index: string): string {
  const schema = table.includes('.') ? table.split('.')[0] : 'public';
  return schema && schema !== 'public' ? `${ident(schema)}.${ident(index)}` : ident(index);
}

export function columnList(columns: string[]): string {
  return columns.map(ident).join(', ');
}

/** `await trx.raw(...)` lines of one short transaction with a lock timeout. */
export function transactionLines(statements: string[], indent = '  '): string[] {
  return [
    `${indent}await knex.transaction(async (trx) => {`,
    `${indent}  await trx.raw(${str(LOCK_TIMEOUT_SQL)});`,
    ...statements.map((s) => `${indent}  await trx.raw(${str(s)});`),
    `${indent}});`,
  ];
}

/** `await knex.raw(...)` line. */
export function rawLine(sql: string, indent = '  '): string {
  return `${indent}await knex.raw(${str(sql)});`;
}

export interface MigrationSpec {
  /** Comment lines at the top (without `// `). */
  comment?: string[];
  up: string[];
  down: string[];
  /** Opt out of knex's transaction; the string is the comment above `exports.config`. */
  noTransaction?: string;
}

/** One CommonJS knex migration file. */
export function migrationFile(spec: MigrationSpec): string {
  return [
    ...(spec.comment ?? []).map((c) => `// ${c}`),
    `exports.up = async function (knex) {`,
    ...spec.up,
    `};`,
    ``,
    `exports.down = async function (knex) {`,
    ...(spec.down.length ? spec.down : ['  // Nothing to undo.']),
    `};`,
    ...(spec.noTransaction !== undefined ? [``, `// ${spec.noTransaction}`, `exports.config = { transaction: false };`] : []),
  ].join('\n');
}

/** Several migration files, in order, as one fix. */
export function migrationFiles(files: string[]): string {
  return files.join(`\n\n${NEXT_MIGRATION}\n\n`);
}

/** The table of the snapshot with this qualified name. */
function tableOf(schema: SchemaSnapshot | undefined, table: string) {
  return schema?.tables[table];
}

/**
 * The constraints of the given kinds an ALTER TABLE adds to an existing table, in statement order:
 * `ADD CONSTRAINT …`, and those written inline on an `ADD COLUMN` (given that column).
 */
export function constraintsAddedToExistingTable(statement: AnalyzedStatement, context: RuleContext, kinds: readonly ConstraintFacts['kind'][]): { table: string; constraint: ConstraintFacts }[] {
  const f = statement.facts;
  if (f.kind !== 'alter-table') return [];
  const table = tableName(context, f.table);
  if (context.tableAge(table) === 'new') return [];
  const added: { table: string; constraint: ConstraintFacts }[] = [];
  for (const command of f.commands) {
    if (command.action === 'add-constraint' && kinds.includes(command.constraint.kind)) added.push({ table, constraint: command.constraint });
    else if (command.action === 'add-column') {
      for (const c of command.column.constraints) if (kinds.includes(c.kind)) added.push({ table, constraint: { ...c, columns: [command.column.name] } });
    }
  }
  return added;
}

/**
 * Columns of `columns` that the migration itself adds to `table` (absent before it), with their
 * definition: from the schema after the migration, else from the ADD COLUMN statements.
 */
export function columnsAddedHere(context: RuleContext, table: string, columns: string[]): ColumnInfo[] {
  const unit = context.migration;
  const before = tableOf(unit.schemaBefore, table);
  if (!before) return [];
  const out: ColumnInfo[] = [];
  for (const name of columns) {
    if (before.columns[name]) continue;
    const after = tableOf(unit.schemaAfter, table)?.columns[name];
    if (after) {
      out.push(after);
      continue;
    }
    const added = addedColumnFacts(unit, table, name);
    out.push({ name, type: added?.type ?? 'text', nullable: added?.nullable ?? true, default: added?.default ?? null, identity: null, generated: null, collation: null });
  }
  return out;
}

function addedColumnFacts(unit: MigrationUnit, table: string, column: string): { type: string; nullable: boolean; default: string | null } | undefined {
  for (const s of unit.statements) {
    const f = s.facts;
    if (f.kind !== 'alter-table' || shortName(qualifyLike(f.table, table)) !== shortName(table)) continue;
    for (const c of f.commands) {
      if (c.action === 'add-column' && c.column.name === column) {
        return { type: c.column.type.text ?? 'text', nullable: !c.column.notNull, default: c.column.default?.text ?? null };
      }
    }
  }
  return undefined;
}

function qualifyLike(name: QualifiedName, table: string): string {
  if (name.schema) return `${name.schema}.${name.name}`;
  return table.includes('.') ? `${table.split('.')[0]}.${name.name}` : name.name;
}

/** `ADD COLUMN name type [DEFAULT …] [NOT NULL]` for a column of the snapshot. */
export function addColumnClause(column: ColumnInfo): string {
  return `ADD COLUMN ${ident(column.name)} ${column.type}${column.default !== null ? ` DEFAULT ${column.default}` : ''}${column.nullable ? '' : ' NOT NULL'}`;
}

/**
 * The constraint as PostgreSQL stored it after the migration (name and `pg_get_constraintdef`
 * definition), matched by name, else as the one new constraint of that kind on those columns.
 */
export function constraintAfter(context: RuleContext, table: string, kind: ConstraintKind, constraint: Pick<ConstraintFacts, 'name' | 'columns'>): ConstraintInfo | undefined {
  const after = tableOf(context.migration.schemaAfter, table);
  if (!after) return undefined;
  if (constraint.name) return after.constraints[constraint.name] ?? Object.values(after.constraints).find((c) => c.name === constraint.name);
  const before = tableOf(context.migration.schemaBefore, table);
  const fresh = Object.values(after.constraints).filter((c) => c.kind === kind && !before?.constraints[c.name]);
  const sameColumns = (c: ConstraintInfo) => constraint.columns.length > 0 && c.columns.length === constraint.columns.length && c.columns.every((x, i) => x === constraint.columns[i]);
  return fresh.find(sameColumns) ?? (fresh.length === 1 ? fresh[0] : undefined);
}

/** PostgreSQL's default constraint name (ChooseConstraintName without the 63-byte cut). */
export function defaultConstraintName(table: string, columns: string[], suffix: 'key' | 'pkey' | 'fkey' | 'check' | 'excl'): string {
  const bare = shortName(table).split('.').pop() ?? table;
  if (suffix === 'pkey') return `${bare}_pkey`;
  return [bare, ...(columns.length ? [columns.join('_')] : []), suffix].join('_');
}

/**
 * `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS …` from a `pg_get_indexdef` text, which always
 * starts `CREATE INDEX ` or `CREATE UNIQUE INDEX ` (catalog output, not user SQL).
 */
export function concurrentIndexDefinition(definition: string): string {
  for (const prefix of ['CREATE UNIQUE INDEX ', 'CREATE INDEX ']) {
    if (definition.startsWith(prefix)) return `${prefix}CONCURRENTLY IF NOT EXISTS ${definition.slice(prefix.length)}`;
  }
  return definition;
}

/**
 * A `knex.raw(...)` call replaying a captured statement: knex's `$1` placeholders become `?`
 * (with the bindings passed again) and literal question marks are escaped from knex's binding syntax.
 */
export function replayLine(statement: AnalyzedStatement, indent = '  '): string {
  const bindings = statement.captured?.bindings ?? [];
  const sql = statement.sql;
  let tokens: ScanToken[];
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    tokens = [];
  }
  const bytes = Buffer.from(sql, 'utf8');
  let out = '';
  let at = 0;
  for (const t of tokens) {
    if (t.tokenName === 'PARAM' && bindings.length > 0) {
      out += bytes.subarray(at, t.start).toString('utf8').replace(/\?/g, '\\?') + '?';
      at = t.end;
    }
  }
  out += bytes.subarray(at).toString('utf8').replace(/\?/g, '\\?');
  const args = bindings.length > 0 ? `, ${JSON.stringify(bindings)}` : '';
  return `${indent}await knex.raw(${str(out)}${args});`;
}

/** The concurrent statements rules care about, with the words for messages. */
export function concurrentStatementLabel(facts: StatementFacts): string | undefined {
  switch (facts.kind) {
    case 'create-index':
      return facts.concurrently ? `CREATE ${facts.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY` : undefined;
    case 'drop':
      return facts.objectType === 'index' && facts.concurrently ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'reindex':
      return facts.concurrently ? `REINDEX ${facts.target.toUpperCase()} CONCURRENTLY` : undefined;
    case 'alter-table':
      return facts.commands.some((c) => c.action === 'detach-partition' && c.concurrently) ? 'DETACH PARTITION CONCURRENTLY' : undefined;
    default:
      return undefined;
  }
}

/** The index of `name` (qualified or bare) in a snapshot. */
export function findIndex(schema: SchemaSnapshot | undefined, name: QualifiedName) {
  if (!schema) return undefined;
  const all = Object.values(schema.indexes).filter((i) => i.name === name.name && (!name.schema || i.schema === name.schema));
  return all.find((i) => i.schema === 'public') ?? all[0];
}

/**
 * Up and down lines that undo / redo one statement, for splitting a migration into parts. Returns
 * `undefined` down when knexsafe cannot write the inverse (the caller says so in the fix).
 */
export function inverseOf(statement: AnalyzedStatement, unit: MigrationUnit): { down?: string[] } {
  const f = statement.facts;
  const before = unit.schemaBefore;
  const after = unit.schemaAfter;
  const table = (name: QualifiedName) => (name.schema ? `${name.schema}.${name.name}` : `public.${name.name}`);
  switch (f.kind) {
    case 'select':
    case 'set':
    case 'analyze':
    case 'vacuum':
    case 'reindex':
    case 'comment':
      return { down: [] };
    case 'create-table':
      return { down: [rawLine(`DROP TABLE IF EXISTS ${sqlName(f.table)}`)] };
    case 'create-index': {
      const name = f.name ?? Object.values(after?.indexes ?? {}).find((i) => i.table === table(f.table) && !before?.indexes[`${i.schema}.${i.name}`])?.name;
      if (!name) return {};
      const qualified = f.table.schema ? `${ident(f.table.schema)}.${ident(name)}` : ident(name);
      return { down: [rawLine(`DROP INDEX ${f.concurrently ? 'CONCURRENTLY ' : ''}IF EXISTS ${qualified}`)] };
    }
    case 'drop': {
      if (f.objectType !== 'index') return {};
      const lines: string[] = [];
      for (const n of f.names) {
        const index = findIndex(before, n);
        if (!index) return {};
        lines.push(rawLine(f.concurrently ? concurrentIndexDefinition(index.definition) : index.definition));
      }
      return { down: lines };
    }
    case 'create-extension':
      return { down: [rawLine(`DROP EXTENSION IF EXISTS ${ident(f.name)}`)] };
    case 'create-type':
      return { down: [rawLine(`DROP TYPE IF EXISTS ${sqlName(f.name)}`)] };
    case 'create-view':
      return f.replace ? {} : { down: [rawLine(`DROP ${f.materialized ? 'MATERIALIZED ' : ''}VIEW IF EXISTS ${sqlName(f.view)}`)] };
    case 'alter-table': {
      const t = table(f.table);
      const old = before?.tables[t];
      const clauses: string[] = [];
      for (const c of [...f.commands].reverse()) {
        switch (c.action) {
          case 'add-column':
            clauses.push(`DROP COLUMN IF EXISTS ${ident(c.column.name)}`);
            break;
          case 'add-constraint': {
            const name = c.constraint.name ?? c.constraint.usingIndex;
            if (!name) return {};
            clauses.push(`DROP CONSTRAINT IF EXISTS ${ident(name)}`);
            break;
          }
          case 'set-not-null':
            clauses.push(`ALTER COLUMN ${ident(c.column)} DROP NOT NULL`);
            break;
          case 'drop-not-null':
            clauses.push(`ALTER COLUMN ${ident(c.column)} SET NOT NULL`);
            break;
          case 'set-default':
          case 'drop-default': {
            const previous = old?.columns[c.column]?.default;
            clauses.push(previous ? `ALTER COLUMN ${ident(c.column)} SET DEFAULT ${previous}` : `ALTER COLUMN ${ident(c.column)} DROP DEFAULT`);
            break;
          }
          case 'drop-column': {
            const column = old?.columns[c.column];
            if (!column) return {};
            clauses.push(addColumnClause(column));
            break;
          }
          case 'drop-constraint': {
            const constraint = old?.constraints[c.name];
            if (!constraint) return {};
            clauses.push(`ADD CONSTRAINT ${ident(c.name)} ${constraint.definition}`);
            break;
          }
          case 'detach-partition': {
            const partition = before?.tables[table(c.partition)]?.partitionOf;
            if (!partition) return {};
            clauses.push(`ATTACH PARTITION ${sqlName(c.partition)} ${partition.bound}`);
            break;
          }
          default:
            return {};
        }
      }
      return { down: [rawLine(`ALTER TABLE ${sqlName(f.table)} ${clauses.join(', ')}`)] };
    }
    default:
      return {};
  }
}

/** A migration adding the columns a constraint needs, when the original migration added them too. */
export function addColumnsMigration(table: string, columns: ColumnInfo[], note?: string): string {
  return migrationFile({
    comment: [`First add ${columns.map((c) => c.name).join(', ')} on ${shortName(table)} (no scan: a brief lock).`, ...(note ? [note] : [])],
    up: transactionLines([`ALTER TABLE ${sqlName(table)} ${columns.map(addColumnClause).join(', ')}`]),
    down: transactionLines([`ALTER TABLE ${sqlName(table)} ${columns.map((c) => `DROP COLUMN IF EXISTS ${ident(c.name)}`).join(', ')}`]),
    noTransaction: 'Its own short transaction with a lock timeout (above).',
  });
}

export interface IndexBackedConstraint {
  table: string;
  name: string;
  kind: 'UNIQUE' | 'PRIMARY KEY';
  columns: string[];
  include?: string[];
  nullsNotDistinct?: boolean;
  /** ` DEFERRABLE`, ` DEFERRABLE INITIALLY DEFERRED` or empty. */
  deferrable?: string;
  comment?: string[];
}

/**
 * Builds the unique index CONCURRENTLY, then attaches it as the constraint (catalog only, a brief
 * ACCESS EXCLUSIVE lock), as bench/stall/cases/add-unique/fix does. Re-runnable after a failure.
 */
export function indexBackedConstraintMigration(c: IndexBackedConstraint): string {
  const index = qualifiedIndex(c.table, c.name);
  const include = c.include?.length ? ` INCLUDE (${columnList(c.include)})` : '';
  const nulls = c.nullsNotDistinct ? ' NULLS NOT DISTINCT' : '';
  const regclass = index.replace(/'/g, "''");
  return migrationFile({
    comment: c.comment ?? [
      `Build the unique index without blocking writes, then attach it as the constraint`,
      `(catalog only, brief ACCESS EXCLUSIVE lock). Both steps can be re-run after a failure.`,
    ],
    up: [
      `  // A failed CONCURRENTLY build leaves an INVALID index behind, which IF NOT EXISTS would keep: drop it first.`,
      `  const invalid = await knex.raw(${str(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('${regclass}') AND NOT indisvalid`)});`,
      `  if (invalid.rows.length > 0) await knex.raw(${str(`DROP INDEX CONCURRENTLY ${index}`)});`,
      // CREATE INDEX takes a bare name: the index goes in its table's schema.
      rawLine(`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(c.name)} ON ${sqlName(c.table)} (${columnList(c.columns)})${include}${nulls}`),
      ...transactionLines([`ALTER TABLE ${sqlName(c.table)} ADD CONSTRAINT ${ident(c.name)} ${c.kind} USING INDEX ${ident(c.name)}${c.deferrable ?? ''}`]),
    ],
    down: [`  // Dropping the constraint drops its index too.`, ...transactionLines([`ALTER TABLE ${sqlName(c.table)} DROP CONSTRAINT IF EXISTS ${ident(c.name)}`])],
    noTransaction: 'CREATE INDEX CONCURRENTLY cannot run inside a transaction block.',
  });
}

/** ` DEFERRABLE [INITIALLY DEFERRED]` of a constraint. */
export function deferrableClause(c: Pick<ConstraintFacts, 'deferrable' | 'initiallyDeferred'>): string {
  return c.deferrable ? ` DEFERRABLE${c.initiallyDeferred ? ' INITIALLY DEFERRED' : ''}` : '';
}

export interface NotValidThenValidate {
  table: string;
  name: string;
  /** `FOREIGN KEY (…) REFERENCES …` / `CHECK (…)`, without NOT VALID. */
  definition: string;
  /** Columns the original migration added with the constraint: added in step 1 too. */
  addedColumns?: ColumnInfo[];
  /** What step 1 locks, for its comment, e.g. `SHARE ROW EXCLUSIVE on users and accounts`. */
  step1Lock: string;
  /** What VALIDATE locks, for step 2's comment. */
  step2Lock: string;
}

/** Step 1: ADD CONSTRAINT … NOT VALID; step 2: VALIDATE CONSTRAINT in a transaction of its own. */
export function notValidThenValidate(c: NotValidThenValidate): string[] {
  const t = sqlName(c.table);
  const name = ident(c.name);
  const columns = c.addedColumns ?? [];
  const add = `ALTER TABLE ${t} ${[...columns.map(addColumnClause), `ADD CONSTRAINT ${name} ${c.definition} NOT VALID`].join(', ')}`;
  const drop = `ALTER TABLE ${t} ${[`DROP CONSTRAINT IF EXISTS ${name}`, ...columns.map((x) => `DROP COLUMN IF EXISTS ${ident(x.name)}`)].join(', ')}`;
  return [
    migrationFile({
      comment: [
        `Step 1 of 2: add the constraint without checking existing rows (brief ${c.step1Lock}).`,
        `New and updated rows are checked from now on.`,
      ],
      up: transactionLines([add]),
      down: transactionLines([drop]),
      noTransaction: 'Its own short transaction with a lock timeout (above), never shared with step 2.',
    }),
    migrationFile({
      comment: [`Step 2 of 2: check the existing rows under ${c.step2Lock}: reads and writes go on.`],
      up: transactionLines([`ALTER TABLE ${t} VALIDATE CONSTRAINT ${name}`]),
      down: [
        '  // Back to NOT VALID: drop and re-add the constraint without checking the rows.',
        ...transactionLines([`ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${name}`, `ALTER TABLE ${t} ADD CONSTRAINT ${name} ${c.definition} NOT VALID`]),
      ],
      noTransaction: 'Its own transaction: never the one that added the constraint (even when both run in one `knex migrate:latest`).',
    }),
  ];
}

/** The definition of a constraint without its trailing ` NOT VALID` (as pg_get_constraintdef prints it). */
export function withoutNotValid(definition: string): string {
  return definition.endsWith(' NOT VALID') ? definition.slice(0, -' NOT VALID'.length) : definition;
}

/** `FOREIGN KEY (…) REFERENCES …` written from the statement, when the catalog cannot say. */
export function foreignKeyDefinition(c: ConstraintFacts): string {
  const r = c.references;
  if (!r) return `FOREIGN KEY (${columnList(c.columns)})`;
  const actions = [
    r.match === 'full' ? ' MATCH FULL' : '',
    r.onUpdate !== 'no action' ? ` ON UPDATE ${r.onUpdate.toUpperCase()}` : '',
    r.onDelete !== 'no action' ? ` ON DELETE ${r.onDelete.toUpperCase()}` : '',
  ].join('');
  const target = r.columns.length ? `(${columnList(r.columns)})` : '';
  return `FOREIGN KEY (${columnList(c.columns)}) REFERENCES ${sqlName(r.table)}${target}${actions}${c.deferrable ? ` DEFERRABLE${c.initiallyDeferred ? ' INITIALLY DEFERRED' : ''}` : ''}`;
}
