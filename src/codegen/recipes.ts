import { scanSync, type ScanToken } from 'libpg-query';
import type { ColumnInfo } from '../schema/types.js';
import type { ConstraintFacts } from '../sql/facts.js';
import { indent, jsSql, jsString } from './js.js';
import { rawCall } from './knex.js';
import { migrationCode, migrationFile, migrations, type MigrationCode } from './migration.js';
import { bareName, columnList, ident, limitName, regclassLiteral, sqlName, sqlNameBeside, sqlString } from './sql.js';

/**
 * The safe-migration recipes fixes are written with: short transactions with a lock timeout,
 * concurrent index builds that clean up after a failed one, NOT VALID + VALIDATE, expand/contract
 * of a column, batched backfills.
 */

/** The lock_timeout every generated step sets (the same default `knexsafe latest` uses). */
export const LOCK_TIMEOUT = '5s';
export const LOCK_TIMEOUT_SQL = `SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`;

/**
 * Statements in one short transaction of their own that gives up after LOCK_TIMEOUT instead of
 * queueing every other query on the table behind it (for migrations with `transaction: false`).
 */
export function guardedTransaction(statements: (string | { sql: string; comment: string })[], knexVar = 'knex'): string[] {
  return [
    `await ${knexVar}.transaction(async (trx) => {`,
    `  ${rawCall(LOCK_TIMEOUT_SQL, 'trx')}`,
    ...statements.map((s) => (typeof s === 'string' ? `  ${rawCall(s, 'trx')}` : `  ${rawCall(s.sql, 'trx')} // ${s.comment}`)),
    `});`,
  ];
}

/** guardedTransaction, indented as a function body. */
export function transactionLines(statements: string[], by = '  '): string[] {
  return indent(guardedTransaction(statements), by);
}

/** `await knex.raw(...)` as an indented body line. */
export function rawLine(sql: string, by = '  '): string {
  return `${by}${rawCall(sql)}`;
}

/**
 * Lines that drop an INVALID index a failed CONCURRENTLY build of `index` left behind: CREATE INDEX
 * CONCURRENTLY IF NOT EXISTS would keep it as it is (unusable, never finished), and without IF NOT
 * EXISTS the build would fail on the name. A valid index is left alone.
 */
export function dropInvalidIndexLines(index: { schema?: string; name: string }, knexVar = 'knex'): string[] {
  const name = { ...(index.schema ? { schema: index.schema } : {}), name: index.name };
  return [
    `// A failed CONCURRENTLY build leaves an INVALID index behind: drop it before building again.`,
    `const leftover = await ${knexVar}.raw(${jsSql(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${regclassLiteral(name)}) AND NOT indisvalid`)});`,
    `if (leftover.rows.length > 0) ${rawCall(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlName(name)}`, knexVar)}`,
  ];
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
 * Body lines (unindented) that build an index CONCURRENTLY and can be re-run: a leftover INVALID
 * index of the same name is dropped first. `create` is the CREATE INDEX CONCURRENTLY IF NOT EXISTS statement.
 */
export function concurrentIndexLines(table: string, name: string, create: string, knexVar = 'knex'): string[] {
  return [...dropInvalidIndexLines({ schema: splitSchema(table), name }, knexVar), rawCall(create, knexVar)];
}

function splitSchema(table: string): string | undefined {
  const dot = table.indexOf('.');
  return dot < 0 ? undefined : table.slice(0, dot);
}

/** `ADD COLUMN name type [DEFAULT …] [NOT NULL]` for a column of the snapshot. */
export function addColumnClause(column: ColumnInfo): string {
  return `ADD COLUMN ${ident(column.name)} ${column.type}${column.default !== null ? ` DEFAULT ${column.default}` : ''}${column.nullable ? '' : ' NOT NULL'}`;
}

/** A migration adding the columns a constraint needs, when the original migration added them too. */
export function addColumnsMigration(table: string, columns: ColumnInfo[], note?: string): string {
  return migrationFile({
    comment: [`First add ${columns.map((c) => c.name).join(', ')} on ${displayName(table)} (no scan: a brief lock).`, ...(note ? [note] : [])],
    up: transactionLines([`ALTER TABLE ${sqlName(table)} ${columns.map(addColumnClause).join(', ')}`]),
    down: transactionLines([`ALTER TABLE ${sqlName(table)} ${columns.map((c) => `DROP COLUMN IF EXISTS ${ident(c.name)}`).join(', ')}`]),
    noTransaction: 'Its own short transaction with a lock timeout (above).',
  });
}

function displayName(table: string): string {
  return table.startsWith('public.') ? table.slice('public.'.length) : table;
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
  const include = c.include?.length ? ` INCLUDE (${columnList(c.include)})` : '';
  const nulls = c.nullsNotDistinct ? ' NULLS NOT DISTINCT' : '';
  return migrationFile({
    comment: c.comment ?? [
      `Build the unique index without blocking writes, then attach it as the constraint`,
      `(catalog only, brief ACCESS EXCLUSIVE lock). Both steps can be re-run after a failure.`,
    ],
    up: indent([
      // CREATE INDEX takes a bare name: the index goes in its table's schema.
      ...concurrentIndexLines(c.table, c.name, `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(c.name)} ON ${sqlName(c.table)} (${columnList(c.columns)})${include}${nulls}`),
      ...guardedTransaction([`ALTER TABLE ${sqlName(c.table)} ADD CONSTRAINT ${ident(c.name)} ${c.kind} USING INDEX ${ident(c.name)}${c.deferrable ?? ''}`]),
    ]),
    down: [`  // Dropping the constraint drops its index too.`, ...transactionLines([`ALTER TABLE ${sqlName(c.table)} DROP CONSTRAINT IF EXISTS ${ident(c.name)}`])],
    noTransaction: 'CREATE INDEX CONCURRENTLY cannot run inside a transaction block.',
  });
}

/** ` DEFERRABLE [INITIALLY DEFERRED]` of a constraint. */
export function deferrableClause(c: Pick<ConstraintFacts, 'deferrable' | 'initiallyDeferred'>): string {
  return c.deferrable ? ` DEFERRABLE${c.initiallyDeferred ? ' INITIALLY DEFERRED' : ''}` : '';
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
  return `FOREIGN KEY (${columnList(c.columns)}) REFERENCES ${sqlName(r.table)}${target}${actions}${deferrableClause(c)}`;
}

export interface NotValidThenValidate {
  table: string;
  name: string;
  /** `FOREIGN KEY (…) REFERENCES …` / `CHECK (…)`, without NOT VALID. */
  definition: string;
  /** Columns the original migration added with the constraint: added in step 1 too. */
  addedColumns?: ColumnInfo[];
  /** Constraints the original migration dropped before adding this one (a replaced constraint): dropped in step 1 too. */
  droppedConstraints?: string[];
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
      comment: [`Step 1 of 2: add the constraint without checking existing rows (brief ${c.step1Lock}).`, `New and updated rows are checked from now on.`],
      up: transactionLines([...(c.droppedConstraints ?? []).map((d) => `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${ident(d)}`), add]),
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

// ---------------------------------------------------------------------------------------------
// Batched backfill

export const BATCH_SIZE = 1000;
export const PAUSE_MS = 50;

export const BATCH_PREAMBLE = [`const BATCH_SIZE = ${BATCH_SIZE};`, `const PAUSE_MS = ${PAUSE_MS}; // between batches: lets replicas, WAL archiving and autovacuum keep up`];

export interface KeysetLoop {
  /** Qualified table name. */
  table: string;
  /** Key column, ordered and unique (the primary key). */
  key: string;
  /** How the statement refers to the table (alias or bare name), to qualify the key. */
  ref: string;
  /** UPDATE / DELETE up to (without) WHERE, knex `?` placeholders. */
  head: string;
  condition?: string;
  /** JS expressions of the head's and condition's bindings. */
  values: string[];
  knexVar?: string;
}

/** `row.id` / `row['user id']`: a property of a row object as JS. */
function property(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${jsString(key)}]`;
}

/**
 * Body lines of an `up` that runs an UPDATE / DELETE in key-range batches (keyset pagination on the
 * key), each batch committing on its own; terminates whatever the statement writes.
 */
export function keysetLoop(loop: KeysetLoop): string[] {
  const k = loop.knexVar ?? 'knex';
  const key = ident(loop.key);
  const table = sqlName(loop.table);
  const sql = `${loop.head} WHERE ${loop.condition ? `(${loop.condition}) AND ` : ''}${ident(loop.ref)}.${key} BETWEEN ? AND ?`;
  return [
    `let last = null;`,
    `for (;;) {`,
    `  const { rows } = await ${k}.raw(`,
    `    last === null`,
    `      ? ${jsSql(`SELECT ${key} FROM ${table} ORDER BY ${key} LIMIT ?`)}`,
    `      : ${jsSql(`SELECT ${key} FROM ${table} WHERE ${key} > ? ORDER BY ${key} LIMIT ?`)},`,
    `    last === null ? [BATCH_SIZE] : [last, BATCH_SIZE],`,
    `  );`,
    `  if (rows.length === 0) break;`,
    `  last = rows[rows.length - 1]${property(loop.key)};`,
    `  await ${k}.raw(${jsSql(sql)}, [${[...loop.values, `rows[0]${property(loop.key)}`, 'last'].join(', ')}]);`,
    `  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));`,
    `}`,
  ];
}

// ---------------------------------------------------------------------------------------------
// NOT NULL without a scan, expand/contract of a column

/** `users_name_not_null`: the helper CHECK constraint of the NOT NULL pattern. */
export function notNullCheckName(table: string, column: string): string {
  return limitName(`${bareName(table)}_${column}_not_null`);
}

export interface NotNullSteps {
  /** ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID. */
  add: MigrationCode;
  /** VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE: reads and writes go on). */
  validate: MigrationCode;
  /** SET NOT NULL (no scan thanks to the validated check, PostgreSQL ≥ 12) and DROP the check; absent before 12. */
  set?: MigrationCode;
}

/**
 * The migrations that make a column NOT NULL without scanning the table under ACCESS EXCLUSIVE.
 * `first`/`total` number the steps in the comments when more migrations come before.
 */
export function notNullSteps(table: string, column: string, pgVersion: number, first = 1, total = pgVersion >= 12 ? 3 : 2): NotNullSteps {
  const t = sqlName(table);
  const c = ident(column);
  const check = ident(notNullCheckName(table, column));
  const addCheck = `ALTER TABLE ${t} ADD CONSTRAINT ${check} CHECK (${c} IS NOT NULL) NOT VALID`;
  const step = (n: number) => `Step ${first + n} of ${total}`;
  const steps: NotNullSteps = {
    add: {
      comment: [`${step(0)}: a NOT VALID check that proves "${column} IS NOT NULL" for new and updated rows (brief ACCESS EXCLUSIVE lock, no scan).`],
      noTransaction: true,
      up: guardedTransaction([addCheck]),
      down: guardedTransaction([`ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${check}`]),
    },
    validate: {
      comment: [`${step(1)}: check the existing rows under SHARE UPDATE EXCLUSIVE (reads and writes continue).`],
      noTransaction: true,
      up: guardedTransaction([`ALTER TABLE ${t} VALIDATE CONSTRAINT ${check}`]),
      down: [`// Back to the NOT VALID check of the previous step.`, ...guardedTransaction([`ALTER TABLE ${t} DROP CONSTRAINT ${check}`, addCheck])],
    },
  };
  if (pgVersion >= 12) {
    steps.set = {
      comment: [`${step(2)}: SET NOT NULL skips the table scan because the validated check already proves it (PostgreSQL 12+);`, `then the check is redundant. Brief ACCESS EXCLUSIVE lock.`],
      noTransaction: true,
      up: guardedTransaction([`ALTER TABLE ${t} ALTER COLUMN ${c} SET NOT NULL`, `ALTER TABLE ${t} DROP CONSTRAINT ${check}`]),
      down: [
        `// Back to the previous step: a nullable column with the validated check.`,
        ...guardedTransaction([`ALTER TABLE ${t} ALTER COLUMN ${c} DROP NOT NULL`, addCheck]),
        ...guardedTransaction([`ALTER TABLE ${t} VALIDATE CONSTRAINT ${check}`]),
      ],
    };
  }
  return steps;
}

export interface ColumnInSteps {
  table: string;
  column: string;
  /** SQL type of the new column. */
  type: string;
  /** The default for new rows; existing rows are filled with it in batches (`SET col = DEFAULT`). */
  defaultSql: string;
  /** Make it NOT NULL at the end (CHECK NOT VALID → VALIDATE → SET NOT NULL). */
  notNull: boolean;
  /** Create a sequence owned by the column for the default (serial / identity), in the table's schema. */
  sequence?: string;
  /** The table's single-column primary key (batches are picked by ctid without one). */
  primaryKey?: string;
  pgVersion: number;
  /** Extra sentence for the description. */
  note?: string;
}

/** `nextval('app."Users_id_seq"')` for a sequence beside its table. */
export function nextvalDefault(table: string, sequence: string): string {
  return `nextval(${sqlString(sqlNameBeside(table, sequence))})`;
}

/**
 * Expand without a rewrite: a new column with a default existing rows must get is added bare, the
 * default set for new rows, existing rows filled in batches, then (optionally) NOT NULL without a scan.
 */
export function columnInSteps(options: ColumnInSteps): { description: string; code: string } {
  const { table, column, notNull } = options;
  const t = sqlName(table);
  const c = ident(column);
  const key = options.primaryKey ? ident(options.primaryKey) : 'ctid';
  const total = 2 + (notNull ? (options.pgVersion >= 12 ? 2 : 1) : 0);
  const files: MigrationCode[] = [];
  const check = ident(notNullCheckName(table, column));
  files.push({
    comment: [
      `Step 1 of ${total}: add ${column} with no default (catalog-only), then set the default: SET DEFAULT only applies to rows`,
      `inserted from now on, so nothing is rewritten${notNull ? '; the NOT VALID check holds new rows to NOT NULL without a scan' : ''}. Brief ACCESS EXCLUSIVE lock.`,
    ],
    noTransaction: true,
    up: guardedTransaction([
      `ALTER TABLE ${t} ADD COLUMN ${c} ${options.type}`,
      ...(options.sequence ? [`CREATE SEQUENCE ${sqlNameBeside(table, options.sequence)} OWNED BY ${t}.${c}`] : []),
      `ALTER TABLE ${t} ALTER COLUMN ${c} SET DEFAULT ${options.defaultSql}`,
      ...(notNull ? [`ALTER TABLE ${t} ADD CONSTRAINT ${check} CHECK (${c} IS NOT NULL) NOT VALID`] : []),
    ]),
    down: guardedTransaction([`ALTER TABLE ${t} DROP COLUMN IF EXISTS ${c}`]),
  });
  files.push({
    comment: [
      `Step 2 of ${total}: fill existing rows in batches of BATCH_SIZE; each UPDATE is its own short transaction, so row locks`,
      `last milliseconds, never the whole table. DEFAULT is the column default set in step 1 (${options.defaultSql}). Safe to re-run.`,
    ],
    noTransaction: true,
    preamble: BATCH_PREAMBLE,
    up: [
      ...(options.primaryKey ? [] : [`// ${displayName(table)} has no single-column primary key: batches are picked by ctid.`]),
      `for (;;) {`,
      `  const { rowCount } = await knex.raw(`,
      `    ${jsSql(`UPDATE ${t} SET ${c} = DEFAULT WHERE ${key} IN (SELECT ${key} FROM ${t} WHERE ${c} IS NULL LIMIT ?)`)},`,
      `    [BATCH_SIZE],`,
      `  );`,
      `  if (!rowCount) break;`,
      `  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));`,
      `}`,
    ],
    down: ['// Nothing to undo: step 1’s down drops the column.'],
  });
  if (notNull) {
    const steps = notNullSteps(table, column, options.pgVersion, 2, total);
    files.push(steps.validate, ...(steps.set ? [steps.set] : []));
  }
  return {
    description:
      `Add ${column} without a default (catalog-only), set the default for new rows with ALTER COLUMN ... SET DEFAULT (no rewrite), and fill the existing rows in batches from a migration with \`transaction: false\`` +
      (notNull
        ? options.pgVersion >= 12
          ? '; then make it NOT NULL without a scan: the NOT VALID check from step 1 is validated (SHARE UPDATE EXCLUSIVE), then SET NOT NULL skips the scan.'
          : '; then validate the NOT VALID check from step 1 and keep it as the NOT NULL guarantee (before PostgreSQL 12 SET NOT NULL always scans).'
        : '.') +
      (options.note ? ` ${options.note}` : ''),
    code: migrations(files.map(migrationCode)),
  };
}

/**
 * A `knex.raw(...)` body line replaying a statement knex sent: its `$1` placeholders become `?`
 * (with the bindings passed again) and literal question marks are escaped from knex's binding syntax.
 */
export function replayLine(sql: string, bindings: readonly unknown[], by = '  ', knexVar = 'knex'): string {
  // Without bindings knex sends the text as it is: `?` stays, and an escaped `\?` would reach PostgreSQL.
  if (bindings.length === 0) return `${by}${rawCall(sql, knexVar)}`;
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
    if (t.tokenName === 'PARAM') {
      out += bytes.subarray(at, t.start).toString('utf8').replace(/\?/g, '\\?') + '?';
      at = t.end;
    }
  }
  out += bytes.subarray(at).toString('utf8').replace(/\?/g, '\\?');
  return `${by}${rawCall(out, knexVar, JSON.stringify(bindings))}`;
}
