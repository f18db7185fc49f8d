import type { ConstraintFacts } from '../../sql/facts.js';
import { severityForTable } from '../engine.js';
import { shortName } from '../helpers.js';
import type { AnalyzedStatement, Rule, RuleContext } from '../types.js';
import { columnsAddedHere, statementsAddingColumns, constraintAfter, constraintsAddedToExistingTable, defaultConstraintName, withoutNotValid } from '../statement-helpers.js';
import { migrations, notValidThenValidate } from '../../codegen/index.js';

/**
 * ADD CONSTRAINT … CHECK (knex `table.check()`, `checkPositive()` & co. on a column of alterTable,
 * raw SQL) on an existing table scans every row while holding ACCESS EXCLUSIVE: reads and writes
 * wait for the whole scan.
 */
export const checkNotValid: Rule = {
  meta: {
    id: 'check-not-valid',
    category: 'lock',
    severity: 'error',
    summary: 'A CHECK constraint added to an existing table without NOT VALID scans it under ACCESS EXCLUSIVE',
  },
  statement(statement, context) {
    for (const { table, constraint } of constraintsAddedToExistingTable(statement, context, ['check'])) {
      if (!constraint.notValid) report(statement, context, table, constraint);
    }
  },
};

function report(statement: AnalyzedStatement, context: RuleContext, table: string, constraint: ConstraintFacts): void {
  const stored = constraintAfter(context, table, 'check', constraint);
  const name = constraint.name ?? stored?.name ?? defaultConstraintName(table, constraint.columns, 'check');
  const definition = stored ? withoutNotValid(stored.definition) : `CHECK (${constraint.expression?.text ?? '…'})${constraint.noInherit ? ' NO INHERIT' : ''}`;
  const added = columnsAddedHere(context, table, constraint.columns);
  const t = shortName(table);
  context.report({
    statement,
    table,
    message: `CHECK constraint ${name} on ${t} is added without NOT VALID`,
    why: `ADD CONSTRAINT … CHECK takes ACCESS EXCLUSIVE on ${t} and checks every existing row while holding it: every SELECT, INSERT, UPDATE and DELETE on ${t} waits for the whole scan, and inside knex’s transaction until the migration commits.`,
    lock: { mode: 'AccessExclusiveLock', relation: table },
    severity: severityForTable(context, table),
    fix: {
      ...statementsAddingColumns(context, table, added),
      description: `Add it NOT VALID (a brief ACCESS EXCLUSIVE lock, no scan; new and updated rows are checked from then on), then VALIDATE CONSTRAINT in a later migration with its own transaction: validation takes only SHARE UPDATE EXCLUSIVE, so reads and writes go on.`,
      code: migrations(
        notValidThenValidate({
          table,
          name,
          definition,
          ...(added.length ? { addedColumns: added } : {}),
          step1Lock: `ACCESS EXCLUSIVE lock on ${t}`,
          step2Lock: `SHARE UPDATE EXCLUSIVE on ${t}`,
        }),
      ),
    },
  });
}
