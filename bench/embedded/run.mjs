#!/usr/bin/env node
// The embedded shadow against plain knex and against another build (issue 21 point 2), whole
// processes, interleaved so that both builds see the same load: cold `check --all` on a generated
// chain (wall, CPU, peak RSS), plain `knex migrate:latest` on the server in the same run, and a warm
// `check --all`/`verify` of a longer chain after editing only its newest migration.
// Usage: node bench/embedded/run.mjs [--base <another checkout with dist/ built>] [--count 120]
//   [--warm-count 300] [--commands check,verify] [--repeat 3] [--url postgresql://postgres@127.0.0.1:5432/postgres] [--name <suffix>]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtCli, flag, root } from '../args.mjs';

const count = Number(flag('count', '120'));
const warmCount = Number(flag('warm-count', '300'));
const repeat = Number(flag('repeat', '3'));
const serverUrl = flag('url', process.env.KNEXSAFE_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const base = flag('base', undefined);
const commands = flag('commands', 'check,verify').split(',');
const name = flag('name', new Date().toISOString().slice(0, 10));
const builds = { this: builtCli(), ...(base ? { base: path.join(path.resolve(base), 'dist/cli/main.js') } : {}) };
const loadAtStart = os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' / ');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-embedded-bench-'));
const generate = (dir, n) => spawnSync(process.execPath, [path.join(root, 'bench/chains/generate.mjs'), dir, '--count', String(n)], { stdio: 'ignore' });
const cold = path.join(work, 'cold');
const warm = path.join(work, 'warm');
generate(cold, count);
generate(warm, warmCount);
const newest = path.join(warm, 'migrations', fs.readdirSync(path.join(warm, 'migrations')).sort().at(-1));

/** Wall ms, CPU ms (user + sys) and peak RSS (MB) of one whole process, from GNU time. */
function timed(argv, cwd, env = {}) {
  const stats = path.join(work, 'time');
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', stats, process.execPath, ...argv], { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1', ...env } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const [user, sys, rss] = fs.readFileSync(stats, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { ms, cpuMs: (user + sys) * 1000, rssMb: rss / 1024, status: r.status, out: r.stdout, err: r.stderr };
}
const normalised = (out) => {
  const json = JSON.parse(out);
  delete json.durationMs;
  delete json.shadowReadyMs;
  for (const m of json.migrations ?? []) delete m.timings;
  return JSON.stringify(json);
};
const psql = (sql) => spawnSync('psql', [serverUrl, '-Atqc', sql], { encoding: 'utf8' });
const results = {};
const record = (key, r) => {
  const row = (results[key] ??= { ms: [], cpuMs: [], rssMb: [] });
  row.ms.push(r.ms);
  row.cpuMs.push(r.cpuMs);
  row.rssMb.push(r.rssMb);
};
const problems = [];
const CHECK = ['check', '--all', '--json', '--max-severity', 'none'];
const caches = Object.fromEntries(Object.keys(builds).map((b) => [b, fs.mkdtempSync(path.join(work, `cache-${b}-`))]));
// Fill each build's cache once (not timed): the warm runs below start from it.
for (const [b, cli] of Object.entries(builds)) {
  for (const command of commands) timed([cli, ...(command === 'check' ? CHECK : ['verify', '--json'])], warm, { KNEXSAFE_STATE_CACHE_DIR: caches[b] });
}
let edits = 0;
for (let i = 0; i < repeat; i++) {
  const db = `ks_embedded_bench_${process.pid}_${i}`;
  psql(`create database ${db}`);
  try {
    const url = new URL(serverUrl);
    url.pathname = `/${db}`;
    const r = timed([path.join(root, 'node_modules/knex/bin/cli.js'), 'migrate:latest', '--knexfile', path.join(cold, 'knexfile.js')], cold, {
      DATABASE_URL: url.toString(),
      KNEX_PATH: path.join(root, 'node_modules/knex'),
    });
    if (r.status !== 0) throw new Error(`knex failed: ${r.err}`);
    record('knex migrate:latest (server)', r);
  } finally {
    psql(`drop database if exists ${db} with (force)`);
  }
  const outputs = {};
  for (const [b, cli] of Object.entries(builds)) {
    const r = timed([cli, ...CHECK, '--no-cache'], cold);
    if (r.status !== 0) throw new Error(`${b} check failed (${r.status}): ${r.err.slice(0, 400)}`);
    record(`${b}: check --all, embedded, cold`, r);
    outputs[b] = normalised(r.out);
  }
  if (outputs.base !== undefined && outputs.base !== outputs.this) problems.push(`repeat ${i + 1}: the two builds' check output differs`);
  fs.appendFileSync(newest, `\n// edit ${++edits}\n`);
  for (const [command, args] of [
    ['check', CHECK],
    ['verify', ['verify', '--json']],
  ].filter(([c]) => commands.includes(c))) {
    for (const [b, cli] of Object.entries(builds)) {
      const env = { KNEXSAFE_STATE_CACHE_DIR: caches[b] };
      const r = timed([cli, ...args], warm, env);
      if (r.status !== 0 && r.status !== 1) throw new Error(`${b} ${command} failed (${r.status}): ${r.err.slice(0, 400)}`);
      record(`${b}: ${command} warm, newest of ${warmCount} edited`, r);
      if (i === 0 && b === 'this') {
        const reference = timed([cli, ...args, '--no-cache'], warm, env);
        if (normalised(reference.out) !== normalised(r.out)) problems.push(`${command}: warm output differs from cold`);
      }
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const knexMs = median(results['knex migrate:latest (server)'].ms);
const lines = [
  `| what | wall (median) | × knex latest | CPU user+sys | peak RSS | wall, each run |`,
  '|---|--:|--:|--:|--:|---|',
  ...Object.entries(results).map(
    ([what, r]) =>
      `| ${what} | ${(median(r.ms) / 1000).toFixed(2)} s | ${(median(r.ms) / knexMs).toFixed(2)}× | ${(median(r.cpuMs) / 1000).toFixed(2)} s | ${median(r.rssMb).toFixed(0)} MB | ${r.ms.map((x) => (x / 1000).toFixed(2)).join(', ')} |`,
  ),
];
const text = [
  `Chains: bench/chains/generate.mjs --count ${count} (cold) and --count ${warmCount} (warm). Builds: ${Object.entries(builds)
    .map(([b, cli]) => `${b} = ${path.relative(process.cwd(), cli) || cli}`)
    .join(', ')}. ${repeat} repeats, interleaved. Load average at start ${loadAtStart}, at the end ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')}.`,
  '',
  ...lines,
  '',
  problems.length ? `Problems: ${problems.join('; ')}` : 'Outputs: the builds agree, and warm output equals cold.',
  '',
].join('\n');
console.log(text);
fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(root, `bench/results/embedded-ab-${name}.md`), text);
fs.writeFileSync(path.join(root, `bench/results/embedded-ab-${name}.json`), JSON.stringify({ count, warmCount, repeat, builds, results, problems }, null, 2));
fs.rmSync(work, { recursive: true, force: true });
