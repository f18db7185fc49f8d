import type { ConstraintFacts } from '../../sql/facts.js';
import { severityForTable } from '../engine.js';
import { shortName, tableName } from '../helpers.js';
import { partitionedForeignKeyMigrations, partitionedTable, partitionTree } from '../partitions.js';
import type { AnalyzedStatement, Rule, RuleContext } from '../types.js';
import { lazyFix } from '../lazy-fix.js';
import { columnsAddedHere, statementsAddingColumns, constraintAfter, constraintsAddedToExistingTable, defaultConstraintName, withoutNotValid } from '../statement-helpers.js';
import { foreignKeyDefinition, migrations, notValidThenValidate } from '../../codegen/index.js';

/**
 * Adding a foreign key to an existing table (knex `.references()` / `.foreign()` in alterTable,
 * raw ADD CONSTRAINT … FOREIGN KEY or ADD COLUMN … REFERENCES) checks every existing row while
 * holding SHARE ROW EXCLUSIVE on both tables: writes to both wait for the whole scan.
 *
 * A foreign key of a table created in the same migration is not reported: the new table is empty,
 * so there is no scan; the SHARE ROW EXCLUSIVE lock it takes on the referenced table is brief unless
 * the transaction stays open, which missing-lock-timeout and lock-held-across-batch are about.
 */
export const foreignKeyNotValid: Rule = {
  meta: {
    id: 'foreign-key-not-valid',
    category: 'lock',
    severity: 'error',
    summary: 'A foreign key added to an existing table without NOT VALID blocks writes on both tables while every row is checked',
  },
  statement(statement, context) {
    for (const { table, constraint } of constraintsAddedToExistingTable(statement, context, ['foreign'])) {
      if (!constraint.notValid) report(statement, context, table, constraint);
    }
  },
};

function report(statement: AnalyzedStatement, context: RuleContext, table: string, constraint: ConstraintFacts): void {
  const stored = constraintAfter(context, table, 'foreign', constraint);
  const name = constraint.name ?? stored?.name ?? defaultConstraintName(table, constraint.columns, 'fkey');
  const referenced = constraint.references ? tableName(context, constraint.references.table) : stored?.references?.table;
  if (referenced && partitionKeysValidated(context, table, constraint.columns, referenced)) return;
  const both = referenced && referenced !== table ? `${shortName(table)} and ${shortName(referenced)}` : shortName(table);
  const added = columnsAddedHere(context, table, constraint.columns);
  const partitioned = context.migration.schemaBefore?.tables[table]?.kind === 'partitioned' && context.pgVersion < 18;
  const schemaBefore = context.migration.schemaBefore;
  context.report({
    statement,
    table,
    message: `Foreign key ${name} on ${shortName(table)} is added without NOT VALID`,
    why: `Adding a foreign key takes SHARE ROW EXCLUSIVE on ${both} and then checks every existing row of ${shortName(table)} while holding ${referenced && referenced !== table ? 'both locks' : 'it'}: INSERT, UPDATE and DELETE on ${both} wait for the whole scan, and inside knex’s transaction until the migration commits.`,
    lock: { mode: 'ShareRowExclusiveLock', relation: table },
    severity: severityForTable(context, table),
    fix: lazyFix(
      {
        ...statementsAddingColumns(context, table, added),
        description: `Add it NOT VALID (a brief lock, no scan; new rows are checked from then on), then VALIDATE CONSTRAINT in a later migration with its own transaction: validation takes SHARE UPDATE EXCLUSIVE on ${shortName(table)} and ROW SHARE on ${referenced ? shortName(referenced) : 'the referenced table'}, so reads and writes go on.${
          partitioned
            ? ` ${shortName(table)} is partitioned: before PostgreSQL 18 it refuses NOT VALID foreign keys, so add the key NOT VALID to each partition and VALIDATE them first; adding it to the parent afterwards attaches those validated partition keys instead of creating new ones.`
            : ''
        }`,
      },
      () => {
        // Written with the code: only --json, --verbose and fix show it.
        const definition = stored ? withoutNotValid(stored.definition) : foreignKeyDefinition(constraint);
        return migrations(
          partitioned && added.length === 0
            ? partitionedForeignKeyMigrations(table, name, definition, schemaBefore)
            : notValidThenValidate({
                table,
                name,
                definition,
                ...(added.length ? { addedColumns: added } : {}),
                step1Lock: `SHARE ROW EXCLUSIVE lock on ${both}`,
                step2Lock: `SHARE UPDATE EXCLUSIVE on ${shortName(table)}${referenced && referenced !== table ? ` and ROW SHARE on ${shortName(referenced)}` : ''}`,
              }),
        );
      },
    ),
  });
}

/**
 * On a partitioned table whose every partition already holds the same key, validated, PostgreSQL
 * attaches those keys instead of checking rows again (PostgreSQL 15, no “validating foreign key
 * constraint” at debug1): the last step of the per-partition recipe scans nothing.
 */
function partitionKeysValidated(context: RuleContext, table: string, columns: string[], referenced: string): boolean {
  const before = context.migration.schemaBefore;
  if (!partitionedTable(before, table)) return false;
  const { leaves } = partitionTree(before, table);
  return (
    leaves.length > 0 &&
    leaves.every((leaf) =>
      Object.values(before?.tables[leaf]?.constraints ?? {}).some((c) => c.kind === 'foreign' && c.validated && c.references?.table === referenced && c.columns.join() === columns.join()),
    )
  );
}
