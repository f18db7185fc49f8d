#!/usr/bin/env node
// Fleet run vs a shell loop (issue 26): the same 50 fresh databases migrated by
//   for url in …; do DATABASE_URL=$url npx knex migrate:latest; done
// and by one `knexsafe latest --targets <file> --concurrency 4` (its check on a shadow runs once,
// since every database starts at the same state). Alternating order each round, fresh databases
// for every run; medians of --repeat rounds.
// Usage: node bench/fleet/run.mjs [--count 50] [--repeat 3] [--concurrency 4] [--url postgres://postgres@127.0.0.1:5432/postgres] [--name <suffix>]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { builtCli, flag, root } from '../args.mjs';

const count = Number(flag('count', '50'));
const repeat = Number(flag('repeat', '3'));
const concurrency = Number(flag('concurrency', '4'));
const serverUrl = flag('url', process.env.KNEXSAFE_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const name = flag('name', new Date().toISOString().slice(0, 10));
const built = path.join(root, 'dist');
const project = path.join(root, 'bench/fleet/project');
builtCli();
// The CLI as built when the bench started: a rebuild meanwhile would swap its lazily loaded chunks
// under a running fleet. Inside the repository, so its packages resolve from node_modules.
const snapshot = path.join(root, 'bench/fleet', `.dist-${process.pid}`);
fs.cpSync(built, snapshot, { recursive: true });
process.on('exit', () => fs.rmSync(snapshot, { recursive: true, force: true }));
const cli = path.join(snapshot, 'cli/main.js');
const migrations = fs.readdirSync(path.join(project, 'migrations')).sort();

const urlFor = (db) => {
  const u = new URL(serverUrl);
  u.pathname = `/${db}`;
  return u.toString();
};
async function admin(sqls) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    for (const sql of sqls) await client.query(sql);
  } finally {
    await client.end();
  }
}
const prefix = `ks_fleetbench_${process.pid}`;
const dbNames = (run) => Array.from({ length: count }, (_, i) => `${prefix}_${run}_${i}`);
const create = (dbs) => admin(dbs.map((d) => `create database "${d}"`));
const drop = (dbs) => admin(dbs.map((d) => `drop database if exists "${d}" with (force)`));

async function allMigrated(dbs) {
  for (const db of dbs) {
    const client = new pg.Client({ connectionString: urlFor(db) });
    await client.connect();
    try {
      const rows = (await client.query('select name from knex_migrations order by id')).rows.map((r) => r.name);
      if (rows.join() !== migrations.join()) throw new Error(`${db}: applied ${rows.join(', ')}`);
    } finally {
      await client.end();
    }
  }
}

function timed(command, argv, env) {
  const started = process.hrtime.bigint();
  const r = spawnSync(command, argv, { cwd: project, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${command} ${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { ms, stdout: r.stdout };
}

async function runKnexLoop(run) {
  const dbs = dbNames(run);
  await create(dbs);
  try {
    const file = path.join(os.tmpdir(), `ks-fleetbench-${process.pid}-${run}.txt`);
    fs.writeFileSync(file, `${dbs.map(urlFor).join('\n')}\n`);
    // The loop as a shell script people write: one `npx knex migrate:latest` per database.
    const { ms } = timed('bash', ['-c', `while read -r url; do DATABASE_URL="$url" npx --no-install knex migrate:latest --knexfile knexfile.cjs >/dev/null || exit 1; done < "${file}"`]);
    fs.rmSync(file);
    await allMigrated(dbs);
    return ms;
  } finally {
    await drop(dbs);
  }
}

async function runFleet(run, extra = []) {
  const dbs = dbNames(run);
  await create(dbs);
  try {
    const file = path.join(os.tmpdir(), `ks-fleetbench-${process.pid}-${run}.txt`);
    fs.writeFileSync(file, `${dbs.map(urlFor).join('\n')}\n`);
    const { ms, stdout } = timed(process.execPath, [cli, 'latest', '--targets', file, '--concurrency', String(concurrency), '--json', ...extra], { DATABASE_URL: serverUrl });
    fs.rmSync(file);
    const report = JSON.parse(stdout);
    if (!report.ok) throw new Error('fleet run failed');
    await allMigrated(dbs);
    return { ms, checks: report.checks.length, checkMs: report.checks.reduce((s, c) => s + c.durationMs, 0) };
  } finally {
    await drop(dbs);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const knexMs = [];
const fleetMs = [];
const fleetNoCheckMs = [];
let checks = 0;
const checkMs = [];
const loads = [];
for (let round = 0; round < repeat; round++) {
  loads.push(os.loadavg()[0]);
  const order = round % 2 === 0 ? ['knex', 'fleet', 'nocheck'] : ['nocheck', 'fleet', 'knex'];
  for (const which of order) {
    if (which === 'knex') knexMs.push(await runKnexLoop(`k${round}`));
    else if (which === 'fleet') {
      const r = await runFleet(`f${round}`);
      fleetMs.push(r.ms);
      checks = r.checks;
      checkMs.push(r.checkMs);
    } else fleetNoCheckMs.push((await runFleet(`n${round}`, ['--no-check'])).ms);
    console.error(`round ${round + 1}: ${which} done`);
  }
  loads.push(os.loadavg()[0]);
}

const result = {
  date: new Date().toISOString(),
  databases: count,
  migrations: migrations.length,
  concurrency,
  repeat,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  loadAverages: loads.map((l) => Math.round(l * 10) / 10),
  knexLoopMs: knexMs.map(Math.round),
  fleetMs: fleetMs.map(Math.round),
  fleetNoCheckMs: fleetNoCheckMs.map(Math.round),
  checksPerFleetRun: checks,
  checkMs: checkMs.map(Math.round),
  median: { knexLoopMs: Math.round(median(knexMs)), fleetMs: Math.round(median(fleetMs)), fleetNoCheckMs: Math.round(median(fleetNoCheckMs)) },
};
result.speedup = Math.round((median(knexMs) / median(fleetMs)) * 10) / 10;
result.speedupNoCheck = Math.round((median(knexMs) / median(fleetNoCheckMs)) * 10) / 10;

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const md = `# Fleet run vs a shell loop of knex migrate:latest — ${name}

${count} fresh databases, ${migrations.length} small migrations each (\`bench/fleet/project\`), PostgreSQL at
${new URL(serverUrl).host}. Every run gets fresh databases; the order alternates each round. Medians of ${repeat} rounds.

| runner | median | runs |
|---|---|---|
| \`for url in …; do DATABASE_URL=$url npx knex migrate:latest; done\` | ${s(result.median.knexLoopMs)} | ${knexMs.map(s).join(', ')} |
| \`knexsafe latest --targets <file> --concurrency ${concurrency}\` (check once on a shadow) | ${s(result.median.fleetMs)} | ${fleetMs.map(s).join(', ')} |
| the same with \`--no-check\` | ${s(result.median.fleetNoCheckMs)} | ${fleetNoCheckMs.map(s).join(', ')} |

**Speed-up: ${result.speedup}× with the check (${result.speedupNoCheck}× without).** The fleet run checked the
pending migrations ${checks === 1 ? 'once' : `${checks} times`} for all ${count} databases (they start at the same state):
${checkMs.map(s).join(', ')} of each run. knex's loop starts Node, loads knex and connects ${count} times; the fleet
starts once and migrates ${concurrency} databases at a time, each under knex's lock and knexsafe's run lock.

Machine: ${result.cpus} × ${result.cpuModel}; load average (1 min) at the start and end of each round:
${result.loadAverages.join(', ')}. **The machine was shared with other jobs during this run**, so absolute times are
noisy (and slower than on an idle machine); both runners ran interleaved under the same conditions.

Reproduce: \`npm run build && node bench/fleet/run.mjs\` (options: --count, --repeat, --concurrency, --url).
`;
fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(root, `bench/results/fleet-${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
fs.writeFileSync(path.join(root, `bench/results/fleet-${name}.md`), md);
console.log(md);
