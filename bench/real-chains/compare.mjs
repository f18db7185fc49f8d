#!/usr/bin/env node
// knexsafe against plain knex on real, public knex migration chains (see README.md next to this file).
//
//   node bench/real-chains/compare.mjs --chains bench/real-chains/chains.json [--only kutt,planka] [--root /work/realchains]
//   node bench/real-chains/compare.mjs --dir /path/to/project [--knexfile knexfile.js] [--env production] [--set KEY=VALUE]…
//
// For each chain (a project extracted outside this repository, with its knex installed):
// 1. creates a fresh database on the server (--url, default postgresql://postgres@127.0.0.1:5432),
// 2. runs plain knex exactly as its CLI does — `node <project>/node_modules/knex/bin/cli.js` with the
//    project's knexfile: migrate:list, migrate:latest, migrate:list, migrate:rollback --all, migrate:list —
//    and records which migration failed (knex's own `migration file "…" failed` warning) and why,
// 3. runs `knexsafe check --all --json` and `knexsafe verify --json` on each shadow (embedded PGlite, and
//    --shadow-url <server>/postgres), with the same knexfile and environment (the target connection points
//    at the fresh database; knexsafe only reads its version),
// 4. compares migration by migration: up outcome (knex latest vs check and verify), down outcome (knex
//    rollback --all vs verify), and the error text (knexsafe's message must be part of knex's),
// 5. prints a table and merges the chain's result into bench/results/<name>.json, then re-renders
//    bench/results/<name>.md from all chains in that file (so chains can be run one at a time).
// No dependencies: database setup uses psql; knex is the project's own; knexsafe is dist/cli/main.js.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

const USAGE = `usage: node bench/real-chains/compare.mjs (--chains FILE [--only a,b] | --dir DIR [--knexfile F] [--env E] [--set K=V]…) [options]
  --root DIR        where chains are extracted (default /work/realchains); a chain's dir is <root>/<name>/<dir>
  --url URL         server without database (default postgresql://postgres@127.0.0.1:5432)
  --shadows LIST    embedded,server (default both)
  --commands LIST   check,verify (default both)
  --knexsafe PATH   knexsafe CLI (default dist/cli/main.js)
  --timeout SEC     per knexsafe run (default 1800)
  --out-dir DIR     default bench/results
  --name NAME       default real-chains-<date>
  --no-report       print only
  --render          only re-render <name>.md from <name>.json
  --stepwise        also run plain knex the way verify does, migration by migration on another fresh database:
                    migrate:up, migrate:down, migrate:up — every down's outcome, not only rollback --all's
                    (3 knex CLI runs per migration: for small chains)`;

const { values: opts } = parseArgs({
  options: {
    chains: { type: 'string' },
    only: { type: 'string' },
    root: { type: 'string', default: '/work/realchains' },
    dir: { type: 'string' },
    knexfile: { type: 'string' },
    env: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    url: { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432' },
    shadows: { type: 'string', default: 'embedded,server' },
    commands: { type: 'string', default: 'check,verify' },
    knexsafe: { type: 'string', default: path.join(REPO, 'dist/cli/main.js') },
    timeout: { type: 'string', default: '1800' },
    'out-dir': { type: 'string', default: path.join(REPO, 'bench/results') },
    name: { type: 'string' },
    report: { type: 'boolean', default: true },
    render: { type: 'boolean', default: false },
    stepwise: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
  allowNegative: true,
});
if (opts.help || (!opts.chains && !opts.dir && !opts.render)) {
  console.log(USAGE);
  process.exit(opts.help ? 0 : 2);
}

const server = new URL(opts.url);
const SERVER = { host: server.hostname, port: server.port || '5432', user: decodeURIComponent(server.username || 'postgres') };
const serverUrl = (db) => `postgresql://${encodeURIComponent(SERVER.user)}@${SERVER.host}:${SERVER.port}/${db}`;
const SHADOW_URL = serverUrl('postgres');

function psql(sql, db = 'postgres') {
  const r = spawnSync('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', SERVER.host, '-p', SERVER.port, '-U', SERVER.user, '-d', db, '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

function run(cmd, args, { cwd, env, timeoutMs = 30 * 60_000 }) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Math.round(performance.now() - t0) });
    });
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC.
const stripAnsi = (s) => s.replace(/\u001b\[[0-9;]*m/g, '');
const expand = (v, ctx) => String(v).replace(/\{(\w+)\}/g, (m, k) => (k in ctx ? ctx[k] : m));

// ---- plain knex, through its own CLI ------------------------------------------------------------

function knexArgs(chain) {
  const a = [];
  if (chain.knexfile) a.push('--knexfile', path.resolve(chain.dir, chain.knexfile));
  if (chain.knexEnv) a.push('--env', chain.knexEnv);
  return a;
}

function knexBin(chain) {
  const candidates = [chain.knexBin && path.resolve(chain.dir, chain.knexBin)];
  for (let d = chain.dir; ; d = path.dirname(d)) {
    candidates.push(path.join(d, 'node_modules/knex/bin/cli.js'));
    if (d === path.dirname(d)) break;
  }
  const found = candidates.find((c) => c && fs.existsSync(c));
  if (!found) throw new Error(`no node_modules/knex/bin/cli.js in or above ${chain.dir}`);
  return found;
}

// `knex migrate:list`: "Found N Completed Migration file/files." names… "Found M Pending Migration file/files." names…
function parseList(out) {
  const lines = stripAnsi(out)
    .split('\n')
    .map((l) => l.trim());
  const res = { completed: [], pending: [] };
  let into = null;
  for (const l of lines) {
    const m = /^Found (\d+) (Completed|Pending) Migration/.exec(l);
    if (m) {
      into = m[2] === 'Completed' ? res.completed : res.pending;
      continue;
    }
    if (!l || /^(Using environment|Working directory|Requiring external module|No (Completed|Pending))/i.test(l)) continue;
    if (into && !/\s/.test(l)) into.push(l);
  }
  return res;
}

function parseFailure(stdout, stderr = '') {
  // knex's logger and the CLI's error print may go to different streams: read the one with knex's warning
  const s = stripAnsi(/migration failed with error: /.test(stripAnsi(stderr)) || !/migration failed with error: /.test(stripAnsi(stdout)) ? stderr + '\n' + stdout : stdout);
  const file = /migration file "([^"]+)" failed/.exec(s)?.[1] ?? null;
  // knex's message is `${sql} - ${pg message}`, the SQL possibly over several lines; the CLI then prints the stack
  const m = /migration failed with error: ([^\n]*(?:\n(?![A-Za-z]*(?:Error|error)\b|\s+at |\s*$)[^\n]*)*)/.exec(s);
  let error = m?.[1]?.replace(/\s+/g, ' ').trim() ?? null;
  if (!error) {
    // knex's CLI prints the error itself (its message or stack) when it exits 1
    const lines = s
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^(Using environment|Working directory|Requiring external module|at )/.test(l));
    error = lines.at(-1) ?? null;
  }
  return { file, error };
}

const countTables = (db) =>
  Number(
    psql(
      `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'`,
      db,
    ),
  );

async function plainKnex(chain, env, db) {
  const bin = knexBin(chain);
  const ka = knexArgs(chain);
  const steps = {};
  const call = async (name, ...args) => {
    const r = await run(process.execPath, [...(chain.nodeArgs ?? []), bin, ...args, ...ka], { cwd: chain.dir, env });
    steps[name] = { code: r.code, ms: r.ms, out: stripAnsi(r.stdout + r.stderr).slice(-4000) };
    return r;
  };
  const before = await call('listBefore', 'migrate:list');
  if (before.code !== 0) return { error: `knex migrate:list failed: ${parseFailure(before.stdout, before.stderr).error}`, steps, knexVersion: knexVersion(bin) };
  let all = parseList(before.stdout + before.stderr).pending;
  const latest = await call('latest', 'migrate:latest');
  const afterLatest = parseList((await call('listAfterLatest', 'migrate:list')).stdout).completed;
  const tables = countTables(db); // with the chain applied (knex's two bookkeeping tables included)
  // migrate:list prints pending migrations by their source's raw `file` field, completed ones by the name knex
  // records (a custom migrationSource's getMigrationName may add an extension): prefer the recorded names
  if (afterLatest.length === all.length) all = afterLatest;
  else all = all.map((raw) => afterLatest.find((n) => n !== raw && n.startsWith(raw) && !all.includes(n)) ?? raw);
  const up = {};
  const latestFail = latest.code === 0 ? null : parseFailure(latest.stdout, latest.stderr);
  let reached = true;
  if (latestFail?.file && !all.includes(latestFail.file)) all = all.map((raw) => (latestFail.file.startsWith(raw) && latestFail.file.length - raw.length <= 4 ? latestFail.file : raw));
  for (const n of all) {
    if (latestFail && (latestFail.file === n || (!latestFail.file && !afterLatest.includes(n) && reached))) {
      up[n] = { outcome: 'failed', error: latestFail.error };
      reached = false;
    } else up[n] = reached ? { outcome: 'ok' } : { outcome: 'not-reached' };
  }
  const rollback = await call('rollback', 'migrate:rollback', '--all');
  const afterRollback = parseList((await call('listAfterRollback', 'migrate:list')).stdout).completed;
  const rbFail = rollback.code === 0 ? null : parseFailure(rollback.stdout, rollback.stderr);
  const down = {};
  reached = true;
  for (const n of [...all].reverse()) {
    if (!afterLatest.includes(n)) {
      down[n] = { outcome: 'not-run' };
      continue;
    }
    if (rbFail && (rbFail.file === n || (!rbFail.file && afterRollback.includes(n) && reached))) {
      down[n] = { outcome: 'failed', error: rbFail.error };
      reached = false;
    } else down[n] = reached ? { outcome: 'ok' } : { outcome: 'not-reached' };
  }
  return {
    knexVersion: knexVersion(bin),
    migrations: all,
    tables,
    latest: { ok: latest.code === 0, ms: latest.ms, failedFile: latestFail?.file ?? null, error: latestFail?.error ?? null, applied: afterLatest.length },
    rollback: { ok: rollback.code === 0, ms: rollback.ms, failedFile: rbFail?.file ?? null, error: rbFail?.error ?? null, left: afterRollback.length },
    up,
    down,
    steps,
  };
}

// verify's order with knex's own CLI: each migration up, down right after, up again (a down that fails leaves the
// migration applied, as knex does; an up that fails ends the chain, as it ends knex's latest)
async function stepwiseKnex(chain, env, all) {
  const bin = knexBin(chain);
  const ka = knexArgs(chain);
  const t0 = performance.now();
  const knex = (...args) => run(process.execPath, [...(chain.nodeArgs ?? []), bin, ...args, ...ka], { cwd: chain.dir, env });
  const down = {};
  const up = {};
  for (const n of all) {
    const u = await knex('migrate:up');
    if (u.code !== 0) {
      up[n] = { outcome: 'failed', error: parseFailure(u.stdout, u.stderr).error };
      break;
    }
    up[n] = { outcome: 'ok' };
    const d = await knex('migrate:down');
    if (d.code !== 0) {
      down[n] = { outcome: 'failed', error: parseFailure(d.stdout, d.stderr).error };
      continue;
    }
    down[n] = { outcome: 'ok' };
    const again = await knex('migrate:up');
    if (again.code !== 0) {
      up[n] = { outcome: 'ok', reUpError: parseFailure(again.stdout, again.stderr).error };
      break;
    }
  }
  return { up, down, ms: Math.round(performance.now() - t0) };
}

function knexVersion(bin) {
  try {
    return JSON.parse(fs.readFileSync(path.join(path.dirname(bin), '..', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

// ---- knexsafe ----------------------------------------------------------------------------------

async function knexsafe(chain, env, command, shadow) {
  const args = [opts.knexsafe, command, ...(command === 'check' ? ['--all'] : []), '--json', '--cwd', chain.dir];
  if (chain.knexfile) args.push('--knexfile', path.resolve(chain.dir, chain.knexfile));
  if (chain.knexEnv) args.push('--env', chain.knexEnv);
  if (command === 'check') args.push('--max-severity', 'none');
  if (shadow === 'server') args.push('--shadow-url', SHADOW_URL);
  const r = await run(process.execPath, args, { cwd: chain.dir, env, timeoutMs: Number(opts.timeout) * 1000 });
  let json = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    /* reported below */
  }
  const res = { command, shadow, code: r.code, ms: r.ms, up: {}, down: {}, error: null, listed: [] };
  if (!json) {
    res.error = `no JSON (exit ${r.code}${r.signal ? `, ${r.signal}` : ''}): ${(r.stderr || r.stdout).trim().split('\n').slice(-6).join(' | ').slice(0, 800)}`;
    return res;
  }
  if (json.error) res.error = typeof json.error === 'string' ? json.error : (json.error.message ?? JSON.stringify(json.error));
  for (const m of json.migrations ?? []) {
    res.listed.push(m.name);
    if (command === 'check') {
      res.up[m.name] = m.failed
        ? { outcome: 'failed', error: m.failed.message, sqlState: m.failed.sqlState, knexVersionNote: m.failed.knexVersionNote, underProjectKnex: m.failed.underProjectKnex }
        : m.skipped
          ? { outcome: 'not-reached' }
          : { outcome: 'ok' };
    } else {
      const upF = m.findings?.find((f) => f.rule === 'up-failed');
      const downF = m.findings?.find((f) => f.rule === 'down-failed');
      res.up[m.name] = upF
        ? { outcome: 'failed', error: upF.error?.message ?? upF.message, sqlState: upF.error?.sqlState, knexVersionNote: upF.knexVersionNote, underProjectKnex: upF.underProjectKnex }
        : { outcome: 'ok' };
      res.down[m.name] = upF ? { outcome: 'not-run' } : downF ? { outcome: 'failed', error: downF.error?.message ?? downF.message, sqlState: downF.error?.sqlState } : { outcome: 'ok' };
      res.status ??= {};
      res.status[m.name] = m.status;
      if (m.status === 'not-reversible') (res.notReversible ??= []).push({ name: m.name, rules: [...new Set((m.findings ?? []).map((f) => f.rule))] });
    }
  }
  for (const n of json.notReached ?? []) {
    const name = typeof n === 'string' ? n : n.name;
    res.up[name] ??= { outcome: 'not-reached' };
  }
  res.summary =
    command === 'check'
      ? json.summary
      : {
          reversible: Object.values(res.status ?? {}).filter((s) => s === 'reversible').length,
          notReversible: Object.values(res.status ?? {}).filter((s) => s === 'not-reversible').length,
          failed: Object.values(res.status ?? {}).filter((s) => s === 'failed').length,
        };
  res.knexVersionNote = json.knexVersion ?? json.knex ?? null;
  return res;
}

// ---- comparison --------------------------------------------------------------------------------

function sameError(knexErr, ksErr) {
  if (!knexErr || !ksErr) return false;
  const norm = (s) => s.replace(/\s+/g, ' ').trim();
  const a = norm(knexErr);
  const b = norm(ksErr);
  return a.includes(b) || b.includes(a) || a.includes(b.replace(/^.* - /, ''));
}

function compare(knex, ks, explained = {}) {
  const diffs = [];
  let compared = 0;
  const listedSet = new Set(ks.listed);
  // after a failing up knexsafe stops, as knex does: what follows is not reached by knexsafe (counted, not a difference)
  const firstKsFail = knex.migrations.findIndex((n) => ks.up[n]?.outcome === 'failed');
  const notReachedByKs = firstKsFail < 0 ? [] : knex.migrations.slice(firstKsFail + 1).filter((n) => !ks.up[n] || ks.up[n].outcome === 'not-reached');
  const missing = knex.migrations.filter((n) => knex.up[n].outcome !== 'not-reached' && !listedSet.has(n) && !ks.up[n] && !notReachedByKs.includes(n));
  const extra = ks.listed.filter((n) => !knex.migrations.includes(n));
  if (ks.error && !ks.listed.length) diffs.push({ migration: '*', what: `knexsafe failed: ${ks.error}` });
  else {
    if (missing.length && !(ks.error && ks.listed.length)) diffs.push({ migration: '*', what: `knexsafe did not list ${missing.length}: ${missing.slice(0, 3).join(', ')}` });
    if (extra.length) diffs.push({ migration: '*', what: `knexsafe listed ${extra.length} knex does not: ${extra.slice(0, 3).join(', ')}` });
  }
  for (const n of knex.migrations) {
    const ku = knex.up[n];
    const su = ks.up[n];
    if (ku.outcome === 'not-reached' || !su) continue;
    const dirs = [['up', ku, su]];
    if (ks.command === 'verify') dirs.push(['down', knex.down[n], ks.down[n]]);
    if (ks.command === 'verify' && knex.stepwise) dirs.push(['down right after up', knex.stepwise.down[n], ks.down[n]]);
    for (const [dir, k, s] of dirs) {
      if (!k || !s || k.outcome === 'not-run' || k.outcome === 'not-reached' || s.outcome === 'not-run' || s.outcome === 'not-reached') continue;
      compared++;
      let what = null;
      if (k.outcome === 'ok' && s.outcome === 'failed') what = `${dir}: knex ok, knexsafe failed: ${s.error}`;
      else if (k.outcome === 'failed' && s.outcome === 'ok') what = `${dir}: knex failed (${k.error}), knexsafe ok`;
      else if (k.outcome === 'failed' && s.outcome === 'failed' && !sameError(k.error, s.error)) what = `${dir}: both failed, different reason: knex "${k.error}" / knexsafe "${s.error}"`;
      if (what) {
        // knexsafe's own label: the failure comes from running a project pinned to another knex major with knex 3
        let label = k.outcome === 'ok' && s.knexVersionNote ? `labeled by knexsafe: ${s.knexVersionNote}` : null;
        // verify runs each down right after its own up; rollback --all runs it after every later down. When a later
        // migration's down does not undo its up (verify says so), what it leaves behind can make this down fail
        // under rollback --all only: the difference is the order, and verify reports its cause
        if (!label && dir === 'down' && k.outcome === 'failed' && s.outcome === 'ok') {
          const later = knex.migrations.slice(knex.migrations.indexOf(n) + 1);
          const culprits = (ks.notReversible ?? []).filter((x) => later.includes(x.name) && x.rules.some((r) => r === 'down-missing' || r === 'down-not-inverse' || r === 'down-failed'));
          if (culprits.length)
            label = `order: verify runs this down right after its up and it succeeds; under rollback --all it runs after the downs of later migrations, and verify reports ${culprits.length} of them not reversible (${culprits.map((x) => `${x.name}: ${x.rules.join(', ')}`).join('; ')}), so what they leave behind makes this down fail`;
        }
        const why = explained[`${n}:${dir}`] ?? explained[n] ?? label;
        diffs.push({ migration: n, what, ...(why ? { explained: why } : {}) });
      }
    }
  }
  const unexplained = diffs.filter((d) => !d.explained);
  return { compared, notReachedByKnexsafe: notReachedByKs.filter((n) => knex.up[n].outcome !== 'not-reached').length, diffs, agree: unexplained.length === 0 };
}

// ---- driver ------------------------------------------------------------------------------------

async function runChain(chain) {
  const t0 = performance.now();
  const db = `ks_rc_${chain.name.replace(/\W/g, '_')}_${process.pid}`.toLowerCase();
  const ctx = { url: serverUrl(db), db, host: SERVER.host, port: SERVER.port, user: SERVER.user, dir: chain.dir, root: path.resolve(opts.root) };
  const env = { ...process.env, ...Object.fromEntries(Object.entries(chain.vars ?? {}).map(([k, v]) => [k, expand(v, ctx)])) };
  delete env.NODE_OPTIONS;
  console.error(`\n== ${chain.name} (${chain.dir}) database ${db}`);
  // glue files of this repository (a knexfile for a project that has none), copied into the chain
  for (const [from, to] of Object.entries(chain.copy ?? {})) fs.copyFileSync(path.resolve(REPO, from), path.resolve(chain.dir, to));
  psql(`DROP DATABASE IF EXISTS ${db}`);
  psql(`CREATE DATABASE ${db}`);
  for (const s of chain.setupSql ?? []) psql(expand(s, ctx), db);
  const out = { name: chain.name, repo: chain.repo, commit: chain.commit, shape: chain.shape, path: chain.path, notes: chain.notes, runs: [] };
  try {
    const knex = await plainKnex(chain, env, db);
    out.knex = knex;
    if (knex.error) {
      console.error(`  plain knex could not run: ${knex.error}`);
      return out;
    }
    out.migrations = knex.migrations.length;
    out.tables = knex.tables;
    if (opts.stepwise) {
      const sdb = `${db}_s`;
      psql(`DROP DATABASE IF EXISTS ${sdb}`);
      psql(`CREATE DATABASE ${sdb}`);
      for (const s of chain.setupSql ?? []) psql(expand(s, ctx), sdb);
      const senv = { ...process.env, ...Object.fromEntries(Object.entries(chain.vars ?? {}).map(([k, v]) => [k, expand(v, { ...ctx, db: sdb, url: serverUrl(sdb) })])) };
      delete senv.NODE_OPTIONS;
      try {
        knex.stepwise = await stepwiseKnex(chain, senv, knex.migrations);
      } finally {
        psql(`DROP DATABASE IF EXISTS ${sdb} WITH (FORCE)`);
      }
      const f = Object.entries(knex.stepwise.down).filter(([, v]) => v.outcome === 'failed');
      console.error(
        `  knex up→down→up, migration by migration: ${Object.keys(knex.stepwise.down).length} downs run, ${f.length} fail${f.length ? ` (${f.map(([k]) => k).join(', ')})` : ''} (${knex.stepwise.ms} ms)`,
      );
    }
    console.error(
      `  knex ${knex.knexVersion}: ${knex.migrations.length} migrations, ${knex.tables} tables after latest; latest ${knex.latest.ok ? 'ok' : `FAILED at ${knex.latest.failedFile}: ${knex.latest.error}`} (${knex.latest.ms} ms); rollback --all ${knex.rollback.ok ? 'ok' : `FAILED at ${knex.rollback.failedFile}: ${knex.rollback.error}`} (${knex.rollback.ms} ms)`,
    );
    for (const shadow of opts.shadows.split(',')) {
      for (const command of opts.commands.split(',')) {
        const ks = await knexsafe(chain, env, command, shadow);
        const cmp = compare(knex, ks, chain.explained);
        const failed = Object.entries(ks.up)
          .filter(([, v]) => v.outcome === 'failed')
          .map(([k]) => k);
        const downFailed = Object.entries(ks.down)
          .filter(([, v]) => v.outcome === 'failed')
          .map(([k]) => k);
        out.runs.push({
          command,
          shadow,
          ms: ks.ms,
          code: ks.code,
          error: ks.error,
          summary: ks.summary,
          upFailed: failed,
          downFailed,
          notReversible: ks.notReversible,
          ...cmp,
          failures: Object.fromEntries([...failed.map((n) => [`${n}:up`, ks.up[n].error]), ...downFailed.map((n) => [`${n}:down`, ks.down[n].error])]),
        });
        console.error(
          `  knexsafe ${command} on ${shadow}: ${(ks.ms / 1000).toFixed(1)} s, exit ${ks.code}, ${cmp.compared} outcomes compared${cmp.notReachedByKnexsafe ? `, ${cmp.notReachedByKnexsafe} not reached after its failure` : ''}, ${cmp.agree ? 'AGREE' : 'DISAGREE'}${cmp.diffs.length ? `\n    ${cmp.diffs.map((d) => `${d.migration}: ${d.what}${d.explained ? ` [explained: ${d.explained}]` : ''}`).join('\n    ')}` : ''}`,
        );
      }
    }
  } finally {
    try {
      psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    } catch (e) {
      console.error(`  could not drop ${db}: ${e.message}`);
    }
    out.wallMs = Math.round(performance.now() - t0);
  }
  return out;
}

function knexOutcome(c, short = false) {
  const k = c.knex;
  if (!k || k.error) return `could not run: ${k?.error ?? '?'}`;
  // knex's message is `${sql} - ${message}`: the table keeps PostgreSQL's message, the chain's section all of it
  const msg = (e) => (short && e ? e.slice(e.lastIndexOf(' - ') + 3 || 0) : e);
  const up = k.latest.ok ? 'latest ok' : `latest fails at ${k.latest.failedFile}: ${msg(k.latest.error)}`;
  const down = !k.latest.ok && !k.latest.applied ? 'nothing to roll back' : k.rollback.ok ? 'rollback --all ok' : `rollback fails at ${k.rollback.failedFile}: ${msg(k.rollback.error)}`;
  return `${up}; ${down}`;
}

function render(all) {
  const esc = (s) =>
    String(s ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  const sec = (ms) => (ms == null ? '' : `${(ms / 1000).toFixed(1)} s`);
  const cell = (c, command, shadow) => {
    const r = c.runs?.find((x) => x.command === command && x.shadow === shadow);
    if (!r) return '—';
    const expl = r.diffs.filter((d) => d.explained).length;
    const verdict =
      (r.agree ? (expl ? `agree (${expl} explained)` : 'agree') : `**${r.diffs.filter((d) => !d.explained).length} differ**`) +
      ` (${r.compared} compared${r.notReachedByKnexsafe ? `, ${r.notReachedByKnexsafe} not reached` : ''})`;
    return `${verdict}, ${sec(r.ms)}`;
  };
  const lines = [
    `# knexsafe on real knex chains — ${path.basename(outName)}`,
    '',
    `Generated by \`node bench/real-chains/compare.mjs\` (see [bench/real-chains/README.md](../real-chains/README.md)). Machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}; server ${psql('SHOW server_version')}; Node ${process.version}.`,
    "Plain knex = the project's own knex CLI on a fresh server database: `migrate:latest`, then `migrate:rollback --all`.",
    'Times are wall times of whole CLI runs (process start, knexfile and shadow included) on a shared machine with other work running: they vary by up to 3× between runs.',
    "Tables: relations (tables, partitioned tables, in every user schema, knex's two bookkeeping tables included) after `migrate:latest`.",
    "Each knexsafe cell: agreement of every migration's outcome (up for check; up and down for verify) with plain knex, and wall time. Where the chain's section lists \"plain knex migration by migration\" (`--stepwise`), verify's downs were also compared with knex running each down right after its up.",
    '',
    '| chain | shape | knex | migrations | tables | plain knex (latest / rollback --all, time) | check embedded | check server | verify embedded | verify server |',
    '|---|---|---|---:|---:|---|---|---|---|---|',
  ];
  for (const c of all) {
    lines.push(
      `| ${esc(c.name)} | ${esc(c.shape)} | ${esc(c.knex?.knexVersion)} | ${c.migrations ?? ''} | ${c.tables ?? ''} | ${esc(knexOutcome(c, true))} (${sec(c.knex?.latest?.ms)} / ${sec(c.knex?.rollback?.ms)}) | ${cell(c, 'check', 'embedded')} | ${cell(c, 'check', 'server')} | ${cell(c, 'verify', 'embedded')} | ${cell(c, 'verify', 'server')} |`,
    );
  }
  lines.push('', '## Chains', '');
  for (const c of all) {
    lines.push(`### ${c.name}`, '', `${c.repo ?? ''} @ ${c.commit ?? ''}, ${c.path ?? ''}. Run: ${c.date ?? ''}, ${sec(c.wallMs)} in all.`, '');
    lines.push(`- plain knex ${c.knex?.knexVersion ?? ''}: ${esc(knexOutcome(c))}`);
    if (c.knex?.stepwise) {
      const f = Object.entries(c.knex.stepwise.down).filter(([, v]) => v.outcome === 'failed');
      lines.push(
        `- plain knex migration by migration (up, down, up: verify's order), ${sec(c.knex.stepwise.ms)}: ${Object.keys(c.knex.stepwise.down).length} downs run, ${f.length ? `${f.length} fail: ${f.map(([k, v]) => `${k} (${esc(v.error)})`).join('; ')}` : 'none fails'}`,
      );
    }
    for (const r of c.runs ?? []) {
      const fails = Object.entries(r.failures ?? {});
      const sum = r.summary
        ? r.command === 'check'
          ? `${r.summary.error} errors, ${r.summary.warning} warnings, ${r.summary.info} info`
          : `${r.summary.reversible} reversible, ${r.summary.notReversible} not reversible, ${r.summary.failed} failed`
        : '';
      lines.push(
        `- knexsafe ${r.command} (${r.shadow}): exit ${r.code}, ${sec(r.ms)}, ${sum}; ${r.compared} outcomes compared${r.notReachedByKnexsafe ? ` (${r.notReachedByKnexsafe} migrations after its failure not reached)` : ''}, ${r.agree ? 'agree' : 'DISAGREE'}${r.error ? `; error: ${esc(r.error)}` : ''}${fails.length ? `; reports failing: ${fails.map(([k, v]) => `${k} (${esc(v)})`).join('; ')}` : ''}`,
      );
      for (const d of r.diffs) lines.push(`  - ${esc(d.migration)}: ${esc(d.what)}${d.explained ? ` — explained: ${esc(d.explained)}` : ''}`);
    }
    if (c.notes) lines.push('', c.notes);
    lines.push('');
  }
  return lines.join('\n');
}

const date = new Date().toISOString().slice(0, 10);
const outName = path.join(opts['out-dir'], opts.name ?? `real-chains-${date}`);

if (opts.render) {
  fs.writeFileSync(`${outName}.md`, render(JSON.parse(fs.readFileSync(`${outName}.json`, 'utf8')).chains) + '\n');
  console.error(`wrote ${outName}.md`);
  process.exit(0);
}

let chains;
if (opts.chains) {
  const spec = JSON.parse(fs.readFileSync(opts.chains, 'utf8'));
  const only = opts.only?.split(',');
  chains = spec.chains.filter((c) => !only || only.includes(c.name)).map((c) => ({ ...c, dir: path.resolve(opts.root, c.name, c.dir ?? '.') }));
} else {
  const vars = Object.fromEntries(opts.set.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const dir = path.resolve(opts.dir);
  chains = [{ name: path.basename(dir), dir, knexfile: opts.knexfile, knexEnv: opts.env, vars }];
}

const results = [];
for (const chain of chains) {
  const r = await runChain(chain);
  r.date = new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  results.push(r);
}

if (opts.report) {
  fs.mkdirSync(opts['out-dir'], { recursive: true });
  let all = [];
  try {
    all = JSON.parse(fs.readFileSync(`${outName}.json`, 'utf8')).chains;
  } catch {
    /* first chain */
  }
  for (const r of results) {
    const slim = { ...r, knex: r.knex && { ...r.knex, steps: undefined } };
    const i = all.findIndex((c) => c.name === r.name);
    // a partial rerun (--commands / --shadows) keeps the runs it did not redo
    if (i >= 0) slim.runs = [...(all[i].runs ?? []).filter((o) => !slim.runs.some((x) => x.command === o.command && x.shadow === o.shadow)), ...slim.runs];
    slim.runs.sort((a, b) => a.shadow.localeCompare(b.shadow) || a.command.localeCompare(b.command));
    if (i >= 0) all[i] = slim;
    else all.push(slim);
  }
  fs.writeFileSync(`${outName}.json`, JSON.stringify({ generated: new Date().toISOString(), chains: all }, null, 1) + '\n');
  fs.writeFileSync(`${outName}.md`, render(all) + '\n');
  console.error(`\nwrote ${outName}.md and .json`);
} else {
  for (const r of results) console.log(JSON.stringify(r, null, 1));
}
const bad = results.some((r) => !r.knex || r.knex.error || r.runs.some((x) => !x.agree));
process.exit(bad ? 1 : 0);
