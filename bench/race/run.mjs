#!/usr/bin/env node
// Two `knexsafe latest` processes started together on one database, N rounds (default 100): counts
// how often exactly one applies and the other exits 1 naming the lock, double applies, stuck locks.
// Usage: node bench/race/run.mjs [--rounds 100] [--url postgresql://postgres@127.0.0.1:5432/postgres]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const rounds = Number(flag('rounds', '100'));
const serverUrl = flag('url', process.env.KNEXSAFE_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const cli = path.join(root, 'dist/cli/main.js');
if (!fs.existsSync(cli)) {
  console.error('dist/cli/main.js is missing: run npm run build first');
  process.exit(2);
}
const dbName = `ks_race_${process.pid}`;
const dbUrl = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();
const psql = (sql, url = dbUrl) => {
  const r = spawnSync('psql', [url, '-Atqc', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
};

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-race-'));
fs.mkdirSync(path.join(work, 'migrations'));
// The two processes meet at a barrier in the knexfile (loaded before knexsafe takes its run lock), so
// Node start-up jitter does not decide who goes first.
fs.writeFileSync(
  path.join(work, 'knexfile.js'),
  `const fs = require('fs');\nconst path = require('path');\nmodule.exports = async () => {\n  const b = process.env.KS_BARRIER;\n  fs.writeFileSync(path.join(b, 'ready-' + process.pid), '');\n  while (!fs.existsSync(path.join(b, 'go'))) await new Promise((r) => setTimeout(r, 5));\n  return { client: 'pg', connection: ${JSON.stringify(dbUrl)} };\n};\n`,
);
// No IF NOT EXISTS: a second apply would fail loudly.
fs.writeFileSync(
  path.join(work, 'migrations/20240101000000_create_raced.js'),
  `exports.up = async (knex) => { await knex.raw('create table raced (id int)'); await knex.raw('select pg_sleep(0.2)'); };\nexports.down = (knex) => knex.raw('drop table raced');\n`,
);

function run(barrier) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'latest', '--cwd', work, '--no-check'], { env: { ...process.env, NO_COLOR: '1', KS_BARRIER: barrier } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

psql(`drop database if exists ${dbName}`, serverUrl);
psql(`create database ${dbName}`, serverUrl);
const tally = { oneApplied: 0, doubleApply: 0, noneApplied: 0, lockedMessage: 0, stuckLock: 0, leftAdvisory: 0, other: [] };
const started = performance.now();
try {
  for (let round = 0; round < rounds; round++) {
    psql(`drop table if exists raced; do $$ begin if to_regclass('knex_migrations') is not null then delete from knex_migrations; end if; end $$`);
    const barrier = fs.mkdtempSync(path.join(work, 'barrier-'));
    const running = [run(barrier), run(barrier)];
    const until = Date.now() + 60_000;
    while (fs.readdirSync(barrier).filter((f) => f.startsWith('ready-')).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    fs.writeFileSync(path.join(barrier, 'go'), '');
    const results = await Promise.all(running);
    const ok = results.filter((r) => r.code === 0 && /Applied batch 1: 1 migration/.test(r.stdout));
    const locked = results.filter((r) => r.code === 1 && /Another knexsafe run is migrating this database/.test(r.stderr));
    const [applied, isLocked, advisory] = psql(
      `select (select count(*) from knex_migrations), (select coalesce(sum(is_locked), 0) from knex_migrations_lock), (select count(*) from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database()))`,
    )
      .split('|')
      .map(Number);
    if (ok.length === 1) tally.oneApplied++;
    else if (ok.length === 2 || applied > 1) tally.doubleApply++;
    else tally.noneApplied++;
    if (locked.length === 1) tally.lockedMessage++;
    if (isLocked > 0) tally.stuckLock++;
    if (advisory > 0) tally.leftAdvisory++;
    if (ok.length !== 1 || locked.length !== 1) tally.other.push({ round, results: results.map((r) => ({ code: r.code, stderr: r.stderr.slice(0, 300) })) });
    process.stderr.write(`\rround ${round + 1}/${rounds}`);
  }
} finally {
  psql(`drop database if exists ${dbName} with (force)`, serverUrl);
  fs.rmSync(work, { recursive: true, force: true });
}
const seconds = (performance.now() - started) / 1000;
const lines = [
  `# Two \`knexsafe latest\` processes at once — ${new Date().toISOString().slice(0, 10)}`,
  '',
  `${rounds} rounds on one PostgreSQL database (${psql('show server_version', serverUrl)}), two CLI processes released together from a barrier each round; ${seconds.toFixed(0)} s in all. Machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores.`,
  '',
  '| outcome | rounds |',
  '|---|--:|',
  `| exactly one applied (exit 0) | ${tally.oneApplied} |`,
  `| the other exited 1 naming the run that holds the lock | ${tally.lockedMessage} |`,
  `| migration applied twice | ${tally.doubleApply} |`,
  `| neither applied | ${tally.noneApplied} |`,
  `| knex_migrations_lock left locked | ${tally.stuckLock} |`,
  `| advisory run lock left held | ${tally.leftAdvisory} |`,
  '',
  ...(tally.other.length ? ['Rounds that did not go as expected:', '', '```json', JSON.stringify(tally.other, null, 2), '```', ''] : []),
];
const text = lines.join('\n');
console.log(`\n${text}`);
const out = path.join(root, 'bench/results', `race-${new Date().toISOString().slice(0, 10)}.md`);
fs.writeFileSync(out, text);
process.exitCode = tally.oneApplied === rounds && tally.lockedMessage === rounds && tally.stuckLock === 0 && tally.leftAdvisory === 0 ? 0 : 1;
