import { displayPath } from '../../util/paths.js';
import { Command, Option } from 'commander';
import type { Database } from '../../db/connect.js';
import type { ProjectConfig } from '../../config/resolve.js';
import type { BatchResult, HistoryContext, StatusReport } from '../../migrations/history.js';
import { globalOptions, makeOutput, projectOptions, withTarget } from '../context.js';
import type { GuardedCommand } from '../../guard/run.js';
import { formatDuration, table, type Output } from '../output.js';
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
  out.line(
    `${out.c.green('✓')} ${verb.done} batch ${result.batch}: ${result.migrations.length} migration${result.migrations.length === 1 ? '' : 's'} in ${formatDuration(total)} on ${target(db)}`,
  );
}

interface GuardFlags {
  disableTransactions?: boolean;
  dryRun?: boolean;
  unsafe?: boolean;
  check?: boolean;
  backup?: boolean;
  backupDir?: string;
  lockTimeout?: string;
  statementTimeout?: string;
  idleTimeout?: string;
  timeout?: string;
  retries?: string;
  retryDelay?: string;
}

function guardOptions(command: Command): Command {
  return command
    .option('--dry-run', 'print the plan (files, transaction layout, SQL, backups) and change nothing')
    .option('--unsafe', 'run even when the check reports errors')
    .option('--no-check', 'skip the check on a shadow database (and with it the automatic backups)')
    .option('--lock-timeout <duration>', 'lock_timeout for every statement, e.g. 2s (default 5s; config lockTimeout)')
    .option('--statement-timeout <duration>', 'statement_timeout for every statement (default: the server’s; config statementTimeout)')
    .option('--idle-timeout <duration>', 'end a migration that sends no statement for this long; also idle_in_transaction_session_timeout (default 1min)')
    .option('--timeout <duration>', 'end a migration that runs longer than this, cancelling its statement (default: no limit)')
    .option('--retries <n>', 'retries after a lock timeout or deadlock (default 5; config retries)')
    .option('--retry-delay <duration>', 'wait before the first retry, doubled each time (default 2s)')
    .option('--backup', 'back up what destructive migrations drop or rewrite (the default; config backup)')
    .option('--no-backup', 'do not back up before destructive migrations')
    .option('--backup-dir <dir>', 'where backups go (default .knexsafe/backups)');
}

async function runGuardedCommand(command: GuardedCommand, name: string | undefined, opts: GuardFlags, cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const out = makeOutput(g);
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
  fleetOptions(guardOptions(
    program
      .command('latest')
      .alias('migrate:latest')
      .description('Run all pending migrations (knex migrate:latest), guarded: check first, lock_timeout and retries, backups before destructive changes')
      .option('--disable-transactions', "run each migration without knex's wrapping transaction"),
  ))
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

  fleetOptions(program
    .command('rollback')
    .alias('migrate:rollback')
    .description('Undo the last batch of migrations, or all with --all (knex migrate:rollback)')
    .option('--all', 'roll back every applied migration')
    .option('--disable-transactions', "run each migration without knex's wrapping transaction"))
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
    // CI gates on status: non-zero while anything is pending or a file is missing.
    if (mode === 'status' && (report.r.pending > 0 || report.r.missingFiles > 0)) process.exitCode = 1;
  };

  fleetOptions(program
    .command('status')
    .alias('migrate:status')
    .description('Show applied and pending migrations; exits 1 when any is pending (for CI)'))
    .addHelpText('after', '\nExamples:\n  $ knexsafe status --json\n  $ knexsafe status --targets tenants.txt      every target\'s version; exit 1 if any is behind')
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
  out.result({ database: db.description, ...report, migrations: report.migrations.map(({ file, ...m }) => ({ ...m, file: file ? displayPath(file) : null })) });
  if (out.json) return;
  const state = (s: string) =>
    s === 'applied' ? out.c.green('applied') : s === 'pending' ? out.c.yellow('pending') : out.c.red('file missing');
  const rows = report.migrations.map((m) => [m.name, m.batch === null ? '' : String(m.batch), m.appliedAt ? m.appliedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '', state(m.state)]);
  if (rows.length) out.line(table(['migration', 'batch', 'applied at', 'state'], rows, out.c));
  else out.line('No migration files.');
  out.line();
  const summary = [`${report.applied} applied`, `${report.pending} pending`];
  if (report.missingFiles) summary.push(out.c.red(`${report.missingFiles} applied but missing a file`));
  out.line(`${summary.join(', ')} — ${db.description}`);
  if (report.locked) out.line(out.c.yellow('The migration lock is set: a run is in progress or crashed. `knexsafe doctor` tells which.'));
  if (report.outOfOrder.length) {
    out.line(out.c.yellow(`Out of order: ${report.outOfOrder.join(', ')} ${report.outOfOrder.length === 1 ? 'is' : 'are'} older than the last applied migration; knex will run ${report.outOfOrder.length === 1 ? 'it' : 'them'} in the next batch anyway.`));
  }
  if (mode === 'status' && report.pending > 0) out.line(`Run ${out.c.bold('knexsafe latest')} to apply the pending migrations.`);
}
