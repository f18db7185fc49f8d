import type { Command } from 'commander';
import type { HistoryEditResult } from '../../doctor/history-edit.js';
import type { DoctorFinding, DoctorReport } from '../../doctor/types.js';
import { displayPath } from '../../util/paths.js';
import { globalOptions, makeOutput, projectOptions, withTarget } from '../context.js';
import { formatDuration, type Output } from '../output.js';
import { fleetOptions, runFleetCommand, wantsFleet, type FleetFlags } from './fleet.js';

// Loaded on use, so `--help` and other commands do not pay for these modules.
const doctor = () => import('../../doctor/doctor.js');
const historyEdit = () => import('../../doctor/history-edit.js');

/** `knexsafe doctor`, and the `history` edits its fixes name (`forget`, `rename`). */
export function registerDoctorCommand(program: Command): void {
  fleetOptions(
    program
      .command('doctor')
      .description("Diagnose knex's lock, missing files, ordering, partial runs and schema drift on the target; print the fix")
      .option('--no-shadow', 'skip the checks that need a shadow database (partial runs, drift)')
      .option('--no-dump', "do not copy the target's schema with pg_dump (partial runs are then judged from the replayed migrations)"),
  )
    .addHelpText(
      'after',
      `
Read-only on the target: it reads knex's tables, pg_locks, pg_stat_activity and the catalogs, and
copies the schema with pg_dump --schema-only; migrations only ever run on a shadow database.
Exit code 1 when it finds an error or a warning.

Examples:
  $ knexsafe doctor
  $ knexsafe doctor --json
  $ knexsafe doctor --shadow-url postgres://localhost/postgres
  $ knexsafe doctor --targets tenants.txt     stuck, behind and drifted targets of a fleet`,
    )
    .action(async (opts: { shadow?: boolean; dump?: boolean } & FleetFlags, cmd: Command) => {
      if (wantsFleet(opts)) return runFleetCommand('doctor', { ...opts }, cmd);
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const report = await (await doctor()).runDoctor({
        ...projectOptions(g),
        ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
        ...(opts.shadow === false ? { noShadow: true } : {}),
        ...(opts.dump === false ? { noDump: true } : {}),
        progress: (m) => out.progress(out.c.dim(m)),
      });
      out.result({
        ...report,
        durationMs: Math.round(report.durationMs),
        findings: report.findings.map((f) => ({ ...f, ...(f.file ? { file: displayPath(f.file) } : {}) })),
      });
      renderReport(out, report);
      if (!report.ok) process.exitCode = 1;
    });

  const history = program.command('history').description("Edit knex's migration history (each edit is backed up first and made under knex's lock)");

  history
    .command('forget <name>')
    .description("Remove an applied migration's row from knex_migrations (for a file that is gone on purpose)")
    .option('--force', 'forget it even though its file still exists (knex will then run it again)')
    .addHelpText('after', '\nExample:\n  $ knexsafe history forget 20240101120000_add_email_to_users.js')
    .action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const result = await withTarget(g, async (db, project) => (await historyEdit()).forgetMigration({ db, project }, name, { ...(opts.force ? { force: true } : {}) }));
      renderEdit(out, result);
    });

  history
    .command('rename <from> <to>')
    .description('Rename an applied migration in knex_migrations (e.g. x.ts → x.js after compiling)')
    .option('--force', 'rename even if no file has the new name')
    .addHelpText('after', '\nExample:\n  $ knexsafe history rename 20240101120000_add_email.ts 20240101120000_add_email.js')
    .action(async (from: string, to: string, opts: { force?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const result = await withTarget(g, async (db, project) => (await historyEdit()).renameMigration({ db, project }, from, to, { ...(opts.force ? { force: true } : {}) }));
      renderEdit(out, result);
    });

  history
    .command('rehash [names...]')
    .description("Record the current files of applied migrations as applied (knexsafe's checksums): after reviewing an edit, or migrations applied by plain knex")
    .addHelpText(
      'after',
      `
Without names it records every applied migration whose checksum is unknown or differs; with names,
exactly those. Review first: \`knexsafe status\` shows each edited migration's diff against the
version it was applied from. Writes only knexsafe's own table (<tableName>_knexsafe), never knex's.

Examples:
  $ knexsafe history rehash
  $ knexsafe history rehash 20240101120000_add_email_to_users.js`,
    )
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const { rehashMigrations } = await import('../../migrations/rehash.js');
      const result = await withTarget(g, async (db, project) => rehashMigrations({ db, project }, names));
      out.result(result);
      for (const r of result.recorded) out.line(`${out.c.green('✓')} ${r.name} ${out.c.dim(`(was ${r.was}; sha256 ${r.sha256.slice(0, 12)}${r.commit ? `, commit ${r.commit.slice(0, 12)}` : ''})`)}`);
      if (result.skipped.length) out.line(out.c.yellow(`No readable file, not hashed: ${result.skipped.join(', ')}`));
      out.line(
        result.recorded.length
          ? `Recorded ${result.recorded.length} checksum${result.recorded.length === 1 ? '' : 's'} in ${result.table} on ${result.database}${result.unchanged.length ? `; ${result.unchanged.length} already matched` : ''}.`
          : `Nothing to record: every applied migration matches its checksum (${result.database}).`,
      );
    });
}

function renderEdit(out: Output, result: HistoryEditResult): void {
  out.result({ ...result, backup: displayPath(result.backup) });
  const what = result.action === 'forget' ? `Forgot ${result.row.name} (batch ${result.row.batch})` : `Renamed ${result.row.name} → ${result.to}`;
  out.line(`${out.c.green('✓')} ${what} in knex's history on ${result.database}.`);
  out.line(`  backup (restores it): ${displayPath(result.backup)}`);
}

const MARK = { error: '✗', warning: '!', info: 'i' } as const;

function renderFinding(out: Output, f: DoctorFinding): void {
  const color = f.severity === 'error' ? out.c.red : f.severity === 'warning' ? out.c.yellow : out.c.cyan;
  out.line(`${color(`${MARK[f.severity]} ${f.severity}`)} ${out.c.bold(f.id)}  ${f.title}`);
  if (f.file) out.line(out.c.dim(`    at ${displayPath(f.file)}${f.line ? `:${f.line}` : ''}`));
  for (const e of f.evidence) out.line(`    ${out.c.dim('•')} ${e}`);
  out.line(`    ${out.c.bold('fix')} ${f.fix}`);
  for (const c of f.commands) out.line(`      ${c.trimEnd().endsWith(';') ? out.c.dim('sql>') : out.c.dim('$')} ${c}`);
  out.line();
}

function renderReport(out: Output, report: DoctorReport): void {
  if (out.json) return;
  out.line(`${out.c.bold('knexsafe doctor')} — ${report.database}`);
  for (const check of report.checks) {
    const mark = check.status === 'ok' ? out.c.green('✓') : check.status === 'problem' ? out.c.red('✗') : out.c.dim('-');
    out.line(`  ${mark} ${check.name.padEnd(10)} ${out.c.dim(check.note ?? '')}`.trimEnd());
  }
  out.line();
  for (const f of report.findings) renderFinding(out, f);
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.filter((f) => f.severity === 'warning').length;
  const tail = `${report.applied} applied, ${report.pending} pending — ${formatDuration(report.durationMs)}`;
  if (report.ok) out.line(`${out.c.green('✓')} Healthy: no problem found (${tail}).`);
  else out.line(`${out.c.red('✗')} ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} (${tail}).`);
}
