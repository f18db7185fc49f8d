import { displayPath } from '../../util/paths.js';
import { Command, Option } from 'commander';
import type { Database } from '../../db/connect.js';
import type { ProjectConfig } from '../../config/resolve.js';
import {
  migrateDown,
  migrateLatest,
  migrateRollback,
  migrateUp,
  migrationStatus,
  unlockMigrations,
  type BatchResult,
  type HistoryContext,
  type StatusReport,
} from '../../migrations/history.js';
import { globalOptions, makeOutput, withTarget } from '../context.js';
import { formatDuration, table, type Output } from '../output.js';

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

export function registerHistoryCommands(program: Command): void {
  program
    .command('latest')
    .alias('migrate:latest')
    .description('Run all pending migrations (knex migrate:latest)')
    .option('--disable-transactions', "run each migration without knex's wrapping transaction")
    .addHelpText('after', '\nExample:\n  $ knexsafe latest --env production')
    .action(async (opts: { disableTransactions?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      await withTarget(g, async (db, project) => {
        const result = await migrateLatest(historyContext(db, project, out), { ...(opts.disableTransactions ? { disableTransactions: true } : {}) });
        renderBatch(out, db, result, { done: 'Applied', none: `Already up to date (${target(db)}).` });
      });
    });

  program
    .command('rollback')
    .alias('migrate:rollback')
    .description('Undo the last batch of migrations, or all with --all (knex migrate:rollback)')
    .option('--all', 'roll back every applied migration')
    .option('--disable-transactions', "run each migration without knex's wrapping transaction")
    .addHelpText('after', '\nExamples:\n  $ knexsafe rollback\n  $ knexsafe rollback --all')
    .action(async (opts: { all?: boolean; disableTransactions?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      await withTarget(g, async (db, project) => {
        const result = await migrateRollback(historyContext(db, project, out), {
          ...(opts.all ? { all: true } : {}),
          ...(opts.disableTransactions ? { disableTransactions: true } : {}),
        });
        renderBatch(out, db, result, { done: 'Rolled back', none: 'Nothing to roll back.' });
      });
    });

  program
    .command('up [name]')
    .alias('migrate:up')
    .description('Run the next pending migration, or the named one (knex migrate:up)')
    .option('--disable-transactions', "run without knex's wrapping transaction")
    .addHelpText('after', '\nExamples:\n  $ knexsafe up\n  $ knexsafe up 20240101120000_add_email_to_users')
    .action(async (name: string | undefined, opts: { disableTransactions?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      await withTarget(g, async (db, project) => {
        const result = await migrateUp(historyContext(db, project, out), {
          ...(name ? { name } : {}),
          ...(opts.disableTransactions ? { disableTransactions: true } : {}),
        });
        renderBatch(out, db, result, { done: 'Applied', none: 'No pending migration to run.' });
      });
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
        const result = await migrateDown(historyContext(db, project, out), {
          ...(name ? { name } : {}),
          ...(opts.disableTransactions ? { disableTransactions: true } : {}),
        });
        renderBatch(out, db, result, { done: 'Rolled back', none: 'No applied migration to undo.' });
      });
    });

  const statusAction = (mode: 'status' | 'list') => async (_opts: unknown, cmd: Command) => {
    const g = globalOptions(cmd);
    const out = makeOutput(g);
    const report = await withTarget(g, (db, project) => migrationStatus({ db, project }).then((r) => ({ r, db })));
    renderStatus(out, report.r, report.db, mode);
    // CI gates on status: non-zero while anything is pending or a file is missing.
    if (mode === 'status' && (report.r.pending > 0 || report.r.missingFiles > 0)) process.exitCode = 1;
  };

  program
    .command('status')
    .alias('migrate:status')
    .description('Show applied and pending migrations; exits 1 when any is pending (for CI)')
    .addHelpText('after', '\nExample:\n  $ knexsafe status --json')
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
    .action(async (_opts: { force?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      await withTarget(g, async (db, project) => {
        const result = await unlockMigrations({ db, project });
        out.result({ database: db.description, wasLocked: result.wasLocked, locked: false });
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
