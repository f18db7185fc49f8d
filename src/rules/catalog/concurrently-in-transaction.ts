import type { StatementFacts } from '../../sql/facts.js';
import { tableName } from '../helpers.js';
import type { AnalyzedStatement, MigrationUnit, Rule, RuleContext } from '../types.js';
import { concurrentStatementLabel, findIndex, inverseOf } from '../statement-helpers.js';
import { migrationFile, migrations, rawLine, replayLine } from '../../codegen/index.js';

/**
 * CREATE / DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and DETACH PARTITION CONCURRENTLY refuse to
 * run in a transaction block (SQLSTATE 25001) — and knex runs every migration in one unless the file
 * opts out. Such a migration fails on every deploy. Opting out has its own trap: the statements of a
 * non-transactional migration commit one by one, so one that mixes CONCURRENTLY with other schema
 * changes is left half applied when a later step fails.
 */
export const concurrentlyInTransaction: Rule = {
  meta: {
    id: 'concurrently-in-transaction',
    category: 'lock',
    severity: 'error',
    summary: 'CONCURRENTLY inside a transaction fails (SQLSTATE 25001); outside one, mixing it with other changes can leave a migration half applied',
  },
  statement(statement, context) {
    const label = concurrentStatementLabel(statement.facts);
    if (!label || !statement.inTransaction) return;
    const unit = context.migration;
    const failed = statement.error?.sqlState === '25001';
    const where = unit.sqlFile ? 'inside BEGIN … COMMIT' : unit.transactional ? 'inside knex’s migration transaction' : 'inside a transaction block';
    const table = tableOf(statement.facts, context);
    const others = unit.statements.filter((s) => s !== statement && isSchemaChange(s.facts));
    const down = inverseOf(statement, unit).down ?? [`  // Undo: ${statement.sql}`];
    const single = migrationFile({
      ...(unit.transactional && !unit.sqlFile && others.length > 0
        ? { comment: [`Only the ${label} statement of ${unit.name}: its other changes stay in a migration of their own (with knex’s transaction), before this one.`] }
        : {}),
      up: [rawLine(statement.sql)],
      down,
      noTransaction: 'CONCURRENTLY cannot run inside a transaction.',
    });
    const description = unit.sqlFile
      ? `Run ${label} outside BEGIN … COMMIT; as a knex migration, give it a file of its own with \`exports.config = { transaction: false }\`.`
      : unit.transactional
        ? `Opt the migration out of knex’s transaction with \`exports.config = { transaction: false }\`${others.length > 0 ? ', with the CONCURRENTLY statement alone in it (other changes keep their transaction in a migration of their own)' : ''}. CONCURRENTLY runs its own transactions.`
        : `Call it with \`knex.raw\` outside \`knex.transaction(…)\` / BEGIN: CONCURRENTLY runs its own transactions.`;
    context.report({
      statement,
      ...(table ? { table } : {}),
      message: failed ? `${label} fails ${where} (SQLSTATE 25001)` : `${label} runs ${where} and will fail (SQLSTATE 25001)`,
      why: `PostgreSQL refuses ${label} in a transaction block (“${statement.error?.message ?? postgresMessage(statement.facts)}”). ${
        unit.transactional && !unit.sqlFile
          ? 'knex runs each migration in a transaction unless the file opts out, so this migration fails on every deploy; under `knex migrate:latest` the migrations of the batch before it are rolled back with it.'
          : 'The statement fails, and so does the migration.'
      }`,
      fix: { description, code: single },
    });
  },

  migration(unit, context) {
    if (unit.sqlFile || unit.transactional) return;
    const concurrent = unit.statements.find((s) => !s.inTransaction && concurrentStatementLabel(s.facts));
    if (!concurrent) return;
    const groups = transactionGroups(unit.statements).filter((g) => g.some((s) => isSchemaChange(s.facts)));
    if (groups.length < 2) return;
    const notRetryable = groups
      .slice(0, -1)
      .flat()
      .find((s) => isSchemaChange(s.facts) && !isRerunnable(s.facts));
    if (!notRetryable) return;
    const label = concurrentStatementLabel(concurrent.facts)!;
    const table = tableOf(concurrent.facts, context);
    const at = notRetryable.site ? ` (line ${notRetryable.site.line})` : '';
    const parts = splitParts(unit);
    const unknown = parts.some((p) => p.includes('// TODO'));
    context.report({
      statement: concurrent,
      ...(table ? { table } : {}),
      severity: 'warning',
      message: `${label} is mixed with other schema changes in a migration without a transaction: a failure leaves it half applied`,
      why: `With \`exports.config = { transaction: false }\` each statement commits on its own. If a later step fails (a lock timeout, a duplicate key in a unique build, a deploy killed mid-way), the earlier ones stay, knex does not record the migration, and running it again fails at \`${clip(notRetryable.sql)}\`${at}, which cannot run twice — the database stays half migrated until someone repairs it by hand.`,
      fix: {
        wholeMigration: true,
        description: `Split it: each CONCURRENTLY statement in a migration of its own without a transaction, the other changes in migrations that keep knex’s transaction (all or nothing), in the same order. Or make every step but the last re-runnable (IF NOT EXISTS / IF EXISTS). The parts below replay the SQL the migration ran on the shadow${unknown ? '; write the downs marked TODO by hand' : ''}.`,
        code: migrations(parts),
      },
    });
  },
};

/** PostgreSQL's error text for the statement (PreventInTransactionBlock). */
function postgresMessage(facts: StatementFacts): string {
  const what =
    facts.kind === 'create-index'
      ? 'CREATE INDEX CONCURRENTLY'
      : facts.kind === 'drop'
        ? 'DROP INDEX CONCURRENTLY'
        : facts.kind === 'reindex'
          ? 'REINDEX CONCURRENTLY'
          : 'ALTER TABLE ... DETACH CONCURRENTLY';
  return `${what} cannot run inside a transaction block`;
}

function clip(sql: string): string {
  const one = sql.replace(/\s+/g, ' ').trim();
  return one.length > 90 ? `${one.slice(0, 87)}...` : one;
}

/** The table a concurrent statement works on, qualified, when known. */
function tableOf(facts: StatementFacts, context: RuleContext): string | undefined {
  switch (facts.kind) {
    case 'create-index':
    case 'alter-table':
      return tableName(context, facts.table);
    case 'drop': {
      const first = facts.names[0];
      return first ? findIndex(context.migration.schemaBefore, first)?.table : undefined;
    }
    case 'reindex':
      return facts.target === 'table' ? tableName(context, facts.name) : findIndex(context.migration.schemaBefore, facts.name)?.table;
    default:
      return undefined;
  }
}

const SCHEMA_CHANGES = new Set<StatementFacts['kind']>([
  'create-table',
  'create-table-as',
  'alter-table',
  'create-index',
  'drop',
  'rename',
  'create-type',
  'alter-type',
  'create-extension',
  'create-view',
  'create-function',
  'create-trigger',
  'create-schema',
  'create-sequence',
]);

function isSchemaChange(facts: StatementFacts): boolean {
  return SCHEMA_CHANGES.has(facts.kind);
}

/** Whether running the statement a second time, after it succeeded, succeeds again. */
function isRerunnable(facts: StatementFacts): boolean {
  switch (facts.kind) {
    case 'create-table':
    case 'create-table-as':
    case 'create-index':
    case 'create-extension':
    case 'create-schema':
    case 'create-sequence':
      return facts.ifNotExists;
    case 'create-view':
      return facts.replace || facts.ifNotExists;
    case 'create-function':
    case 'create-trigger':
      return facts.replace;
    case 'drop':
      return facts.ifExists;
    case 'alter-type':
      return facts.action === 'add-value' && facts.ifNotExists;
    case 'alter-table':
      return facts.commands.every((c) => {
        switch (c.action) {
          case 'add-column':
            return c.ifNotExists;
          case 'drop-column':
          case 'drop-constraint':
            return c.ifExists;
          case 'set-not-null':
          case 'drop-not-null':
          case 'set-default':
          case 'drop-default':
          case 'validate-constraint':
          case 'alter-column-type':
          case 'set-statistics':
          case 'set-options':
          case 'reset-options':
          case 'set-storage':
          case 'owner':
          case 'enable-trigger':
          case 'disable-trigger':
          case 'replica-identity':
          case 'cluster-on':
          case 'set-logged':
          case 'set-unlogged':
            return true;
          // ALTER INDEX … ATTACH PARTITION of an index already attached is a no-op (not so for a table).
          case 'attach-partition':
            return facts.objectType === 'index';
          default:
            return false;
        }
      });
    default:
      return false;
  }
}

/** Consecutive statements that commit together: one knex transaction, or one autocommitted statement. */
function transactionGroups(statements: AnalyzedStatement[]): AnalyzedStatement[][] {
  const groups: AnalyzedStatement[][] = [];
  let key: string | undefined;
  for (const s of statements) {
    const k = s.transactionId ?? `statement${s.index}`;
    if (k !== key || groups.length === 0) groups.push([]);
    groups[groups.length - 1]!.push(s);
    key = k;
  }
  return groups;
}

/**
 * The migration cut into parts, in order: each CONCURRENTLY statement alone without a transaction,
 * the statements between them in migrations that keep knex's transaction.
 */
function splitParts(unit: MigrationUnit): string[] {
  const segments: { concurrent: boolean; statements: AnalyzedStatement[] }[] = [];
  for (const s of unit.statements) {
    const concurrent = !s.inTransaction && concurrentStatementLabel(s.facts) !== undefined;
    const last = segments[segments.length - 1];
    if (concurrent || !last || last.concurrent) segments.push({ concurrent, statements: [s] });
    else last.statements.push(s);
  }
  const useful = segments.filter((g) => g.concurrent || g.statements.some((s) => s.facts.kind !== 'select' && s.facts.kind !== 'set'));
  return useful.map((g, i) => {
    const down: string[] = [];
    for (const s of [...g.statements].reverse()) {
      if (s.facts.kind === 'set' || s.facts.kind === 'select') continue;
      const inverse = inverseOf(s, unit).down;
      if (inverse) down.push(...inverse);
      else down.push(`  // TODO: undo \`${clip(s.sql)}\``);
    }
    return migrationFile({
      comment: [`Part ${i + 1} of ${useful.length} of ${unit.name}${g.concurrent ? '' : ': all or nothing, in knex’s transaction'}.`],
      up: g.statements.filter((s) => s.facts.kind !== 'set' || !g.concurrent).map((s) => replayLine(s.sql, s.captured?.bindings ?? [])),
      down,
      ...(g.concurrent ? { noTransaction: 'CONCURRENTLY cannot run inside a transaction.' } : {}),
    });
  });
}
