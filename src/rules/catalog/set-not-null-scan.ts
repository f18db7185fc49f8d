import { statementFacts, type ColumnFacts } from '../../sql/facts.js';
import { parseSqlSync } from '../../sql/parse.js';
import type { ColumnInfo } from '../../schema/types.js';
import { severityForTable } from '../engine.js';
import { shortName, tableName } from '../helpers.js';
import type { AnalyzedStatement, Fix, Rule, RuleContext } from '../types.js';
import { coverAddedColumns } from '../statement-helpers.js';
import { typeRewriteHazards } from '../hazards.js';
import { typeLabel } from '../../codegen/index.js';
import { batchedLoop } from '../backfill-loop.js';
import { BATCH_PREAMBLE, guardedTransaction, ident, LOCK_TIMEOUT, migrationCode, migrations, notNullSteps, rawCall, sqlName, type MigrationCode } from '../../codegen/index.js';

/** The column a catalog CHECK definition (`CHECK ((name IS NOT NULL))`) proves NOT NULL, read with the parser. */
export function checkedNotNullColumn(definition: string): string | undefined {
  try {
    const [parsed] = parseSqlSync(`ALTER TABLE t ADD ${definition}`);
    const facts = parsed ? statementFacts(parsed.ast, parsed.sql) : undefined;
    const command = facts?.kind === 'alter-table' ? facts.commands[0] : undefined;
    return command?.action === 'add-constraint' ? command.constraint.checksNotNullOf : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a validated CHECK (column IS NOT NULL) exists before the statement (earlier in the migration, or before it). */
function provenNotNull(statement: AnalyzedStatement, context: RuleContext, table: string, column: string): boolean {
  const definitions = Object.values(context.migration.schemaBefore?.tables[table]?.constraints ?? {});
  const isCheck = (definition: string) => checkedNotNullColumn(definition) === column;
  const valid = new Set(definitions.filter((c) => c.kind === 'check' && c.validated && isCheck(c.definition)).map((c) => c.name));
  const notValid = new Set(definitions.filter((c) => c.kind === 'check' && !c.validated && isCheck(c.definition)).map((c) => c.name));
  for (const s of context.migration.statements) {
    if (s.index >= statement.index) break;
    if (s.facts.kind !== 'alter-table' || tableName(context, s.facts.table) !== table) continue;
    for (const c of s.facts.commands) {
      if (c.action === 'add-constraint' && c.constraint.kind === 'check' && c.constraint.checksNotNullOf === column && c.constraint.name) {
        (c.constraint.notValid ? notValid : valid).add(c.constraint.name);
      }
      if (c.action === 'validate-constraint' && notValid.has(c.name)) valid.add(c.name);
      if (c.action === 'drop-constraint') valid.delete(c.name);
    }
  }
  return valid.size > 0;
}

function earlierCommands(statement: AnalyzedStatement, context: RuleContext, table: string) {
  return context.migration.statements
    .filter((s) => s.index < statement.index && s.facts.kind === 'alter-table' && tableName(context, s.facts.table) === table)
    .flatMap((s) => (s.facts.kind === 'alter-table' ? s.facts.commands.map((command) => ({ statement: s, command })) : []));
}

/**
 * SQL that takes a column from `before` to `after` for type and a newly given default, leaving
 * NOT NULL alone. A default that `.alter()` only dropped because the builder did not repeat it is
 * kept (knex-alter-drops-default reports that drop).
 */
function typeAndDefault(t: string, column: string, before: ColumnInfo, after: ColumnInfo): { up: string[]; down: string[]; keptDefault?: string } {
  const c = ident(column);
  const up: string[] = [];
  const down: string[] = [];
  if (before.type !== after.type) {
    up.push(`ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${after.type}`);
    down.push(`ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${before.type}`);
  }
  if (after.default !== null && before.default !== after.default) {
    up.push(`ALTER TABLE ${t} ALTER COLUMN ${c} SET DEFAULT ${after.default}`);
    down.unshift(before.default ? `ALTER TABLE ${t} ALTER COLUMN ${c} SET DEFAULT ${before.default}` : `ALTER TABLE ${t} ALTER COLUMN ${c} DROP DEFAULT`);
  }
  return { up, down, ...(after.default === null && before.default !== null ? { keptDefault: before.default } : {}) };
}

/** ADD COLUMN without NOT NULL (and without a volatile default): what step 1 of the pattern re-creates. */
function nullableColumnSql(t: string, column: ColumnFacts, catalogDefault: string | null | undefined): string {
  const written = catalogDefault ?? column.default?.text;
  const def = column.default && !column.default.isNull && column.default.volatility !== 'volatile' && written ? ` DEFAULT ${written}` : '';
  return `ALTER TABLE ${t} ADD COLUMN ${ident(column.name)} ${typeLabel(column.type)}${def}`;
}

/**
 * `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` (knex `.notNullable().alter()`, `dropNullable()`)
 * on an existing table reads every row to prove there is no NULL, holding ACCESS EXCLUSIVE.
 */
export const setNotNullScan: Rule = {
  meta: {
    id: 'set-not-null-scan',
    category: 'lock',
    severity: 'error',
    summary: 'SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) exists',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'alter-table' || !f.commands.some((c) => c.action === 'set-not-null')) return;
    const table = tableName(context, f.table);
    if (context.tableAge(table) === 'new') return;
    const t = sqlName(table);
    const earlier = earlierCommands(statement, context, table);
    const rewritten = new Set(
      context.migration.statements
        .filter((s) => s.index <= statement.index)
        .flatMap((s) => typeRewriteHazards(s, context))
        .filter((h) => h.table === table)
        .map((h) => h.column),
    );
    for (const command of f.commands) {
      if (command.action !== 'set-not-null') continue;
      const column = command.column;
      if (context.pgVersion >= 12 && provenNotNull(statement, context, table, column)) continue;
      // The rewrite of a type change already reads every row under the same lock: column-type-rewrite reports it.
      if (rewritten.has(column)) continue;
      const before = context.migration.schemaBefore?.tables[table]?.columns[column];
      const droppedHere = earlier.some((e) => e.command.action === 'drop-not-null' && e.command.column === column);
      if (before && !before.nullable && !droppedHere) continue; // already NOT NULL: PostgreSQL does nothing
      const added = earlier.find((e) => e.command.action === 'add-column' && e.command.column.name === column);
      const name = `${shortName(table)}.${column}`;
      const knexAlter = Boolean(before && !before.nullable && droppedHere);
      const base = {
        statement,
        table,
        lock: { mode: 'AccessExclusiveLock' as const, relation: table },
        severity: severityForTable(context, table),
      };
      if (knexAlter) {
        const after = context.migration.schemaAfter?.tables[table]?.columns[column];
        const change = before && after ? typeAndDefault(t, column, before, after) : { up: [], down: [] };
        context.report({
          ...base,
          message: `NOT NULL on ${name} is dropped and set again (knex .alter()), and setting it scans the whole table under ACCESS EXCLUSIVE`,
          why: `knex's .alter() first drops NOT NULL and then, because the builder says .notNullable(), sets it again — and SET NOT NULL reads every row of ${shortName(table)} to prove there is no NULL, holding ACCESS EXCLUSIVE: reads and writes wait for the whole scan. The column was NOT NULL all along.`,
          fix: {
            description:
              `Change only what you mean to change, with raw SQL that leaves NOT NULL alone${change.up.length ? ` (${change.up.length === 1 ? 'one catalog-only statement' : 'catalog-only statements'} here)` : ''}; no scan, a brief ACCESS EXCLUSIVE lock.` +
              ('keptDefault' in change && change.keptDefault ? ` It also keeps the default ${change.keptDefault}, which the .alter() dropped because the builder did not repeat it.` : ''),
            code: migrationCode({
              comment: [`${name} stays NOT NULL: no scan. Brief ACCESS EXCLUSIVE lock.`],
              up: [rawCall(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`), ...change.up.map((sql) => rawCall(sql))],
              down: [rawCall(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`), ...change.down.map((sql) => rawCall(sql))],
            }),
          },
        });
        continue;
      }
      if (added && added.command.action === 'add-column' && added.command.column.notNull && droppedHere) {
        // Added NOT NULL (with a default for the existing rows) and then .alter()ed, usually only to
        // drop that default: knex drops and sets NOT NULL again, and the SET scans the table.
        const col = added.command.column;
        const after = context.migration.schemaAfter?.tables[table]?.columns[column];
        const addedDefault = col.default && !col.default.isNull ? col.default.text : undefined;
        const c = ident(column);
        const up = [`ALTER TABLE ${t} ADD COLUMN ${c} ${after?.type ?? typeLabel(col.type)} NOT NULL${addedDefault ? ` DEFAULT ${addedDefault}` : ''}`];
        if (after && after.default === null && addedDefault) up.push(`ALTER TABLE ${t} ALTER COLUMN ${c} DROP DEFAULT`);
        else if (after?.default && after.default !== addedDefault) up.push(`ALTER TABLE ${t} ALTER COLUMN ${c} SET DEFAULT ${after.default}`);
        context.report({
          ...base,
          message: `NOT NULL on ${name}, added in this migration, is dropped and set again (knex .alter()), and setting it scans the whole table under ACCESS EXCLUSIVE`,
          why: `The column was added NOT NULL, so every row already has a value; knex's .alter() then drops NOT NULL and sets it again, and SET NOT NULL reads every row of ${shortName(table)} to prove it, holding ACCESS EXCLUSIVE: reads and writes wait for the whole scan.`,
          fix: {
            ...coverAddedColumns(context, table, [column]),
            description: `Add the column as it should end up and change only the default afterwards: both statements are catalog-only (PostgreSQL 11+, constant default), no scan, a brief ACCESS EXCLUSIVE lock.`,
            code: migrationCode({
              comment: [`${name} is added NOT NULL once; only the default changes afterwards. No scan.`],
              up: [rawCall(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`), ...up.map((sql) => rawCall(sql))],
              down: [rawCall(`ALTER TABLE ${t} DROP COLUMN ${c}`)],
            }),
          },
        });
        continue;
      }
      const steps = notNullSteps(table, column, context.pgVersion, added ? 2 : 1, (added ? 1 : 0) + (context.pgVersion >= 12 ? 3 : 2));
      const files: MigrationCode[] = [];
      // The statements this fix writes again: the ADD COLUMN and its backfills.
      const covers: AnalyzedStatement[] = [];
      let partlyCovered: Fix['coversAddedColumns'];
      if (added && added.command.action === 'add-column') {
        const backfills = context.migration.statements.filter(
          (s) => s.index < statement.index && s.facts.kind === 'update' && tableName(context, s.facts.table) === table && s.facts.columns.includes(column),
        );
        const adding = coverAddedColumns(context, table, [column]);
        covers.push(...(adding.covers ?? []), ...backfills);
        partlyCovered = adding.coversAddedColumns;
        const loops = backfills.map((s) => batchedLoop(s, context, table));
        const total = context.pgVersion >= 12 ? 4 : 3;
        files.push({
          comment: [`Step 1 of ${total}: add ${column} as a nullable column (catalog-only, brief lock), then fill the existing rows in batches,`, `each committing on its own.`],
          noTransaction: true,
          ...(loops.length ? { preamble: BATCH_PREAMBLE } : {}),
          up: [
            ...guardedTransaction([nullableColumnSql(t, added.command.column, context.migration.schemaAfter?.tables[table]?.columns[column]?.default)]),
            ...loops.flatMap((loop, i) =>
              loop
                ? ['', ...(loops.length > 1 ? ['{'] : []), ...(loops.length > 1 ? loop.map((l) => `  ${l}`) : loop), ...(loops.length > 1 ? ['}'] : [])]
                : ['', `// Backfill ${i + 1}: run it in batches (see unbatched-backfill).`],
            ),
          ],
          down: guardedTransaction([`ALTER TABLE ${t} DROP COLUMN IF EXISTS ${ident(column)}`]),
        });
      }
      files.push(steps.add, steps.validate, ...(steps.set ? [steps.set] : []));
      context.report({
        ...base,
        message: `SET NOT NULL on ${name} scans the whole table under ACCESS EXCLUSIVE`,
        why:
          `To prove there is no NULL, PostgreSQL reads every row of ${shortName(table)} while holding ACCESS EXCLUSIVE: every SELECT, INSERT, UPDATE and DELETE on it waits for the whole scan (seconds to minutes on a large table)` +
          (statement.transactionId !== undefined ? ', and inside the migration transaction the lock stays until it commits' : '') +
          '.' +
          (context.pgVersion >= 12 ? ' A validated CHECK (column IS NOT NULL) lets PostgreSQL 12+ skip the scan.' : ''),
        fix: {
          covers,
          ...(partlyCovered ? { coversAddedColumns: partlyCovered } : {}),
          description:
            (added ? `Add ${column} nullable and backfill it in batches first; then ` : '') +
            (context.pgVersion >= 12
              ? `add CHECK (${column} IS NOT NULL) NOT VALID (no scan), VALIDATE it in a separate migration (SHARE UPDATE EXCLUSIVE: reads and writes go on), then SET NOT NULL — which skips the scan thanks to the validated check — and drop the check.`
              : `add CHECK (${column} IS NOT NULL) NOT VALID and VALIDATE it separately; before PostgreSQL 12 SET NOT NULL always scans, so keep the validated check as the guarantee (or SET NOT NULL in a maintenance window).`) +
            ' Each step is its own migration with `transaction: false` and a lock_timeout.',
          code: migrations(files.map(migrationCode)),
        },
      });
    }
  },
};
