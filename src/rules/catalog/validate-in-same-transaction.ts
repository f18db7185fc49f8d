import type { ConstraintFacts } from '../../sql/facts.js';
import { qualify } from '../analyze.js';
import { severityForTable } from '../engine.js';
import { shortName, tableName } from '../helpers.js';
import type { AnalyzedStatement, MigrationUnit, Rule } from '../types.js';
import { constraintAfter, withoutNotValid } from '../statement-helpers.js';
import { foreignKeyDefinition, migrations, notValidThenValidate } from '../../codegen/index.js';

/**
 * `ADD CONSTRAINT … NOT VALID` then `VALIDATE CONSTRAINT` is the safe way to add a CHECK or foreign
 * key — but only in two transactions. In one (the same migration, or two migrations of one knex
 * batch), the lock the ADD took is still held while VALIDATE scans the table.
 */
export const validateInSameTransaction: Rule = {
  meta: {
    id: 'validate-in-same-transaction',
    category: 'lock',
    severity: 'error',
    summary: 'VALIDATE CONSTRAINT in the same transaction as its NOT VALID add scans the table under the add’s lock',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'alter-table' || !statement.inTransaction || !statement.transactionId) return;
    const table = tableName(context, f.table);
    if (context.tableAge(table) === 'new') return;
    const unit = context.migration;
    for (const command of f.commands) {
      if (command.action !== 'validate-constraint') continue;
      const add = findAdd(statement, unit, context.batch, table, command.name);
      if (!add) continue;
      const c = add.constraint;
      const foreign = c.kind === 'foreign';
      const referenced = foreign && c.references ? qualify(c.references.table, unit.schemaBefore) : undefined;
      const both = referenced && referenced !== table ? `${shortName(table)} and ${shortName(referenced)}` : shortName(table);
      const mode = foreign ? 'ShareRowExclusiveLock' : 'AccessExclusiveLock';
      const sameMigration = add.unit === unit;
      const where = sameMigration ? (add.statement.site ? ` (line ${add.statement.site.line})` : '') : ` in ${add.unit.name}, which knex runs in the same batch transaction`;
      const stored = constraintAfter(context, table, c.kind === 'foreign' ? 'foreign' : 'check', c);
      const definition = stored ? withoutNotValid(stored.definition) : foreign ? foreignKeyDefinition(c) : `CHECK (${c.expression?.text ?? '…'})`;
      const files = notValidThenValidate({
        table,
        name: command.name,
        definition,
        step1Lock: foreign ? `SHARE ROW EXCLUSIVE lock on ${both}` : `ACCESS EXCLUSIVE lock on ${shortName(table)}`,
        step2Lock: `SHARE UPDATE EXCLUSIVE on ${shortName(table)}${referenced && referenced !== table ? ` and ROW SHARE on ${shortName(referenced)}` : ''}`,
      });
      context.report({
        statement,
        table,
        message: `VALIDATE CONSTRAINT ${command.name} runs in the same transaction as its ADD CONSTRAINT … NOT VALID${where}`,
        why: `The ${foreign ? 'SHARE ROW EXCLUSIVE' : 'ACCESS EXCLUSIVE'} lock that ADD CONSTRAINT … NOT VALID took on ${both} is held until the transaction commits, so the validation scan runs under it: ${
          foreign ? `INSERT, UPDATE and DELETE on ${both}` : `every SELECT, INSERT, UPDATE and DELETE on ${shortName(table)}`
        } wait for the whole scan — exactly what NOT VALID was meant to avoid.`,
        lock: { mode, relation: table },
        severity: severityForTable(context, table),
        fix: sameMigration
          ? {
              covers: [add.statement],
              description: unit.sqlFile
                ? 'COMMIT after the ADD CONSTRAINT … NOT VALID and run VALIDATE CONSTRAINT in a transaction of its own; as knex migrations, two files, each in its own short transaction:'
                : 'Move VALIDATE CONSTRAINT to a migration of its own, with its own transaction (`exports.config = { transaction: false }` plus a short `knex.transaction`), so the lock of the ADD is released before the scan starts — also when both run in one `knex migrate:latest`.',
              code: migrations(files),
            }
          : {
              description: `Give the VALIDATE migration \`exports.config = { transaction: false }\` and its own short transaction: knex then runs each migration of the batch in its own transaction, so the lock taken in ${add.unit.name} is released before the scan starts.`,
              code: migrations([files[1]!]),
            },
      });
    }
  },
};

interface FoundAdd {
  unit: MigrationUnit;
  statement: AnalyzedStatement;
  constraint: ConstraintFacts;
}

/** The NOT VALID add of `name` on `table` earlier in the same transaction (this migration or an earlier one of its batch). */
function findAdd(validate: AnalyzedStatement, unit: MigrationUnit, batch: MigrationUnit[], table: string, name: string): FoundAdd | undefined {
  const earlier = unit.batchTransactionId ? batch.slice(0, Math.max(0, batch.indexOf(unit))).filter((u) => u.batchTransactionId === unit.batchTransactionId) : [];
  const candidates: { unit: MigrationUnit; statements: AnalyzedStatement[] }[] = [
    { unit, statements: unit.statements.filter((s) => s.index < validate.index) },
    ...earlier.reverse().map((u) => ({ unit: u, statements: u.statements })),
  ];
  for (const { unit: u, statements } of candidates) {
    for (const s of [...statements].reverse()) {
      if (s.transactionId !== validate.transactionId || s.facts.kind !== 'alter-table') continue;
      if (qualify(s.facts.table, u.schemaBefore) !== table) continue;
      for (const c of s.facts.commands) {
        if (c.action === 'add-constraint' && c.constraint.notValid && c.constraint.name === name) return { unit: u, statement: s, constraint: c.constraint };
      }
    }
  }
  return undefined;
}
