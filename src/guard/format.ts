import type { Colors } from '../util/colors.js';
import { displayPath } from '../util/paths.js';
import type { BackfillProgress } from '../backfill/backfill.js';
import type { BackupResult } from '../backup/backup.js';
import { describeBlocker } from './blockers.js';
import { humanDuration } from '../util/duration.js';
import { targetText, type AttemptRecord, type GuardedRunResult, type RunPlan } from './run.js';
import type { GuardSettings } from './settings.js';
import { formatCount } from '../util/format-count.js';

export function settingsText(s: GuardSettings): string {
  return [
    `lock_timeout ${humanDuration(s.lockTimeoutMs)}`,
    `statement_timeout ${s.statementTimeoutMs === undefined ? 'server default' : humanDuration(s.statementTimeoutMs)}`,
    `idle_in_transaction_session_timeout ${s.idleInTransactionTimeoutMs === undefined ? 'server default' : humanDuration(s.idleInTransactionTimeoutMs)}`,
    `a migration idle (no statement) for ${humanDuration(s.idleTimeoutMs)} is ended`,
    ...(s.migrationTimeoutMs ? [`a migration running over ${humanDuration(s.migrationTimeoutMs)} is ended`] : []),
    `${s.retries} retr${s.retries === 1 ? 'y' : 'ies'} after a lock timeout (backoff from ${humanDuration(s.retryDelayMs)}, doubling, at most ${humanDuration(s.maxRetryDelayMs)})`,
    `application_name ${s.applicationName}:<file>`,
  ].join(' · ');
}

const MODE_TEXT = { batch: 'batch transaction', own: 'own transaction', none: 'no transaction' } as const;

/** `latest --dry-run`: what would run, how it is grouped into transactions, its SQL, findings and backups. */
export function formatPlan(plan: RunPlan, c: Colors): string {
  const lines: string[] = [];
  if (plan.pending.length === 0) {
    lines.push(`Nothing to run: ${plan.database} is up to date.`);
    return lines.join('\n');
  }
  lines.push(c.bold(`Plan for ${plan.command} on ${plan.database}: ${plan.pending.length} migration${plan.pending.length === 1 ? '' : 's'}, ${plan.layout}.`));
  lines.push(c.dim(`  ${settingsText(plan.settings)}`));
  plan.pending.forEach((m, i) => {
    lines.push('');
    lines.push(`${i + 1}. ${c.bold(m.name)}  ${c.dim(`[${MODE_TEXT[m.transaction]}]`)}  ${c.dim(displayPath(m.file))}`);
    if (m.statements === null) lines.push(c.dim('     (SQL not known: the check was skipped)'));
    else if (m.statements.length === 0) lines.push(c.dim('     (no SQL)'));
    for (const sql of m.statements ?? []) lines.push(`     ${oneLine(sql)};`);
    for (const f of m.findings) {
      const paint = f.severity === 'error' ? c.red : f.severity === 'warning' ? c.yellow : c.cyan;
      lines.push(`     ${paint(f.severity)} ${f.rule}: ${f.message}${f.suppressed ? c.dim(` (suppressed: ${f.suppressed})`) : ''}`);
    }
    for (const b of m.backups) lines.push(`     ${plan.backup ? c.green('backup') : c.yellow('no backup')} ${targetText(b)}: ${b.reasons.join('; ')}`);
  });
  lines.push('');
  if (plan.check) {
    lines.push(
      `check: ${plan.check.errors} error(s), ${plan.check.warnings} warning(s), ${plan.check.info} info${plan.check.suppressed ? `, ${plan.check.suppressed} suppressed` : ''} (${(plan.check.durationMs / 1000).toFixed(1)} s${plan.check.shadow ? `, ${plan.check.shadow}` : ''})`,
    );
  } else if (plan.checkSkipped) {
    lines.push(`check: skipped (${plan.checkSkipped})`);
  }
  if (plan.blocking.length) lines.push(c.red(`${plan.blocking.length} blocking finding(s): ${plan.command} would stop here (--unsafe runs anyway).`));
  lines.push(c.dim('Dry run: nothing was changed.'));
  return lines.join('\n');
}

export function formatRetry(a: AttemptRecord): string {
  const what = a.sqlState === '40P01' ? 'deadlocked' : 'gave up waiting for its lock (lock_timeout)';
  const who = a.blockers.length ? ` Blocked by ${a.blockers.map(describeBlocker).join('; ')}.` : '';
  return `${a.migration ?? 'knex'} ${what}, attempt ${a.attempt}/${a.of}.${who} ${a.transactional ? 'Rolled back; retrying' : 'Retrying'} in ${humanDuration(a.retryInMs ?? 0)}.`;
}

export function formatBackup(backup: BackupResult): string {
  const entries = backup.manifest.entries.map((e) => `${e.schema}.${e.name}${e.kind === 'columns' ? ` (${e.targetColumns.join(', ')})` : ''}: ${e.rows} row${e.rows === 1 ? '' : 's'}`);
  return `Backed up ${entries.join(', ') || 'nothing (the tables are new)'} to ${displayPath(backup.dir)}. Restore: ${backup.manifest.restore.command}`;
}

/** `[########------------] 40%  4,000 / 10,000 rows  users` */
export function formatBackfillBar(p: BackfillProgress, width = 24): string {
  const total = Math.max(p.estimatedTotal, p.done, 1);
  const ratio = p.finished ? 1 : Math.min(1, p.done / total);
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${formatCount(p.done)} / ~${formatCount(total)} rows  ${p.table}${p.resumed ? ' (resumed)' : ''}`;
}

export function summaryJson(result: GuardedRunResult): Record<string, unknown> {
  return {
    database: result.database,
    batch: result.batch,
    batches: result.batches,
    migrations: result.migrations,
    attempts: result.attempts,
    check: result.plan.check,
    ...(result.plan.checkSkipped ? { checkSkipped: result.plan.checkSkipped } : {}),
    ...(result.backup
      ? {
          backup: {
            dir: result.backup.dir,
            entries: result.backup.manifest.entries.map((e) => ({ table: `${e.schema}.${e.name}`, kind: e.kind, columns: e.targetColumns, rows: e.rows, file: e.file })),
            restore: result.backup.manifest.restore,
          },
        }
      : {}),
    warnings: result.warnings,
  };
}

function oneLine(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}…` : flat;
}
