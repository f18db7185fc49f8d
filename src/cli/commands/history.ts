import { displayPath } from '../../util/paths.js';
import { type Command, Option } from 'commander';
import type { Database } from '../../db/connect.js';
import type { ProjectConfig } from '../../config/resolve.js';
import type { BatchResult, HistoryContext, StatusChecksums, StatusReport } from '../../migrations/history.js';
import { globalOptions, makeOutput, projectOptions, withTarget } from '../context.js';
import type { GuardedCommand } from '../../guard/run.js';
import { formatDuration, table, type Output } from '../output.js';
import type { CheckReport } from '../../check/run.js';
import { KnexsafeError } from '../../errors.js';
import { emitReport } from '../report-file.js';
import { fleetOptions, runFleetCommand, wantsFleet, type FleetFlags } from './fleet.js';

// Loaded on use, so `--help` and quick commands do not pay for every module.
const history = () => import('../../migrations/history.js');

function historyContext(db: Database, project: ProjectConfig, out: Output): HistoryContext {
  return {
    db,
    project,
    events: {
      migrationEnd(name, direction, ms) {
        out.status(`${out.c.green('✓')} ${direction === 'up' ? 'up  ' : 'down'} ${name} ${out.c.dim(formatDuration(ms))}`);
      },
    },
  };
}

function target(db: Database): string {
  return db.description;
}

function renderBatch(out: Output, db: Database, result: BatchResult, verb: { done: string; none: string }): void {
  out.result({ database: target(db), batch: result.batch, migrations: result.migrations });
  if (result.migrations.length === 0) {
    out.line(verb.none);
    return;
  }
  const total = result.migrations.reduce((s, m) => s + m.durationMs, 0);
  out.line(`${out.c.green('✓')} ${verb.done} batch ${result.batch}: ${result.migrations.length} migration${result.migrations.length === 1 ? '' : 's'} in ${formatDuration(total)} on ${target(db)}`);
}

interface GuardFlags {
  disableTransactions?: boolean;
  dryRun?: boolean;
  unsafe?: boolean;
  allowChanged?: boolean;
  check?: boolean;
  backup?: boolean;
  backupDir?: string;
  lockTimeout?: string;
  statementTimeout?: string;
  idleTimeout?: string;
  timeout?: string;
  retries?: string;
  retryDelay?: string;
  output?: string;
}

function guardOptions(command: Command): Command {
  return command
    .option('--dry-run', 'print the plan (files, transaction layout, SQL, backups) and change nothing')
    .option('--unsafe', 'run even when the check reports errors')
    .option('--allow-changed', 'run even when an applied migration was edited after it was applied (its checksum differs)')
    .option('--no-check', 'skip the check on a shadow database (and with it the automatic backups)')
    .option('--lock-timeout <duration>', 'lock_timeout for every statement, e.g. 2s (default 5s; config lockTimeout)')
    .option('--statement-timeout <duration>', 'statement_timeout for every statement (default: the server’s; config statementTimeout)')
    .option('--idle-timeout <duration>', 'end a migration that sends no statement for this long; also idle_in_transaction_session_timeout (default 1min)')
    .option('--timeout <duration>', 'end a migration that runs longer than this, cancelling its statement (default: no limit)')
    .option('--retries <n>', 'retries after a lock timeout or deadlock (default 5; config retries)')
    .option('--retry-delay <duration>', 'wait before the first retry, doubled each time (default 2s)')
    .option('--backup', 'back up what destructive migrations drop or rewrite (the default; config backup)')
    .option('--no-backup', 'do not back up before destructive migrations')
    .option('--backup-dir <dir>', 'where backups go (default .knexsafe/backups)')
    .option('--output <file>', 'with --dry-run --format html: write the report to this file');
}

async function runGuardedCommand(command: GuardedCommand, name: string | undefined, opts: GuardFlags, cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const html = g.format === 'html';
  if (html && !opts.dryRun) throw new KnexsafeError('BAD_OPTION', `--format html goes with --dry-run (the plan and its check as a page); ${command} itself prints its progress.`);
  if (opts.output !== undefined && !html) throw new KnexsafeError('BAD_OPTION', '--output goes with --dry-run --format html.');
  // The page is the result: the text plan and the JSON document stay off stdout.
  const out = makeOutput(html ? { ...g, json: true } : g);
  let checked: CheckReport | undefined;
  const [{ COVERED_BY_GUARD, guardedLatest, guardedUp }, { formatBackfillBar, formatBackup, formatPlan, formatRetry, summaryJson }, { onBackfillProgress }] = await Promise.all([
    import('../../guard/run.js'),
    import('../../guard/format.js'),
    import('../../backfill/backfill.js'),
  ]);
  const stderr = process.stderr as NodeJS.WriteStream;
  const warned = new Set<string>();
  let barShown = false;
  const stopProgress = onBackfillProgress((p) => {
    if (out.json) return;
    if (stderr.isTTY) {
      stderr.write(`\r${formatBackfillBar(p)}${p.finished ? '\n' : ''}`);
      barShown = !p.finished;
    } else if (p.finished) out.status(formatBackfillBar(p));
  });
  try {
    const result = await (command === 'latest' ? guardedLatest : guardedUp)({
      ...projectOptions(g),
      ...(name !== undefined ? { name } : {}),
      ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
      ...(opts.disableTransactions ? { disableTransactions: true } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
      ...(opts.unsafe ? { unsafe: true } : {}),
      ...(opts.allowChanged ? { allowChanged: true } : {}),
      ...(opts.check === false ? { check: false } : {}),
      ...(opts.backup !== undefined ? { backup: opts.backup } : {}),
      ...(opts.backupDir !== undefined ? { backupDir: opts.backupDir } : {}),
      ...(opts.lockTimeout !== undefined ? { lockTimeout: opts.lockTimeout } : {}),
      ...(opts.statementTimeout !== undefined ? { statementTimeout: opts.statementTimeout } : {}),
      ...(opts.idleTimeout !== undefined ? { idleTimeout: opts.idleTimeout } : {}),
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      ...(opts.retryDelay !== undefined ? { retryDelay: opts.retryDelay } : {}),
      events: {
        progress: (m) => out.progress(out.c.dim(m)),
        checked(report, plan) {
          checked = report;
          const running = new Set(plan.pending.map((p) => p.name));
          const blocking = plan.blocking;
          const active = report.findings.filter((f) => running.has(f.migration) && !f.suppressed && f.severity !== 'info' && !COVERED_BY_GUARD.has(f.rule));
          for (const f of active) {
            const paint = f.severity === 'error' ? out.c.red : out.c.yellow;
            out.status(`${paint(f.severity)} ${f.rule}  ${f.message}  ${out.c.dim(`${displayPath(f.file)}${f.line ? `:${f.line}` : ''}`)}`);
          }
          if (active.length && !blocking.length) out.status(out.c.dim('(`knexsafe check` shows why and how to fix each one)'));
        },
        backedUp: (backup) => out.status(`${out.c.green('✓')} ${formatBackup(backup)}`),
        retrying: (attempt) => out.warn(formatRetry(attempt)),
        warning: (message) => {
          out.warn(message);
          warned.add(message);
        },
        migrationEnd(migration, direction, ms) {
          if (barShown) stderr.write('\n');
          barShown = false;
          out.status(`${out.c.green('✓')} ${direction === 'up' ? 'up  ' : 'down'} ${migration} ${out.c.dim(formatDuration(ms))}`);
        },
      },
    });
    if (result.dryRun && html) {
      const { renderCheckHtml, renderPlanHtml } = await import('../../report/html.js');
      emitReport(out, checked ? renderCheckHtml(checked, { plan: result.plan, command: `${command} --dry-run` }) : renderPlanHtml(result.plan), opts.output);
      if (result.plan.blocking.length && !opts.unsafe) process.exitCode = 1;
      return;
    }
    if (result.dryRun) {
      out.result({ dryRun: true, database: result.database, plan: result.plan, warnings: result.warnings });
      out.line(formatPlan(result.plan, out.c));
      if (result.plan.blocking.length && !opts.unsafe) process.exitCode = 1;
      return;
    }
    for (const w of result.warnings) if (!warned.has(w)) out.warn(w);
    out.result(summaryJson(result));
    const none = command === 'latest' ? `Already up to date (${result.database}).` : 'No pending migration to run.';
    if (result.migrations.length === 0) {
      out.line(none);
      return;
    }
    const total = result.migrations.reduce((s, m) => s + m.durationMs, 0);
    const retried = result.attempts.length ? ` after ${result.attempts.length} lock timeout${result.attempts.length === 1 ? '' : 's'}` : '';
    out.line(
      `${out.c.green('✓')} Applied batch ${result.batches.join(', ')}: ${result.migrations.length} migration${result.migrations.length === 1 ? '' : 's'} in ${formatDuration(total)} on ${result.database}${retried}`,
    );
  } finally {
    stopProgress();
  }
}

export function registerHistoryCommands(program: Command): void {
  fleetOptions(
    guardOptions(
      program
        .command('latest')
        .alias('migrate:latest')
        .description('Run all pending migrations (knex migrate:latest), guarded: check first, lock_timeout and retries, backups before destructive changes')
        .option('--disable-transactions', "run each migration without knex's wrapping transaction"),
    ),
  )
    .addHelpText(
      'after',
      `
Before running, latest checks the pending migrations on a shadow database and stops on errors
(--unsafe runs anyway, --no-check skips the check). Every statement runs with a lock_timeout, so
a migration that cannot get its lock gives up quickly instead of making every query on the table
queue behind it; it is retried with backoff, and the blocking sessions are named. Tables and
columns a migration drops or rewrites are copied to .knexsafe/backups/<time>/ first.

Examples:
  $ knexsafe latest --env production
  $ knexsafe latest --dry-run                       plan, SQL and backups; changes nothing
  $ knexsafe latest --lock-timeout 2s --retries 10`,
    )
    .action(async (opts: GuardFlags & FleetFlags, cmd: Command) => {
      if (wantsFleet(opts)) return runFleetCommand('latest', { ...opts }, cmd);
      await runGuardedCommand('latest', undefined, opts, cmd);
    });

  fleetOptions(
    program
      .command('rollback')
      .alias('migrate:rollback')
      .description('Undo the last batch of migrations, or all with --all (knex migrate:rollback)')
      .option('--all', 'roll back every applied migration')
      .option('--disable-transactions', "run each migration without knex's wrapping transaction"),
  )
    .addHelpText('after', '\nExamples:\n  $ knexsafe rollback\n  $ knexsafe rollback --all\n  $ knexsafe rollback --targets tenants.txt --concurrency 8')
    .action(async (opts: { all?: boolean; disableTransactions?: boolean } & FleetFlags, cmd: Command) => {
      if (wantsFleet(opts)) return runFleetCommand('rollback', { ...opts }, cmd);
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      await withTarget(g, async (db, project) => {
        const result = await (await history()).migrateRollback(historyContext(db, project, out), {
          ...(opts.all ? { all: true } : {}),
          ...(opts.disableTransactions ? { disableTransactions: true } : {}),
        });
        renderBatch(out, db, result, { done: 'Rolled back', none: 'Nothing to roll back.' });
      });
    });

  guardOptions(
    program
      .command('up [name]')
      .alias('migrate:up')
      .description('Run the next pending migration, or the named one (knex migrate:up), guarded like latest')
      .option('--disable-transactions', "run without knex's wrapping transaction"),
  )
    .addHelpText('after', '\nExamples:\n  $ knexsafe up\n  $ knexsafe up 20240101120000_add_email_to_users')
    .action(async (name: string | undefined, opts: GuardFlags, cmd: Command) => {
      await runGuardedCommand('up', name, opts, cmd);
    });

  program
    .command('down [name]')
    .alias('migrate:down')
    .description('Undo the last applied migration, or the named one (knex migrate:down)')
    .option('--disable-transactions', "run without knex's wrapping transaction")
    .addHelpText('after', '\nExamples:\n  $ knexsafe down\n  $ knexsafe down 20240101120000_add_email_to_users.js')
    .action(async (name: string | undefined, opts: { disableTransactions?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      await withTarget(g, async (db, project) => {
        const result = await (await history()).migrateDown(historyContext(db, project, out), {
          ...(name ? { name } : {}),
          ...(opts.disableTransactions ? { disableTransactions: true } : {}),
        });
        renderBatch(out, db, result, { done: 'Rolled back', none: 'No applied migration to undo.' });
      });
    });

  const statusAction = (mode: 'status' | 'list') => async (opts: FleetFlags, cmd: Command) => {
    if (mode === 'status' && wantsFleet(opts)) return runFleetCommand('status', { ...opts }, cmd);
    const g = globalOptions(cmd);
    const out = makeOutput(g);
    const report = await withTarget(g, async (db, project) => (await history()).migrationStatus({ db, project }).then((r) => ({ r, db })));
    renderStatus(out, report.r, report.db, mode);
    // CI gates on status: non-zero while anything is pending, a file is missing or an applied one was edited.
    if (mode === 'status' && (report.r.pending > 0 || report.r.missingFiles > 0 || (report.r.checksums?.changed.length ?? 0) > 0)) process.exitCode = 1;
  };

  fleetOptions(program.command('status').alias('migrate:status').description('Show applied and pending migrations; exits 1 when any is pending (for CI)'))
    .addHelpText('after', "\nExamples:\n  $ knexsafe status --json\n  $ knexsafe status --targets tenants.txt      every target's version; exit 1 if any is behind")
    .action(statusAction('status'));

  program
    .command('list')
    .alias('migrate:list')
    .description('List completed and pending migrations (knex migrate:list)')
    .addHelpText('after', '\nExample:\n  $ knexsafe list')
    .action(statusAction('list'));

  program
    .command('unlock')
    .alias('migrate:unlock')
    .description("Free knex's migration lock left by a crashed run (knex migrate:unlock)")
    .addOption(new Option('--force', 'unlock even if a migration seems to be running').hideHelp(false))
    .addHelpText('after', '\nExample:\n  $ knexsafe unlock')
    .action(async (opts: { force?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      await withTarget(g, async (db, project) => {
        const result = await (await history()).unlockMigrations({ db, project }, { ...(opts.force ? { force: true } : {}) });
        out.result({ database: db.description, wasLocked: result.wasLocked, locked: false, ...(result.forcedPast ? { forcedPast: result.forcedPast } : {}) });
        if (result.forcedPast) out.warn(`--force: unlocked although a migration looked active: ${result.forcedPast.map((s) => `pid ${s.pid}`).join(', ')}.`);
        out.line(result.wasLocked ? `${out.c.green('✓')} Freed the migration lock on ${db.description}.` : `The migrations were not locked (${db.description}).`);
      });
    });
}

export function renderStatus(out: Output, report: StatusReport, db: Database, mode: 'status' | 'list'): void {
  out.result({
    database: db.description,
    ...report,
    migrations: report.migrations.map(({ file, ...m }) => ({ ...m, file: file ? displayPath(file) : null })),
    ...(report.checksums ? { checksums: { ...report.checksums, changed: report.checksums.changed.map((c) => ({ ...c, file: displayPath(c.file) })) } } : {}),
  });
  if (out.json) return;
  const state = (s: string) => (s === 'applied' ? out.c.green('applied') : s === 'pending' ? out.c.yellow('pending') : out.c.red('file missing'));
  const rows = report.migrations.map((m) => [m.name, m.batch === null ? '' : String(m.batch), m.appliedAt ? m.appliedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '', state(m.state)]);
  if (rows.length) out.line(table(['migration', 'batch', 'applied at', 'state'], rows, out.c));
  else out.line('No migration files.');
  out.line();
  const summary = [`${report.applied} applied`, `${report.pending} pending`];
  if (report.missingFiles) summary.push(out.c.red(`${report.missingFiles} applied but missing a file`));
  out.line(`${summary.join(', ')} — ${db.description}`);
  if (report.locked) out.line(out.c.yellow('The migration lock is set: a run is in progress or crashed. `knexsafe doctor` tells which.'));
  if (report.outOfOrder.length) {
    out.line(
      out.c.yellow(
        `Out of order: ${report.outOfOrder.join(', ')} ${report.outOfOrder.length === 1 ? 'is' : 'are'} older than the last applied migration; knex will run ${report.outOfOrder.length === 1 ? 'it' : 'them'} in the next batch anyway.`,
      ),
    );
  }
  if (report.checksums) renderChecksums(out, report.checksums);
  if (mode === 'status' && report.pending > 0) out.line(`Run ${out.c.bold('knexsafe latest')} to apply the pending migrations.`);
}

const DIFF_LINES = 60;

function renderChecksums(out: Output, sums: StatusChecksums): void {
  if (sums.warning) {
    out.warn(sums.warning);
    return;
  }
  for (const c of sums.changed) {
    const when = c.recordedAt ? ` ${c.recordedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : '';
    out.line(
      out.c.red(
        `Edited after it was applied: ${c.name} (applied${when}${c.appliedFrom ? ` from commit ${c.appliedFrom.commit.slice(0, 12)}` : ''}; sha256 ${c.recordedSha256.slice(0, 12)} then, ${c.currentSha256.slice(0, 12)} now)`,
      ),
    );
    if (c.diff) {
      const lines = c.diff.split('\n').filter((l) => !/^=+$/.test(l) && !l.startsWith('Index:'));
      while (lines.length && lines[lines.length - 1] === '') lines.pop();
      for (const l of lines.slice(0, DIFF_LINES)) out.line(`  ${l.startsWith('+') && !l.startsWith('+++') ? out.c.green(l) : l.startsWith('-') && !l.startsWith('---') ? out.c.red(l) : l}`);
      if (lines.length > DIFF_LINES) out.line(out.c.dim(`  … ${lines.length - DIFF_LINES} more lines (--json has the whole diff)`));
    } else {
      out.line(
        out.c.dim(
          c.appliedFrom
            ? `  git does not have the applied version (blob ${c.appliedFrom.blob.slice(0, 12)} of ${c.appliedFrom.path}): no diff.`
            : '  The applied version was not committed in git when it ran (untracked or modified), so there is no diff to show.',
        ),
      );
    }
  }
  if (sums.changed.length) {
    out.line(
      `${out.c.bold('knexsafe latest')} refuses to run until this is settled: undo the edit and put the change in a new migration, or — if the edit changes nothing that ran — accept it with ${out.c.bold('knexsafe history rehash')}.`,
    );
  }
  if (sums.unknown.length) {
    const again = sums.unknown.filter((u) => u.reason === 'applied-again').map((u) => u.name);
    const names = sums.unknown.map((u) => u.name);
    const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')}, … (${names.length - 5} more)` : names.join(', ');
    out.line(
      out.c.yellow(
        `Checksum unknown for ${names.length} applied migration${names.length === 1 ? '' : 's'} (applied by plain knex${again.length ? `; ${again.join(', ')} applied again after knexsafe recorded ${again.length === 1 ? 'it' : 'them'}` : ''}): ${shown}.`,
      ),
    );
    out.line(`Review them, then ${out.c.bold('knexsafe history rehash')} records the current files as applied.`);
  }
  for (const r of sums.renamed) {
    out.line(out.c.yellow(`Renamed: ${r.from} was applied and its file is gone; ${r.to} has the same content. ${out.c.bold(`knexsafe history rename ${r.from} ${r.to}`)} tells knex.`));
  }
}
