import { lockBlocks, lockModeSql, lockRank, type LockedObject, type LockMode } from '../../sql/locks.js';
import { severityForTable } from '../engine.js';
import { lockedObject, shortName } from '../helpers.js';
import type { AnalyzedStatement, MigrationUnit, Rule } from '../types.js';
import { trafficLocks } from '../lock-helpers.js';

function durationOf(unit: MigrationUnit): number {
  return unit.statements.reduce((sum, s) => sum + (s.durationMs ?? 0), 0);
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** CommonJS or ES module migration (JS source, read to append the config export in its style). */
function configLine(source: string): string | undefined {
  const esm = /^\s*export\s+(async\s+)?(function|const|let|default)\b/m.test(source) && !/\bexports\.up\b|module\.exports/.test(source);
  if (esm) return /^\s*export\s+const\s+config\b/m.test(source) ? undefined : 'export const config = { transaction: false };';
  return 'exports.config = { transaction: false };';
}

/**
 * knex runs all pending migrations in ONE transaction (unless one of them opts out): a lock that
 * blocks reads or writes, taken by one migration on an existing table, is held while every later
 * migration of the batch runs.
 */
export const lockHeldAcrossBatch: Rule = {
  meta: {
    id: 'lock-held-across-batch',
    category: 'lock',
    severity: 'warning',
    summary: 'A blocking lock taken by one migration stays held while the later migrations of the same knex batch run',
    general: true,
  },
  migration(unit, context) {
    if (!unit.batchTransactionId) return;
    const at = context.batch.indexOf(unit);
    const later = context.batch.slice(at + 1).filter((u) => u.batchTransactionId === unit.batchTransactionId);
    if (at < 0 || later.length === 0) return;
    // The first statement that takes a blocking lock on each existing table, with the strongest mode taken in this migration.
    const tables = new Map<string, { statement: AnalyzedStatement; mode: LockMode; object: LockedObject }>();
    for (const statement of unit.statements) {
      for (const lock of trafficLocks(statement)) {
        const key = lock.relation;
        const known = tables.get(key);
        if (!known) tables.set(key, { statement, mode: lock.mode, object: lockedObject(lock) });
        else if (lockRank(lock.mode) > lockRank(known.mode)) known.mode = lock.mode;
      }
    }
    if (tables.size === 0) return;
    const laterMs = later.reduce((sum, u) => sum + durationOf(u), 0);
    const names = later.map((u) => u.name);
    const listed = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
    const config = configLine(unit.source);
    for (const [table, { statement, mode, object }] of tables) {
      const impact = lockBlocks(mode, object);
      context.report({
        statement,
        table,
        lock: { mode, relation: table },
        message: `The ${lockModeSql(mode)} lock on ${shortName(table)} stays held while ${later.length} later migration${later.length === 1 ? '' : 's'} of the batch run${later.length === 1 ? 's' : ''} (${listed})`,
        why:
          `knex migrate:latest runs every pending migration in one transaction unless one of them sets \`config.transaction = false\`; locks are released only when the whole batch commits. ` +
          `So ${lockModeSql(mode)} on ${shortName(table)} — which blocks ${impact.reads && impact.writes ? 'every read and write' : impact.reads ? 'every read' : 'every write'} of it — lasts through ${later.length === 1 ? 'the next migration' : `the next ${later.length} migrations`} too` +
          `${laterMs >= 1 ? ` (${seconds(laterMs)} on the nearly empty shadow; with production data, backfills and index builds there take far longer)` : ''}, not just this statement.`,
        severity: severityForTable(context, table, 'warning'),
        fix: {
          wholeMigration: Boolean(unit.source && config),
          description:
            `Let knex run the migrations one by one: once any pending migration has \`exports.config = { transaction: false }\`, knex runs every migration of the batch in its own transaction, so this lock is released when this migration ends. ` +
            `Mark this migration so (wrap its statements in \`knex.transaction(async (trx) => { ... })\` with \`SET LOCAL lock_timeout\` if they must commit together), or deploy the later migrations separately. ` +
            '`knex migrate:latest --disable-transactions` also splits the batch, but then migrations run without any transaction unless they set `config.transaction: true`.',
          code:
            unit.source && config
              ? `${unit.source.trimEnd()}\n\n// knexsafe: run outside the batch transaction, so the ${lockModeSql(mode)} lock on ${shortName(table)} is released\n// when this migration ends instead of when the last migration of the batch commits.\n${config}\n`
              : `exports.config = { transaction: false };\n`,
        },
      });
    }
  },
};
