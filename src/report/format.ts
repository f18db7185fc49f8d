import type { CheckReport, PgVersionSource } from '../check/run.js';
import type { Finding, Severity } from '../rules/types.js';
import { ALL_RULES } from '../rules/registry.js';
import { displayPath } from '../util/paths.js';
import type { Colors } from '../util/colors.js';
import { buildTimelines, timelineMarkdown } from './timeline.js';

export type ReportFormat = 'text' | 'json' | 'sarif' | 'github' | 'markdown' | 'html';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** Findings that count: suppressed ones are kept in JSON but never fail a run. */
export function activeFindings(report: CheckReport): Finding[] {
  return report.findings.filter((f) => !f.suppressed);
}

export function countBySeverity(findings: Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatRows(rows: number): string {
  if (rows >= 1_000_000) return `${(rows / 1_000_000).toFixed(1)}M rows`;
  if (rows >= 10_000) return `${Math.round(rows / 1000)}k rows`;
  return `${rows} row${rows === 1 ? '' : 's'}`;
}

function blocksText(f: Finding): string | undefined {
  if (!f.lock) return undefined;
  const b = f.lock.blocks;
  const blocked = [b.reads ? 'reads' : '', b.writes ? 'writes' : '', b.ddl ? 'DDL' : ''].filter(Boolean);
  const open = [!b.reads ? 'reads' : '', !b.writes ? 'writes' : ''].filter(Boolean);
  const held = f.lock.held;
  const lock = `${f.lock.sql} lock on ${f.lock.relation.replace(/^public\./, '')}`;
  if (held) {
    const hb = held.blocks;
    const heldBlocked = [hb.reads ? 'reads' : '', hb.writes ? 'writes' : '', hb.ddl ? 'DDL' : ''].filter(Boolean);
    return `${lock}, ${held.sql} already held${held.since.line !== undefined ? ` since line ${held.since.line}` : ''} — blocks ${heldBlocked.join(', ') || 'nothing'}`;
  }
  const later = f.lock.later;
  const laterText = later
    ? `; later ${later.sql}${later.since.line !== undefined ? ` from line ${later.since.line}` : ''} — blocks ${[later.blocks.reads ? 'reads' : '', later.blocks.writes ? 'writes' : '', later.blocks.ddl ? 'DDL' : ''].filter(Boolean).join(', ') || 'nothing'} until commit`
    : '';
  return `${lock} — blocks ${blocked.join(', ') || 'nothing'}${open.length ? ` (${open.join(' and ')} continue)` : ''}${laterText}`;
}

function tableText(f: Finding): string | undefined {
  if (!f.table || (f.table.rows === undefined && f.table.bytes === undefined)) return undefined;
  return [f.table.rows !== undefined ? formatRows(f.table.rows) : '', f.table.bytes !== undefined ? formatBytes(f.table.bytes) : ''].filter(Boolean).join(', ');
}

function location(f: Finding): string {
  return `${displayPath(f.file)}${f.line ? `:${f.line}` : ''}`;
}

export interface TextOptions {
  /** Every finding with its SQL, locks, why, fix code and docs (info findings too). */
  verbose?: boolean;
  /** The terminal's width: detail lines are cut to it. Unknown (piped output): nothing is cut. */
  width?: number;
}

/**
 * For people. By default one line per finding — `file:line:col  severity  rule  message` — grouped
 * by migration, errors with a second, dim line (the lock and the first sentence of why), and a
 * one-line summary; `verbose` adds each finding's SQL, locks, why, fix code and docs.
 */
export function formatText(report: CheckReport, c: Colors, options: TextOptions = {}): string {
  const lines: string[] = [];
  const findings = activeFindings(report);
  const byMigration = new Map<string, Finding[]>();
  for (const f of findings) {
    // Pushed, not copied: a SQL file's hundreds of findings share one migration.
    const list = byMigration.get(f.migration);
    if (list) list.push(f);
    else byMigration.set(f.migration, [f]);
  }
  const paint = (s: Severity, text: string) => (s === 'error' ? c.red(text) : s === 'warning' ? c.yellow(text) : c.cyan(text));
  const cut = (text: string) => (options.width && text.length > options.width ? `${text.slice(0, Math.max(10, options.width - 1))}…` : text);
  let hidden = 0;
  for (const m of report.migrations) {
    const list = byMigration.get(m.name) ?? [];
    if (!m.failed && list.length === 0) continue;
    const where = list.map((f) => position(f));
    const whereWidth = Math.max(displayPath(m.file).length, ...where.map((w) => w.length));
    const ruleWidth = Math.max(0, ...list.map((f) => f.rule.length));
    if (options.verbose) lines.push(c.bold(displayPath(m.file)));
    if (m.failed) {
      const failed = `${m.failed.underProjectKnex?.runs ? c.yellow('warning') : c.red('failed ')}  the migration fails on the shadow${m.failed.sqlState ? ` (SQLSTATE ${m.failed.sqlState})` : ''}: ${m.failed.message}`;
      lines.push(options.verbose ? `  ${failed}` : `${c.bold(displayPath(m.file).padEnd(whereWidth))}  ${failed}`);
      if (m.failed.knexVersionNote) lines.push(`          ${c.yellow('note')}: ${m.failed.knexVersionNote}`);
    }
    list.forEach((f, i) => {
      if (!options.verbose) {
        lines.push(`${where[i]!.padEnd(whereWidth)}  ${paint(f.severity, f.severity.padEnd(7))}  ${c.bold(f.rule.padEnd(ruleWidth))}  ${f.message}`);
        if (f.severity === 'error') {
          const detail = [blocksText(f), firstSentence(f.why)].filter(Boolean).join(' · ');
          lines.push(c.dim(cut(`    ${detail}`)));
        }
        if (f.severity !== 'info' || f.fix) hidden++;
        return;
      }
      lines.push(`  ${paint(f.severity, f.severity.padEnd(7))} ${c.bold(f.rule)}  ${f.message}  ${c.dim(location(f))}`);
      if (f.sql) lines.push(`          ${c.dim(oneLine(f.sql))}`);
      const lock = blocksText(f);
      const size = tableText(f);
      if (lock || size) lines.push(`          ${[lock, size ? `table: ${size}` : ''].filter(Boolean).join(' · ')}`);
      if (f.locks && f.locks.length > 1) lines.push(`          ${c.dim(`locks, in order: ${f.locks.map((l) => `${l.relation.replace(/^public\./, '')} (${l.sql})`).join(', ')}`)}`);
      lines.push(`          ${c.dim('why:')} ${f.why}`);
      if (f.fix) {
        lines.push(`          ${c.green('fix:')} ${f.fix.description}`);
        for (const codeLine of f.fix.code.split('\n')) lines.push(`            ${c.dim(codeLine)}`);
      }
      lines.push(`          ${c.dim(`docs: ${f.docs}`)}`);
    });
    lines.push('');
  }
  const counts = countBySeverity(findings);
  const suppressed = report.findings.length - findings.length;
  const summary = [`${counts.error} error${counts.error === 1 ? '' : 's'}`, `${counts.warning} warning${counts.warning === 1 ? '' : 's'}`, `${counts.info} info`].join(', ');
  const failed = report.migrations.filter((m) => m.failed && !m.failed.underProjectKnex?.runs).length;
  const knexOnly = report.migrations.filter((m) => m.failed?.underProjectKnex?.runs).length;
  lines.push(
    `${counts.error || failed ? c.red('✗') : counts.warning || knexOnly ? c.yellow('!') : c.green('✓')} ${summary}${suppressed ? `, ${suppressed} suppressed` : ''}${failed ? `, ${failed} failed on the shadow` : ''}${knexOnly ? `, ${knexOnly} failed only under knexsafe's knex` : ''} — ${report.scope}; PostgreSQL ${report.pgVersion} advice (${describePgVersionSource(report.pgVersionSource)})${report.shadow ? `, ${report.shadow}` : ''}, ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  const notReached = report.notReached ?? [];
  if (notReached.length) {
    lines.push(
      `Not checked: ${notReached.length} later migration${notReached.length === 1 ? '' : 's'} (${notReached.slice(0, 3).join(', ')}${notReached.length > 3 ? ', …' : ''}): knex stops at the migration that failed, so they would not run either.`,
    );
  }
  if (hidden) lines.push(c.dim("  --verbose shows each finding's SQL, locks, why and fix code; knexsafe explain <rule|file:line> shows one"));
  for (const w of report.warnings) lines.push(c.yellow(`warning: ${w}`));
  return lines.join('\n');
}

/** `file:line:col`, as editors and terminals turn into a link. */
function position(f: Finding): string {
  return `${displayPath(f.file)}${f.line ? `:${f.line}${f.column ? `:${f.column}` : ''}` : ''}`;
}

/** The first sentence of a why, for the one-line view: up to the first ". " outside code spans. */
function firstSentence(text: string): string {
  let inCode = false;
  // From one full stop or backquote to the next, not character by character: the default output
  // reads the why of every error.
  const marks = /[.`]/g;
  for (let mark = marks.exec(text); mark && mark.index < text.length - 1; mark = marks.exec(text)) {
    const i = mark.index;
    if (text[i] === '`') {
      inCode = !inCode;
      continue;
    }
    // A full stop, not an ellipsis ("ALTER COLUMN ... TYPE") or an abbreviation, before a capital.
    if (!inCode && text[i - 1] !== '.' && /^ [A-Z`]/.test(text.slice(i + 1, i + 3)) && !/\b(e\.g|i\.e|etc|vs)$/.test(text.slice(Math.max(0, i - 4), i))) return text.slice(0, i + 1);
  }
  return text;
}

function oneLine(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}…` : flat;
}

/** Where the advice's version came from, as the summary line says it. */
export function describePgVersionSource(source: PgVersionSource): string {
  switch (source.from) {
    case 'option':
      return '--pg-version';
    case 'config':
      return 'pgVersion in the knexsafe config';
    case 'target':
      return "the target's";
    case 'default':
      return source.reason === 'no-target'
        ? 'default: no target; pass --pg-version'
        : source.reason === 'target-unreachable'
          ? 'default: target unreachable; pass --pg-version'
          : 'default; pass --pg-version';
  }
}

/**
 * The JSON `knexsafe check --json` prints.
 * @example
 * const report = await check({ cwd: '/srv/app' });
 * const json = formatJson(report);
 * console.log(JSON.stringify(json, null, 2));
 */
export function formatJson(report: CheckReport): unknown {
  const findings = activeFindings(report);
  return {
    ok: countBySeverity(findings).error === 0 && report.migrations.every((m) => !m.failed || m.failed.underProjectKnex?.runs),
    scope: report.scope,
    target: report.target ?? null,
    shadow: report.shadow ?? null,
    pgVersion: report.pgVersion,
    pgVersionSource: report.pgVersionSource,
    durationMs: Math.round(report.durationMs),
    summary: { ...countBySeverity(findings), suppressed: report.findings.length - findings.length, migrations: report.migrations.length },
    migrations: report.migrations.map((m) => ({ ...m, file: displayPath(m.file) })),
    notReached: report.notReached ?? [],
    findings: report.findings.map((f) => ({ ...f, file: displayPath(f.file) })),
    ...(report.dataChecks ? { dataChecks: report.dataChecks.map((d) => ({ ...d, file: displayPath(d.file) })) } : {}),
    warnings: report.warnings,
  };
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/**
 * SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
 * @example
 * const report = await check({ cwd: '/srv/app' });
 * fs.writeFileSync('knexsafe.sarif', JSON.stringify(formatSarif(report, '0.1.0')));
 */
export function formatSarif(report: CheckReport, version: string): unknown {
  const used = new Set(report.findings.map((f) => f.rule));
  const rules = ALL_RULES.filter((r) => used.has(r.meta.id)).map((r) => ({
    id: r.meta.id,
    name: r.meta.id,
    shortDescription: { text: r.meta.summary },
    helpUri: `https://www.npmjs.com/package/knexsafe#${r.meta.id}`,
    help: { text: `See docs/rules/${r.meta.id}.md in the knexsafe package.` },
    defaultConfiguration: { level: SARIF_LEVEL[r.meta.severity] },
    properties: { category: r.meta.category },
  }));
  for (const id of used) {
    if (!rules.some((r) => r.id === id))
      rules.push({
        id,
        name: id,
        shortDescription: { text: id },
        helpUri: 'https://www.npmjs.com/package/knexsafe',
        help: { text: id },
        defaultConfiguration: { level: 'warning' },
        properties: { category: 'knex' },
      });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'knexsafe', version, informationUri: 'https://www.npmjs.com/package/knexsafe', rules } },
        results: report.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: rules.findIndex((r) => r.id === f.rule),
          level: SARIF_LEVEL[f.severity],
          message: { text: `${f.message}. ${f.why}${f.fix ? ` Fix: ${f.fix.description}` : ''}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: displayPath(f.file).split('\\').join('/') },
                ...(f.line ? { region: { startLine: f.line, ...(f.column ? { startColumn: f.column } : {}) } } : {}),
              },
            },
          ],
          ...(f.suppressed ? { suppressions: [{ kind: 'inSource', justification: f.suppressed.reason }] } : {}),
          properties: { migration: f.migration, ...(f.sql ? { sql: f.sql } : {}), ...(f.lock ? { lock: f.lock.sql } : {}) },
        })),
      },
    ],
  };
}

/**
 * GitHub Actions workflow commands: annotations on the pull request's files.
 * @example
 * const report = await check({ cwd: '/srv/app' });
 * process.stdout.write(formatGithub(report));
 */
export function formatGithub(report: CheckReport): string {
  const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const escapeProp = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const level: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'notice' };
  const lines = activeFindings(report).map((f) => {
    const props = [`file=${escapeProp(displayPath(f.file))}`, ...(f.line ? [`line=${f.line}`] : []), `title=${escapeProp(`knexsafe ${f.rule}`)}`].join(',');
    const body = `${f.message}. ${f.why}${f.fix ? `\n\nFix: ${f.fix.description}\n${f.fix.code}` : ''}`;
    return `::${level[f.severity]} ${props}::${escapeData(body)}`;
  });
  for (const m of report.migrations.filter((x) => x.failed)) {
    lines.push(
      `::error file=${escapeProp(displayPath(m.file))},title=${escapeProp('knexsafe migration fails')}::${escapeData(`Fails on the shadow database${m.failed?.sqlState ? ` (SQLSTATE ${m.failed.sqlState})` : ''}: ${m.failed?.message ?? ''}${m.failed?.knexVersionNote ? ` (note: ${m.failed.knexVersionNote})` : ''}`)}`,
    );
  }
  const counts = countBySeverity(activeFindings(report));
  lines.push(`knexsafe: ${counts.error} errors, ${counts.warning} warnings, ${counts.info} info — ${report.scope}`);
  return lines.join('\n');
}

export interface MarkdownOptions {
  /** The timeline SVG written next to the report (`--output`): named under the lock table. */
  timelineSvg?: string;
}

/**
 * A pull-request comment. GitHub renders neither inline SVG nor a relative image in a comment, so
 * the lock timeline is a statement-by-table text table in a `<details>`; with `--output`, the
 * same timeline as an SVG file goes next to the report (for an artifact or a job summary).
 * @example
 * const report = await check({ cwd: '/srv/app' });
 * fs.writeFileSync('comment.md', formatMarkdown(report));
 */
export function formatMarkdown(report: CheckReport, options: MarkdownOptions = {}): string {
  const body = markdownFindings(report);
  const timeline = markdownTimeline(report, options);
  return timeline
    ? `${body}

${timeline}`
    : body;
}

function markdownTimeline(report: CheckReport, options: MarkdownOptions): string | undefined {
  const groups = buildTimelines(report.units ?? [], activeFindings(report)).filter((g) => g.statements.length > 0);
  if (groups.length === 0) return undefined;
  const drawn = new Set(groups.flatMap((g) => g.migrations.map((m) => m.name)));
  const missing = report.migrations.filter((m) => !drawn.has(m.name) && !m.failed).length;
  const out = ['<details><summary>Lock timeline: which tables each statement locks, and for how long</summary>', '', timelineMarkdown(groups)];
  if (missing)
    out.push(
      '',
      `_${missing} migration${missing === 1 ? '' : 's'} taken from the warm cache ${missing === 1 ? 'is' : 'are'} not in the table (\`--no-cache\` runs ${missing === 1 ? 'it' : 'them'} again)._`,
    );
  if (options.timelineSvg) out.push('', `The same timeline as a picture: \`${options.timelineSvg}\`.`);
  out.push('', '</details>');
  return out.join('\n');
}

function markdownFindings(report: CheckReport): string {
  const findings = activeFindings(report);
  const counts = countBySeverity(findings);
  const icon: Record<Severity, string> = { error: '🛑', warning: '⚠️', info: 'ℹ️' };
  const out: string[] = [];
  out.push(`### knexsafe check: ${counts.error ? `${counts.error} error(s)` : 'no errors'}, ${counts.warning} warning(s), ${counts.info} info`);
  out.push('');
  out.push(`_${report.scope}; advice for PostgreSQL ${report.pgVersion} (${describePgVersionSource(report.pgVersionSource)})._`);
  out.push('');
  const failed = report.migrations.filter((m) => m.failed);
  for (const m of failed)
    out.push(
      `- 🛑 \`${m.name}\` **fails** on the shadow${m.failed?.sqlState ? ` (SQLSTATE ${m.failed.sqlState})` : ''}: ${m.failed?.message ?? ''}${m.failed?.knexVersionNote ? ` _(note: ${m.failed.knexVersionNote})_` : ''}`,
    );
  if (findings.length === 0 && failed.length === 0) {
    out.push('No findings. ✅');
    return out.join('\n');
  }
  out.push('| | rule | where | finding |');
  out.push('|---|---|---|---|');
  for (const f of findings) out.push(`| ${icon[f.severity]} | \`${f.rule}\` | \`${location(f)}\` | ${f.message.replace(/\|/g, '\\|')} |`);
  for (const f of findings.filter((x) => x.fix && x.severity !== 'info')) {
    out.push('');
    out.push(`<details><summary>${icon[f.severity]} <code>${f.rule}</code> in <code>${location(f)}</code>: safe alternative</summary>`);
    out.push('');
    out.push(`${f.why}`);
    if (f.lock)
      out.push(
        `\nLock: **${f.lock.sql}** on \`${f.lock.relation}\` (blocks ${[f.lock.blocks.reads ? 'reads' : '', f.lock.blocks.writes ? 'writes' : ''].filter(Boolean).join(' and ') || 'DDL only'}).`,
      );
    out.push('');
    out.push(f.fix!.description);
    out.push('');
    out.push('```js');
    out.push(f.fix!.code);
    out.push('```');
    out.push('</details>');
  }
  return out.join('\n');
}
