import type { Command } from 'commander';
import { KnexsafeError } from '../../errors.js';
import type { FixOptions, FixResult } from '../../fix/run.js';
import type { Severity } from '../../rules/types.js';
import { displayPath } from '../../util/paths.js';
import { globalOptions, makeOutput, projectOptions, type GlobalOptions } from '../context.js';
import type { Output } from '../output.js';

// Loaded on use, so `--help` and other commands do not pay for the check engine.
const fixing = () => import('../../fix/run.js');

export interface FixFlags {
  severity?: string;
  rule?: string[];
  dryRun?: boolean;
  pgVersion?: string;
  timeout?: string;
}

export function registerFixCommand(program: Command): void {
  program
    .command('fix [migrations...]')
    .description('Apply the fixes check offers: rewrite migrations in place, new migrations for multi-step recipes; then check and verify the result')
    .option('--severity <level>', 'fix findings at least this severe: error, warning or info (style fixes)', 'warning')
    .option('--rule <id>', 'only this rule (repeatable)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--dry-run', 'print the changes as a unified diff; write nothing')
    .option('--pg-version <major>', 'PostgreSQL version the advice is for (default: the target’s, else 13)')
    .option('--timeout <duration>', 'longest a migration may run on the shadow, e.g. 30s (default 5min)')
    .addHelpText(
      'after',
      `
Migrations the target database has applied are never edited: a fix that still matters for them
(a column type) becomes a new migration after the last one. Suppressed findings are left alone.

Examples:
  $ knexsafe fix --dry-run                  what would change, as a diff
  $ knexsafe fix                            errors and warnings, every migration
  $ knexsafe fix 20240105_add_index --rule index-not-concurrent
  $ knexsafe check --fix                    the same as knexsafe fix`,
    )
    .action(async (names: string[], opts: FixFlags, cmd: Command) => {
      await runFix(globalOptions(cmd), names, opts);
    });
}

/** `knexsafe fix` and `knexsafe check --fix`. */
export async function runFix(g: GlobalOptions, names: string[], opts: FixFlags): Promise<void> {
  const out = makeOutput(g);
  const severity = (opts.severity ?? 'warning') as Severity;
  if (!['error', 'warning', 'info'].includes(severity)) throw new KnexsafeError('BAD_OPTION', `--severity takes error, warning or info, not "${opts.severity}".`);
  const pgVersion = opts.pgVersion === undefined ? undefined : Number(opts.pgVersion);
  if (pgVersion !== undefined && (!Number.isInteger(pgVersion) || pgVersion < 9 || pgVersion > 30)) {
    throw new KnexsafeError('BAD_OPTION', `--pg-version takes a major version such as 13 or 16, not "${opts.pgVersion}".`);
  }
  const { parseDuration } = await import('../../util/duration.js');
  const options: FixOptions = {
    ...projectOptions(g),
    ...(names.length ? { names } : {}),
    severity,
    ...(opts.rule?.length ? { rules: opts.rule } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
    ...(pgVersion !== undefined ? { pgVersion } : {}),
    ...(opts.timeout !== undefined ? { timeoutMs: parseDuration(opts.timeout, '--timeout') } : {}),
    progress: (m) => out.progress(out.c.dim(m)),
  };
  const result = await (await fixing()).fix(options);
  out.result(jsonOf(result));
  renderFix(out, result, options);
  if (result.after?.failed.length || result.after?.errorsWithFix.length || (result.verify && !result.verify.ok)) process.exitCode = 1;
}

function jsonOf(r: FixResult): unknown {
  return {
    ok: !(r.after?.failed.length || r.after?.errorsWithFix.length || (r.verify && !r.verify.ok)),
    written: r.written,
    changes: r.changes.map((c) => ({ kind: c.kind, name: c.name, file: displayPath(c.file), fixes: c.fixes })),
    skipped: r.skipped,
    diff: r.diff,
    after: r.after && {
      failed: r.after.failed,
      errorsWithFix: r.after.errorsWithFix.map((f) => ({ rule: f.rule, migration: f.migration, line: f.line, message: f.message })),
      counts: count(r.after.findings.map((f) => f.severity)),
    },
    verify: r.verify,
  };
}

function count(severities: Severity[]): Record<Severity, number> {
  const c: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const s of severities) c[s]++;
  return c;
}

function renderFix(out: Output, r: FixResult, options: FixOptions): void {
  if (out.json) return;
  const c = out.c;
  if (options.dryRun && r.diff) out.raw(colorDiff(r.diff, out));
  if (r.changes.length === 0) out.line(r.skipped.length ? 'Nothing to fix automatically.' : 'Nothing to fix.');
  else {
    const added = r.changes.filter((ch) => ch.kind === 'added').length;
    out.line(
      `${options.dryRun ? 'Would change' : 'Changed'} ${r.changes.length - added} migration${r.changes.length - added === 1 ? '' : 's'}${added ? ` and ${options.dryRun ? 'add' : 'added'} ${added}` : ''}:`,
    );
    const width = Math.max(...r.changes.map((ch) => ch.name.length));
    for (const ch of r.changes) {
      const rules = [...new Set(ch.fixes.map((f) => f.rule))].join(', ');
      const from = ch.kind === 'added' && ch.fixes[0] ? c.dim(` (from ${ch.fixes[0].migration})`) : '';
      out.line(`  ${ch.kind === 'added' ? c.green('A') : c.yellow('M')} ${ch.name.padEnd(width)}  ${rules}${from}`);
    }
  }
  if (r.skipped.length) {
    out.line(`Left alone (${r.skipped.length}):`);
    for (const s of r.skipped) out.line(`  ${s.migration}  ${s.rule}: ${c.dim(s.reason)}`);
  }
  if (r.after) {
    const counts = count(r.after.findings.map((f) => f.severity));
    const left = `${counts.error} error${counts.error === 1 ? '' : 's'}, ${counts.warning} warning${counts.warning === 1 ? '' : 's'}, ${counts.info} info`;
    const subject = options.dryRun ? 'check on the result' : 'check';
    if (r.after.failed.length) out.line(`${c.red('✗')} ${subject}: ${r.after.failed.join(', ')} failed on the shadow`);
    else if (r.after.errorsWithFix.length) {
      const n = r.after.errorsWithFix.length;
      // Those "Left alone" above are for a person to apply: say so, rather than look like a failure to try.
      const byHand = r.after.errorsWithFix.filter((f) => r.skipped.some((s) => s.migration === f.migration && s.rule === f.rule && s.message === f.message)).length;
      const errors = `${n} error${n === 1 ? '' : 's'}`;
      const what = byHand === n ? `${errors} whose fix is left to apply by hand (see "Left alone")` : `${errors} with a fix left${byHand ? ` (${byHand} to apply by hand, see "Left alone")` : ''}`;
      out.line(`${c.red('✗')} ${subject}: ${what} (${left})`);
    } else out.line(`${c.green('✓')} ${subject}: no error with a fix left (${left})`);
  }
  if (r.verify) {
    const bad = r.verify.verdicts.filter((v) => v.status !== 'reversible');
    out.line(
      `${bad.length ? c.red('✗') : c.green('✓')} verify: ${r.verify.verdicts.length - bad.length} of ${r.verify.verdicts.length} rewritten or added migration${r.verify.verdicts.length === 1 ? '' : 's'} reversible${r.verify.shadow ? ` — ${r.verify.shadow}` : ''}`,
    );
    for (const v of bad) out.line(`    ${v.name}: ${v.status}${v.findings[0] ? ` — ${v.findings[0]}` : ''}`);
  }
  if (options.dryRun && r.changes.length) out.line(c.dim('Dry run: nothing was written.'));
}

function colorDiff(diff: string, out: Output): string {
  const c = out.c;
  return diff
    .split('\n')
    .map((l) => (l.startsWith('+++') || l.startsWith('---') ? c.bold(l) : l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l.startsWith('@@') ? c.cyan(l) : l))
    .join('\n');
}
