import { severityForTable } from '../engine.js';
import { shortName, tableName } from '../helpers.js';
import type { Rule } from '../types.js';
import { columnsAddedHere, statementsAddingColumns, constraintAfter, defaultConstraintName } from '../statement-helpers.js';
import { addColumnsMigration, ident, indexBackedConstraintMigration, migrationFile, migrations, sqlName, transactionLines } from '../../codegen/index.js';

/**
 * ADD PRIMARY KEY (knex `table.primary()`, `.primary()` on a column of alterTable) on an existing
 * table builds a unique index under ACCESS EXCLUSIVE and, for nullable columns, first scans the
 * table to set them NOT NULL — reads and writes wait for both.
 */
export const addPrimaryKeyLocks: Rule = {
  meta: {
    id: 'add-primary-key-locks',
    category: 'lock',
    severity: 'error',
    summary: 'ADD PRIMARY KEY on an existing table builds its index (and checks NOT NULL) under ACCESS EXCLUSIVE',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'alter-table') return;
    const table = tableName(context, f.table);
    if (context.tableAge(table) === 'new') return;
    for (const command of f.commands) {
      if (command.action !== 'add-constraint' || command.constraint.kind !== 'primary' || command.constraint.usingIndex) continue;
      const constraint = command.constraint;
      const columns = constraint.columns;
      const name = constraint.name ?? constraintAfter(context, table, 'primary', constraint)?.name ?? defaultConstraintName(table, columns, 'pkey');
      const before = context.migration.schemaBefore?.tables[table];
      // Columns added by this migration are added nullable first: existing rows need values before NOT NULL.
      const added = columnsAddedHere(context, table, columns).map((c) => ({ ...c, nullable: true }));
      const nullable = columns.filter((c) => !before || !before.columns[c] || before.columns[c]!.nullable);
      const bare = shortName(table).split('.').pop() ?? table;
      const checks = nullable.map((c) => ({ column: c, name: `${bare}_${c}_not_null_check` }));
      const t = sqlName(table);
      const addChecks = `ALTER TABLE ${t} ${checks.map((c) => `ADD CONSTRAINT ${ident(c.name)} CHECK (${ident(c.column)} IS NOT NULL) NOT VALID`).join(', ')}`;
      const dropChecks = `ALTER TABLE ${t} ${checks.map((c) => `DROP CONSTRAINT IF EXISTS ${ident(c.name)}`).join(', ')}`;
      const validate = checks.map((c) => `ALTER TABLE ${t} VALIDATE CONSTRAINT ${ident(c.name)}`);
      const files: string[] = [];
      if (added.length) {
        files.push(addColumnsMigration(table, added, `Then backfill ${added.map((c) => c.name).join(', ')} for the existing rows (batched) before the next migration.`));
      }
      if (checks.length) {
        files.push(
          migrationFile({
            comment: [`Step: a NOT VALID check that proves ${nullable.join(', ')} IS NOT NULL (brief ACCESS EXCLUSIVE lock, no scan).`],
            up: transactionLines([addChecks]),
            down: transactionLines([dropChecks]),
            noTransaction: 'Its own short transaction with a lock timeout (above), never shared with the next step.',
          }),
          migrationFile({
            comment: ['Step: check the existing rows under SHARE UPDATE EXCLUSIVE (reads and writes go on).'],
            up: transactionLines(validate),
            down: ['  // Back to NOT VALID: drop and re-add the check without validating it.', ...transactionLines([dropChecks, addChecks])],
            noTransaction: 'Its own transaction, never the one that added the check.',
          }),
          migrationFile({
            comment: [`Step: SET NOT NULL skips its scan because the valid checks prove it (PostgreSQL 12+); then drop the helper checks.`],
            up: transactionLines([...nullable.map((c) => `ALTER TABLE ${t} ALTER COLUMN ${ident(c)} SET NOT NULL`), dropChecks]),
            down: [
              '  // Back to the previous step: nullable columns with the validated checks.',
              ...transactionLines([`ALTER TABLE ${t} ${nullable.map((c) => `ALTER COLUMN ${ident(c)} DROP NOT NULL`).join(', ')}`, addChecks]),
              ...transactionLines(validate),
            ],
            noTransaction: 'Short transactions with a lock timeout (above).',
          }),
        );
      }
      files.push(indexBackedConstraintMigration({ table, name, kind: 'PRIMARY KEY', columns, include: constraint.include }));
      const scan = nullable.length ? `, after scanning every row to set ${nullable.join(', ')} NOT NULL,` : '';
      context.report({
        statement,
        table,
        message: `Primary key ${name} on ${shortName(table)} is built under an ACCESS EXCLUSIVE lock${nullable.length ? ` (with a NOT NULL scan of ${nullable.join(', ')})` : ''}`,
        why: `ADD PRIMARY KEY${scan} builds a unique index over every row of ${shortName(table)} while holding ACCESS EXCLUSIVE: every SELECT, INSERT, UPDATE and DELETE on the table waits until it is done, and inside knex’s transaction until the migration commits.`,
        lock: { mode: 'AccessExclusiveLock', relation: table },
        severity: severityForTable(context, table),
        fix: {
          ...statementsAddingColumns(context, table, added),
          description: `${nullable.length ? `Make ${nullable.join(', ')} NOT NULL without a locked scan (a NOT VALID CHECK, VALIDATE in its own transaction, then SET NOT NULL, which trusts the check on PostgreSQL 12+), then b` : 'B'}uild the unique index CONCURRENTLY and attach it with ADD CONSTRAINT … PRIMARY KEY USING INDEX (catalog only). One migration per step; each down undoes its own step.`,
          code: migrations(files),
        },
      });
    }
  },
};
