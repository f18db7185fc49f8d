import type { ColumnFacts } from '../../sql/facts.js';
import { primaryKeyColumn, shortName, tableName } from '../helpers.js';
import type { Fix, Rule, RuleContext } from '../types.js';
import { emptyValueFor, typeLabel } from '../../codegen/index.js';
import { formatCount } from '../../util/format-count.js';
import { LOCK_TIMEOUT, columnInSteps, guardedTransaction, ident, migrationCode, rawCall, sqlName } from '../../codegen/index.js';

/** A value existing rows can take, per type: the placeholder the fix suggests. */
function placeholder(column: ColumnFacts, context: RuleContext): { sql: string; constant: boolean } | undefined {
  const type = column.type;
  if (type.schema === undefined) {
    const empty = emptyValueFor(type);
    if (empty !== undefined) return { sql: empty, constant: true };
    switch (type.name) {
      case 'timestamptz':
      case 'timestamp':
      case 'date':
        // now() is stable: evaluated once for the statement and stored like a constant.
        return { sql: 'now()', constant: true };
      case 'time':
      case 'timetz':
        return { sql: `'00:00'`, constant: true };
      case 'uuid':
        return { sql: context.pgVersion >= 13 ? 'gen_random_uuid()' : 'uuid_generate_v4()', constant: false };
      default:
        break;
    }
  } else if (type.array) return { sql: `'{}'`, constant: true };
  const enumType = Object.values(context.migration.schemaBefore?.enums ?? {}).find((e) => e.name === type.name && (!type.schema || e.schema === type.schema));
  if (enumType?.values[0] !== undefined) return { sql: `'${enumType.values[0].replace(/'/g, "''")}'`, constant: true };
  return undefined;
}

function fixFor(table: string, column: ColumnFacts, context: RuleContext): Fix {
  const t = sqlName(table);
  const c = ident(column.name);
  const type = typeLabel(column.type);
  const value = placeholder(column, context);
  const constraints = column.constraints.filter((k) => k.kind !== 'not-null');
  const constraintNote = constraints.length ? ' Add its other constraints (UNIQUE, REFERENCES, CHECK) separately, with their lock-safe patterns.' : '';
  if (value && value.constant && context.pgVersion >= 11) {
    return {
      description:
        `Give it a constant default: since PostgreSQL 11, ADD COLUMN ... NOT NULL DEFAULT <constant> stores the value once in the catalog — existing rows read it, nothing is rewritten or scanned. ` +
        `${value.sql} is a placeholder: use the value existing rows should have. If every existing row needs a computed value instead, add the column nullable, backfill it in batches, then add NOT NULL with the CHECK (col IS NOT NULL) NOT VALID → VALIDATE → SET NOT NULL pattern (see set-not-null-scan).${constraintNote}`,
      code: migrationCode({
        comment: [
          `A constant default is stored once in the catalog (PostgreSQL 11+): existing rows read it, nothing is rewritten or scanned.`,
          `${value.sql} is a placeholder: use the value existing rows should get.`,
        ],
        up: [
          rawCall(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`),
          rawCall(`ALTER TABLE ${t} ADD COLUMN ${c} ${type} NOT NULL DEFAULT ${value.sql}`),
          `// If new rows must always name their value, drop the default afterwards (catalog-only; existing rows keep it):`,
          `// ${rawCall(`ALTER TABLE ${t} ALTER COLUMN ${c} DROP DEFAULT`)}`,
        ],
        down: [rawCall(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`), rawCall(`ALTER TABLE ${t} DROP COLUMN ${c}`)],
      }),
    };
  }
  if (value) {
    return columnInSteps({
      primaryKey: primaryKeyColumn(context, table),
      pgVersion: context.pgVersion,
      table,
      column: column.name,
      type,
      defaultSql: value.sql,
      notNull: true,
      note: `${value.sql} is a placeholder for the value existing rows should get${value.constant ? '' : ' (a volatile default: never put it in ADD COLUMN itself)'}.${constraintNote}`,
    });
  }
  return {
    description: `Add ${column.name} nullable, fill the existing rows in batches, then add NOT NULL with the CHECK (${column.name} IS NOT NULL) NOT VALID → VALIDATE → SET NOT NULL pattern (see set-not-null-scan).${constraintNote}`,
    code: migrationCode({
      comment: [`Step 1: add ${column.name} nullable (catalog-only). Fill it in batches next, then make it NOT NULL without a scan (set-not-null-scan).`],
      noTransaction: true,
      up: guardedTransaction([`ALTER TABLE ${t} ADD COLUMN ${c} ${type}`]),
      down: guardedTransaction([`ALTER TABLE ${t} DROP COLUMN IF EXISTS ${c}`]),
    }),
  };
}

/**
 * ADD COLUMN ... NOT NULL without a default on an existing table: fails (23502) as soon as the
 * table has a row — the empty shadow or dev database hides it, production does not.
 */
export const addColumnNotNullNoDefault: Rule = {
  meta: {
    id: 'add-column-not-null-no-default',
    category: 'lock',
    severity: 'error',
    summary: 'ADD COLUMN ... NOT NULL without a default fails on a table that has rows',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'alter-table') return;
    const table = tableName(context, f.table);
    // A table created in this migration or batch is empty when the column is added.
    if (context.tableAge(table) !== 'existing') return;
    for (const command of f.commands) {
      if (command.action !== 'add-column') continue;
      const column = command.column;
      const hasDefault = column.default !== undefined && !column.default.isNull;
      if (!column.notNull || hasDefault || column.serial || column.identity || column.generated) continue;
      const rows = context.stats(table)?.rows;
      const failed = statement.error?.sqlState === '23502';
      const name = `${shortName(table)}.${column.name}`;
      const message = failed
        ? `Adding ${name} NOT NULL without a default failed on the shadow: ${shortName(table)} has rows`
        : rows !== undefined && rows > 0
          ? `Adding ${name} NOT NULL without a default will fail: ${shortName(table)} has about ${formatCount(rows)} rows`
          : `Adding ${name} NOT NULL without a default fails as soon as ${shortName(table)} has a row`;
      context.report({
        statement,
        table,
        message,
        why:
          `Existing rows would hold NULL in a NOT NULL column, so PostgreSQL rejects the statement (SQLSTATE 23502, "column ${column.name} … contains null values") and knex rolls the migration${context.batch.length > 1 ? ' batch' : ''} back: the deploy fails. ` +
          (rows === 0
            ? 'The target reports no rows in it today, which is why this is a warning; it stops working as soon as it has one. '
            : 'Empty development and shadow databases hide it; production does not. ') +
          'It also takes ACCESS EXCLUSIVE and reads the whole table to check.',
        severity: failed || rows === undefined || rows > 0 ? 'error' : 'warning',
        fix: fixFor(table, column, context),
      });
    }
  },
};
