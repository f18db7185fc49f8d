#!/usr/bin/env node
// Write-stall benchmark: how long production writes wait while a migration runs, naive knex vs knexsafe's fix.
//
//   node bench/stall/run.js [--rows 3000000] [--cases add-index,add-check] [--variants naive,fix]
//                           [--runner knexsafe|knex] [--writers 4] [--think-ms 1] [--url postgres://…/postgres]
//
// Builds a large `users` table (+ 100k-row `accounts`) once in a template database on a real PostgreSQL,
// then for every case × variant clones it (CREATE DATABASE … TEMPLATE, a file copy), starts concurrent
// writers, waits a baseline window, applies the case's migrations with `knexsafe latest` (or knex's CLI),
// and records every write's latency. Results: bench/results/stall-<date>.{md,json,svg} + a timeline SVG.
// Every database it creates is named ks_stall_<pid>_… and dropped at the end, also on failure or Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CASES } from './lib/cases.js';
import { renderMarkdown, renderBarChart, renderTimeline } from './lib/report.js';
import { bucketMax, windowStats } from './lib/stats.js';
import { Writers, WRITER_APP } from './lib/writers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const MIGRATE_APP = 'ks_stall_migrate';
const ACCOUNTS = 100_000;
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const USAGE = `usage: node bench/stall/run.js [options]
  --rows N            rows in the users table (default 3000000)
  --cases a,b         case ids (default: all): ${CASES.map((c) => c.id).join(', ')}
  --variants a,b      naive,fix (default both)
  --runner R          knexsafe (default; falls back to knex's CLI when dist/cli/main.js is missing) | knex
  --url URL           admin connection (default postgres://postgres@127.0.0.1:5432/postgres)
  --writers N         concurrent writers (default 4)
  --think-ms N        pause between one writer's writes (default 1)
  --baseline-ms N     measured window before the migration starts (default 2000)
  --out-dir DIR       where results go (default bench/results)
  --name NAME         results file stem (default stall-<date>, or stall-<date>-<rows>rows when --rows is not 3M)
  --no-report         print the table only, write no files
  --render FILE.json  only re-render the .md/.svg files from a saved results .json (no database needed)
  --help`;

function options() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '3000000' },
      cases: { type: 'string' },
      variants: { type: 'string', default: 'naive,fix' },
      runner: { type: 'string', default: 'knexsafe' },
      url: { type: 'string', default: process.env.KS_STALL_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      writers: { type: 'string', default: '4' },
      'think-ms': { type: 'string', default: '1' },
      'baseline-ms': { type: 'string', default: '2000' },
      'out-dir': { type: 'string', default: path.join(REPO, 'bench', 'results') },
      name: { type: 'string' },
      'no-report': { type: 'boolean', default: false },
      render: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (k) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < 0) usage(`--${k} must be a non-negative integer, got "${values[k]}"`);
    return n;
  };
  const cases = values.cases ? values.cases.split(',').map((s) => s.trim()) : CASES.map((c) => c.id);
  for (const id of cases) if (!CASES.some((c) => c.id === id)) usage(`unknown case "${id}"`);
  const variants = values.variants.split(',').map((s) => s.trim());
  for (const v of variants) if (v !== 'naive' && v !== 'fix') usage(`unknown variant "${v}"`);
  if (!['knexsafe', 'knex'].includes(values.runner)) usage(`--runner must be knexsafe or knex`);
  const rows = int('rows');
  if (rows < 10_000) usage('--rows must be at least 10000');
  const date = new Date().toISOString().slice(0, 10);
  return {
    rows,
    cases,
    variants,
    runner: values.runner,
    url: values.url,
    writers: Math.max(1, int('writers')),
    thinkMs: int('think-ms'),
    baselineMs: int('baseline-ms'),
    outDir: path.resolve(values['out-dir']),
    name: values.name ?? (rows === 3_000_000 ? `stall-${date}` : `stall-${date}-${rows}rows`),
    report: !values['no-report'],
    render: values.render,
  };
}

function usage(msg) {
  console.error(`error: ${msg}\n\n${USAGE}`);
  process.exit(2);
}

function dbUrl(adminUrl, db, app) {
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  if (app) u.searchParams.set('application_name', app);
  return u.toString();
}

// ---------------------------------------------------------------------------------------------------------
// Cleanup: every database/child/temp dir we create is registered here and removed on exit, error or signal.
const state = { aborting: false, admin: null, dbs: new Set(), child: null, tmp: null, closers: new Set(), cleaning: null };

async function cleanup() {
  if (state.cleaning) return state.cleaning;
  state.cleaning = (async () => {
    if (state.child && state.child.exitCode === null) {
      try {
        process.kill(state.child.pid, 'SIGTERM');
      } catch {}
    }
    // Writers may sit behind the migration's lock until the child is gone; never wait on them for long.
    const closing = Promise.allSettled([...state.closers].map((close) => close()));
    await Promise.race([closing, sleep(3000)]);
    if (state.admin) {
      for (const db of [...state.dbs].reverse()) {
        await state.admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch((e) => {
          console.error(`could not drop ${db}: ${e.message}`);
        });
        state.dbs.delete(db);
      }
      await state.admin.end().catch(() => {});
      state.admin = null;
    }
    if (state.tmp) rmSync(state.tmp, { recursive: true, force: true });
  })();
  return state.cleaning;
}

process.on('uncaughtException', (err) => {
  if (state.aborting) return;
  state.aborting = true;
  console.error(`stall benchmark failed: ${err?.stack ?? err}`);
  void cleanup().finally(() => process.exit(1));
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (state.aborting) return;
    state.aborting = true;
    console.error(`\n${sig}: cleaning up (dropping ks_stall_${process.pid}_* databases)…`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function dropStale(admin) {
  const { rows } = await admin.query("SELECT datname FROM pg_database WHERE datname LIKE 'ks\\_stall\\_%'");
  for (const { datname } of rows) {
    const m = /^ks_stall_(\d+)_/.exec(datname);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch (e) {
      alive = e.code === 'EPERM';
    }
    if (!alive) {
      console.log(`dropping leftover ${datname} (its run, pid ${pid}, is gone)`);
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
async function buildTemplate(opts, name) {
  const t0 = now();
  await state.admin.query(`CREATE DATABASE ${name}`);
  state.dbs.add(name);
  const c = new pg.Client({ connectionString: dbUrl(opts.url, name) });
  c.on('error', () => {}); // terminated by DROP DATABASE … FORCE when interrupted
  await c.connect();
  try {
    await c.query(`SET synchronous_commit = off; SET maintenance_work_mem = '256MB'`);
    await c.query(`
      CREATE TABLE accounts (
        id integer PRIMARY KEY,
        name text NOT NULL,
        balance bigint NOT NULL DEFAULT 0,
        updated_at timestamptz
      )`);
    await c.query(`INSERT INTO accounts SELECT g, 'Account ' || g, 0, now() FROM generate_series(1, ${ACCOUNTS}) g`);
    await c.query(`
      CREATE TABLE users (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        email text NOT NULL,
        name text,
        account_id integer NOT NULL,
        amount integer NOT NULL DEFAULT 0,
        score integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz
      )`);
    // Insert in chunks so a Ctrl-C does not wait for one giant statement.
    const chunk = 500_000;
    for (let lo = 1; lo <= opts.rows; lo += chunk) {
      const hi = Math.min(opts.rows, lo + chunk - 1);
      await c.query(`
        INSERT INTO users (id, email, name, account_id, amount, score, created_at)
        SELECT g, 'user' || g || '@example.com', 'User ' || g, 1 + (g % ${ACCOUNTS}), g % 1000, g % 100,
               timestamptz '2024-01-01' + g * interval '1 second'
        FROM generate_series(${lo}, ${hi}) g`);
    }
    await c.query(`SELECT setval(pg_get_serial_sequence('users', 'id'), ${opts.rows})`);
    // Frozen, hinted, analyzed: every clone starts like a settled production table.
    await c.query('VACUUM (FREEZE, ANALYZE) accounts');
    await c.query('VACUUM (FREEZE, ANALYZE) users');
    const { rows } = await c.query(`SELECT pg_table_size('users') AS heap, pg_total_relation_size('users') AS total, pg_size_pretty(pg_table_size('users')) AS pretty`);
    await c.query('CHECKPOINT');
    return { seconds: (now() - t0) / 1000, heapBytes: Number(rows[0].heap), totalBytes: Number(rows[0].total), pretty: rows[0].pretty };
  } finally {
    await c.end();
  }
}

function resolveRunner(opts) {
  const knexsafeCli = path.join(REPO, 'dist', 'cli', 'main.js');
  const knexCli = path.join(REPO, 'node_modules', 'knex', 'bin', 'cli.js');
  if (opts.runner === 'knexsafe' && existsSync(knexsafeCli)) {
    // `--unsafe` (skip the guards that refuse dangerous migrations) is passed once the CLI knows it.
    const help = spawnSync(process.execPath, [knexsafeCli, 'latest', '--help'], { encoding: 'utf8' });
    const unsafe = /--unsafe\b/.test(`${help.stdout}${help.stderr}`) ? ['--unsafe'] : [];
    return {
      name: 'knexsafe',
      note: unsafe.length ? undefined : 'this build of `latest` has no --unsafe flag, so it was not passed',
      describe: `node dist/cli/main.js latest --cwd <project> --connection <url>${unsafe.length ? ' --unsafe' : ''}`,
      args: (dir, url) => [knexsafeCli, 'latest', '--cwd', dir, '--connection', url, ...unsafe],
    };
  }
  const why = opts.runner === 'knexsafe' ? `knexsafe CLI not built yet (${path.relative(REPO, knexsafeCli)} missing), ` : '';
  return {
    name: 'knex',
    note: why ? `${why}fell back to knex's CLI` : undefined,
    describe: 'node node_modules/knex/bin/cli.js migrate:latest --knexfile <project>/knexfile.js',
    args: (dir) => [knexCli, 'migrate:latest', '--knexfile', path.join(dir, 'knexfile.js')],
  };
}

function writeProject(dir, caseId, variant, url) {
  const src = path.join(HERE, 'cases', caseId, variant);
  const files = readdirSync(src)
    .filter((f) => f.endsWith('.js'))
    .sort();
  mkdirSync(path.join(dir, 'migrations'), { recursive: true });
  for (const f of files) cpSync(path.join(src, f), path.join(dir, 'migrations', f));
  writeFileSync(
    path.join(dir, 'knexfile.js'),
    `module.exports = {\n  client: 'pg',\n  connection: ${JSON.stringify(url)},\n  migrations: { directory: './migrations', tableName: 'knex_migrations' },\n};\n`,
  );
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  return files;
}

/** Samples the clone every ~20 ms: which migrations are recorded, whether DDL runs, who waits on locks. */
function startProgressPoller(url) {
  const c = new pg.Client({ connectionString: url, application_name: 'ks_stall_poller' });
  c.on('error', () => {}); // terminated by DROP DATABASE … FORCE during cleanup
  const samples = [];
  let stop = false;
  const run = (async () => {
    await c.connect();
    while (!stop) {
      try {
        await sample();
      } catch {
        if (stop) break;
      }
      await sleep(20);
    }
  })().catch(() => {});
  async function sample() {
    const t = now();
    let done = [];
    let locked = 0;
    try {
      const r = await c.query(
        `SELECT (SELECT coalesce(json_agg(name ORDER BY id), '[]'::json) FROM knex_migrations) AS done,
                (SELECT max(is_locked) FROM knex_migrations_lock) AS locked`,
      );
      done = r.rows[0].done;
      locked = r.rows[0].locked ?? 0;
    } catch {
      // knex has not created its tables yet
    }
    const a = await c.query(
      `SELECT
         count(*) FILTER (WHERE application_name = $1 AND state = 'active'
                          AND query !~* '(knex_migrations|information_schema|pg_catalog)') AS ddl,
         count(*) FILTER (WHERE application_name = $2 AND wait_event_type = 'Lock') AS blocked,
         count(*) FILTER (WHERE backend_type = 'autovacuum worker') AS autovacuum,
         string_agg(DISTINCT wait_event_type || ':' || wait_event, ',')
           FILTER (WHERE application_name = $2 AND state = 'active' AND wait_event IS NOT NULL) AS waits
       FROM pg_stat_activity WHERE datname = current_database()`,
      [MIGRATE_APP, WRITER_APP],
    );
    const r = a.rows[0];
    samples.push({
      t,
      done,
      locked: Number(locked),
      ddl: Number(r.ddl),
      blocked: Number(r.blocked),
      autovacuum: Number(r.autovacuum),
      waits: r.waits,
    });
  }
  return {
    samples,
    async stop() {
      stop = true;
      await run.catch(() => {});
      await c.end().catch(() => {});
    },
    client: c,
  };
}

function runChild(args) {
  return new Promise((resolve) => {
    const out = [];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    state.child = child;
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('close', (code, signal) => {
      state.child = null;
      resolve({ code, signal, output: Buffer.concat(out).toString('utf8') });
    });
  });
}

async function checkpointCount(client) {
  const { rows } = await client.query('SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter');
  return Number(rows[0].n);
}

async function runCase(opts, tpl, runner, c, variant, tmpRoot) {
  const db = `ks_stall_${process.pid}_${c.id.replaceAll('-', '_')}_${variant}`;
  const t0 = now();
  await state.admin.query(`CREATE DATABASE ${db} TEMPLATE ${tpl} STRATEGY FILE_COPY`);
  state.dbs.add(db);
  const cloneSeconds = (now() - t0) / 1000;
  const dir = path.join(tmpRoot, `${c.id}-${variant}`);
  const migrateUrl = dbUrl(opts.url, db, MIGRATE_APP);
  const files = writeProject(dir, c.id, variant, migrateUrl);

  const probe = new pg.Client({ connectionString: dbUrl(opts.url, db), application_name: 'ks_stall_probe' });
  probe.on('error', () => {}); // terminated by DROP DATABASE … FORCE during cleanup
  await probe.connect();
  const closeProbe = () => probe.end();
  state.closers.add(closeProbe);
  const writers = new Writers({
    url: dbUrl(opts.url, db),
    writers: opts.writers,
    thinkMs: opts.thinkMs,
    maxUserId: opts.rows,
    accounts: ACCOUNTS,
    tag: `${process.pid}-${c.id}-${variant}`,
  });
  const stopWriters = () => writers.stop();
  state.closers.add(stopWriters);
  let poller;
  try {
    const relBefore = (await probe.query("SELECT pg_relation_filenode('users') AS f")).rows[0].f;
    const ckBefore = await checkpointCount(probe);
    await writers.start();
    await sleep(500); // warm-up, not measured
    const baseFrom = now();
    await sleep(opts.baselineMs);
    poller = startProgressPoller(dbUrl(opts.url, db));
    const stopPoller = poller.stop;
    state.closers.add(stopPoller);
    await sleep(40);
    const spawnAt = now();
    const res = await runChild(runner.args(dir, migrateUrl));
    const exitAt = now();
    await sleep(300); // let writers that were queued behind the last lock drain
    await poller.stop();
    await writers.stop();
    state.closers.delete(stopWriters);

    // Migration boundaries, seen from this process (±20 ms sampling).
    const final = await probe
      .query('SELECT name FROM knex_migrations ORDER BY id')
      .then((r) => r.rows.map((x) => x.name))
      .catch(() => []);
    const firstSeen = new Map();
    let ddlStart = null;
    for (const s of poller.samples) {
      if (s.t < spawnAt) continue;
      if (ddlStart === null && (s.ddl > 0 || s.locked === 1)) ddlStart = s.t;
      for (const n of s.done) if (!firstSeen.has(n)) firstSeen.set(n, s.t);
    }
    for (const n of final) if (!firstSeen.has(n)) firstSeen.set(n, exitAt);
    const steps = [];
    let prev = ddlStart ?? spawnAt;
    for (const f of files) {
      const end = firstSeen.get(f);
      if (end === undefined) {
        steps.push({ file: f, applied: false });
        continue;
      }
      const from = Math.min(prev, end);
      const st = windowStats(writers.rec, from, end);
      steps.push({ file: f, applied: true, seconds: (end - from) / 1000, maxWriteMs: st.max });
      prev = end;
    }
    const ddlEnd = steps.filter((s) => s.applied).length ? prev : exitAt;
    const migration = windowStats(writers.rec, spawnAt, exitAt);
    const baseline = windowStats(writers.rec, baseFrom, spawnAt, 'inside');
    // Was any writer waiting on a heavyweight lock while the worst write was in flight?
    const worstFrom = migration.worstStart ?? spawnAt;
    const worstTo = worstFrom + migration.max;
    const during = poller.samples.filter((s) => s.t >= worstFrom && s.t <= worstTo);
    const lockWait = during.some((s) => s.blocked > 0);
    const waitEvents = [...new Set(during.flatMap((s) => (s.waits ? s.waits.split(',') : [])))];
    const autovacuum = poller.samples.some((s) => s.t >= spawnAt && s.autovacuum > 0);

    const verify = res.code === 0 ? (await probe.query(c.verify)).rows[0]?.ok === true : false;
    const relAfter = await probe.query("SELECT pg_relation_filenode('users') AS f").then((r) => r.rows[0].f);
    const checkpoints = (await checkpointCount(probe)) - ckBefore;
    const timeline = bucketMax(writers.rec, spawnAt - 1000, exitAt + 300, 100);
    return {
      case: c.id,
      variant,
      db,
      files,
      cloneSeconds,
      exitCode: res.code,
      output: res.output,
      verified: verify,
      rewrote: relBefore !== relAfter,
      wallSeconds: (exitAt - spawnAt) / 1000,
      ddlSeconds: ((ddlEnd ?? exitAt) - (ddlStart ?? spawnAt)) / 1000,
      ddlStartKnown: ddlStart !== null,
      steps,
      migration,
      baseline,
      worst: { lockWait, waitEvents, offsetSeconds: (worstFrom - spawnAt) / 1000 },
      autovacuum,
      checkpoints,
      writeErrors: Object.fromEntries(writers.errors),
      timeline: {
        fromOffsetMs: -1000,
        bucketMs: 100,
        maxAgeMs: timeline.map((x) => Math.round(x * 10) / 10),
        spawnToExitMs: exitAt - spawnAt,
        ddlFromMs: (ddlStart ?? spawnAt) - spawnAt,
        ddlToMs: (ddlEnd ?? exitAt) - spawnAt,
      },
    };
  } finally {
    if (poller) {
      await poller.stop();
      state.closers.delete(poller.stop);
    }
    await writers.stop();
    state.closers.delete(stopWriters);
    await probe.end().catch(() => {});
    state.closers.delete(closeProbe);
    await state.admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    state.dbs.delete(db);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function machineInfo(admin) {
  const v = await admin.query('SELECT version() AS v');
  const settings = await admin.query(
    `SELECT name, setting, unit FROM pg_settings WHERE name IN
      ('shared_buffers','max_wal_size','checkpoint_timeout','synchronous_commit','fsync','autovacuum',
       'maintenance_work_mem','max_parallel_maintenance_workers','wal_level','deadlock_timeout')
     ORDER BY name`,
  );
  const fmt = (r) => {
    if (r.unit === '8kB') return `${(Number(r.setting) * 8) / 1024} MB`;
    if (r.unit === 'kB') return `${Number(r.setting) / 1024} MB`;
    if (r.unit === 'MB') return `${r.setting} MB`;
    if (r.unit) return `${r.setting} ${r.unit}`;
    return r.setting;
  };
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(rel);
    if (m) osName = `${m[1]} (kernel ${os.release()})`;
  } catch {}
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism?.() ?? os.cpus().length,
    ramGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: osName,
    node: process.version,
    postgres: v.rows[0].v,
    settings: Object.fromEntries(settings.rows.map((r) => [r.name, fmt(r)])),
  };
}

const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

function writeReport(run, outDir, name, withJson) {
  mkdirSync(outDir, { recursive: true });
  const files = {
    md: path.join(outDir, `${name}.md`),
    json: path.join(outDir, `${name}.json`),
    svg: path.join(outDir, `${name}.svg`),
    timeline: path.join(outDir, `${name}-timeline.svg`),
  };
  if (withJson) {
    const forJson = { ...run, results: run.results.map(({ output, ...r }) => ({ ...r, output: output.slice(-2000) })) };
    writeFileSync(files.json, JSON.stringify(forJson, null, 2) + '\n');
  }
  writeFileSync(files.svg, renderBarChart(run));
  writeFileSync(files.timeline, renderTimeline(run));
  writeFileSync(files.md, renderMarkdown(run, files));
  const written = withJson ? Object.values(files) : [files.md, files.svg, files.timeline];
  console.log(`wrote ${written.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
}

async function main() {
  const opts = options();
  if (opts.render) {
    const file = path.resolve(opts.render);
    writeReport(JSON.parse(readFileSync(file, 'utf8')), path.dirname(file), path.basename(file, '.json'), false);
    return;
  }
  const started = now();
  const runner = resolveRunner(opts);
  console.log(`runner: ${runner.name}${runner.note ? ` (${runner.note})` : ''}`);
  state.admin = new pg.Client({ connectionString: opts.url, application_name: 'ks_stall_admin' });
  await state.admin.connect();
  await dropStale(state.admin);
  const machine = await machineInfo(state.admin);
  state.tmp = mkdtempSync(path.join(os.tmpdir(), 'ks-stall-'));
  // knex's CLI resolves `knex` from the knexfile's folder upwards: let the throw-away projects find ours.
  symlinkSync(path.join(REPO, 'node_modules'), path.join(state.tmp, 'node_modules'), 'dir');

  const tpl = `ks_stall_${process.pid}_template`;
  console.log(`building ${opts.rows.toLocaleString('en-US')}-row users table in ${tpl}…`);
  const table = await buildTemplate(opts, tpl);
  console.log(`  ${table.pretty} heap, built in ${table.seconds.toFixed(1)} s`);

  const results = [];
  for (const id of opts.cases) {
    const c = CASES.find((x) => x.id === id);
    for (const variant of opts.variants) {
      const t = now();
      const r = await runCase(opts, tpl, runner, c, variant, state.tmp);
      results.push(r);
      const m = r.migration;
      console.log(
        `${c.id.padEnd(28)} ${variant.padEnd(5)} ddl ${r.ddlSeconds.toFixed(2).padStart(6)} s  max write ${fmtMs(m.max).padStart(7)}  p99 ${fmtMs(m.p99).padStart(6)}  >100ms ${String(m.over100).padStart(4)}  >1s ${String(m.over1000).padStart(3)}  writes ${m.writes}${r.exitCode === 0 ? '' : `  MIGRATION FAILED (exit ${r.exitCode})`}${r.verified ? '' : '  NOT VERIFIED'}  [${((now() - t) / 1000).toFixed(0)} s]`,
      );
      if (r.exitCode !== 0) console.log(r.output.split('\n').slice(-15).join('\n'));
    }
  }
  const totalSeconds = (now() - started) / 1000;
  console.log(`total ${totalSeconds.toFixed(0)} s`);

  const run = {
    date: new Date().toISOString(),
    rows: opts.rows,
    accounts: ACCOUNTS,
    table,
    writers: opts.writers,
    thinkMs: opts.thinkMs,
    baselineMs: opts.baselineMs,
    runner: { name: runner.name, note: runner.note, command: runner.describe },
    machine,
    totalSeconds,
    results,
  };
  if (opts.report) writeReport(run, opts.outDir, opts.name, true);
}

main()
  .then(() => cleanup())
  .then(async () => {
    process.exitCode = 0;
  })
  .catch(async (err) => {
    if (state.aborting) return; // interrupted: the signal handler cleans up and exits
    console.error(`stall benchmark failed: ${err?.stack ?? err}`);
    await cleanup();
    process.exitCode = 1;
  });
