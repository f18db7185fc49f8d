// Results rendering: Markdown table, a grouped bar chart and a timeline, both hand-written SVG.
import path from 'node:path';
import { CASES } from './cases.js';

export const LIMIT_MS = 250;

const fmtMs = (ms) => {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
};
const fmtS = (s) => (s >= 10 ? `${s.toFixed(1)} s` : `${s.toFixed(2)} s`);
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const title = (id) => CASES.find((c) => c.id === id)?.title ?? id;

function byCase(run) {
  const out = [];
  for (const r of run.results) {
    let g = out.find((x) => x.case === r.case);
    if (!g) out.push((g = { case: r.case, naive: null, fix: null }));
    g[r.variant] = r;
  }
  return out;
}

function diagnose(r) {
  const worstStep = r.steps.find((s) => s.applied && Math.abs(s.maxWriteMs - r.migration.max) < 0.01);
  const parts = [];
  parts.push(`worst write started ${r.worst.offsetSeconds.toFixed(2)} s after the CLI was spawned`);
  if (worstStep) parts.push(`during \`${worstStep.file}\``);
  parts.push(r.worst.lockWait ? 'a writer was waiting on a heavyweight lock at the time (lock queue)' : 'no writer was waiting on a heavyweight lock at the time (not a lock: CPU/I/O contention)');
  if (r.worst.waitEvents.length) parts.push(`writer wait events sampled: ${r.worst.waitEvents.join(', ')}`);
  if (r.autovacuum) parts.push('autovacuum ran during the migration');
  if (r.checkpoints) parts.push(`${r.checkpoints} checkpoint(s) during the run`);
  return parts.join('; ');
}

export function renderMarkdown(run, files) {
  const m = run.machine;
  const L = [];
  const rows = run.rows.toLocaleString('en-US');
  const date = run.date.slice(0, 10);
  L.push(`# Write stall during a migration: naive knex vs knexsafe's fix (${date})`);
  L.push('');
  L.push(
    `A ${rows}-row \`users\` table (${run.table.pretty} heap) under ${run.writers} concurrent writers; each dangerous change applied once the way people write it with knex (**naive**) and once as knexsafe suggests (**fix**), each on a fresh copy of the same database. "Max write" is the longest any single write waited while the migration ran: that is the stall your users see.`,
  );
  L.push('');
  L.push(`![Worst write stall per case, naive vs fix](${path.basename(files.svg)})`);
  L.push('');
  L.push('## Results');
  L.push('');
  L.push('| Case | Variant | DDL time | Max write | p99 write | Writes > 100 ms | Writes > 1 s | Writes (per s) | Rewrote table | Baseline max / p99 | Result |');
  L.push('|---|---|--:|--:|--:|--:|--:|--:|:-:|--:|---|');
  for (const g of byCase(run)) {
    for (const v of ['naive', 'fix']) {
      const r = g[v];
      if (!r) continue;
      const s = r.migration;
      let verdict;
      if (r.exitCode !== 0) verdict = `migration failed (exit ${r.exitCode})`;
      else if (!r.verified) verdict = 'end state not verified';
      else if (v === 'fix') verdict = s.max < LIMIT_MS ? `✅ < ${LIMIT_MS} ms` : `❌ ≥ ${LIMIT_MS} ms (see below)`;
      else verdict = s.max < LIMIT_MS ? 'ok' : 'stalls writes';
      L.push(
        `| ${title(r.case)} | ${v} | ${fmtS(r.ddlSeconds)} | **${fmtMs(s.max)}** | ${fmtMs(s.p99)} | ${s.over100} | ${s.over1000} | ${s.writes} (${Math.round(s.writes / s.seconds)}) | ${r.rewrote ? 'yes' : 'no'} | ${fmtMs(r.baseline.max)} / ${fmtMs(r.baseline.p99)} | ${verdict} |`,
      );
    }
  }
  L.push('');
  const failing = run.results.filter((r) => r.variant === 'fix' && r.migration.max >= LIMIT_MS);
  if (failing.length) {
    L.push(`### Fixes at or over ${LIMIT_MS} ms (measured diagnosis)`);
    L.push('');
    for (const r of failing) L.push(`- **${title(r.case)}**: ${fmtMs(r.migration.max)} — ${diagnose(r)}.`);
    L.push('');
    L.push('The analysis of why, and what would get them under the line, is in [bench/README.md](../README.md#write-stall-benchmark).');
    L.push('');
  } else {
    L.push(`Every fix kept the worst write under ${LIMIT_MS} ms.`);
    L.push('');
  }
  const errs = run.results.filter((r) => Object.keys(r.writeErrors).length);
  if (errs.length) {
    L.push('Write errors seen:');
    for (const r of errs) for (const [k, n] of Object.entries(r.writeErrors)) L.push(`- ${title(r.case)} ${r.variant}: ${n} × ${k}`);
    L.push('');
  }
  L.push('## What each case runs');
  L.push('');
  L.push('| Case | Naive (knex as people write it) | Fix (knexsafe) |');
  L.push('|---|---|---|');
  for (const c of CASES.filter((c) => run.results.some((r) => r.case === c.id))) L.push(`| ${c.title} | ${c.naive.replace(/\|/g, '\\|')} | ${c.fix.replace(/\|/g, '\\|')} |`);
  L.push('');
  L.push('Migration code: [`bench/stall/cases/<case>/{naive,fix}/`](../stall/cases/).');
  L.push('');
  L.push('## Per migration file');
  L.push('');
  L.push('| Case | Variant | Migration file | Time (±20 ms sampling) | Max write during it |');
  L.push('|---|---|---|--:|--:|');
  for (const r of run.results)
    for (const s of r.steps)
      L.push(`| ${title(r.case)} | ${r.variant} | \`${s.file}\` | ${!s.applied ? 'not applied' : s.seconds < 0.02 ? '< 0.02 s' : fmtS(s.seconds)} | ${s.applied ? fmtMs(s.maxWriteMs) : ''} |`);
  L.push('');
  L.push(`Timeline of the longest in-flight write, 100 ms buckets: [${path.basename(files.timeline)}](${path.basename(files.timeline)}).`);
  L.push('');
  L.push('## Setup');
  L.push('');
  L.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM; ${m.os}; Node.js ${m.node}.`);
  L.push(`- PostgreSQL: \`${m.postgres}\` on the same machine.`);
  L.push(
    `- Settings: ${Object.entries(m.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}.`,
  );
  L.push(
    `- Table: \`users\` (id bigint identity PK, email, name, account_id, amount integer, score, created_at, updated_at), ${rows} rows, ${run.table.pretty} heap (${Math.round(run.table.totalBytes / 1024 ** 2)} MB with its primary key); \`accounts\`, ${run.accounts.toLocaleString('en-US')} rows. Built once (${run.table.seconds.toFixed(0)} s), \`VACUUM (FREEZE, ANALYZE)\`, then cloned per run with \`CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY\`.`,
  );
  L.push(
    `- Writers: ${run.writers} loops sharing a \`pg\` Pool of ${run.writers}, ${run.thinkMs} ms pause between a loop's writes; 60 % \`UPDATE users … WHERE id = <random>\`, 25 % \`INSERT INTO users\`, 15 % \`UPDATE accounts … WHERE id = <random>\`. Every write's latency is measured in the benchmark process (\`performance.now()\`).`,
  );
  L.push(`- Runner: **${run.runner.name}** — \`${run.runner.command}\`${run.runner.note ? ` (${run.runner.note})` : ''}. One \`latest\` per run, applying all of the case's migration files.`);
  L.push(
    `- Windows: the migration window runs from spawning the CLI to its exit (so it includes Node start-up); every write in flight during it counts. Baseline: the ${run.baselineMs / 1000} s just before, same writers, no migration. "DDL time" is from the first sign of migration work (knex's lock row, or a non-bookkeeping statement from the migrator's connection) to the last \`knex_migrations\` row, sampled every 20 ms from the benchmark process.`,
  );
  L.push(`- Whole suite: ${Math.round(run.totalSeconds)} s wall clock, including building the table.`);
  L.push('');
  L.push('Reproduce: `node bench/stall/run.js` (see [bench/README.md](../README.md#write-stall-benchmark)). Raw numbers: ' + `[${path.basename(files.json)}](${path.basename(files.json)}).`);
  L.push('');
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
const COLORS = { naive: '#d9534f', fix: '#2e8b57' };

function logScale(minMs, maxMs, y0, y1) {
  const a = Math.log10(minMs);
  const b = Math.log10(maxMs);
  return (ms) => y0 - ((Math.log10(Math.max(minMs, Math.min(maxMs, ms))) - a) / (b - a)) * (y0 - y1);
}

function decadeTicks(minMs, maxMs) {
  const t = [];
  for (let e = Math.floor(Math.log10(minMs)); e <= Math.ceil(Math.log10(maxMs)); e++) {
    const v = 10 ** e;
    if (v >= minMs && v <= maxMs) t.push(v);
  }
  return t;
}

export function renderBarChart(run) {
  const groups = byCase(run);
  const W = 980;
  const H = 470;
  const left = 70;
  const right = 60;
  const top = 64;
  const bottom = 110;
  const plotW = W - left - right;
  const all = run.results.map((r) => r.migration.max);
  const minMs = 1;
  const maxMs = 10 ** Math.ceil(Math.log10(Math.max(1000, ...all) * 1.2));
  const y = logScale(minMs, maxMs, H - bottom, top);
  const gw = plotW / Math.max(1, groups.length);
  const bw = Math.min(46, gw / 3);
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  o.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">Worst write stall while the migration runs (log scale)</text>`);
  const pgv = /PostgreSQL [\d.]+/.exec(run.machine.postgres)?.[0] ?? 'PostgreSQL';
  o.push(
    `<text x="${W / 2}" y="42" text-anchor="middle" fill="#555">${esc(`${run.rows.toLocaleString('en-US')}-row users table (${run.table.pretty}), ${run.writers} concurrent writers, ${pgv}, ${run.machine.cores} cores, ${run.date.slice(0, 10)}`)}</text>`,
  );
  for (const t of decadeTicks(minMs, maxMs)) {
    o.push(`<line x1="${left}" x2="${W - right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`);
    o.push(`<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" fill="#444">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`);
  }
  o.push(`<line x1="${left}" x2="${W - right}" y1="${y(LIMIT_MS)}" y2="${y(LIMIT_MS)}" stroke="#f0ad4e" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  o.push(`<text x="${W - right + 6}" y="${y(LIMIT_MS) - 2}" fill="#b07a1e">${LIMIT_MS} ms</text>`);
  o.push(`<text x="${W - right + 6}" y="${y(LIMIT_MS) + 12}" fill="#b07a1e">target</text>`);
  o.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${H - bottom}" stroke="#888"/>`);
  o.push(`<line x1="${left}" x2="${W - right}" y1="${H - bottom}" y2="${H - bottom}" stroke="#888"/>`);
  groups.forEach((g, i) => {
    const cx = left + gw * i + gw / 2;
    ['naive', 'fix'].forEach((v, j) => {
      const r = g[v];
      if (!r) return;
      const x = cx + (j === 0 ? -bw - 2 : 2);
      const yt = y(r.migration.max);
      const failed = r.exitCode !== 0;
      o.push(
        `<rect x="${x}" y="${yt}" width="${bw}" height="${H - bottom - yt}" fill="${COLORS[v]}"${failed ? ' fill-opacity="0.3"' : ''}><title>${esc(`${title(r.case)} — ${v}: max ${fmtMs(r.migration.max)}, p99 ${fmtMs(r.migration.p99)}, DDL ${fmtS(r.ddlSeconds)}`)}</title></rect>`,
      );
      o.push(`<text x="${x + bw / 2}" y="${yt - 4}" text-anchor="middle" font-size="11">${esc(fmtMs(r.migration.max))}</text>`);
    });
    const words = title(g.case).split(' ');
    const lines = [];
    for (const w of words) {
      if (lines.length && (lines.at(-1) + ' ' + w).length <= 16) lines[lines.length - 1] += ' ' + w;
      else lines.push(w);
    }
    lines.forEach((ln, k) => {
      o.push(`<text x="${cx}" y="${H - bottom + 18 + k * 14}" text-anchor="middle">${esc(ln)}</text>`);
    });
  });
  const ly = H - 28;
  o.push(`<rect x="${W / 2 - 190}" y="${ly - 10}" width="12" height="12" fill="${COLORS.naive}"/>`);
  o.push(`<text x="${W / 2 - 172}" y="${ly}">naive knex migration</text>`);
  o.push(`<rect x="${W / 2 + 10}" y="${ly - 10}" width="12" height="12" fill="${COLORS.fix}"/>`);
  o.push(`<text x="${W / 2 + 28}" y="${ly}">knexsafe's suggested fix</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}

export function renderTimeline(run) {
  const groups = byCase(run);
  const panelW = 470;
  const panelH = 120;
  const gapX = 20;
  const left = 60;
  const top = 50;
  const rowH = panelH + 44;
  const W = left + 2 * panelW + gapX + 20;
  const H = top + groups.length * rowH + 10;
  const minMs = 1;
  const maxMs = 10 ** Math.ceil(Math.log10(Math.max(1000, ...run.results.map((r) => r.migration.max)) * 1.2));
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  o.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">Longest in-flight write over time (100 ms buckets, log scale)</text>`);
  o.push(
    `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">x: seconds since the migration CLI was spawned; grey: CLI running, blue: migrations executing; each panel has its own x range</text>`,
  );
  groups.forEach((g, gi) => {
    ['naive', 'fix'].forEach((v, vi) => {
      const r = g[v];
      const x0 = left + vi * (panelW + gapX);
      const y0 = top + gi * rowH + 18;
      o.push(`<text x="${x0}" y="${y0 - 5}" font-weight="bold" fill="${COLORS[v]}">${esc(`${title(g.case)} — ${v}`)}</text>`);
      if (!r) return;
      const tl = r.timeline;
      const n = tl.maxAgeMs.length;
      const spanMs = n * tl.bucketMs;
      const x = (ms) => x0 + ((ms - tl.fromOffsetMs) / spanMs) * panelW;
      const y = logScale(minMs, maxMs, y0 + panelH, y0);
      o.push(`<rect x="${x(0)}" y="${y0}" width="${x(tl.spawnToExitMs) - x(0)}" height="${panelH}" fill="#f3f3f3"/>`);
      if (tl.ddlFromMs !== undefined) o.push(`<rect x="${x(tl.ddlFromMs)}" y="${y0}" width="${Math.max(1, x(tl.ddlToMs) - x(tl.ddlFromMs))}" height="${panelH}" fill="#dde6f0"/>`);
      for (const t of decadeTicks(minMs, maxMs)) {
        o.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y(t)}" y2="${y(t)}" stroke="#e8e8e8"/>`);
        if (vi === 0) o.push(`<text x="${x0 - 5}" y="${y(t) + 4}" text-anchor="end" fill="#444">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`);
      }
      o.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y(LIMIT_MS)}" y2="${y(LIMIT_MS)}" stroke="#f0ad4e" stroke-dasharray="5 3"/>`);
      const pts = tl.maxAgeMs.map((ms, i) => `${x(tl.fromOffsetMs + (i + 1) * tl.bucketMs).toFixed(1)},${y(Math.max(minMs, ms)).toFixed(1)}`);
      o.push(`<polyline fill="none" stroke="${COLORS[v]}" stroke-width="1.3" points="${pts.join(' ')}"/>`);
      o.push(`<rect x="${x0}" y="${y0}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`);
      const spanS = spanMs / 1000;
      const step = spanS > 60 ? 20 : spanS > 20 ? 5 : spanS > 8 ? 2 : 1;
      for (let s = 0; s * 1000 <= spanMs + tl.fromOffsetMs; s += step) o.push(`<text x="${x(s * 1000)}" y="${y0 + panelH + 13}" text-anchor="middle" fill="#555">${s}s</text>`);
      o.push(`<text x="${x0 + panelW - 4}" y="${y0 + 13}" text-anchor="end" fill="#333">${esc(`max ${fmtMs(r.migration.max)}`)}</text>`);
    });
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}
