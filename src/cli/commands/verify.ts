import { parseDuration } from '../../util/duration.js';
import type { Command } from 'commander';
import type { MigrationVerdict } from '../../verify/verify.js';
import { displayPath } from '../../util/paths.js';
import { KnexsafeError } from '../../errors.js';
import { globalOptions, makeOutput, projectOptions } from '../context.js';
import { emitReport } from '../report-file.js';
import { formatDuration, type Output } from '../output.js';

// Loaded on use, so `--help` and other commands do not pay for these modules.
const verifying = () => import('../../verify/run.js');

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify [migrations...]')
    .description("Prove each migration's down undoes its up: up → down → up on a shadow database, schema and data compared")
    .option('--pending', 'only migrations not yet applied to the target database')
    .option('--from <name>', 'start at this migration (earlier ones are replayed)')
    .option('--to <name>', 'stop after this migration')
    .option('--timeout <duration>', 'longest a migration (and on a --shadow-url shadow, a statement) may run on the shadow, e.g. 30s (default 5min)')
    .option('--no-data', 'skip the data probe (schema comparison only)')
    .option('--no-cache', 'verify every migration again instead of resuming from the warm cache of shadow states (also KNEXSAFE_NO_CACHE=1)')
    .option('--output <file>', 'with --format html: write the report to this file')
    .addHelpText(
      'after',
      `
Needs no database: with no --shadow-url the shadow is an embedded PostgreSQL.

Examples:
  $ knexsafe verify                         every migration, in order
  $ knexsafe verify --pending               only what the target has not applied yet
  $ knexsafe verify --shadow-url postgres://localhost/postgres   shadow on a real server
  $ knexsafe verify --format html --output verify.html   verdicts, schema diffs and data loss in one page`,
    )
    .action(async (names: string[], opts: { pending?: boolean; from?: string; to?: string; data?: boolean; timeout?: string; cache?: boolean; output?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const html = g.format === 'html';
      if (opts.output !== undefined && !html) throw new KnexsafeError('BAD_OPTION', '--output goes with --format html (other formats print to stdout; redirect them with >).');
      // The page is the result: per-migration lines and the JSON document stay off stdout.
      const out = makeOutput(html ? { ...g, json: true } : g);
      const report = await (await verifying()).verify({
        ...projectOptions(g),
        ...(names.length ? { names } : {}),
        ...(opts.pending ? { pending: true } : {}),
        ...(opts.from ? { from: opts.from } : {}),
        ...(opts.to ? { to: opts.to } : {}),
        ...(opts.data === false ? { noData: true } : {}),
        cache: opts.cache !== false,
        ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
        ...(opts.timeout !== undefined ? { timeoutMs: parseDuration(opts.timeout, '--timeout') } : {}),
        events: {
          progress: (m) => out.progress(out.c.dim(m)),
          migrationVerified: (v) => renderVerdict(out, v),
        },
      });
      for (const w of report.warnings) out.warn(w);
      if (html) {
        const { renderVerifyHtml } = await import('../../report/html.js');
        emitReport(out, renderVerifyHtml(report), opts.output);
        if (!report.ok) process.exitCode = 1;
        return;
      }
      out.result({
        ok: report.ok,
        selection: report.selection,
        warnings: report.warnings,
        shadow: report.shadow,
        durationMs: Math.round(report.durationMs),
        probe: report.probe,
        notReached: report.notReached,
        migrations: report.verdicts.map((v) => ({
          name: v.name,
          file: displayPath(v.file),
          reversible: v.status === 'reversible',
          status: v.status,
          findings: v.findings,
          diffs: v.diff.map((c) => c.message),
          dataLoss: v.dataLoss,
          notes: v.notes,
          timings: v.timings,
        })),
      });
      const failed = report.verdicts.filter((v) => v.status !== 'reversible');
      out.line();
      if (report.verdicts.length === 0) out.line('No migrations to verify.');
      else
        out.line(
          `${failed.length === 0 ? out.c.green('✓') : out.c.red('✗')} ${report.verdicts.length} migration${report.verdicts.length === 1 ? '' : 's'} verified: ${report.verdicts.length - failed.length} reversible${failed.length ? `, ${out.c.red(`${failed.length} not`)}` : ''} — ${report.shadow}, ${formatDuration(report.durationMs)}`,
        );
      if (report.notReached.length) {
        out.line(
          `Not verified: ${report.notReached.length} later migration${report.notReached.length === 1 ? '' : 's'} (${report.notReached.slice(0, 3).join(', ')}${report.notReached.length > 3 ? ', …' : ''}): knex stops at the migration that failed, so they would not run either.`,
        );
      }
      if (report.probe.unfilled.length) {
        out.line(out.c.dim(`Data probe could not fill: ${report.probe.unfilled.map((u) => `${u.table.replace(/^public\./, '')} (${u.reason})`).join('; ')}`));
      }
      if (!report.ok) process.exitCode = 1;
    });
}

function renderVerdict(out: Output, v: MigrationVerdict): void {
  if (out.json) return;
  const mark = v.status === 'reversible' ? out.c.green('✓') : out.c.red('✗');
  const label = v.status === 'reversible' ? out.c.dim('reversible') : out.c.red(v.findings.map((f) => f.rule).join(', '));
  out.line(`${mark} ${v.name}  ${label}`);
  for (const note of v.notes.filter((n) => !/column order/i.test(n))) out.line(out.c.dim(`    note: ${note}`));
  for (const f of v.findings) {
    out.line(`    ${f.message}`);
    if (f.knexVersionNote) out.line(`    ${out.c.yellow('note')}: ${f.knexVersionNote}`);
    if (f.error?.site) out.line(out.c.dim(`      at ${displayPath(f.error.site.file)}:${f.error.site.line}`));
    if (f.error?.sql) out.line(out.c.dim(`      ${f.error.sql.split('\n')[0]}`));
    for (const c of f.changes ?? []) out.line(`      ${out.c.yellow('•')} ${c.message}`);
  }
}
