import { parseDuration } from '../../util/duration.js';
import type { Command } from 'commander';
import type { CheckReport } from '../../check/run.js';
import { KnexsafeError } from '../../errors.js';
import type { ReportFormat } from '../../report/format.js';
import type { Severity } from '../../rules/types.js';
import { knexsafeVersion } from '../../util/package-version.js';
import path from 'node:path';
import { globalOptions, makeOutput, projectOptions } from '../context.js';
import { checkOutputFlag, emitReport, timelineSvgPath, writeReportFile } from '../report-file.js';
import { fleetOptions, runFleetCommand, wantsFleet, type FleetFlags } from './fleet.js';

// Loaded on use, so `--help` and other commands do not pay for these modules.
const runCheck = () => import('../../check/run.js');
// .sql targets need neither knex nor the project's config: run.js (and what it imports) stays unloaded.
const sqlCheck = () => import('../../check/sql-files.js');
const formats = () => import('../../report/format.js');

interface CheckFlags {
  all?: boolean;
  pending?: boolean;
  from?: string;
  to?: string;
  pgVersion?: string;
  maxSeverity?: string;
  verbose?: boolean;
  dataChecks?: boolean;
  dataChecksEnv?: string;
  dataChecksTimeout?: string;
  timeout?: string;
  fix?: boolean;
  severity?: string;
  rule?: string[];
  dryRun?: boolean;
  cache?: boolean;
  output?: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether a run fails: a finding at or above the threshold, or a migration that fails on the shadow. */
export async function failsAt(report: CheckReport, threshold: Severity | 'none'): Promise<boolean> {
  const { activeFindings, SEVERITY_RANK } = await formats();
  if (report.migrations.some((m) => m.failed && !m.failed.underProjectKnex?.runs)) return true;
  if (threshold === 'none') return false;
  // Fails only under knexsafe's knex, not under the project's own: as a warning.
  if (report.migrations.some((m) => m.failed?.underProjectKnex?.runs) && SEVERITY_RANK.warning >= SEVERITY_RANK[threshold]) return true;
  return activeFindings(report).some((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[threshold]);
}

export function registerCheckCommand(program: Command): void {
  fleetOptions(program.command('check [targets...]'))
    .description('Run migrations on a shadow database and report lock, rewrite and breaking-change hazards with knex fixes')
    .option('--all', 'check every migration (default when no target database is configured)')
    .option('--pending', 'check only migrations the target has not applied (default when it is reachable)')
    .option('--from <name>', 'start at this migration')
    .option('--to <name>', 'stop after this migration')
    .option('--pg-version <major>', 'PostgreSQL version the advice is for (default: the target’s, else 13)')
    .option('--max-severity <level>', 'exit 1 when a finding is at least this severe: error, warning, info or none', 'error')
    .option('--verbose', "show each finding's SQL, locks, why, fix code and docs")
    .option('--data-checks', 'count, read-only on the target, the rows that would make a pending migration fail (duplicates, NULLs, orphans, CHECK violations, failing casts)')
    .option('--data-checks-env <VAR>', 'count on a replica instead: the environment variable holding its URL (not the URL itself: the command line is visible to other users)')
    .option('--data-checks-timeout <ms>', 'statement_timeout of each counting query', '10000')
    .option('--timeout <duration>', 'longest a migration (and on a --shadow-url shadow, a statement) may run on the shadow, e.g. 30s (default 5min)')
    .option('--fix', 'apply the fixes: the same as knexsafe fix (with its --severity, --rule and --dry-run)')
    .option('--severity <level>', 'with --fix: fix findings at least this severe (error, warning, info)')
    .option('--rule <id>', 'with --fix: only this rule (repeatable)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--dry-run', 'with --fix: print the diff, write nothing')
    .option('--no-cache', 'run every migration again instead of resuming from the warm cache of shadow states (also KNEXSAFE_NO_CACHE=1)')
    .option('--output <file>', 'with --format html or markdown: write the report to this file (markdown also writes <file>.timeline.svg)')
    .addHelpText(
      'after',
      `
Targets are migration names, or .sql files (checked statically, like squawk), or - for SQL on stdin.
With a reachable database in the knexfile, only the pending migrations are checked, on a shadow
that starts from the applied ones; otherwise every migration, each against the schema before it.

Examples:
  $ knexsafe check                          pending (or all) migrations
  $ knexsafe check --format github          annotations in a GitHub Actions run
  $ knexsafe check --format sarif > knexsafe.sarif
  $ knexsafe check --format html --output report.html   lock timelines in one self-contained page
  $ knexsafe check db/001_init.sql          a plain SQL file
  $ git diff --name-only main -- migrations | xargs knexsafe check
  $ knexsafe check --pending --targets tenants.txt   once per distinct applied state of the fleet`,
    )
    .action(async (targets: string[], opts: CheckFlags & FleetFlags, cmd: Command) => {
      if (wantsFleet(opts)) {
        if (targets.length || opts.all || opts.from || opts.to || opts.fix)
          throw new KnexsafeError(
            'BAD_OPTION',
            'Across targets, check checks the pending migrations of each applied state (--pending); migration names, --all, --from/--to and --fix go without --targets.',
          );
        return runFleetCommand('check', { ...opts }, cmd);
      }
      const g = globalOptions(cmd);
      if (!opts.fix && (opts.severity || opts.rule || opts.dryRun)) {
        throw new KnexsafeError('BAD_OPTION', '--severity, --rule and --dry-run go with --fix (check reports every finding; --max-severity sets when it exits 1).');
      }
      if (opts.fix) {
        const { runFix } = await import('./fix.js');
        return runFix(g, targets, {
          ...(opts.severity ? { severity: opts.severity } : {}),
          ...(opts.rule ? { rule: opts.rule } : {}),
          ...(opts.dryRun ? { dryRun: true } : {}),
          ...(opts.pgVersion ? { pgVersion: opts.pgVersion } : {}),
          ...(opts.timeout ? { timeout: opts.timeout } : {}),
        });
      }
      const format = (g.format ?? (g.json ? 'json' : 'text')) as ReportFormat;
      checkOutputFlag(format, opts.output);
      const out = makeOutput({ ...g, json: format !== 'text' });
      const threshold = (opts.maxSeverity ?? 'error') as Severity | 'none';
      if (!['error', 'warning', 'info', 'none'].includes(threshold)) {
        throw new KnexsafeError('BAD_OPTION', `--max-severity takes error, warning, info or none, not "${threshold}".`);
      }
      const pgVersion = opts.pgVersion === undefined ? undefined : Number(opts.pgVersion);
      if (pgVersion !== undefined && (!Number.isInteger(pgVersion) || pgVersion < 9 || pgVersion > 30)) {
        throw new KnexsafeError('BAD_OPTION', `--pg-version takes a major version such as 13 or 16, not "${opts.pgVersion}".`);
      }
      const timeoutMs = Number(opts.dataChecksTimeout ?? '10000');
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
        throw new KnexsafeError('BAD_OPTION', `--data-checks-timeout takes a number of milliseconds, not "${opts.dataChecksTimeout}".`);
      }
      let replicaUrl: string | undefined;
      if (opts.dataChecksEnv !== undefined) {
        replicaUrl = process.env[opts.dataChecksEnv];
        if (!replicaUrl) throw new KnexsafeError('BAD_OPTION', `--data-checks-env names ${opts.dataChecksEnv}, which is not set: export the replica's URL in it.`);
      }
      const sqlFiles = targets.filter((t) => t === '-' || /\.sql$/i.test(t));
      const names = targets.filter((t) => !sqlFiles.includes(t));
      if (sqlFiles.length && names.length) {
        throw new KnexsafeError('BAD_OPTION', 'Give either migration names or .sql files, not both.');
      }
      const report = await (sqlFiles.length ? (await sqlCheck()).checkSqlFiles : (await runCheck()).check)({
        ...projectOptions(g),
        ...(names.length ? { names } : {}),
        ...(sqlFiles.length ? { sqlFiles } : {}),
        ...(sqlFiles.includes('-') ? { stdin: await readStdin() } : {}),
        ...(opts.all ? { all: true } : {}),
        ...(opts.pending ? { pending: true } : {}),
        ...(opts.from ? { from: opts.from } : {}),
        ...(opts.to ? { to: opts.to } : {}),
        ...(pgVersion !== undefined ? { pgVersion } : {}),
        ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
        ...(opts.dataChecks || replicaUrl ? { dataChecks: { timeoutMs, ...(replicaUrl ? { url: replicaUrl } : {}) } } : {}),
        ...(opts.timeout !== undefined ? { timeoutMs: parseDuration(opts.timeout, '--timeout') } : {}),
        // The HTML report draws every statement's measured time, which the warm cache does not keep.
        cache: opts.cache !== false && format !== 'html',
        progress: (m) => out.progress(out.c.dim(m)),
      });
      const { activeFindings, formatGithub, formatJson, formatMarkdown, formatSarif, formatText } = await formats();
      switch (format) {
        case 'json':
          out.result(formatJson(report));
          break;
        case 'sarif':
          out.result(formatSarif(report, knexsafeVersion()));
          break;
        case 'github':
          out.raw(`${formatGithub(report)}\n`);
          break;
        case 'markdown': {
          const svgFile = opts.output !== undefined ? timelineSvgPath(opts.output) : undefined;
          if (svgFile) {
            const { buildTimelines, renderTimelinesSvgFile } = await import('../../report/timeline.js');
            const groups = buildTimelines(report.units ?? [], activeFindings(report)).filter((x) => x.statements.length > 0);
            if (groups.length) writeReportFile(svgFile, renderTimelinesSvgFile(groups));
            emitReport(out, `${formatMarkdown(report, groups.length ? { timelineSvg: path.basename(svgFile) } : {})}\n`, opts.output);
          } else emitReport(out, `${formatMarkdown(report)}\n`, undefined);
          break;
        }
        case 'html': {
          const { renderCheckHtml } = await import('../../report/html.js');
          emitReport(out, renderCheckHtml(report), opts.output);
          break;
        }
        default:
          out.line(formatText(report, out.c, { ...(opts.verbose ? { verbose: true } : {}), ...(process.stdout.isTTY && process.stdout.columns ? { width: process.stdout.columns } : {}) }));
      }
      if (await failsAt(report, threshold)) process.exitCode = 1;
    });
}
