import type { ConstraintFacts } from '../../sql/facts.js';
import { severityForTable } from '../engine.js';
import { shortName } from '../helpers.js';
import { partitionedIndexMigration, partitionedTable } from '../partitions.js';
import type { AnalyzedStatement, Rule, RuleContext } from '../types.js';
import { columnsAddedHere, statementsAddingColumns, constraintAfter, constraintsAddedToExistingTable, defaultConstraintName } from '../statement-helpers.js';
import { addColumnsMigration, deferrableClause, ident, indexBackedConstraintMigration, migrations } from '../../codegen/index.js';

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
  if (partitionedTable(context.migration.schemaBefore, table) && added.length === 0) {
    reportPartitioned(statement, context, table, constraint, name);
    return;
  }
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
      ...statementsAddingColumns(context, table, added),
      description: `Build the index with CREATE UNIQUE INDEX CONCURRENTLY (writes go on), then attach it with ADD CONSTRAINT … UNIQUE USING INDEX, which only updates the catalog, in a migration without knex’s transaction${added.length ? ' (after the migration that adds the column)' : ''}. Down drops the constraint, which drops the index with it.`,
      code: migrations(files),
    },
  });
}

/**
 * On a partitioned table PostgreSQL refuses both halves of the usual fix: CREATE INDEX CONCURRENTLY
 * and ADD CONSTRAINT … USING INDEX (“not supported on partitioned tables”), and ADD CONSTRAINT …
 * UNIQUE builds new partition indexes even when matching ones exist (PostgreSQL 15). A unique
 * index built with the partitioned-index recipe enforces the same rule, serves ON CONFLICT and can
 * be referenced by foreign keys (checked on 15); it is only not a named constraint.
 */
function reportPartitioned(statement: AnalyzedStatement, context: RuleContext, table: string, constraint: ConstraintFacts, name: string): void {
  const include = constraint.include.length ? ` INCLUDE (${constraint.include.map(ident).join(', ')})` : '';
  const nulls = constraint.nullsNotDistinct ? ' NULLS NOT DISTINCT' : '';
  context.report({
    statement,
    table,
    message: `Unique constraint ${name} on partitioned ${shortName(table)} builds every partition's index under lock`,
    why: `ADD CONSTRAINT … UNIQUE on a partitioned table takes ACCESS EXCLUSIVE on ${shortName(table)} (every query on it waits) and builds a unique index on each partition under SHARE, all in one transaction: nothing reaches the table until the last partition's index is built.`,
    lock: { mode: 'AccessExclusiveLock', relation: table },
    severity: severityForTable(context, table),
    fix: {
      description: `PostgreSQL refuses CREATE INDEX CONCURRENTLY and ADD CONSTRAINT … USING INDEX on a partitioned table. Use a unique index instead of the constraint: created ON ONLY ${shortName(table)}, built CONCURRENTLY on each partition and attached — it enforces the same uniqueness, serves ON CONFLICT and can be referenced by foreign keys.`,
      code: partitionedIndexMigration({
        parent: table,
        name,
        unique: true,
        definitionTail: ` (${constraint.columns.map(ident).join(', ')})${include}${nulls}`,
        schema: context.migration.schemaBefore,
      }),
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
