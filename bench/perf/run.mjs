#!/usr/bin/env node
// Times knexsafe verify and check on a ≥100-migration chain against plain knex on the same
// PostgreSQL server, in one run, and how fast a shadow database is ready.
// Usage: node bench/perf/run.mjs [--count 120] [--url postgresql://postgres@127.0.0.1:5432/postgres] [--repeat 3] [--name <results file suffix, default the date>]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const count = Number(flag('count', '120'));
const serverUrl = flag('url', process.env.KNEXSAFE_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const repeat = Number(flag('repeat', '3'));
const cli = path.join(root, 'dist/cli/main.js');
const knexCli = path.join(root, 'node_modules/knex/bin/cli.js');
if (!fs.existsSync(cli)) {
  console.error('dist/cli/main.js is missing: run npm run build first');
  process.exit(2);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-perf-'));
const chain = path.join(work, 'chain');
spawnSync(process.execPath, [path.join(root, 'bench/chains/generate.mjs'), chain, '--count', String(count)], { stdio: 'ignore' });

function psql(sql, db = serverUrl) {
  const r = spawnSync('psql', [db, '-Atqc', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}
function dbUrl(name) {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
function timed(cmd, argv, env = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'development', ...env }, cwd: chain });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, status: r.status, out: r.stdout, err: r.stderr };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const knexEnv = (url) => ({ DATABASE_URL: url, KNEX_PATH: path.join(root, 'node_modules/knex') });
const results = {};
let verifySummary = '';
function record(name, ms) {
  (results[name] ??= []).push(ms);
}

for (let i = 0; i < repeat; i++) {
  const db = `ks_perf_${process.pid}_${i}`;
  psql(`create database ${db}`);
  try {
    const url = dbUrl(db);
    const knex = (...a) => timed(process.execPath, [knexCli, ...a, '--knexfile', path.join(chain, 'knexfile.js')], knexEnv(url));
    const l1 = knex('migrate:latest');
    const rb = knex('migrate:rollback', '--all');
    const l2 = knex('migrate:latest');
    for (const r of [l1, rb, l2]) if (r.status !== 0) throw new Error(`knex failed: ${r.err || r.out}`);
    record('knex latest', l1.ms);
    record('knex latest + rollback --all + latest', l1.ms + rb.ms + l2.ms);
  } finally {
    psql(`drop database if exists ${db} with (force)`);
  }
  const ks = (...a) => timed(process.execPath, [cli, ...a, '--cwd', chain], {});
  const vServer = ks('verify', '--shadow-url', serverUrl, '--json');
  // Exit 1 = findings (the chain drops a table holding data on purpose); 2 = the tool failed.
  if (vServer.status !== 0 && vServer.status !== 1) throw new Error(`verify failed (${vServer.status}): ${vServer.err.slice(0, 500)}`);
  const verdicts = JSON.parse(vServer.out).migrations ?? [];
  verifySummary = `${verdicts.length} migrations, ${verdicts.filter((m) => m.reversible).length} reversible`;
  record('knexsafe verify (server shadow)', vServer.ms);
  const cServer = ks('check', '--all', '--shadow-url', serverUrl, '--json', '--max-severity', 'none');
  if (cServer.status !== 0) throw new Error(`check failed: ${cServer.err}`);
  record('knexsafe check --all (server shadow)', cServer.ms);
  const vEmbedded = ks('verify', '--json');
  record('knexsafe verify (embedded shadow)', vEmbedded.ms);
  const cEmbedded = ks('check', '--all', '--json', '--max-severity', 'none');
  record('knexsafe check --all (embedded shadow)', cEmbedded.ms);
}

// Ready shadow: in process, as the commands see it.
const { createShadow } = await import(path.join(root, 'dist/shadow/shadow.js'));
const ready = { embedded: [], server: [] };
for (let i = 0; i < 5; i++) {
  const e = await createShadow();
  ready.embedded.push(e.readyMs);
  await e.close();
  const s = await createShadow({ serverUrl });
  ready.server.push(s.readyMs);
  await s.close();
}

const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
const baseVerify = m['knex latest + rollback --all + latest'];
const baseCheck = m['knex latest'];
const rows = [
  ['knex latest', baseCheck, ''],
  ['knex latest + rollback --all + latest', baseVerify, ''],
  ['knexsafe verify (server shadow)', m['knexsafe verify (server shadow)'], (m['knexsafe verify (server shadow)'] / baseVerify).toFixed(2) + '× (target ≤ 3×)'],
  ['knexsafe verify (embedded shadow)', m['knexsafe verify (embedded shadow)'], (m['knexsafe verify (embedded shadow)'] / baseVerify).toFixed(2) + '×'],
  ['knexsafe check --all (server shadow)', m['knexsafe check --all (server shadow)'], (m['knexsafe check --all (server shadow)'] / baseCheck).toFixed(2) + '× (target ≤ 2×)'],
  ['knexsafe check --all (embedded shadow)', m['knexsafe check --all (embedded shadow)'], (m['knexsafe check --all (embedded shadow)'] / baseCheck).toFixed(2) + '×'],
];
const version = psql('select version()');
const cpu = os.cpus()[0]?.model ?? 'unknown';
const lines = [
  `# knexsafe performance — ${new Date().toISOString().slice(0, 10)}`,
  '',
  `Chain: ${count} migrations from bench/chains/generate.mjs. Server: ${version}. Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}.`,
  `verify's verdict on the chain: ${verifySummary}.`,
  `Each row is the median of ${repeat} runs of the whole command (process start included), measured in one run of this script.`,
  '',
  '| what | median wall time | ratio |',
  '|---|---:|---|',
  ...rows.map(([name, ms, ratio]) => `| ${name} | ${(ms / 1000).toFixed(2)} s | ${ratio} |`),
  '',
  `Ready shadow (in process, median of 5): embedded ${median(ready.embedded).toFixed(0)} ms (runs: ${ready.embedded.map((x) => x.toFixed(0)).join(', ')}), server ${median(ready.server).toFixed(0)} ms. Target for embedded: < 1000 ms.`,
  '',
];
const text = lines.join('\n');
console.log(text);
const outDir = path.join(root, 'bench/results');
fs.mkdirSync(outDir, { recursive: true });
const stamp = flag('name', new Date().toISOString().slice(0, 10));
fs.writeFileSync(path.join(outDir, `perf-${stamp}.md`), text);
fs.writeFileSync(path.join(outDir, `perf-${stamp}.json`), JSON.stringify({ count, repeat, version, results, ready }, null, 2));
fs.rmSync(work, { recursive: true, force: true });
