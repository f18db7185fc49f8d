import type { Finding, MigrationUnit, Severity } from '../rules/types.js';
import { LOCK_MODES, lockBlocks, lockModeSql, lockRank, type LockMode } from '../sql/locks.js';

/**
 * Lock timelines: which existing tables each statement of a migration (or a knex batch of them)
 * locks, in which mode, for how long — as the shadow measured it. One model, three renderings:
 * an SVG (the HTML report inlines it; `--output` writes it next to a markdown report) and a
 * statement-by-table text table (the markdown PR comment, where GitHub does not render inline SVG).
 */

/** What a lock mode keeps other sessions from doing, coarsest first: it decides a bar's colour and pattern. */
export type BlockClass = 'reads' | 'writes' | 'ddl' | 'light';

export function blockClass(mode: LockMode): BlockClass {
  const b = lockBlocks(mode);
  return b.reads ? 'reads' : b.writes ? 'writes' : b.ddl ? 'ddl' : 'light';
}

/** Short spellings for bars too narrow for `ACCESS EXCLUSIVE`. */
const SHORT: Record<LockMode, string> = {
  AccessShareLock: 'AS',
  RowShareLock: 'RS',
  RowExclusiveLock: 'RX',
  ShareUpdateExclusiveLock: 'SUX',
  ShareLock: 'S',
  ShareRowExclusiveLock: 'SRX',
  ExclusiveLock: 'X',
  AccessExclusiveLock: 'AX',
};

export function shortMode(mode: LockMode): string {
  return SHORT[mode];
}

export const BLOCK_CLASS_TEXT: Record<BlockClass, string> = {
  reads: 'blocks reads, writes and DDL',
  writes: 'blocks writes and DDL; reads continue',
  ddl: 'blocks DDL and VACUUM; reads and writes continue',
  light: 'blocks only ACCESS EXCLUSIVE (and, for writes, CREATE INDEX)',
};

/** The picture's key: which modes each pattern stands for and what they block. */
const KEY_TEXT: Record<BlockClass, string> = {
  reads: 'AX: blocks reads + writes',
  writes: 'S, SRX, X: block writes',
  ddl: 'SUX: blocks DDL',
  light: 'AS, RS, RX: block little',
};

export interface TimelineStatement {
  /** 1-based within the group: the `#n` the pictures and the statement list share. */
  number: number;
  migration: string;
  /** Position in its migration's analysed statements (AnalyzedStatement.index). */
  index: number;
  sql: string;
  line?: number;
  startMs: number;
  durationMs: number;
  inTransaction: boolean;
  transactionId?: string;
  failed: boolean;
  /** Worst severity among the findings at this statement. */
  severity?: Severity;
  findings: number;
}

export interface LockBar {
  mode: LockMode;
  /** Statement numbers the bar spans (inclusive). */
  from: number;
  to: number;
  /** The statement that took this mode. */
  takenBy: number;
  /** Seen in pg_locks (false: inferred from the statement, e.g. outside a transaction block). */
  observed: boolean;
  /** Held past the end of the migration that took it (a knex batch transaction). */
  crossesMigration: boolean;
  /** Held until the transaction commits (false: only while its statement ran). */
  untilCommit: boolean;
}

export interface TimelineRow {
  /** Qualified `schema.name`. */
  relation: string;
  /** Shown: without `public.`. */
  label: string;
  bars: LockBar[];
}

export interface TimelineMigration {
  name: string;
  file: string;
  first: number;
  last: number;
  transactional: boolean;
  failed?: string;
}

export interface TimelineTransaction {
  id: string;
  first: number;
  last: number;
  /** Spans more than one migration: knex's batch transaction. */
  batch: boolean;
}

export interface TimelineGroup {
  /** Stable, for element ids: `g0`, `g1`… */
  id: string;
  migrations: TimelineMigration[];
  statements: TimelineStatement[];
  rows: TimelineRow[];
  transactions: TimelineTransaction[];
  /** One knex transaction around several migrations: locks outlive the file that took them. */
  batch: boolean;
  totalMs: number;
}

/** The statement of `unit` a finding is about (by SQL and line), or undefined for a migration-level finding. */
export function statementOfFinding(unit: MigrationUnit, f: Finding): number | undefined {
  if (f.sql === undefined) return undefined;
  const same = unit.statements.filter((s) => s.sql === f.sql);
  return (same.find((s) => f.line === undefined || s.site?.line === f.line) ?? same[0])?.index;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** Groups consecutive migrations of one knex batch transaction; each other migration is its own group. */
export function buildTimelines(units: readonly MigrationUnit[], findings: readonly Finding[] = []): TimelineGroup[] {
  const groups: MigrationUnit[][] = [];
  for (const u of units) {
    const last = groups[groups.length - 1];
    if (last && u.batchTransactionId && last[0]?.batchTransactionId === u.batchTransactionId) last.push(u);
    else groups.push([u]);
  }
  return groups.map((g, i) => buildGroup(`g${i}`, g, findings));
}

function buildGroup(id: string, units: MigrationUnit[], findings: readonly Finding[]): TimelineGroup {
  const statements: TimelineStatement[] = [];
  const migrations: TimelineMigration[] = [];
  let clock = 0;
  for (const u of units) {
    const first = statements.length + 1;
    const active = findings.filter((f) => f.migration === u.name && !f.suppressed);
    for (const s of u.statements) {
      const at = active.filter((f) => statementOfFinding(u, f) === s.index);
      const worst = at.reduce<Severity | undefined>((w, f) => (w === undefined || SEVERITY_RANK[f.severity] > SEVERITY_RANK[w] ? f.severity : w), undefined);
      const durationMs = s.durationMs ?? 0;
      statements.push({
        number: statements.length + 1,
        migration: u.name,
        index: s.index,
        sql: s.sql,
        ...(s.site ? { line: s.site.line } : {}),
        startMs: clock,
        durationMs,
        inTransaction: s.inTransaction,
        ...(s.transactionId ? { transactionId: s.transactionId } : {}),
        failed: s.error !== undefined,
        ...(worst ? { severity: worst } : {}),
        findings: at.length,
      });
      clock += durationMs;
    }
    migrations.push({ name: u.name, file: u.file, first, last: statements.length, transactional: u.transactional, ...(u.failed ? { failed: u.failed.message } : {}) });
  }

  // Where each transaction ends: a lock taken inside one is held until then.
  const transactions = new Map<string, TimelineTransaction>();
  for (const s of statements) {
    if (!s.inTransaction || !s.transactionId) continue;
    const t = transactions.get(s.transactionId);
    if (t) t.last = s.number;
    else transactions.set(s.transactionId, { id: s.transactionId, first: s.number, last: s.number, batch: false });
  }
  const migrationOf = (n: number) => migrations.find((m) => n >= m.first && n <= m.last)!;
  for (const t of transactions.values()) t.batch = migrationOf(t.first) !== migrationOf(t.last);

  // Every lock as an interval of statements; what a row shows at a statement is the strongest covering it.
  interface Held {
    mode: LockMode;
    from: number;
    to: number;
    observed: boolean;
    untilCommit: boolean;
  }
  const held = new Map<string, Held[]>();
  for (const u of units) {
    for (const s of u.statements) {
      const number = statements.find((x) => x.migration === u.name && x.index === s.index)!.number;
      const end = s.inTransaction && s.transactionId ? (transactions.get(s.transactionId)?.last ?? number) : number;
      for (const l of s.locks) {
        if (l.relationKind === 'index' || l.relationKind === 'sequence') continue;
        const list = held.get(l.relation) ?? [];
        list.push({ mode: l.mode, from: number, to: end, observed: l.observed, untilCommit: s.inTransaction && s.transactionId !== undefined });
        held.set(l.relation, list);
      }
    }
  }
  const rows: TimelineRow[] = [];
  for (const [relation, intervals] of held) {
    const bars: LockBar[] = [];
    for (const s of statements) {
      const covering = intervals.filter((h) => h.from <= s.number && s.number <= h.to);
      if (covering.length === 0) continue;
      const top = covering.reduce((a, b) => (lockRank(b.mode) > lockRank(a.mode) ? b : a));
      const prev = bars[bars.length - 1];
      if (prev && prev.mode === top.mode && prev.to === s.number - 1 && prev.takenBy === top.from) {
        prev.to = s.number;
        continue;
      }
      bars.push({ mode: top.mode, from: s.number, to: s.number, takenBy: top.from, observed: top.observed, crossesMigration: false, untilCommit: top.untilCommit });
    }
    for (const b of bars) b.crossesMigration = migrationOf(b.from) !== migrationOf(b.to);
    rows.push({ relation, label: relation.replace(/^public\./, ''), bars });
  }
  // Tables locked first come first: the picture reads top-left to bottom-right.
  rows.sort((a, b) => (a.bars[0]?.from ?? 0) - (b.bars[0]?.from ?? 0) || a.label.localeCompare(b.label));
  return { id, migrations, statements, rows, transactions: [...transactions.values()], batch: [...transactions.values()].some((t) => t.batch), totalMs: clock };
}

// ---------------------------------------------------------------------------------------------
// SVG

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

const WIDTH = 960;
const LABEL_W = 170;
const PLOT_X = LABEL_W + 12;
const PLOT_W = WIDTH - PLOT_X - 14;
const ROW_H = 26;
const BAR_H = 18;
const CHAR_W = 6.6; // an approximate glyph width at 11px, to decide what text fits
const BOLD_W = 7.3; // the same for the bold labels on bars (capitals, mostly)

/**
 * The styles and patterns every timeline SVG carries, so that one also reads on its own (a file
 * next to a markdown report): colours for light and dark, and a pattern per block class for
 * printers and readers who do not tell the colours apart.
 */
function svgDefs(prefix: string): string {
  return `<defs>
<pattern id="${prefix}-p-reads" width="6" height="6" patternUnits="userSpaceOnUse"><path d="M0 0L6 6M6 0L0 6" class="ks-hatch"/></pattern>
<pattern id="${prefix}-p-writes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><path d="M0 0V6" class="ks-hatch"/></pattern>
<pattern id="${prefix}-p-ddl" width="6" height="6" patternUnits="userSpaceOnUse"><circle cx="3" cy="3" r="1" class="ks-dot"/></pattern>
<pattern id="${prefix}-p-light" width="6" height="6" patternUnits="userSpaceOnUse"><path d="M0 3H6" class="ks-hatch ks-thin"/></pattern>
</defs>`;
}

export const TIMELINE_SVG_STYLE = `
.ks-tl{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:11px}
.ks-tl text{fill:var(--ks-fg,#1f2328)}
.ks-tl .ks-muted{fill:var(--ks-muted,#59636e)}
.ks-tl .ks-grid{stroke:var(--ks-grid,#d1d9e0);stroke-width:1}
.ks-tl .ks-boundary{stroke:var(--ks-fg,#1f2328);stroke-width:1.5;stroke-dasharray:4 3}
.ks-tl .ks-stmt{fill:var(--ks-stmt,#eef1f4);stroke:var(--ks-grid,#d1d9e0)}
.ks-tl .ks-stmt.ks-sev-error{stroke:#b3261e;stroke-width:2}
.ks-tl .ks-stmt.ks-sev-warning{stroke:#9a6700;stroke-width:2}
.ks-tl .ks-stmt.ks-failed{fill:#ffd7d5}
.ks-tl .ks-bar-reads{fill:#D55E00}
.ks-tl .ks-bar-writes{fill:#E69F00}
.ks-tl .ks-bar-ddl{fill:#56B4E9}
.ks-tl .ks-bar-light{fill:#b8c0c8}
.ks-tl .ks-hatch{stroke:rgba(0,0,0,.45);stroke-width:1.2}
.ks-tl .ks-thin{stroke-width:.8}
.ks-tl .ks-dot{fill:rgba(0,0,0,.45)}
.ks-tl .ks-outline{fill:none;stroke:rgba(0,0,0,.55);stroke-width:1}
.ks-tl .ks-inferred{stroke-dasharray:3 2}
.ks-tl .ks-barlabel{fill:#111;font-weight:600}
.ks-tl .ks-labelbg{fill:rgba(255,255,255,.85)}
.ks-tl .ks-tx{stroke:var(--ks-fg,#1f2328);stroke-width:1.5;fill:none}
.ks-tl .ks-mig{fill:var(--ks-band,#f6f8fa);stroke:var(--ks-grid,#d1d9e0)}
.ks-tl .ks-badge-error{fill:#b3261e}
.ks-tl .ks-badge-warning{fill:#9a6700}
.ks-tl .ks-badge-info{fill:#0969da}
.ks-tl .ks-badgetext{fill:#fff;font-weight:700;font-size:9px}
.ks-tl .ks-hl{outline:2px solid #0969da}
@media (prefers-color-scheme:dark){
.ks-tl{--ks-fg:#e6edf3;--ks-muted:#9198a1;--ks-grid:#3d444d;--ks-stmt:#262c36;--ks-band:#151b23}
.ks-tl .ks-stmt.ks-failed{fill:#5c1f1c}
}
@media print{
.ks-tl{--ks-fg:#1f2328;--ks-muted:#59636e;--ks-grid:#d1d9e0;--ks-stmt:#eef1f4;--ks-band:#f6f8fa}
}`;

export interface SvgOptions {
  /** Prefix for element ids, unique within the page (several SVGs share one document). */
  idPrefix?: string;
  /** Carry the stylesheet (a standalone .svg file); an HTML page puts it in its own <style> once. */
  standalone?: boolean;
  /** Statement boxes link to `#<idPrefix>-s<n>` (the HTML report's statement list). */
  links?: boolean;
}

/** Where each statement sits on the x axis: its measured duration, with a floor so instant statements stay visible. */
function layout(group: TimelineGroup): { x0: number; x1: number }[] {
  const n = group.statements.length;
  if (n === 0) return [];
  const total = group.totalMs || 1;
  const floor = Math.max(total * 0.025, total / (n * 4));
  const weights = group.statements.map((s) => Math.max(s.durationMs, floor));
  const sum = weights.reduce((a, b) => a + b, 0);
  let x = PLOT_X;
  return weights.map((w) => {
    const x0 = x;
    x += (w / sum) * PLOT_W;
    return { x0, x1: x };
  });
}

function fitText(text: string, width: number): string | undefined {
  const max = Math.floor(width / CHAR_W);
  if (max < 2) return undefined;
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/** One group's timeline as an SVG element (width 100%, scales with its container). */
export function renderTimelineSvg(group: TimelineGroup, options: SvgOptions = {}): string {
  const p = options.idPrefix ?? group.id;
  const xs = layout(group);
  const out: string[] = [];
  let y = 8;
  const multi = group.migrations.length > 1;
  const migTop = y;
  const migH = 22;
  // Migration band: which file each stretch of statements comes from.
  for (const m of group.migrations) {
    const a = xs[m.first - 1];
    const b = xs[m.last - 1];
    if (!a || !b) continue;
    const number = group.migrations.indexOf(m) + 1;
    const bare = m.name.replace(/^\d{8,}_/, '').replace(/\.[cm]?[jt]s$/, '');
    const room = b.x1 - a.x0 - 4;
    // The whole name when it fits, else the words after the timestamp, else the migration's number.
    const numbered = multi ? `${number}. ${bare}` : bare;
    // One migration: its whole name. Several: `2. rename_name_to_full_name_in_users`, cut to fit, else `2`.
    const label = (multi ? [numbered] : [m.name, numbered]).find((t) => fitText(t, room) === t) ?? (room >= 7 * CHAR_W ? fitText(numbered, room) : fitText(`${number}`, room));
    out.push(
      `<g><title>${escapeXml(`${m.name}${m.transactional ? '' : ' (no transaction)'}${m.failed ? ` — fails: ${m.failed}` : ''}`)}</title><rect class="ks-mig" x="${r(a.x0)}" y="${migTop}" width="${r(b.x1 - a.x0)}" height="${migH}"/>${label ? `<text x="${r(a.x0 + 3)}" y="${migTop + 15}">${escapeXml(label)}</text>` : ''}</g>`,
    );
  }
  out.push(`<text class="ks-muted" x="${LABEL_W}" y="${migTop + 15}" text-anchor="end">${multi ? 'migrations' : 'migration'}</text>`);
  y += migH + 6;
  // Statements: numbered boxes, outlined by the worst finding at them.
  const stmtTop = y;
  const stmtH = 22;
  out.push(`<text class="ks-muted" x="${LABEL_W}" y="${stmtTop + 15}" text-anchor="end">statements</text>`);
  for (const s of group.statements) {
    const { x0, x1 } = xs[s.number - 1]!;
    const cls = ['ks-stmt', s.severity && s.severity !== 'info' ? `ks-sev-${s.severity}` : '', s.failed ? 'ks-failed' : ''].filter(Boolean).join(' ');
    const label = fitText(`#${s.number}`, x1 - x0 - 2);
    const badge =
      s.severity && s.severity !== 'info' && x1 - x0 >= 14
        ? `<rect class="ks-badge-${s.severity}" x="${r(x1 - 12)}" y="${stmtTop - 5}" width="11" height="11" rx="2"/><text class="ks-badgetext" x="${r(x1 - 6.5)}" y="${stmtTop + 3}" text-anchor="middle">${s.severity === 'error' ? 'E' : 'W'}</text>`
        : '';
    const tip = `#${s.number} ${s.migration}${s.line ? `:${s.line}` : ''} — ${formatMs(s.durationMs)}${s.failed ? ' — FAILED' : ''}${s.findings ? ` — ${s.findings} finding${s.findings === 1 ? '' : 's'}` : ''}\n${oneLine(s.sql, 200)}`;
    const box = `<rect class="${cls}" x="${r(x0 + 0.5)}" y="${stmtTop}" width="${r(Math.max(1, x1 - x0 - 1))}" height="${stmtH}" rx="2"/>${label ? `<text x="${r((x0 + x1) / 2)}" y="${stmtTop + 15}" text-anchor="middle">${label}</text>` : ''}${badge}`;
    const inner = `<title>${escapeXml(tip)}</title>${box}`;
    out.push(options.links ? `<a href="#${p}-s${s.number}" data-stmt="${p}-s${s.number}">${inner}</a>` : `<g data-stmt="${p}-s${s.number}">${inner}</g>`);
  }
  y += stmtH + 8;
  // One row per table: bars where a lock is held, the strongest mode at each moment.
  const rowsTop = y;
  if (group.rows.length === 0) {
    out.push(`<text class="ks-muted" x="${PLOT_X}" y="${y + 16}">no lock on a table that existed before (tables this migration creates block nobody)</text>`);
    y += ROW_H;
  }
  // Drawn after the migration boundaries, so that a dashed line never crosses a bar's words.
  const labels: string[] = [];
  for (const row of group.rows) {
    out.push(`<line class="ks-grid" x1="${PLOT_X}" x2="${PLOT_X + PLOT_W}" y1="${y + ROW_H - 0.5}" y2="${y + ROW_H - 0.5}"/>`);
    out.push(`<text x="${LABEL_W}" y="${y + 17}" text-anchor="end" font-weight="600">${escapeXml(fitText(row.label, LABEL_W - 8) ?? row.label)}</text>`);
    for (const bar of row.bars) {
      const x0 = xs[bar.from - 1]!.x0;
      const x1 = xs[bar.to - 1]!.x1;
      const w = Math.max(2, x1 - x0);
      const cls = blockClass(bar.mode);
      const by = y + (ROW_H - BAR_H) / 2;
      const full = lockModeSql(bar.mode);
      const long = bar.crossesMigration ? `${full} — held until the batch commits` : undefined;
      const text = [long, full, SHORT[bar.mode]].find((t) => t !== undefined && t.length * BOLD_W + 12 <= w);
      const tip = `${row.label}: ${full} from #${bar.takenBy}${bar.untilCommit ? ` until the transaction commits${bar.crossesMigration ? ' (after later migrations of the batch)' : ''}` : ' while the statement runs'} — ${lockBlocks(bar.mode).description}${bar.observed ? '' : ' (inferred, not seen in pg_locks)'}`;
      out.push(
        `<g class="ks-bar" data-mode="${bar.mode}" data-table="${escapeXml(row.relation)}" data-from="${bar.from}" data-to="${bar.to}" data-stmt="${p}-s${bar.takenBy}"><title>${escapeXml(tip)}</title>` +
          `<rect class="ks-bar-${cls}" x="${r(x0)}" y="${r(by)}" width="${r(w)}" height="${BAR_H}"/>` +
          `<rect fill="url(#${p}-p-${cls})" x="${r(x0)}" y="${r(by)}" width="${r(w)}" height="${BAR_H}"/>` +
          `<rect class="ks-outline${bar.observed ? '' : ' ks-inferred'}" x="${r(x0 + 0.5)}" y="${r(by + 0.5)}" width="${r(w - 1)}" height="${BAR_H - 1}"/>` +
          '</g>',
      );
      if (text)
        labels.push(
          `<g class="ks-barlabel-box" data-stmt="${p}-s${bar.takenBy}"><rect class="ks-labelbg" x="${r(x0 + 3)}" y="${r(by + 3)}" width="${r(text.length * BOLD_W + 6)}" height="${BAR_H - 6}" rx="2"/><text class="ks-barlabel" data-table="${escapeXml(row.relation)}" x="${r(x0 + 6)}" y="${r(by + 13)}">${text}</text></g>`,
        );
    }
    y += ROW_H;
  }
  // Migration boundaries through the rows: a bar crossing one is a lock a later file still holds.
  for (const m of group.migrations.slice(1)) {
    const x = xs[m.first - 1]?.x0;
    if (x !== undefined) out.push(`<line class="ks-boundary" x1="${r(x)}" x2="${r(x)}" y1="${migTop}" y2="${y}"/>`);
  }
  out.push(...labels);
  // Transactions: a bracket per transaction, the batch one named.
  y += 6;
  out.push(`<text class="ks-muted" x="${LABEL_W}" y="${y + 12}" text-anchor="end">transactions</text>`);
  if (group.transactions.length === 0) out.push(`<text class="ks-muted" x="${PLOT_X}" y="${y + 12}">none: each statement commits on its own</text>`);
  for (const t of group.transactions) {
    const x0 = xs[t.first - 1]!.x0 + 1;
    const x1 = xs[t.last - 1]!.x1 - 1;
    const label = t.batch ? `one knex batch transaction: ${group.migrations.filter((m) => m.last >= t.first && m.first <= t.last).length} migrations, locks held until COMMIT` : 'transaction → COMMIT';
    const fitted = fitText(label, x1 - x0 - 8);
    out.push(`<path class="ks-tx" d="M${r(x0)} ${y}v6H${r(x1)}v-6"/>${fitted ? `<text x="${r(x0 + 4)}" y="${y + 18}"${t.batch ? ' font-weight="700"' : ''}>${escapeXml(fitted)}</text>` : ''}`);
  }
  y += 24;
  // Time: measured on the shadow, at migration boundaries and the end.
  const ticks = new Map<number, number>();
  ticks.set(xs[0]?.x0 ?? PLOT_X, 0);
  for (const m of group.migrations.slice(1)) {
    const s = group.statements[m.first - 1];
    if (s && xs[m.first - 1]) ticks.set(xs[m.first - 1]!.x0, s.startMs);
  }
  ticks.set(PLOT_X + PLOT_W, group.totalMs);
  out.push(`<line class="ks-grid" x1="${PLOT_X}" x2="${PLOT_X + PLOT_W}" y1="${y}" y2="${y}"/>`);
  let lastRight = -Infinity;
  // SQL files are read, not run: no time to show, each statement as wide as the next.
  if (group.totalMs === 0) {
    ticks.clear();
    out.push(`<text class="ks-muted" x="${PLOT_X}" y="${y + 15}">not timed: read statically, not run</text>`);
  }
  for (const [x, ms] of [...ticks].sort((a, b) => a[0] - b[0])) {
    const text = formatMs(ms);
    const anchor = x >= PLOT_X + PLOT_W - 1 ? 'end' : x <= PLOT_X + 1 ? 'start' : 'middle';
    const left = anchor === 'end' ? x - text.length * CHAR_W : anchor === 'middle' ? x - (text.length * CHAR_W) / 2 : x;
    out.push(`<line class="ks-grid" x1="${r(x)}" x2="${r(x)}" y1="${y}" y2="${y + 4}"/>`);
    if (left > lastRight + 4) {
      out.push(`<text class="ks-muted" x="${r(x)}" y="${y + 15}" text-anchor="${anchor}">${text}</text>`);
      lastRight = left + text.length * CHAR_W;
    }
  }
  out.push(`<text class="ks-muted" x="${LABEL_W}" y="${y + 15}" text-anchor="end">time on the shadow</text>`);
  y += 24;
  // The key, so that the picture reads on its own (a file next to a markdown report, a printout).
  let kx = PLOT_X;
  for (const cls of ['reads', 'writes', 'ddl', 'light'] as BlockClass[]) {
    const text = KEY_TEXT[cls];
    out.push(
      `<rect class="ks-bar-${cls}" x="${kx}" y="${y}" width="26" height="12"/><rect fill="url(#${p}-p-${cls})" x="${kx}" y="${y}" width="26" height="12"/><rect class="ks-outline" x="${kx + 0.5}" y="${y + 0.5}" width="25" height="11"/><text x="${kx + 31}" y="${y + 10}">${escapeXml(text)}</text>`,
    );
    kx += 31 + text.length * CHAR_W * 0.93 + 16;
  }
  y += 20;
  void rowsTop;
  const height = y;
  const title = group.migrations.length > 1 ? `Lock timeline of ${group.migrations.length} migrations` : `Lock timeline of ${group.migrations[0]?.name ?? 'a migration'}`;
  // Inline in HTML the namespace is implied; only a file of its own declares it.
  return `<svg class="ks-tl"${options.standalone ? ' xmlns="http://www.w3.org/2000/svg"' : ''} viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="${p}-title"><title id="${p}-title">${escapeXml(title)}</title>${options.standalone ? `<style>${TIMELINE_SVG_STYLE}</style>` : ''}${svgDefs(p)}${out.join('')}</svg>`;
}

/** Several groups in one standalone SVG file, stacked, each under its migration names. */
export function renderTimelinesSvgFile(groups: TimelineGroup[]): string {
  const parts: string[] = [];
  let y = 0;
  for (const g of groups) {
    const svg = renderTimelineSvg(g, { idPrefix: g.id });
    const height = Number(/viewBox="0 0 \d+ (\d+)"/.exec(svg)?.[1] ?? 0);
    parts.push(`<g transform="translate(0 ${y})">${svg.replace(/^<svg[^>]*>/, `<svg width="${WIDTH}" height="${height}">`)}</g>`);
    y += height + 14;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg class="ks-tl" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${Math.max(1, y)}" width="${WIDTH}" height="${Math.max(1, y)}"><style>${TIMELINE_SVG_STYLE}
.ks-tl .ks-bg{fill:#ffffff}
@media (prefers-color-scheme:dark){.ks-tl .ks-bg{fill:#0d1117}}</style><rect class="ks-bg" width="100%" height="100%"/>${parts.join('')}</svg>\n`;
}

function r(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

export function oneLine(sql: string, max = 120): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

// ---------------------------------------------------------------------------------------------
// Text: the markdown PR comment

/** A statement-by-table table per group: what each statement holds on each table while it runs. */
export function timelineMarkdown(groups: TimelineGroup[]): string {
  const esc = (s: string) => escapeXml(s).replace(/\|/g, '&#124;');
  const out: string[] = [];
  for (const g of groups) {
    if (g.statements.length === 0) continue;
    const names = g.migrations.map((m) => m.name);
    out.push(
      g.batch
        ? `**${names.length} migrations in one knex batch transaction** (${esc(names[0]!)} … ${esc(names[names.length - 1]!)}): a lock taken in one file is held until the batch commits.`
        : `**${esc(names[0]!)}**${g.migrations[0]?.transactional ? '' : ' (no transaction)'}`,
    );
    out.push('');
    if (g.rows.length === 0) {
      out.push('No lock on a table that existed before.');
      out.push('');
      continue;
    }
    out.push(`| # | where | statement | time | ${g.rows.map((row) => esc(row.label)).join(' | ')} |`);
    out.push(`|---|---|---|---|${g.rows.map(() => '---').join('|')}|`);
    for (const s of g.statements) {
      const cells = g.rows.map((row) => {
        const bar = row.bars.find((b) => b.from <= s.number && s.number <= b.to);
        if (!bar) return '';
        const mode = lockModeSql(bar.mode);
        return bar.takenBy === s.number ? `**${mode}**` : `${mode} (held since #${bar.takenBy})`;
      });
      const where = `${s.migration.replace(/^(\d{8,14})_.*$/, '$1')}${s.line ? `:${s.line}` : ''}`;
      const mark = s.failed ? '🛑 ' : s.severity === 'error' ? '🛑 ' : s.severity === 'warning' ? '⚠️ ' : '';
      out.push(`| ${mark}${s.number} | ${esc(where)} | <code>${esc(oneLine(s.sql, 70))}</code> | ${formatMs(s.durationMs)} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  out.push(
    `Modes: ${LOCK_MODES.filter((m) => groups.some((g) => g.rows.some((row) => row.bars.some((b) => b.mode === m))))
      .map((m) => `${lockModeSql(m)} ${lockBlocks(m).description}`)
      .join('; ')}.`,
  );
  return out.join('\n');
}
