import type { ColumnFacts } from '../../sql/facts.js';
import { severityForTable } from '../engine.js';
import { ident, js, shortName, tableName } from '../helpers.js';
import type { AnalyzedStatement, Fix, Rule, RuleContext } from '../types.js';
import { guardedTransaction, identifierName, migrationCode, migrations, rewroteTable, sqlTable, typeLabel, type MigrationCode } from './missing-lock-timeout.js';
import { notNullCheckName, notNullSteps } from './set-not-null-scan.js';
import { BATCH_PREAMBLE, primaryKeyColumn } from './unbatched-backfill.js';

export type VolatileDefaultKind =
  /** DEFAULT calls a volatile function (gen_random_uuid(), random(), clock_timestamp(), nextval() ...). */
  | 'volatile'
  /** DEFAULT calls a function knexsafe cannot classify (static analysis only). */
  | 'unknown'
  /** serial / bigserial: an implicit nextval() default. */
  | 'serial'
  /** GENERATED ... AS IDENTITY: every row gets a sequence value. */
  | 'identity'
  /** Any non-null DEFAULT before PostgreSQL 11. */
  | 'pre-11';

export interface VolatileDefaultHazard {
  table: string;
  column: ColumnFacts;
  kind: VolatileDefaultKind;
  /** The rewrite was seen on the shadow. */
  observed: boolean;
  certain: boolean;
}

/**
 * ADD COLUMN commands of a statement whose default makes PostgreSQL write a value into every
 * existing row (a table rewrite under ACCESS EXCLUSIVE). When the statement ran on the shadow, the
 * observed rewrite decides; shared with table-rewrite.
 */
export function volatileDefaultHazards(statement: AnalyzedStatement, context: RuleContext): VolatileDefaultHazard[] {
  const f = statement.facts;
  if (f.kind !== 'alter-table') return [];
  const table = tableName(context, f.table);
  if (context.tableAge(table) === 'new') return [];
  const out: VolatileDefaultHazard[] = [];
  for (const command of f.commands) {
    if (command.action !== 'add-column') continue;
    const column = command.column;
    const def = column.default && !column.default.isNull ? column.default : undefined;
    let kind: VolatileDefaultKind | undefined;
    if (column.serial) kind = 'serial';
    else if (column.identity) kind = 'identity';
    else if (def && context.pgVersion < 11) kind = 'pre-11';
    else if (def?.volatility === 'volatile') kind = 'volatile';
    else if (def?.volatility === 'unknown') kind = 'unknown';
    if (!kind) continue;
    if (kind === 'pre-11') {
      // The shadow runs a newer PostgreSQL, which stores the default in the catalog: judge statically.
      out.push({ table, column, kind, observed: false, certain: true });
    } else if (statement.captured) {
      if (rewroteTable(statement, table)) out.push({ table, column, kind: kind === 'unknown' ? 'volatile' : kind, observed: true, certain: true });
    } else out.push({ table, column, kind, observed: false, certain: kind !== 'unknown' });
  }
  return out;
}

export interface ColumnInStepsOptions {
  table: string;
  column: string;
  /** SQL type of the new column. */
  type: string;
  /** The default for new rows; existing rows are filled with it in batches (`SET col = DEFAULT`). */
  defaultSql: string;
  /** Make it NOT NULL at the end (CHECK NOT VALID → VALIDATE → SET NOT NULL). */
  notNull: boolean;
  /** Create a sequence owned by the column for the default (serial / identity). */
  sequence?: string;
  /** Extra sentence for the description. */
  note?: string;
}

/**
 * A new column with a default existing rows must get, without a rewrite: add it bare, set the
 * default for new rows, fill existing rows in batches, then (optionally) NOT NULL without a scan.
 */
export function columnInSteps(options: ColumnInStepsOptions, context: RuleContext): Fix {
  const { table, column, notNull } = options;
  const t = sqlTable(table);
  const c = ident(column);
  const pk = primaryKeyColumn(context, table);
  const key = pk ? ident(pk) : 'ctid';
  const total = 2 + (notNull ? (context.pgVersion >= 12 ? 2 : 1) : 0);
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
      ...(options.sequence ? [`CREATE SEQUENCE ${ident(options.sequence)} OWNED BY ${t}.${c}`] : []),
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
      ...(pk ? [] : [`// ${shortName(table)} has no single-column primary key: batches are picked by ctid.`]),
      `for (;;) {`,
      `  const { rowCount } = await knex.raw(`,
      `    ${js(`UPDATE ${t} SET ${c} = DEFAULT WHERE ${key} IN (SELECT ${key} FROM ${t} WHERE ${c} IS NULL LIMIT ?)`)},`,
      `    [BATCH_SIZE],`,
      `  );`,
      `  if (!rowCount) break;`,
      `  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));`,
      `}`,
    ],
    down: ['// Nothing to undo: step 1’s down drops the column.'],
  });
  if (notNull) {
    const steps = notNullSteps(table, column, context.pgVersion, 2, total);
    files.push(steps.validate, ...(steps.set ? [steps.set] : []));
  }
  return {
    description:
      `Add ${column} without a default (catalog-only), set the default for new rows with ALTER COLUMN ... SET DEFAULT (no rewrite), and fill the existing rows in batches from a migration with \`transaction: false\`` +
      (notNull
        ? context.pgVersion >= 12
          ? '; then make it NOT NULL without a scan: the NOT VALID check from step 1 is validated (SHARE UPDATE EXCLUSIVE), then SET NOT NULL skips the scan.'
          : '; then validate the NOT VALID check from step 1 and keep it as the NOT NULL guarantee (before PostgreSQL 12 SET NOT NULL always scans).'
        : '.') +
      (options.note ? ` ${options.note}` : ''),
    code: migrations(files.map(migrationCode)),
  };
}

function constraintNote(column: ColumnFacts): string | undefined {
  const kinds = column.constraints.map((c) => (c.kind === 'primary' ? 'PRIMARY KEY' : c.kind === 'foreign' ? 'REFERENCES' : c.kind.toUpperCase()));
  if (column.primaryKey && !kinds.includes('PRIMARY KEY')) kinds.push('PRIMARY KEY');
  if (kinds.length === 0) return undefined;
  return `Add its ${[...new Set(kinds)].join(' / ')} after the backfill, with the lock-safe patterns (unique index CONCURRENTLY then ADD CONSTRAINT ... USING INDEX; foreign keys and checks NOT VALID then VALIDATE).`;
}

/**
 * ADD COLUMN with a volatile default (gen_random_uuid(), random(), clock_timestamp(), nextval()),
 * serial or identity — or any default before PostgreSQL 11 — rewrites the table under ACCESS EXCLUSIVE.
 */
export const addColumnVolatileDefault: Rule = {
  meta: {
    id: 'add-column-volatile-default',
    category: 'lock',
    severity: 'error',
    summary: 'ADD COLUMN with a volatile default (or any default before PostgreSQL 11) rewrites the table under ACCESS EXCLUSIVE',
  },
  statement(statement, context) {
    for (const hazard of volatileDefaultHazards(statement, context)) {
      const { table, column, kind } = hazard;
      const name = `${shortName(table)}.${column.name}`;
      const text = column.default?.text ?? 'the expression';
      const what =
        kind === 'serial'
          ? `the ${column.type.name} column ${name}`
          : kind === 'identity'
            ? `the identity column ${name}`
            : `${name} with ${kind === 'volatile' ? 'the volatile ' : ''}DEFAULT ${text}`;
      const verb = hazard.certain ? 'rewrites' : 'may rewrite';
      const why =
        (kind === 'pre-11'
          ? `Before PostgreSQL 11 (the target is ${context.pgVersion}), ADD COLUMN with any non-null default writes the value into every existing row`
          : kind === 'unknown'
            ? `knexsafe cannot tell whether ${column.default?.functions.join(', ') || 'the default'} is volatile; if it is, PostgreSQL evaluates it for every existing row`
            : kind === 'serial' || kind === 'identity'
              ? `Every existing row gets its own sequence value, so PostgreSQL writes a new copy of every row`
              : `A volatile default is evaluated once per existing row (a constant one would be stored once in the catalog), so PostgreSQL writes a new copy of every row`) +
        `, rebuilding every index, while holding ACCESS EXCLUSIVE on ${shortName(table)}: all reads and writes wait until it is done. Measured here on PostgreSQL 15, \`ADD COLUMN ... DEFAULT gen_random_uuid()\` on a 3M-row table stalled writes for 12.2 s.` +
        (hazard.observed ? ' Observed on the shadow: the table’s storage was rewritten (relfilenode changed).' : '');
      const baseType = column.serial ? ({ serial: 'integer', bigserial: 'bigint', smallserial: 'smallint' } as Record<string, string>)[column.type.name] ?? 'bigint' : typeLabel(column.type);
      const sequence = kind === 'serial' || kind === 'identity' ? identifierName(`${shortName(table).split('.').pop()}_${column.name}_seq`) : undefined;
      // The catalog's spelling of the default (pg_get_expr) is exact; the parsed text is a fallback.
      const written = context.migration.schemaAfter?.tables[table]?.columns[column.name]?.default ?? column.default?.text;
      const defaultSql = sequence ? `nextval('${sequence}')` : (written ?? 'NULL');
      const fixable = sequence !== undefined || written !== undefined;
      context.report({
        statement,
        table,
        lock: { mode: 'AccessExclusiveLock', relation: table },
        message: `Adding ${what} ${verb} ${shortName(table)} under ACCESS EXCLUSIVE${kind === 'pre-11' ? ` on PostgreSQL ${context.pgVersion}` : ''}`,
        why,
        severity: severityForTable(context, table, hazard.certain ? 'error' : 'warning'),
        ...(fixable
          ? {
              fix: columnInSteps(
                {
                  table,
                  column: column.name,
                  type: baseType,
                  defaultSql,
                  notNull: column.notNull || column.serial || column.identity !== undefined,
                  ...(sequence ? { sequence } : {}),
                  ...(constraintNote(column) ? { note: constraintNote(column)! } : kind === 'identity' ? { note: 'The sequence default stands in for the identity; once the column is NOT NULL it can become an identity (DROP DEFAULT, ADD GENERATED BY DEFAULT AS IDENTITY) if you need one.' } : {}),
                },
                context,
              ),
            }
          : {}),
      });
    }
  },
};
