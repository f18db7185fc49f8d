import { Option, type Command } from 'commander';
import type { FleetCommand, FleetOptions, FleetReport, LiveState, TargetOutcome } from '../../fleet/run.js';
import { KnexsafeError } from '../../errors.js';
import { globalOptions, makeOutput, projectOptions } from '../context.js';
import { formatDuration, table, type Output } from '../output.js';

/** Flags that run a command across many databases or schemas (docs/fleet.md). */
export interface FleetFlags {
  targets?: string | boolean;
  targetsQuery?: string;
  only?: string[];
  except?: string[];
  concurrency?: string;
  failFast?: boolean;
  continue?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function fleetOptions(command: Command): Command {
  return command
    .option('--targets [file]', 'run on every target: a file of connection URLs (one per line, # comments; or JSON), or without a file the config’s knexsafe.targets')
    .option('--targets-query <sql>', 'run on the targets this query lists (on the configured connection): one column of URLs, database names or schema names')
    .option('--only <glob>', 'with targets: only those whose name matches (repeatable, comma-separated; * and ?)', collect)
    .option('--except <glob>', 'with targets: leave out those whose name matches (repeatable)', collect)
    .option('--concurrency <n>', 'with targets: how many run at once (default 4)')
    .option('--fail-fast', 'with targets: start no new target after the first failure (the default)')
    .addOption(new Option('--continue', 'with targets: go on with the other targets after a failure').conflicts('failFast'));
}

/** True when the command was asked to run across a fleet. */
export function wantsFleet(flags: FleetFlags): boolean {
  return flags.targets !== undefined || flags.targetsQuery !== undefined || flags.only !== undefined || flags.except !== undefined;
}

export async function runFleetCommand(command: FleetCommand, flags: FleetFlags & Record<string, unknown>, cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const out = makeOutput(g);
  if (g.connection !== undefined || g.db !== undefined) {
    throw new KnexsafeError('USAGE', `--targets/--targets-query choose the databases; --connection and --db cannot be combined with them.`, {
      hint: 'The configured connection (knexfile, DATABASE_URL) is where --targets-query runs and what database or schema names are resolved against.',
    });
  }
  const concurrency = flags.concurrency === undefined ? 4 : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new KnexsafeError('USAGE', `--concurrency takes a whole number of at least 1, not "${flags.concurrency}".`);
  const { runFleet } = await import('../../fleet/run.js');
  const live = new LiveTable(out);
  const guard = ['lockTimeout', 'statementTimeout', 'idleTimeout', 'timeout', 'retries', 'retryDelay', 'unsafe', 'backup', 'backupDir', 'disableTransactions', 'all'] as const;
  const options: FleetOptions = {
    ...projectOptions(g),
    command,
    concurrency,
    failFast: flags.continue !== true,
    ...(typeof flags.targets === 'string' ? { file: flags.targets } : {}),
    ...(flags.targets === true || (flags.targets === undefined && flags.targetsQuery === undefined) ? { fromConfig: true } : {}),
    ...(flags.targetsQuery !== undefined ? { query: flags.targetsQuery } : {}),
    ...(flags.only ? { only: flags.only } : {}),
    ...(flags.except ? { except: flags.except } : {}),
    ...(g.cwd !== undefined ? { cwd: g.cwd } : {}),
    ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
    ...(flags.check === false ? { check: false } : {}),
    events: { state: (t, s, m) => live.update(t, s, m), progress: (m) => live.note(m) },
  };
  for (const k of guard) if (flags[k] !== undefined) (options as unknown as Record<string, unknown>)[k] = flags[k];
  let report: FleetReport;
  try {
    report = await runFleet(options);
  } finally {
    live.stop();
  }
  out.result(report);
  renderSummary(out, report);
  if (!report.ok) process.exitCode = 1;
}

const LIVE_ROWS = 12;

/**
 * The live view on stderr. On a TTY: a table redrawn in place (counts, then the targets that are
 * busy or failed). Elsewhere (CI logs): one plain line per target that starts, fails or finishes.
 */
class LiveTable {
  private readonly rows = new Map<string, { state: LiveState; migration?: string; since: number }>();
  private readonly tty = Boolean((process.stderr as { isTTY?: boolean }).isTTY);
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: Output) {
    if (this.tty && !out.json) {
      this.timer = setInterval(() => this.draw(), 200);
      this.timer.unref();
    }
  }

  update(target: string, state: LiveState, migration?: string): void {
    const row = this.rows.get(target);
    const since = row && row.state === state ? row.since : performance.now();
    this.rows.set(target, { state, since, ...(migration ? { migration } : {}) });
    if (this.tty || this.out.json) return;
    if (state === 'running' && migration) this.out.status(`${target}: running ${migration}`);
    else if (state === 'done' || state === 'failed' || state === 'behind' || state === 'problem') this.out.status(`${target}: ${state}`);
  }

  note(message: string): void {
    if (this.out.json) return;
    this.clear();
    this.out.status(this.out.c.dim(message));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  private clear(): void {
    if (!this.drawn) return;
    process.stderr.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    const counts = new Map<LiveState, number>();
    for (const r of this.rows.values()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    const c = this.out.c;
    const head = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
    const busy = [...this.rows].filter(([, r]) => r.state === 'running' || r.state === 'checking' || r.state === 'reading' || r.state === 'failed');
    const now = performance.now();
    const lines = [
      c.bold(`fleet: ${head}`),
      ...(busy.length
        ? table(
            ['target', 'state', 'migration', 'elapsed'],
            busy.slice(0, LIVE_ROWS).map(([t, r]) => [t, r.state === 'failed' ? c.red(r.state) : r.state, r.migration ?? '', formatDuration(now - r.since)]),
            c,
          ).split('\n')
        : []),
      ...(busy.length > LIVE_ROWS ? [c.dim(`… and ${busy.length - LIVE_ROWS} more`)] : []),
    ];
    this.clear();
    process.stderr.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}

const SHOW_ALL_UP_TO = 30;

function renderSummary(out: Output, report: FleetReport): void {
  if (out.json) return;
  const c = out.c;
  const paint = (r: TargetOutcome['result']) => (r === 'ok' ? c.green(r) : r === 'failed' ? c.red(r) : r === 'not started' ? c.dim(r) : c.yellow(r));
  for (const check of report.checks) {
    out.line(
      `${check.errors ? c.red('✗') : c.green('✓')} check of ${check.pending} pending migration${check.pending === 1 ? '' : 's'} for ${check.targets} target${check.targets === 1 ? '' : 's'} at ${check.state ?? '(nothing applied)'}: ${check.errors} error${check.errors === 1 ? '' : 's'}, ${check.warnings} warning${check.warnings === 1 ? '' : 's'} ${c.dim(formatDuration(check.durationMs))}${check.failed ? ` — ${check.failed}` : ''}`,
    );
  }
  if (report.checks.length) out.line();
  const shown = report.targets.length <= SHOW_ALL_UP_TO ? report.targets : report.targets.filter((t) => t.result !== 'ok');
  if (shown.length) {
    const rows = shown.map((t) => [
      t.target,
      paint(t.result),
      t.version ?? '',
      String(t.applied),
      String(t.pending),
      t.migrations.length ? String(t.migrations.length) : '',
      t.durationMs ? formatDuration(t.durationMs) : '',
      oneLine(t.error?.message ?? [...(t.problems ?? []), ...(t.notes ?? [])].join('; ')),
    ]);
    out.line(table(['target', 'result', 'version', 'applied', 'pending', report.command === 'rollback' ? 'undone' : 'ran', 'time', 'detail'], rows, c));
    out.line();
  }
  const counts = new Map<string, number>();
  for (const t of report.targets) counts.set(t.result, (counts.get(t.result) ?? 0) + 1);
  const tally = [...counts].map(([r, n]) => `${n} ${r}`).join(', ');
  const versions = report.versions.map((v) => `${v.targets} at ${v.version ?? '(nothing applied)'}`).join(', ');
  out.line(
    `${report.ok ? c.green('✓') : c.red('✗')} ${report.command} on ${report.targets.length} target${report.targets.length === 1 ? '' : 's'}: ${tally} — ${formatDuration(report.durationMs)}, concurrency ${report.concurrency}`,
  );
  if (versions) out.line(`  versions: ${versions}`);
  const failed = report.targets.filter((t) => t.result === 'failed');
  if (report.stopped) {
    const notStarted = report.targets.filter((t) => t.result === 'not started').length;
    out.line(
      c.yellow(
        `  stopped at the first failure (${failed.map((f) => f.target).join(', ')}): ${notStarted} target${notStarted === 1 ? ' was' : 's were'} not started. Fix it and run again: each target continues where it stands (--continue runs the others anyway).`,
      ),
    );
  }
  for (const f of failed.slice(0, 5)) if (f.error?.hint) out.line(`  ${c.bold(f.target)}: ${f.error.hint}`);
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 140 ? `${flat.slice(0, 137)}…` : flat;
}
