import fs from 'node:fs';
import type { MigrationFile } from '../migrations/source.js';
import { ident } from '../codegen/sql.js';

/**
 * The seed's troubleshooting table, keyed by SQLSTATE: what a failing migration's error means and
 * the exact fix. The cause is in the seed's words where it has them ("Migration ran partially",
 * "Table not created yet / wrong order", …); the fix names the objects of this error.
 */

/** What is known about one failed statement of a migration. */
export interface FailureFacts {
  sqlState: string;
  /** PostgreSQL's message, without knex's "<sql> - " prefix. */
  message: string;
  /** The statement as knex sent it (bindings inlined), when known. */
  sql?: string;
  detail?: string;
  hint?: string;
  table?: string;
  column?: string;
  constraint?: string;
  dataType?: string;
  /** Tables the statement names (read with the parser): the table when the message does not say it. */
  relations?: string[];
  migration?: string;
  /** The migration file (absolute). */
  file?: string;
  direction: 'up' | 'down';
  /** Whether the migration ran in a transaction (false: what ran before the failure stayed). */
  transactional?: boolean;
  /** Every migration file of the project, in knex order (to say which one creates a missing table). */
  files?: MigrationFile[];
}

export interface SqlStateExplanation {
  sqlState: string;
  /** PostgreSQL's condition name, e.g. duplicate_column. */
  condition: string;
  /** The seed's troubleshooting row this is, e.g. `"column already exists"`, or the problem in plain words. */
  problem: string;
  cause: string;
  fix: string;
  /** Object names the error is about, most specific first (for finding the line). */
  objects: string[];
  /** The table the error is about, when known. */
  table?: string;
  /** The one object the message is about (a column, a key, the relation that exists or is missing). */
  subject?: string;
}

interface Entry {
  condition: string;
  problem: string;
  explain(f: FailureFacts, names: Names): { cause: string; fix: string };
}

interface Names {
  /** Quoted names in the message, in order. */
  quoted: string[];
  table?: string;
  column?: string;
  constraint?: string;
  /** The first quoted name: the object the message is about. */
  first?: string;
}

const q = (name: string | undefined) => (name === undefined ? '…' : ident(name));

function guardHint(kind: 'column' | 'table', n: Names): string {
  return kind === 'column' ? `\`if (!(await knex.schema.hasColumn('${n.table ?? '…'}', '${n.column ?? '…'}'))) { … }\`` : `\`if (!(await knex.schema.hasTable('${n.first ?? '…'}'))) { … }\``;
}

const rerun = 'then re-run `knexsafe latest` (after `knexsafe unlock` if a crashed run left the lock set)';

/** Migration files (other than `self`) that mention `table` in a create statement; those sorting after `self` first. */
function creatorsOf(table: string, f: FailureFacts): { name: string; after: boolean }[] {
  const files = f.files ?? [];
  const selfIndex = files.findIndex((m) => m.file === f.file);
  const out: { name: string; after: boolean }[] = [];
  files.forEach((m, index) => {
    if (m.file === f.file) return;
    let text: string;
    try {
      text = fs.readFileSync(m.file, 'utf8');
    } catch {
      return;
    }
    const lower = text.toLowerCase();
    const t = table.toLowerCase();
    const named = [`'${t}'`, `"${t}"`, `\`${t}\``, ` ${t} `, ` ${t}(`, `.${t} `, `.${t}(`].some((s) => lower.includes(s));
    if (named && /createtable|create\s+table|create\s+(materialized\s+)?view|create\s+type|create\s+sequence/.test(lower)) {
      out.push({ name: m.name, after: selfIndex !== -1 && index > selfIndex });
    }
  });
  return out.sort((a, b) => Number(b.after) - Number(a.after));
}

const ENTRIES: Record<string, Entry> = {
  '42701': {
    condition: 'duplicate_column',
    problem: '"column already exists"',
    explain: (_f, n) => ({
      cause: `Migration ran partially: column ${q(n.column ?? n.first)} is already on ${q(n.table)}: an earlier run of this migration stopped halfway, or the column was added by hand or by another migration.`,
      fix: `Check schema, manually fix, or reset lock and re-run: \`knexsafe doctor\` compares the schema with what the migrations produce. If an earlier run left the column, remove it (\`ALTER TABLE ${q(n.table)} DROP COLUMN ${q(n.column ?? n.first)};\`) and ${rerun}; if it is meant to be there already, guard the step: ${guardHint('column', { ...n, column: n.column ?? n.first })}.`,
    }),
  },
  '42P07': {
    condition: 'duplicate_table',
    problem: '"relation already exists"',
    explain: (_f, n) => ({
      cause: `Migration ran partially: ${q(n.first)} (a table, index, sequence or view) already exists: an earlier run of this migration stopped halfway, another migration creates it too, or it was created by hand.`,
      fix: `Check schema, manually fix, or reset lock and re-run: \`knexsafe doctor\` shows what the migrations do not account for. If an earlier run left it, drop it (\`DROP TABLE ${q(n.first)};\` or \`DROP INDEX ${q(n.first)};\` — back up any rows first) and ${rerun}; if it is meant to exist already, guard the step (${guardHint('table', n)}, or \`CREATE INDEX IF NOT EXISTS\` for an index).`,
    }),
  },
  '42710': {
    condition: 'duplicate_object',
    problem: '"already exists" (constraint, type, extension …)',
    explain: (_f, n) => ({
      cause: `Migration ran partially: ${q(n.first)} already exists (a constraint, type or other object): an earlier run stopped halfway, or it was created by hand.`,
      fix: `Check the schema (\`knexsafe doctor\`); drop the leftover (\`ALTER TABLE ${q(n.table)} DROP CONSTRAINT ${q(n.first)};\` or \`DROP TYPE ${q(n.first)};\`) and ${rerun}, or guard the step (\`CREATE TYPE\` in a \`DO\` block that checks pg_type, \`CREATE EXTENSION IF NOT EXISTS\`).`,
    }),
  },
  '42P01': {
    condition: 'undefined_table',
    problem: '"relation does not exist"',
    explain: (f, n) => {
      const table = n.first ?? n.table;
      const creators = table ? creatorsOf(table.replace(/^.*\./, ''), f) : [];
      const later = creators.filter((c) => c.after);
      const where = later.length
        ? ` ${q(table)} is created in ${later.map((c) => c.name).join(', ')}, which sorts after ${f.migration ?? 'this migration'}: rename this file with a later timestamp (\`git mv\`; \`knexsafe make\` prints one) or move the createTable into an earlier migration.`
        : creators.length
          ? ` ${q(table)} is created in ${creators.map((c) => c.name).join(', ')}: check that it was applied (\`knexsafe status\`) and not rolled back.`
          : ` No migration of this project creates ${q(table)}: check the name and the schema (search_path).`;
      return {
        cause: `Table not created yet / wrong order: ${q(table)} does not exist when this statement runs.`,
        fix: `Check timestamps on migration filenames -- earlier timestamp runs first (\`knexsafe status\` lists the order).${where}`,
      };
    },
  },
  '42703': {
    condition: 'undefined_column',
    problem: '"column does not exist"',
    explain: (_f, n) => ({
      cause: `Column ${q(n.column ?? n.first)}${n.table ? ` of ${q(n.table)}` : ''} does not exist when this statement runs: it was renamed or dropped by an earlier migration, is added by a later one (wrong order), or the name is misspelt.`,
      fix: `Look at the table's current columns (\`\\d ${q(n.table)}\` in psql) and the migration order (\`knexsafe status\`); fix the name, or give this file a later timestamp than the migration that adds the column.`,
    }),
  },
  '55P03': {
    condition: 'lock_not_available',
    problem: 'Timeout on large table (lock_timeout)',
    explain: () => ({
      cause: `ALTER TABLE locks large table: the statement waited longer than lock_timeout for a lock that other sessions held (long queries or open transactions on the table), and gave up.`,
      fix: `Use batched updates and concurrent indexes. Find who blocks while it waits: \`SELECT pid, state, xact_start, query FROM pg_stat_activity WHERE pid = ANY (pg_blocking_pids(<migration pid>));\`; re-run at a quiet time, keeping a short \`SET lock_timeout\` and retrying rather than waiting (a waiting ALTER blocks every query behind it); build indexes with CREATE INDEX CONCURRENTLY in a migration with \`exports.config = { transaction: false };\`; keep batches small: knex holds the locks of every file of a batch until the batch ends.`,
    }),
  },
  '57014': {
    condition: 'query_canceled',
    problem: 'Timeout on large table (statement_timeout)',
    explain: (f) =>
      /user request/i.test(f.message)
        ? {
            cause: 'The statement was cancelled by someone (pg_cancel_backend or Ctrl-C in another client) while it ran.',
            fix: `Find out who cancelled it and why (a long lock wait blocks the application); ${rerun}.`,
          }
        : {
            cause: 'ALTER TABLE locks large table: the statement ran longer than statement_timeout (a table rewrite, an index build or a backfill over many rows) and was cancelled.',
            fix: `Use batched updates and concurrent indexes: backfill in chunks (\`UPDATE … WHERE id BETWEEN ? AND ?\` in a loop, in a migration with \`exports.config = { transaction: false };\`), build indexes with CREATE INDEX CONCURRENTLY; if this statement must run long, raise the limit for this migration only: \`await knex.raw("SET LOCAL statement_timeout = '30min'");\` at the top of up.`,
          },
  },
  '25001': {
    condition: 'active_sql_transaction',
    problem: 'cannot run inside a transaction block',
    explain: () => ({
      cause: `The statement (CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, VACUUM, ALTER SYSTEM …) cannot run inside a transaction, and knex runs every migration in one (and a whole \`latest\` batch in a single one) unless told otherwise.`,
      fix: `Disable the automatic Knex transaction wrapper for this migration by setting \`exports.config = { transaction: false };\` at the bottom of the file (\`export const config = { transaction: false };\` in TypeScript/ESM), and do not wrap the statement in knex.transaction().`,
    }),
  },
  '23502': {
    condition: 'not_null_violation',
    problem: 'NOT NULL on a column with NULLs',
    explain: (_f, n) => ({
      cause: `Cannot add NOT NULL without a default or backfill: column ${q(n.column ?? n.first)} of ${q(n.table)} has rows with NULL (or the statement writes NULL into it).`,
      fix: `Use the three-step approach: 1. add the column as nullable, 2. backfill existing rows (\`UPDATE ${q(n.table)} SET ${q(n.column ?? n.first)} = … WHERE ${q(n.column ?? n.first)} IS NULL;\`), 3. set NOT NULL (\`ALTER TABLE ${q(n.table)} ALTER COLUMN ${q(n.column ?? n.first)} SET NOT NULL;\`) — or give the column a default: \`.notNullable().defaultTo(…)\`.`,
    }),
  },
  '23505': {
    condition: 'unique_violation',
    problem: 'duplicate key / unique index on duplicated data',
    explain: (f, n) => {
      const key = /Key \(([^)]*)\)=/.exec(f.detail ?? '')?.[1];
      const creating = /could not create unique index/i.test(f.message);
      return creating
        ? {
            cause: `Rows of ${q(n.table)} already share a value${key ? ` of (${key})` : ''}, so the unique index ${q(n.first ?? n.constraint)} cannot be built.${f.detail ? ` ${f.detail}` : ''}`,
            fix: `Find the duplicates (\`SELECT ${key ?? '<columns>'}, count(*) FROM ${q(n.table)} GROUP BY ${key ?? '<columns>'} HAVING count(*) > 1;\`), resolve them in a data migration that runs before this one, then add the constraint; on a large table build it with CREATE UNIQUE INDEX CONCURRENTLY (transaction: false) and \`ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …\`.`,
          }
        : {
            cause: `The statement inserts or updates a row whose${key ? ` (${key})` : ''} value already exists (${q(n.constraint ?? n.first)}).${f.detail ? ` ${f.detail}` : ''}`,
            fix: `Make the data step idempotent: \`.insert(…).onConflict(${key ? `'${key}'` : '…'}).ignore()\` (or \`.merge()\`), or delete/update the existing row first.`,
          };
    },
  },
  '42804': {
    condition: 'datatype_mismatch',
    problem: 'alter() fails (type change) / mismatched types',
    explain: (f, n) =>
      /foreign key/i.test(f.message)
        ? {
            cause: `A foreign key joins columns of different types.${f.detail ? ` ${f.detail}` : ''}`,
            fix: `Give the referencing column the referenced column's type (e.g. \`table.integer('user_id').references('users.id')\` for an increments() id, \`table.uuid(…)\` for a uuid id).`,
          }
        : {
            cause: `Knex version too old or unsupported PG type change: PostgreSQL cannot convert ${q(n.column ?? n.first)}${n.table ? ` of ${q(n.table)}` : ''} to the new type by itself.${f.hint ? ` (${f.hint})` : ''}`,
            fix: `Use knex.raw('ALTER TABLE ...') instead, with an explicit conversion: \`await knex.raw('ALTER TABLE ${q(n.table)} ALTER COLUMN ${q(n.column ?? n.first)} TYPE <new type> USING ${q(n.column ?? n.first)}::<new type>');\` (drop and re-set a DEFAULT that cannot be converted), and the reverse in down.`,
          },
  },
  '2BP01': {
    condition: 'dependent_objects_still_exist',
    problem: 'cannot drop: other objects depend on it',
    explain: (f) => ({
      cause: `Other objects (views, foreign keys, defaults, functions) depend on what this statement drops or changes.${f.detail ? ` ${f.detail.replace(/\n/g, '; ')}` : ''}`,
      fix: `Drop or change the dependent objects first, in this migration (and re-create them in down), then drop; avoid CASCADE: it silently drops them too. If the data matters, back it up first (\`knexsafe backup\`).`,
    }),
  },
  '0A000': {
    condition: 'feature_not_supported',
    problem: 'alter() fails (unsupported PG change)',
    explain: (f) => ({
      cause: `Knex version too old or unsupported PG type change: PostgreSQL does not support this statement in this form (${f.message}).${f.detail ? ` ${f.detail}` : ''}`,
      fix: /view or rule/i.test(f.message)
        ? `Use knex.raw('ALTER TABLE ...') instead, in steps: drop the view that uses the column, alter the column, re-create the view — all in this migration, and the reverse in down.`
        : `Use knex.raw('ALTER TABLE ...') instead, written in a form PostgreSQL supports (split the change into steps; see the detail above).`,
    }),
  },
  '42846': {
    condition: 'cannot_coerce',
    problem: 'alter() fails (no cast between the types)',
    explain: (f) => ({
      cause: `Knex version too old or unsupported PG type change: there is no cast between the old and the new type (${f.message}), and \`.alter()\` only writes \`USING (col::type)\`.`,
      fix: `Use knex.raw('ALTER TABLE … ALTER COLUMN … TYPE … USING <expression>') with an expression that converts the values (e.g. \`USING (payload->>'n')::int\`), and the reverse in down.`,
    }),
  },
  '22P02': {
    condition: 'invalid_text_representation',
    problem: 'alter() fails (values do not convert)',
    explain: (f) => ({
      cause: `Some existing values cannot be converted to the new type (${f.message}).`,
      fix: `Clean the data first (a data migration that fixes or nulls the bad values), or use knex.raw with a USING expression that handles them (e.g. \`USING nullif(col, '')::int\`).`,
    }),
  },
  '23503': {
    condition: 'foreign_key_violation',
    problem: 'foreign key on existing rows that do not match',
    explain: (f) => ({
      cause: `Existing rows reference values that do not exist in the referenced table (or the statement writes such a row).${f.detail ? ` ${f.detail}` : ''}`,
      fix: `Fix or delete the orphan rows in a data migration first; on a large table add the key with \`NOT VALID\` and \`VALIDATE CONSTRAINT\` in a later migration.`,
    }),
  },
  '23514': {
    condition: 'check_violation',
    problem: 'check constraint on existing rows that violate it',
    explain: (f) => ({
      cause: `Existing rows violate the check constraint being added (or the statement writes such a row).${f.detail ? ` ${f.detail}` : ''}`,
      fix: `Fix the rows in a data migration first, or add the constraint \`NOT VALID\` and validate it once the data is clean.`,
    }),
  },
  '42704': {
    condition: 'undefined_object',
    problem: '"does not exist" (type, index, constraint …)',
    explain: (_f, n) => ({
      cause: `${q(n.first)} (a type, index, constraint or other object) does not exist when this statement runs: created later, dropped earlier (dropTable does not drop a native enum type, but dropping it twice fails), or named differently (knex names indexes \`<table>_<column>_index\`, unique constraints \`<table>_<column>_unique\`).`,
      fix: 'Check the object name in the database (`\\d <table>` in psql) and the migration order (`knexsafe status`); use `IF EXISTS` in down functions.',
    }),
  },
  '42883': {
    condition: 'undefined_function',
    problem: 'function does not exist',
    explain: (f) => ({
      cause: `A function the statement calls does not exist (${f.message}): usually an extension that is not installed (uuid_generate_v4 needs uuid-ossp, gen_random_uuid needs pgcrypto before PostgreSQL 13) or arguments of another type.`,
      fix: 'Create the extension in an earlier migration (`await knex.raw(\'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"\')`), or cast the arguments.',
    }),
  },
  '42501': {
    condition: 'insufficient_privilege',
    problem: 'permission denied / must be owner',
    explain: (f) => ({
      cause: `The database user running migrations may not do this (${f.message}): ALTER and DROP need the table's owner, CREATE needs CREATE on the schema.`,
      fix: 'Run migrations as the role that owns the schema objects (the knexfile connection of that environment), or have an administrator grant it.',
    }),
  },
  '40P01': {
    condition: 'deadlock_detected',
    problem: 'deadlock',
    explain: (f) => ({
      cause: `The migration and another session each waited for a lock the other held.${f.detail ? ` ${f.detail.replace(/\n/g, '; ')}` : ''}`,
      fix: `Take locks in one order (lock the tables explicitly at the start: \`LOCK TABLE a, b IN … MODE\`), keep batches small, run at a quiet time; ${rerun}.`,
    }),
  },
  '25P02': {
    condition: 'in_failed_sql_transaction',
    problem: 'current transaction is aborted',
    explain: () => ({
      cause: 'An earlier statement of the same transaction failed and the migration went on (a caught error): PostgreSQL refuses everything until the transaction ends.',
      fix: 'Do not catch and ignore query errors inside a migration; check first instead (`hasTable`, `hasColumn`, `IF NOT EXISTS`), or wrap the risky statement in a savepoint (`knex.transaction` nested).',
    }),
  },
};

/** SQLSTATEs with an explanation, for documentation and tests. */
export const EXPLAINED_SQLSTATES: readonly string[] = Object.keys(ENTRIES);

export function conditionName(sqlState: string): string | undefined {
  return ENTRIES[sqlState]?.condition;
}

/** Names quoted in a PostgreSQL message: `column "x" of relation "y" already exists` → x, y. */
function quotedNames(message: string): string[] {
  const out: string[] = [];
  for (const m of message.matchAll(/"((?:[^"]|"")+)"/g)) out.push((m[1] ?? '').replace(/""/g, '"'));
  return out;
}

function namesOf(f: FailureFacts): Names {
  const quoted = quotedNames(f.message);
  // Messages name the column first and the table after "of relation" / "relation".
  const ofRelation = /of relation "((?:[^"]|"")+)"/.exec(f.message)?.[1];
  const columnInMessage = /column "((?:[^"]|"")+)"/.exec(f.message)?.[1];
  const table = f.table ?? ofRelation ?? (/^relation "/.test(f.message) ? quoted[0] : undefined) ?? /\bon (?:table )?"?([\w.]+)"?/.exec(f.message)?.[1] ?? f.relations?.[0];
  return {
    quoted,
    ...(table !== undefined ? { table } : {}),
    ...((f.column ?? columnInMessage) ? { column: (f.column ?? columnInMessage)! } : {}),
    ...(f.constraint !== undefined ? { constraint: f.constraint } : {}),
    ...(quoted[0] !== undefined ? { first: quoted[0] } : {}),
  };
}

/**
 * What a failed migration's SQLSTATE means for a knex migration: the problem, its likely cause and the fix; undefined for a code it does not know.
 * @example
 * const e = explainFailure({ sqlState: '23505', message: 'duplicate key value violates unique constraint "users_email_key"', direction: 'up' });
 * console.log(e?.problem, e?.fix);
 */
export function explainFailure(f: FailureFacts): SqlStateExplanation | undefined {
  const entry = ENTRIES[f.sqlState];
  if (!entry) return undefined;
  const names = namesOf(f);
  const { cause, fix } = entry.explain(f, names);
  const keyColumns = (/Key \(([^)]*)\)=/.exec(f.detail ?? '')?.[1] ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const inDetail = quotedNames(f.detail ?? '');
  const subject = names.column ?? keyColumns[0] ?? names.first ?? inDetail[0];
  const objects = [...new Set([subject, ...keyColumns, names.constraint, ...names.quoted, ...inDetail, names.table].filter((n): n is string => Boolean(n)))];
  return {
    sqlState: f.sqlState,
    condition: entry.condition,
    problem: entry.problem,
    cause,
    fix,
    objects,
    ...(subject ? { subject } : {}),
    ...(names.table ? { table: names.table } : {}),
  };
}

/** Splits knex's "<sql> - <message>" into its parts (knex puts the statement in front of the driver's message). */
export function splitKnexMessage(message: string): { sql?: string; message: string } {
  const at = message.lastIndexOf(' - ');
  if (at === -1) return { message };
  return { sql: message.slice(0, at), message: message.slice(at + 3) };
}
