import type { CheckReport } from '../check/run.js';
import type { VerifyCommandResult } from '../verify/run.js';
import type { RunPlan } from '../guard/run.js';
import type { Finding, MigrationUnit, Severity } from '../rules/types.js';
import { LOCK_MODES, lockBlocks, lockModeSql, type LockMode } from '../sql/locks.js';
import { displayPath } from '../util/paths.js';
import { activeFindings, countBySeverity, describePgVersionSource, formatBytes, formatRows } from './format.js';
import {
  BLOCK_CLASS_TEXT,
  blockClass,
  buildTimelines,
  escapeXml,
  formatMs,
  renderTimelineSvg,
  shortMode,
  statementOfFinding,
  TIMELINE_SVG_STYLE,
  type BlockClass,
  type TimelineGroup,
} from './timeline.js';

/**
 * The HTML report: one self-contained file — inline CSS and SVG, a few lines of script for
 * highlighting, no URL to fetch — readable in light and dark, printed, and without telling colours
 * apart (every bar carries a pattern and, where it fits, its mode in words). Everything that comes
 * from the project (names, SQL, messages) is escaped.
 */

const esc = escapeXml;

const PAGE_STYLE = `
:root{color-scheme:light dark;--bg:#ffffff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa;--code:#eff2f5;--err:#b3261e;--warn:#9a6700;--info:#0969da;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--panel:#151b23;--code:#1b222c;--err:#ff8182;--warn:#d29922;--info:#4493f8;--ok:#3fb950}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;padding-top:8px;border-top:1px solid var(--line)}h3{font-size:15px;margin:20px 0 6px}
.muted{color:var(--muted)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:var(--code);padding:8px 10px;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-word;margin:6px 0}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}th{font-weight:600;color:var(--muted);font-size:12px}
a{color:var(--info)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:110px;background:var(--panel)}
.card b{display:block;font-size:22px}
.sev{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.03em;padding:0 6px;border-radius:4px;border:1.5px solid currentColor}
.sev-error{color:var(--err)}.sev-warning{color:var(--warn)}.sev-info{color:var(--info)}.sev-ok{color:var(--ok)}
.callout{border-left:4px solid var(--warn);background:var(--panel);padding:8px 12px;margin:10px 0;border-radius:0 6px 6px 0}
.callout.bad{border-left-color:var(--err)}
figure{margin:10px 0;padding:8px;border:1px solid var(--line);border-radius:8px;background:var(--bg)}
figcaption{font-size:12px;color:var(--muted);margin-top:4px}
ol.stmts{list-style:none;padding:0;margin:0}
ol.stmts>li{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:8px 0}
ol.stmts>li.ks-hl,.ks-hl{outline:2px solid var(--info);outline-offset:1px}
.stmt-head{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:baseline}
.stmt-head .num{font-weight:700}
.finding{border-top:1px dashed var(--line);margin-top:8px;padding-top:6px}
.finding .rule{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:600}
.fix{margin-top:4px}
.legend td{vertical-align:middle}
.yes{font-weight:700}.no{color:var(--muted)}
.swatch{vertical-align:middle}
.phase{display:inline-block;height:12px;vertical-align:middle;border:1px solid var(--fg)}
.phase-up{background:#56B4E9}.phase-down{background:#E69F00;background-image:repeating-linear-gradient(45deg,rgba(0,0,0,.35) 0 1px,transparent 1px 5px)}.phase-reup{background:#009E73;background-image:radial-gradient(rgba(0,0,0,.4) 1px,transparent 1.2px);background-size:5px 5px}
footer{margin-top:40px;color:var(--muted);font-size:12px}
@media print{
:root{--bg:#fff;--fg:#000;--muted:#444;--line:#bbb;--panel:#fff;--code:#f3f3f3}
body{font-size:11pt}main{max-width:none;padding:0}
figure,ol.stmts>li,.card,table.legend{break-inside:avoid}
h2{break-after:avoid}
a{color:inherit;text-decoration:none}
}
${TIMELINE_SVG_STYLE}`;

// Highlights, across picture and list, everything about the statement under the pointer; opens
// the collapsed parts before printing.
const PAGE_SCRIPT = `
(function(){
var lit=[];
function clear(){lit.forEach(function(e){e.classList.remove('ks-hl')});lit=[]}
document.addEventListener('mouseover',function(ev){
var t=ev.target&&ev.target.closest?ev.target.closest('[data-stmt]'):null;clear();if(!t)return;
var key=t.getAttribute('data-stmt');
document.querySelectorAll('[data-stmt]').forEach(function(e){if(e.getAttribute('data-stmt')===key){e.classList.add('ks-hl');lit.push(e)}});
var li=document.getElementById(key);if(li){li.classList.add('ks-hl');lit.push(li)}
});
window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true})});
})();`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main>
${body}
<footer>Generated by knexsafe. This file is self-contained: it loads nothing from the network.</footer>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

const SEVERITY_ORDER: Severity[] = ['error', 'warning', 'info'];

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function severityBadge(s: Severity): string {
  return `<span class="sev sev-${s}">${s}</span>`;
}

function pathText(file: string): string {
  return file ? displayPath(file) : '';
}

function lockSwatch(cls: BlockClass, prefix: string): string {
  return `<svg class="ks-tl swatch" width="46" height="18" viewBox="0 0 46 18" aria-hidden="true"><defs>${swatchPattern(cls, prefix)}</defs><rect class="ks-bar-${cls}" width="46" height="18"/><rect fill="url(#${prefix})" width="46" height="18"/><rect class="ks-outline" x=".5" y=".5" width="45" height="17"/></svg>`;
}

function swatchPattern(cls: BlockClass, id: string): string {
  switch (cls) {
    case 'reads':
      return `<pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse"><path d="M0 0L6 6M6 0L0 6" class="ks-hatch"/></pattern>`;
    case 'writes':
      return `<pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><path d="M0 0V6" class="ks-hatch"/></pattern>`;
    case 'ddl':
      return `<pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse"><circle cx="3" cy="3" r="1" class="ks-dot"/></pattern>`;
    default:
      return `<pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse"><path d="M0 3H6" class="ks-hatch ks-thin"/></pattern>`;
  }
}

/** Every lock mode: its pattern, what it blocks, and whether this report shows it. */
function legend(used: Set<LockMode>): string {
  const mark = (b: boolean) => (b ? '<span class="yes">✔ blocked</span>' : '<span class="no">– continues</span>');
  const rows = [...LOCK_MODES].reverse().map((m, i) => {
    const b = lockBlocks(m);
    return `<tr${used.has(m) ? '' : ' class="muted"'}><td>${lockSwatch(blockClass(m), `lg-${i}`)}</td><td><b>${lockModeSql(m)}</b> <span class="muted">(${shortMode(m)})</span></td><td>${mark(b.reads)}</td><td>${mark(b.writes)}</td><td>${mark(b.ddl)}</td><td>${used.has(m) ? 'in this report' : ''}</td></tr>`;
  });
  return `<table class="legend"><thead><tr><th>bar</th><th>lock mode</th><th>reads (SELECT)</th><th>writes (INSERT/UPDATE/DELETE)</th><th>DDL (ALTER, CREATE INDEX, VACUUM)</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="muted">Colours: ${(['reads', 'writes', 'ddl', 'light'] as BlockClass[]).map((c) => `<b>${{ reads: 'crossed', writes: 'striped', ddl: 'dotted', light: 'lined' }[c]}</b> ${BLOCK_CLASS_TEXT[c]}`).join('; ')}. A dashed outline: a lock inferred from the statement (it ran outside a transaction block, so pg_locks could not show it). Each statement's width is its measured time on the shadow, with a floor so that instant ones stay visible.</p>`;
}

function findingHtml(f: Finding): string {
  const lock = f.lock
    ? `<div><b>${esc(f.lock.sql)}</b> on <code>${esc(f.lock.relation.replace(/^public\./, ''))}</code> — ${esc(f.lock.blocks.description)}${f.lock.held ? `; <b>${esc(f.lock.held.sql)}</b> already held${f.lock.held.since.line !== undefined ? ` since line ${f.lock.held.since.line}${f.lock.held.since.migration !== f.migration ? ` of ${esc(f.lock.held.since.migration)}` : ''}` : ''}` : ''}${f.lock.later ? `; later <b>${esc(f.lock.later.sql)}</b>${f.lock.later.since.line !== undefined ? ` from line ${f.lock.later.since.line}` : ''} until commit` : ''}</div>`
    : '';
  const table =
    f.table && (f.table.rows !== undefined || f.table.bytes !== undefined)
      ? `<div class="muted">table ${esc(f.table.name.replace(/^public\./, ''))} on the target: ${[f.table.rows !== undefined ? formatRows(f.table.rows) : '', f.table.bytes !== undefined ? formatBytes(f.table.bytes) : ''].filter(Boolean).join(', ')}</div>`
      : '';
  const fix = f.fix ? `<div class="fix"><b>Fix:</b> ${esc(f.fix.description)}<pre class="fix-code"><code>${esc(f.fix.code)}</code></pre></div>` : '';
  return `<div class="finding" data-rule="${esc(f.rule)}" data-severity="${f.severity}">${severityBadge(f.severity)} <span class="rule">${esc(f.rule)}</span> ${esc(f.message)}${f.line ? ` <span class="muted">line ${f.line}</span>` : ''}${lock}${table}<div class="why">${esc(f.why)}</div>${fix}<div class="muted">docs: ${esc(f.docs)}</div></div>`;
}

function findingsList(findings: Finding[]): string {
  // Errors and warnings open; info folded, so the page leads with what matters.
  const open = findings.filter((f) => f.severity !== 'info');
  const info = findings.filter((f) => f.severity === 'info');
  return `${open.map(findingHtml).join('')}${info.length ? `<details><summary>${plural(info.length, 'info finding')}</summary>${info.map(findingHtml).join('')}</details>` : ''}`;
}

/** The strongest lock held on an existing table while the migration runs, and whether an earlier file of the batch took it. */
function strongestBar(group: TimelineGroup, migration: string): { mode: LockMode; table: string; earlier: boolean } | undefined {
  const m = group.migrations.find((x) => x.name === migration);
  if (!m) return undefined;
  let best: { mode: LockMode; table: string; earlier: boolean } | undefined;
  for (const row of group.rows) {
    for (const b of row.bars) {
      if (b.to < m.first || b.from > m.last) continue;
      const earlier = b.takenBy < m.first;
      if (!best || LOCK_MODES.indexOf(b.mode) > LOCK_MODES.indexOf(best.mode) || (b.mode === best.mode && best.earlier && !earlier)) best = { mode: b.mode, table: row.label, earlier };
    }
  }
  return best;
}

function migrationArticle(unit: MigrationUnit, group: TimelineGroup, findings: Finding[], failed: string | undefined): string {
  const statements = group.statements.filter((s) => s.migration === unit.name);
  const own = findings.filter((f) => f.migration === unit.name);
  const at = new Map<number, Finding[]>();
  const loose: Finding[] = [];
  for (const f of own) {
    const index = statementOfFinding(unit, f);
    if (index === undefined) loose.push(f);
    else at.set(index, [...(at.get(index) ?? []), f]);
  }
  const items = statements.map((s) => {
    const analyzed = unit.statements.find((x) => x.index === s.index);
    const locks = (analyzed?.locks ?? []).map((l) => `<code>${esc(l.relation.replace(/^public\./, ''))}</code> ${lockModeSql(l.mode)}${l.observed ? '' : ' (inferred)'}`);
    const list = at.get(s.index) ?? [];
    return `<li id="${group.id}-s${s.number}" data-stmt-item="${group.id}-s${s.number}"><div class="stmt-head"><span class="num">#${s.number}</span>${s.line ? `<span class="muted">line ${s.line}</span>` : ''}<span>${formatMs(s.durationMs)}</span><span class="muted">${s.inTransaction ? 'in transaction' : 'no transaction'}</span>${locks.length ? `<span>locks ${locks.join(', ')}</span>` : ''}${s.failed ? '<span class="sev sev-error">failed</span>' : ''}</div><pre><code>${esc(s.sql)}</code></pre>${findingsList(list)}</li>`;
  });
  return `<article id="m-${esc(unit.name)}" class="migration"><h3>${esc(unit.name)}</h3><div class="muted">${esc(pathText(unit.file))} · ${unit.transactional ? (group.batch ? 'in the batch transaction' : 'own transaction') : 'no transaction'} · ${plural(statements.length, 'statement')}</div>${failed ? `<div class="callout bad"><b>Fails on the shadow:</b> ${esc(failed)}</div>` : ''}${loose.length ? `<div class="loose">${findingsList(loose)}</div>` : ''}<ol class="stmts">${items.join('')}</ol></article>`;
}

export interface HtmlCheckOptions {
  /** `latest --dry-run`: the plan the check was made for. */
  plan?: RunPlan;
  /** Command line words for the title (default `check`). */
  command?: string;
}

/**
 * `check --format html` (and `latest --dry-run --format html` with its plan).
 * @example
 * fs.writeFileSync('check.html', renderCheckHtml(await check({ cwd: '/srv/app' })));
 */
export function renderCheckHtml(report: CheckReport, options: HtmlCheckOptions = {}): string {
  const command = options.command ?? 'check';
  const findings = activeFindings(report);
  const counts = countBySeverity(findings);
  const units = report.units ?? [];
  const groups = buildTimelines(units, findings);
  const groupOf = new Map<string, TimelineGroup>();
  for (const g of groups) for (const m of g.migrations) groupOf.set(m.name, g);
  const failed = report.migrations.filter((m) => m.failed);
  const measured = groups.reduce((s, g) => s + g.totalMs, 0);
  const used = new Set<LockMode>(groups.flatMap((g) => g.rows.flatMap((r) => r.bars.map((b) => b.mode))));

  const body: string[] = [];
  body.push(
    `<header><h1>knexsafe ${esc(command)}</h1><div class="muted">${esc(report.scope)}; advice for PostgreSQL ${report.pgVersion} (${esc(describePgVersionSource(report.pgVersionSource))})${report.shadow ? `; ${esc(report.shadow)}` : ''}${report.target ? `; target ${esc(report.target)}` : ''}</div></header>`,
  );

  body.push('<section id="summary"><h2>Summary</h2>');
  const verdict = counts.error || failed.length ? 'bad' : '';
  body.push(
    `<div class="cards"><div class="card sev-error"><b>${counts.error}</b>${counts.error === 1 ? 'error' : 'errors'}</div><div class="card sev-warning"><b>${counts.warning}</b>${counts.warning === 1 ? 'warning' : 'warnings'}</div><div class="card sev-info"><b>${counts.info}</b>info</div><div class="card"><b>${report.migrations.length}</b>${report.migrations.length === 1 ? 'migration' : 'migrations'}</div>${failed.length ? `<div class="card sev-error"><b>${failed.length}</b>failed on the shadow</div>` : ''}<div class="card"><b>${formatMs(measured)}</b>statements on the shadow</div><div class="card"><b>${(report.durationMs / 1000).toFixed(1)} s</b>whole check</div></div>`,
  );
  if (groups.some((g) => g.batch)) {
    const batch = groups.find((g) => g.batch)!;
    body.push(
      `<div class="callout ${verdict}"><b>One knex batch transaction</b> runs ${plural(batch.migrations.length, 'migration')}: a lock one file takes is held until the whole batch commits. See <a href="#${batch.id}">the batch timeline</a>.</div>`,
    );
  }
  const rows = report.migrations.map((m) => {
    const g = groupOf.get(m.name);
    const strongest = g ? strongestBar(g, m.name) : undefined;
    const own = countBySeverity(findings.filter((f) => f.migration === m.name));
    const tx = !m.transactional ? 'none' : g?.batch ? 'batch' : 'own';
    const time = g ? formatMs(g.statements.filter((s) => s.migration === m.name).reduce((s, x) => s + x.durationMs, 0)) : '';
    return `<tr><td><a href="#m-${esc(m.name)}">${esc(m.name)}</a>${m.failed ? ' <span class="sev sev-error">fails</span>' : ''}</td><td>${tx}</td><td>${m.statements}</td><td>${time}</td><td>${strongest ? `${lockModeSql(strongest.mode)} on <code>${esc(strongest.table)}</code>${strongest.earlier ? ' <span class="muted">(held from an earlier file)</span>' : ''}` : '<span class="muted">—</span>'}</td><td>${
      SEVERITY_ORDER.filter((s) => own[s])
        .map((s) => `${severityBadge(s)} ${own[s]}`)
        .join(' ') || '<span class="muted">none</span>'
    }</td></tr>`;
  });
  body.push(
    `<table class="migrations"><thead><tr><th>migration</th><th>transaction</th><th>statements</th><th>time</th><th>strongest lock held on an existing table</th><th>findings</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  );
  if (report.notReached?.length)
    body.push(`<p>Not checked: ${plural(report.notReached.length, 'later migration')} (${esc(report.notReached.join(', '))}): knex stops at the migration that failed.</p>`);
  for (const w of report.warnings) body.push(`<div class="callout">warning: ${esc(w)}</div>`);
  body.push('</section>');

  if (options.plan) body.push(planSection(options.plan));

  body.push('<section id="migrations"><h2>Migrations</h2>');
  if (units.length === 0 && report.migrations.length > 0) body.push('<p class="muted">No statement timings: these migrations were not run on a shadow in this check.</p>');
  for (const g of groups) {
    const names = g.migrations.map((m) => m.name);
    const caption = g.batch
      ? `${plural(names.length, 'migration')} in one knex batch transaction: bars that cross a dashed boundary are locks a later file still holds.`
      : `${names[0]}: ${g.migrations[0]?.transactional ? 'its own transaction, committed at its end' : 'no transaction: each statement commits on its own'}.`;
    body.push(
      `<section class="group" id="${g.id}">${g.batch ? `<h3>Batch: ${esc(names[0]!)} … ${esc(names[names.length - 1]!)}</h3>` : ''}<figure class="timeline" data-migrations="${esc(names.join(' '))}">${renderTimelineSvg(g, { idPrefix: g.id, links: true })}<figcaption>${esc(caption)}</figcaption></figure>`,
    );
    for (const m of g.migrations) {
      const unit = units.find((u) => u.name === m.name)!;
      const checked = report.migrations.find((x) => x.name === m.name);
      body.push(migrationArticle(unit, g, findings, checked?.failed?.message));
    }
    body.push('</section>');
  }
  // Migrations with no statements to draw: failed before any SQL, or taken from elsewhere.
  for (const m of report.migrations.filter((x) => !groupOf.has(x.name))) {
    const own = findings.filter((f) => f.migration === m.name);
    body.push(
      `<article id="m-${esc(m.name)}" class="migration"><h3>${esc(m.name)}</h3><div class="muted">${esc(pathText(m.file))}</div>${m.failed ? `<div class="callout bad"><b>Fails on the shadow${m.failed.sqlState ? ` (SQLSTATE ${esc(m.failed.sqlState)})` : ''}:</b> ${esc(m.failed.message)}</div>` : ''}${findingsList(own)}</article>`,
    );
  }
  body.push('</section>');

  body.push(`<section id="legend"><h2>Lock modes</h2>${legend(used)}</section>`);

  if (report.dataChecks?.length) {
    body.push(
      `<section id="data-checks"><h2>Data checks on the target</h2><table><thead><tr><th>migration</th><th>table</th><th>what</th><th>status</th><th>detail</th></tr></thead><tbody>${report.dataChecks
        .map((d) => `<tr><td>${esc(d.migration)}</td><td>${esc(d.table)}</td><td>${esc(d.what)}</td><td>${esc(d.status)}</td><td>${esc(d.detail ?? '')}</td></tr>`)
        .join('')}</tbody></table></section>`,
    );
  }
  return page(`knexsafe ${command}: ${counts.error} errors, ${counts.warning} warnings`, body.join('\n'));
}

const MODE_TEXT = { batch: 'batch transaction', own: 'own transaction', none: 'no transaction' } as const;

function planSection(plan: RunPlan): string {
  const out: string[] = [];
  out.push(`<section id="plan"><h2>Plan</h2><p>${esc(plan.command)} on <b>${esc(plan.database)}</b>: ${plural(plan.pending.length, 'migration')}, ${esc(plan.layout)}.</p>`);
  out.push(`<p class="muted">lock_timeout ${plan.settings.lockTimeoutMs} ms · ${plan.settings.retries} retries after a lock timeout · dry run: nothing was changed.</p>`);
  if (plan.pending.length) {
    out.push(
      `<table><thead><tr><th>#</th><th>migration</th><th>transaction</th><th>backups</th></tr></thead><tbody>${plan.pending
        .map(
          (m, i) =>
            `<tr><td>${i + 1}</td><td>${esc(m.name)}</td><td>${MODE_TEXT[m.transaction]}</td><td>${m.backups.map((b) => esc(`${b.table.schema ? `${b.table.schema}.` : ''}${b.table.name}${b.columns ? ` (${b.columns.join(', ')})` : ''}: ${b.reasons.join('; ')}`)).join('<br>') || '<span class="muted">—</span>'}</td></tr>`,
        )
        .join('')}</tbody></table>`,
    );
  }
  if (plan.checkSkipped) out.push(`<p>check: skipped (${esc(plan.checkSkipped)})</p>`);
  if (plan.blocking.length) out.push(`<div class="callout bad">${plural(plan.blocking.length, 'blocking finding')}: ${esc(plan.command)} would stop here (--unsafe runs anyway).</div>`);
  out.push('</section>');
  return out.join('');
}

/**
 * `latest --dry-run --format html` when the check was skipped: the plan alone.
 * @example
 * const { plan } = await guardedLatest({ cwd: '/srv/app', dryRun: true, check: false });
 * fs.writeFileSync('plan.html', renderPlanHtml(plan));
 */
export function renderPlanHtml(plan: RunPlan): string {
  return page(`knexsafe ${plan.command} --dry-run`, `<header><h1>knexsafe ${esc(plan.command)} --dry-run</h1></header>${planSection(plan)}`);
}

/**
 * `verify --format html`: per migration its verdict, the schema down failed to restore, the data it lost, and the time of each phase.
 * @example
 * fs.writeFileSync('verify.html', renderVerifyHtml(await verify({ cwd: '/srv/app' })));
 */
export function renderVerifyHtml(report: VerifyCommandResult): string {
  const body: string[] = [];
  const bad = report.verdicts.filter((v) => v.status !== 'reversible');
  body.push(`<header><h1>knexsafe verify</h1><div class="muted">${esc(report.selection)}; ${esc(report.shadow)}; up → down → up, schema and data compared</div></header>`);
  body.push(
    `<section id="summary"><h2>Summary</h2><div class="cards"><div class="card sev-ok"><b>${report.verdicts.length - bad.length}</b>reversible</div><div class="card sev-error"><b>${bad.length}</b>not reversible or failing</div><div class="card"><b>${(report.durationMs / 1000).toFixed(1)} s</b>whole run</div></div>`,
  );
  const longest = Math.max(1, ...report.verdicts.map((v) => v.timings.upMs + v.timings.downMs + v.timings.reUpMs));
  const bar = (cls: string, ms: number, label: string) => `<span class="phase phase-${cls}" style="width:${Math.max(2, Math.round((ms / longest) * 240))}px" title="${label} ${formatMs(ms)}"></span>`;
  body.push(
    `<table class="verdicts"><thead><tr><th>migration</th><th>verdict</th><th>up · down · up again</th><th>time</th></tr></thead><tbody>${report.verdicts
      .map(
        (v) =>
          `<tr data-status="${v.status}"><td><a href="#v-${esc(v.name)}">${esc(v.name)}</a></td><td>${v.status === 'reversible' ? '<span class="sev sev-ok">reversible</span>' : `<span class="sev sev-error">${esc(v.status)}</span>`}</td><td>${bar('up', v.timings.upMs, 'up')}${bar('down', v.timings.downMs, 'down')}${bar('reup', v.timings.reUpMs, 'up again')}</td><td class="muted">${formatMs(v.timings.upMs)} · ${formatMs(v.timings.downMs)} · ${formatMs(v.timings.reUpMs)}</td></tr>`,
      )
      .join(
        '',
      )}</tbody></table><p class="muted">Bars: <span class="phase phase-up" style="width:20px"></span> up (plain), <span class="phase phase-down" style="width:20px"></span> down (striped), <span class="phase phase-reup" style="width:20px"></span> up again (dotted).</p>`,
  );
  if (report.notReached.length)
    body.push(`<p>Not verified: ${plural(report.notReached.length, 'later migration')} (${esc(report.notReached.join(', '))}): knex stops at the migration that failed.</p>`);
  for (const w of report.warnings) body.push(`<div class="callout">warning: ${esc(w)}</div>`);
  if (report.probe.unfilled.length) body.push(`<p class="muted">Data probe could not fill: ${esc(report.probe.unfilled.map((u) => `${u.table} (${u.reason})`).join('; '))}</p>`);
  body.push('</section><section id="migrations"><h2>Migrations</h2>');
  for (const v of report.verdicts) {
    const parts: string[] = [];
    for (const f of v.findings) {
      parts.push(
        `<div class="finding" data-rule="${esc(f.rule)}">${severityBadge('error')} <span class="rule">${esc(f.rule)}</span> ${esc(f.message)}${f.knexVersionNote ? `<div class="muted">note: ${esc(f.knexVersionNote)}</div>` : ''}${f.error?.site ? `<div class="muted">at ${esc(displayPath(f.error.site.file))}:${f.error.site.line}</div>` : ''}${f.error?.sql ? `<pre><code>${esc(f.error.sql)}</code></pre>` : ''}</div>`,
      );
    }
    if (v.diff.length) {
      parts.push(
        `<h4>Schema down did not restore</h4><table class="diffs"><thead><tr><th>object</th><th>kind</th><th>change</th><th>detail</th></tr></thead><tbody>${v.diff.map((c) => `<tr><td><code>${esc(c.object)}</code></td><td>${esc(c.kind)}</td><td>${esc(c.change)}${c.attribute ? ` (${esc(c.attribute)})` : ''}</td><td>${esc(c.message)}</td></tr>`).join('')}</tbody></table>`,
      );
    }
    if (v.dataLoss.length) {
      parts.push(
        `<h4>Data lost by down</h4><ul class="data-loss">${v.dataLoss.map((d) => `<li><code>${esc(d.table)}</code>${d.columns.length ? ` columns ${esc(d.columns.join(', '))}` : ''}${d.missingRows ? `, ${d.missingRows} rows missing` : ''}: ${esc(d.message)}</li>`).join('')}</ul>`,
      );
    }
    if (v.notes.length) parts.push(`<ul class="notes muted">${v.notes.map((n) => `<li>note: ${esc(n)}</li>`).join('')}</ul>`);
    if (!parts.length) parts.push(`<p class="muted">down restored the schema${v.changedSchema ? '' : ' (up did not change it)'} and the probe's data; up ran again.</p>`);
    body.push(
      `<article id="v-${esc(v.name)}" class="verdict" data-status="${v.status}"><h3>${esc(v.name)} ${v.status === 'reversible' ? '<span class="sev sev-ok">reversible</span>' : `<span class="sev sev-error">${esc(v.status)}</span>`}</h3><div class="muted">${esc(pathText(v.file))}</div>${parts.join('')}</article>`,
    );
  }
  body.push('</section>');
  return page(`knexsafe verify: ${report.verdicts.length - bad.length} of ${report.verdicts.length} reversible`, body.join('\n'));
}
