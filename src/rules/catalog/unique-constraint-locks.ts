import type { ConstraintFacts } from '../../sql/facts.js';
import { severityForTable } from '../engine.js';
import { shortName } from '../helpers.js';
import type { AnalyzedStatement, Rule, RuleContext } from '../types.js';
import { columnsAddedHere, statementsAddingColumns, constraintAfter, constraintsAddedToExistingTable, defaultConstraintName } from './locks-a-fixes.js';
import { addColumnsMigration, deferrableClause, indexBackedConstraintMigration, migrations } from '../../codegen/index.js';

/**
 * ALTER TABLE … ADD CONSTRAINT … UNIQUE (knex `table.unique()`, `.unique()` on a column of
 * alterTable) builds a unique index while holding ACCESS EXCLUSIVE — stronger than the SHARE lock of
 * a plain CREATE INDEX: reads wait too. (`CREATE UNIQUE INDEX` is index-not-concurrent's.)
 * ADD CONSTRAINT … EXCLUDE does the same, and has no non-blocking alternative at all.
 */
export const uniqueConstraintLocks: Rule = {
  meta: {
    id: 'unique-constraint-locks',
    category: 'lock',
    severity: 'error',
    summary: 'ADD CONSTRAINT … UNIQUE (or EXCLUDE) on an existing table builds its index under ACCESS EXCLUSIVE: reads and writes wait',
  },
  statement(statement, context) {
    for (const { table, constraint } of constraintsAddedToExistingTable(statement, context, ['unique', 'exclusion'])) {
      if (constraint.kind === 'exclusion') reportExclusion(statement, context, table, constraint);
      else if (!constraint.usingIndex) report(statement, context, table, constraint);
    }
  },
};

function report(statement: AnalyzedStatement, context: RuleContext, table: string, constraint: ConstraintFacts): void {
  const name = constraint.name ?? constraintAfter(context, table, 'unique', constraint)?.name ?? defaultConstraintName(table, constraint.columns, 'key');
  const added = columnsAddedHere(context, table, constraint.columns);
  const files = [
    ...(added.length ? [addColumnsMigration(table, added)] : []),
    indexBackedConstraintMigration({
      table,
      name,
      kind: 'UNIQUE',
      columns: constraint.columns,
      include: constraint.include,
      nullsNotDistinct: constraint.nullsNotDistinct,
      deferrable: deferrableClause(constraint),
    }),
  ];
  context.report({
    statement,
    table,
    message: `Unique constraint ${name} on ${shortName(table)} builds its index under an ACCESS EXCLUSIVE lock`,
    why: `ADD CONSTRAINT … UNIQUE builds a unique index over every row of ${shortName(table)} while holding ACCESS EXCLUSIVE (not the SHARE lock of CREATE INDEX): every SELECT, INSERT, UPDATE and DELETE on the table waits for the whole build, and inside knex’s transaction until the migration commits.`,
    lock: { mode: 'AccessExclusiveLock', relation: table },
    severity: severityForTable(context, table),
    fix: {
      covers: statementsAddingColumns(context, table, added),
      description: `Build the index with CREATE UNIQUE INDEX CONCURRENTLY (writes go on), then attach it with ADD CONSTRAINT … UNIQUE USING INDEX, which only updates the catalog, in a migration without knex’s transaction${added.length ? ' (after the migration that adds the column)' : ''}. Down drops the constraint, which drops the index with it.`,
      code: migrations(files),
    },
  });
}

/** EXCLUDE: PostgreSQL has neither NOT VALID nor USING INDEX for it, so there is no fix to print, only the trade-off. */
function reportExclusion(statement: AnalyzedStatement, context: RuleContext, table: string, constraint: ConstraintFacts): void {
  const name = constraint.name ?? constraintAfter(context, table, 'exclusion', constraint)?.name ?? defaultConstraintName(table, constraint.columns, 'excl');
  context.report({
    statement,
    table,
    message: `Exclusion constraint ${name} on ${shortName(table)} builds its ${constraint.indexMethod ?? 'btree'} index under an ACCESS EXCLUSIVE lock`,
    why:
      `ADD CONSTRAINT … EXCLUDE builds an index over every row of ${shortName(table)} and checks every pair of conflicting rows while holding ACCESS EXCLUSIVE: every SELECT, INSERT, UPDATE and DELETE on the table waits for the whole build. ` +
      'Unlike UNIQUE there is no way around it: PostgreSQL accepts neither NOT VALID nor USING INDEX for an exclusion constraint, and CREATE INDEX CONCURRENTLY cannot be attached to one. ' +
      'Add it when the table is created or still small; otherwise in a migration of its own, at a quiet moment, with a short lock_timeout so it gives up instead of queueing traffic behind it, knowing that reads and writes stop for as long as the build takes.',
    lock: { mode: 'AccessExclusiveLock', relation: table },
    severity: severityForTable(context, table),
  });
}
