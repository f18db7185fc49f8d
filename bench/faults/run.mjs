#!/usr/bin/env node
// Fault bench: `knexsafe latest` killed with SIGKILL at a random moment, N rounds (default 50), on a
// chain mixing transactional and `transaction: false` migrations. After each kill: `knexsafe doctor`,
// its suggested fix (its commands, in order), then `knexsafe latest` to finish and `knexsafe doctor`
// again. A round is healthy when the last doctor finds nothing, every migration is applied once,
// no data is lost or doubled, and no lock or shadow is left behind.
// Usage: node bench/faults/run.mjs [--rounds 50] [--seed 1] [--url postgresql://postgres@127.0.0.1:5432/postgres]
//        [--cli dist/cli/main.js] [--name faults-<date>] [--doctor-shadow server|embedded] [--parallel 1]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { EXPECTED, MIGRATIONS } from './chain.mjs';

const pg = createRequire(import.meta.url)('pg');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const rounds = Number(flag('rounds', '50'));
let seed = Number(flag('seed', '1'));
const serverUrl = flag('url', process.env.KNEXSAFE_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const cli = path.resolve(root, flag('cli', 'dist/cli/main.js'));
const name = flag('name', `faults-${new Date().toISOString().slice(0, 10)}`);
if (!fs.existsSync(cli)) {
  console.error(`${path.relative(root, cli)} is missing: run npm run build first`);
  process.exit(2);
}

/** mulberry32: the kill moments are reproducible from --seed. */
function random() {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const psqlOn = (url, sql) => {
  const r = spawnSync('psql', [url, '-Atqc', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
};
const psqlServer = (sql) => psqlOn(serverUrl, sql);

/** A database and a project of its own: --parallel runs rounds in several lanes at once. */
function makeLane(index) {
  const dbName = `ks_faults_${process.pid}_${index}`;
  const dbUrl = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-faults-'));
  fs.mkdirSync(path.join(work, 'migrations'));
  fs.writeFileSync(path.join(work, 'knexfile.js'), `module.exports = { client: 'pg', connection: ${JSON.stringify(dbUrl)} };\n`);
  for (const [file, text] of Object.entries(MIGRATIONS)) fs.writeFileSync(path.join(work, 'migrations', file), text);
  return { dbName, dbUrl, work, psql: (sql) => psqlOn(dbUrl, sql) };
}
// doctor's shadow: a database on the server by default (seconds faster than starting the embedded one).
const doctorArgs = flag('doctor-shadow', 'server') === 'embedded' ? [] : ['--shadow-url', serverUrl];
const cleanEnv = { ...process.env, NO_COLOR: '1', DATABASE_URL: undefined };
const parallel = Number(flag('parallel', '1'));

/**
 * Runs the CLI. With `killAfterMs`, sends SIGKILL that long after the first migration started
 * (seen as a session named `knexsafe:<file>` in pg_stat_activity): Node's start-up takes seconds
 * on a busy machine, and a kill during it only tests that nothing happened.
 */
function knexsafe(lane, cliArgs, killAfterMs) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, ...cliArgs, '--cwd', lane.work], { env: cleanEnv });
    let stdout = '';
    let stderr = '';
    let exited = false;
    let migratingAt;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (killAfterMs !== undefined) {
      void (async () => {
        const probe = new pg.Client({ connectionString: serverUrl });
        await probe.connect();
        try {
          while (!exited) {
            const rows = (await probe.query("select 1 from pg_stat_activity where datname = $1 and application_name like 'knexsafe:2%'", [lane.dbName])).rows;
            if (rows.length) break;
            await new Promise((r) => setTimeout(r, 10));
          }
        } finally {
          await probe.end();
        }
        migratingAt = performance.now() - started;
        if (!exited) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      })();
    }
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started, migratingAt });
    });
  });
}

function json(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Where the run stood when it was killed: the history rows and what the chain had done. */
function stateAfterKill({ psql }) {
  const hasHistory = psql("select to_regclass('knex_migrations') is not null") === 't';
  const applied = hasHistory ? Number(psql('select count(*) from knex_migrations')) : 0;
  const locked = hasHistory && psql("select to_regclass('knex_migrations_lock') is not null") === 't' ? Number(psql('select coalesce(sum(is_locked), 0) from knex_migrations_lock')) : 0;
  return { applied, locked };
}

/** Runs a doctor finding's commands: `knexsafe …` through the CLI, SQL statements through psql. */
async function applyFix(lane, findings, log) {
  for (const f of findings) {
    for (const command of f.commands ?? []) {
      if (/^knexsafe doctor\b/.test(command)) continue; // the bench runs doctor itself afterwards
      if (command.startsWith('knexsafe ')) {
        const r = await knexsafe(lane, command.slice('knexsafe '.length).split(/\s+/).filter(Boolean));
        log.push({ command, code: r.code, ...(r.code ? { stderr: r.stderr.slice(0, 400) } : {}) });
      } else if (command.trimEnd().endsWith(';')) {
        const r = spawnSync('psql', [lane.dbUrl, '-Atqc', command], { encoding: 'utf8' });
        log.push({ command, code: r.status, ...(r.status ? { stderr: r.stderr.slice(0, 400) } : {}) });
      } else {
        log.push({ command, skipped: 'not a knexsafe command or SQL statement: left for a person' });
      }
    }
  }
}

function leftovers({ psql }) {
  const advisory = Number(psql("select count(*) from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())"));
  return { advisory };
}

async function round(lane, round, killAt) {
  const { psql, dbName } = lane;
  psqlServer(`drop database if exists ${dbName} with (force)`);
  psqlServer(`create database ${dbName}`);
  const killed = await knexsafe(lane, ['latest', '--no-check'], killAt);
  const atKill = stateAfterKill(lane);
  const doctor = await knexsafe(lane, ['doctor', '--json', ...doctorArgs]);
  const report = json(doctor.stdout);
  const problems = (report?.findings ?? []).filter((f) => f.severity !== 'info');
  const fixLog = [];
  await applyFix(lane, problems, fixLog);
  const finish = await knexsafe(lane, ['latest', '--no-check', '--json']);
  const finalDoctor = await knexsafe(lane, ['doctor', '--json', ...doctorArgs]);
  const finalReport = json(finalDoctor.stdout);
  const applied = Number(psql("select case when to_regclass('knex_migrations') is null then 0 else (select count(*) from knex_migrations) end"));
  const distinct = Number(psql("select case when to_regclass('knex_migrations') is null then 0 else (select count(distinct name) from knex_migrations) end"));
  const lost = [];
  for (const [label, sql, expected] of EXPECTED.checks) {
    let got;
    try {
      got = Number(psql(sql));
    } catch (error) {
      got = `error: ${String(error.message).trim().split('\n')[0]}`;
    }
    if (got !== expected) lost.push({ check: label, expected, got });
  }
  const left = leftovers(lane);
  const healthy = finalReport?.ok === true && applied === EXPECTED.migrations && distinct === applied && lost.length === 0 && left.advisory === 0 && stateAfterKill(lane).locked === 0;
  const result = {
    round,
    killAtMs: killAt,
    exited: killed.signal ?? `exit ${killed.code}`,
    appliedAtKill: atKill.applied,
    lockSetAtKill: atKill.locked > 0,
    doctor: { exit: doctor.code, findings: problems.map((f) => f.id), ...(report ? {} : { output: doctor.stderr.slice(0, 400) }) },
    fix: fixLog,
    finish: { exit: finish.code, ...(finish.code ? { error: json(finish.stdout)?.error?.message ?? finish.stderr.slice(0, 400) } : {}) },
    finalDoctor: { ok: finalReport?.ok ?? null, findings: (finalReport?.findings ?? []).filter((f) => f.severity !== 'info').map((f) => f.id) },
    applied,
    lost,
    leftovers: left,
    healthy,
  };
  process.stderr.write(`round ${round + 1}/${rounds}: kill at ${killAt} ms, ${atKill.applied} applied, doctor [${result.doctor.findings.join(', ')}] → ${healthy ? 'healthy' : 'NOT healthy'}\n`);
  return result;
}

const lanes = Array.from({ length: parallel }, (_, i) => makeLane(i));
const version = psqlServer('show server_version');
const results = [];
const started = performance.now();
let calibrationMs = 0;
try {
  // How long the chain runs once the first migration has started: the kills are drawn over that.
  const first = lanes[0];
  psqlServer(`drop database if exists ${first.dbName} with (force)`);
  psqlServer(`create database ${first.dbName}`);
  const timed = await knexsafe(first, ['latest', '--no-check'], 1e9);
  if (timed.code !== 0) throw new Error(`the uninterrupted run failed:\n${timed.stderr}`);
  calibrationMs = timed.ms - timed.migratingAt;
  const kills = Array.from({ length: rounds }, () => Math.round(random() * calibrationMs));
  let next = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      while (next < rounds) {
        const n = next++;
        results.push(await round(lane, n, kills[n]));
      }
    }),
  );
  results.sort((a, b) => a.round - b.round);
} finally {
  for (const lane of lanes) {
    psqlServer(`drop database if exists ${lane.dbName} with (force)`);
    fs.rmSync(lane.work, { recursive: true, force: true });
  }
}

const seconds = (performance.now() - started) / 1000;
const healthy = results.filter((r) => r.healthy).length;
const byFindings = new Map();
for (const r of results) {
  const key = r.doctor.findings.length ? r.doctor.findings.join(' + ') : '(none: healthy as left)';
  byFindings.set(key, (byFindings.get(key) ?? 0) + 1);
}
const lostRounds = results.filter((r) => r.lost.length);
const lines = [
  `# Fault bench: \`knexsafe latest\` killed with SIGKILL — ${new Date().toISOString().slice(0, 10)}`,
  '',
  `**${healthy}/${results.length} rounds ended healthy.** ${lostRounds.length ? `${lostRounds.length} round${lostRounds.length === 1 ? '' : 's'} lost or doubled data (below).` : 'No data lost or doubled in any round.'}`,
  '',
  `${results.length} rounds on PostgreSQL ${version}, ${parallel} at a time (each on its own database); ${seconds.toFixed(0)} s in all; an uninterrupted \`latest --no-check\` ran its migrations in ${(calibrationMs / 1000).toFixed(2)} s (from the first migration's start to the process's exit), and each kill came at a uniformly random moment of that window after the first migration started (seed ${flag('seed', '1')}; a kill drawn after the end of a faster run finds it finished). \`knexsafe doctor\` ran with \`${doctorArgs.join(' ') || '(embedded shadow)'}\`. Machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, shared with other work.`,
  '',
  `Chain (bench/faults/chain.mjs): ${Object.keys(MIGRATIONS).length} migrations, ${Object.values(MIGRATIONS).filter((t) => t.includes('transaction: false')).length} of them \`transaction: false\`, so knex runs each on its own and commits knex_migrations_lock before the first.`,
  '',
  '| where the kill left the database | rounds |',
  '|---|--:|',
  ...Array.from({ length: EXPECTED.migrations + 1 }, (_, n) => [n, results.filter((r) => r.appliedAtKill === n).length])
    .filter(([, c]) => c)
    .map(([n, c]) => `| ${n} of ${EXPECTED.migrations} migrations recorded | ${c} |`),
  `| knex_migrations_lock left set | ${results.filter((r) => r.lockSetAtKill).length} |`,
  '',
  '| what `knexsafe doctor` found after the kill | rounds |',
  '|---|--:|',
  ...[...byFindings].sort((a, b) => b[1] - a[1]).map(([k, c]) => `| ${k} | ${c} |`),
  '',
  "| after doctor's fix and `knexsafe latest` | rounds |",
  '|---|--:|',
  `| final \`knexsafe doctor\` healthy | ${results.filter((r) => r.finalDoctor.ok === true).length} |`,
  `| all ${EXPECTED.migrations} migrations applied exactly once | ${results.filter((r) => r.applied === EXPECTED.migrations).length} |`,
  `| data as expected (${EXPECTED.checks.map((c) => c[0]).join(', ')}) | ${results.length - lostRounds.length} |`,
  `| knexsafe's advisory run lock left held | ${results.filter((r) => r.leftovers.advisory > 0).length} |`,
  `| a fix command failed | ${results.filter((r) => r.fix.some((f) => f.code)).length} |`,
  `| a fix command left for a person | ${results.filter((r) => r.fix.some((f) => f.skipped)).length} |`,
  '',
  ...(results.some((r) => !r.healthy)
    ? [
        'Rounds that did not end healthy:',
        '',
        '```json',
        JSON.stringify(
          results.filter((r) => !r.healthy),
          null,
          2,
        ),
        '```',
        '',
      ]
    : []),
  `Every round is in ${name}.json.`,
  '',
];
const text = lines.join('\n');
console.log(`\n${text}`);
fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench/results', `${name}.md`), text);
fs.writeFileSync(
  path.join(root, 'bench/results', `${name}.json`),
  `${JSON.stringify({ date: new Date().toISOString(), postgres: version, rounds: results.length, healthy, calibrationMs, results }, null, 2)}\n`,
);
process.exitCode = healthy === results.length ? 0 : 1;
