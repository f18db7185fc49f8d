#!/usr/bin/env node
// Times knexsafe verify and check on ≥100-migration chains against plain knex on the same
// PostgreSQL server, in one run, and how fast a shadow database is ready. Two generated chains: the
// schema-builder one (bench/chains/generate.mjs) and a function/trigger/DO-heavy one
// (bench/chains/generate-procedural.mjs).
// Usage: node bench/perf/run.mjs [--cli <other build>/dist/cli/main.js] [--count 120] [--chains builder,procedural] [--url postgresql://postgres@127.0.0.1:5432/postgres] [--repeat 3] [--name <results file suffix, default the date>]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const loadAtStart = os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' / ');
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const count = Number(flag('count', '120'));
const serverUrl = flag('url', process.env.KNEXSAFE_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const repeat = Number(flag('repeat', '3'));
// --cli: another build's dist/cli/main.js (e.g. a worktree of an earlier commit), for before/after figures.
const cli = path.resolve(flag('cli', path.join(root, 'dist/cli/main.js')));
const knexCli = path.join(root, 'node_modules/knex/bin/cli.js');
if (!fs.existsSync(cli)) {
  console.error(`${cli} is missing: run npm run build first`);
  process.exit(2);
}

const GENERATORS = { builder: 'bench/chains/generate.mjs', procedural: 'bench/chains/generate-procedural.mjs' };
// --projects dir:knexfile,…: real chains measured as they are (their own knex from their node_modules), in place of or beside the generated ones.
const PROJECTS = Object.fromEntries(
  (flag('projects', '') || '')
    .split(',')
    .filter(Boolean)
    .map((spec) => {
      const [dir, knexfile = 'knexfile.js'] = spec.split(':');
      return [path.basename(dir), { dir: path.resolve(dir), knexfile }];
    }),
);
const chainNames = flag('chains', Object.keys(PROJECTS).length ? '' : 'builder,procedural')
  .split(',')
  .filter(Boolean)
  .concat(Object.keys(PROJECTS));
for (const name of chainNames) if (!GENERATORS[name] && !PROJECTS[name]) throw new Error(`unknown chain ${name}: ${Object.keys(GENERATORS).join(', ')}`);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-perf-'));
let chain;
// Peak memory (max RSS) of a whole process, where GNU time is there to tell it.
const gnuTime = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

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
  const rssFile = path.join(work, 'rss');
  const [command, args] = gnuTime ? [gnuTime, ['-f', '%M', '-o', rssFile, cmd, ...argv]] : [cmd, argv];
  const started = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'development', ...env }, cwd: chain });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const rssMb = gnuTime && fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 : undefined;
  return { ms, rssMb, status: r.status, out: r.stdout, err: r.stderr };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const knexEnv = (url) => ({ DATABASE_URL: url, KNEX_PATH: path.join(root, 'node_modules/knex') });
const perChain = {};
let results;
let peaks;
let verifySummary = '';
function record(name, ms) {
  (results[name] ??= []).push(ms);
}

for (const chainName of chainNames) {
  const project = PROJECTS[chainName];
  chain = project ? project.dir : path.join(work, chainName);
  if (!project) spawnSync(process.execPath, [path.join(root, GENERATORS[chainName]), chain, '--count', String(count)], { stdio: 'ignore' });
  const projectKnex = project && path.join(chain, 'node_modules/knex/bin/cli.js');
  results = {};
  peaks = {};
  for (let i = 0; i < repeat; i++) {
    const db = `ks_perf_${process.pid}_${i}`;
    psql(`create database ${db}`);
    try {
      const url = dbUrl(db);
      const knex = (...a) =>
        timed(process.execPath, [projectKnex ?? knexCli, ...a, '--knexfile', path.join(chain, project?.knexfile ?? 'knexfile.js')], project ? { DATABASE_URL: url } : knexEnv(url));
      const l1 = knex('migrate:latest');
      if (l1.status !== 0) throw new Error(`knex failed: ${l1.err || l1.out}`);
      record('knex latest', l1.ms);
      // A real chain whose own rollback fails (a down knex cannot run) has no verify baseline.
      const rb = knex('migrate:rollback', '--all');
      const l2 = rb.status === 0 ? knex('migrate:latest') : rb;
      if (rb.status === 0 && l2.status === 0) record('knex latest + rollback --all + latest', l1.ms + rb.ms + l2.ms);
      else if (!project) throw new Error(`knex failed: ${rb.err || rb.out}`);
    } finally {
      psql(`drop database if exists ${db} with (force)`);
    }
    // --no-cache: every run cold (the warm cache would answer the second and third from the first).
    const ks = (...a) => timed(process.execPath, [cli, ...a, '--cwd', chain, '--no-cache', ...(project ? ['--knexfile', project.knexfile] : [])], {});
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
    for (const [what, r] of [
      ['check --all (embedded shadow)', cEmbedded],
      ['verify (embedded shadow)', vEmbedded],
    ])
      if (r.rssMb !== undefined) (peaks[what] ??= []).push(r.rssMb);
  }
  perChain[chainName] = { results, peaks, verifySummary };
}

// Ready shadow: in process, as the commands see it.
const { createShadow } = await import(path.join(path.dirname(path.dirname(cli)), 'shadow/shadow.js'));
const ready = { embedded: [], server: [] };
for (let i = 0; i < 5; i++) {
  const e = await createShadow();
  ready.embedded.push(e.readyMs);
  await e.close();
  const s = await createShadow({ serverUrl });
  ready.server.push(s.readyMs);
  await s.close();
}

function rowsOf({ results }) {
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
  const baseVerify = m['knex latest + rollback --all + latest'];
  const baseCheck = m['knex latest'];
  return [
    ['knex latest', baseCheck, ''],
    ['knex latest + rollback --all + latest', baseVerify, ''],
    [
      'knexsafe verify (server shadow)',
      m['knexsafe verify (server shadow)'],
      baseVerify ? (m['knexsafe verify (server shadow)'] / baseVerify).toFixed(2) + '× (target ≤ 1.5×)' : "— (knex's own rollback fails)",
    ],
    [
      'knexsafe verify (embedded shadow)',
      m['knexsafe verify (embedded shadow)'],
      baseVerify ? (m['knexsafe verify (embedded shadow)'] / baseVerify).toFixed(2) + '× (target ≤ 2.5×)' : "— (knex's own rollback fails)",
    ],
    ['knexsafe check --all (server shadow)', m['knexsafe check --all (server shadow)'], (m['knexsafe check --all (server shadow)'] / baseCheck).toFixed(2) + '× (target ≤ 1.5×)'],
    ['knexsafe check --all (embedded shadow)', m['knexsafe check --all (embedded shadow)'], (m['knexsafe check --all (embedded shadow)'] / baseCheck).toFixed(2) + '× (target ≤ 2.0×)'],
  ];
}
const version = psql('select version()');
const cpu = os.cpus()[0]?.model ?? 'unknown';
const lines = [
  `# knexsafe performance — ${new Date().toISOString().slice(0, 10)}`,
  '',
  `Chains: ${chainNames.map((n) => (PROJECTS[n] ? `${n} (real chain, ${PROJECTS[n].dir}, its own knex)` : `${n} (${GENERATORS[n]}, ${count} migrations)`)).join(' and ')}. Server: ${version}. Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; load average at start ${loadAtStart}.`,
  `Each row is the median of ${repeat} runs of the whole command (process start included), measured in one run of this script.`,
  `knexsafe: ${path.relative(root, cli) || cli}.`,
  '',
  ...chainNames.flatMap((name) => [
    `## ${name} chain`,
    '',
    `verify's verdict: ${perChain[name].verifySummary}.${
      Object.keys(perChain[name].peaks).length
        ? ` Peak memory (max RSS, median): ${Object.entries(perChain[name].peaks)
            .map(([k, v]) => `${k} ${median(v).toFixed(0)} MB`)
            .join(', ')} (target ≤ 200 MB for check).`
        : ''
    }`,
    '',
    '| what | median wall time | ratio |',
    '|---|---:|---|',
    ...rowsOf(perChain[name]).map(([what, ms, ratio]) => `| ${what} | ${ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`} | ${ratio} |`),
    '',
  ]),
  `Ready shadow (in process, median of 5): embedded ${median(ready.embedded).toFixed(0)} ms (runs: ${ready.embedded.map((x) => x.toFixed(0)).join(', ')}), server ${median(ready.server).toFixed(0)} ms. Target for embedded: < 1000 ms.`,
  '',
];
const text = lines.join('\n');
console.log(text);
const outDir = path.join(root, 'bench/results');
fs.mkdirSync(outDir, { recursive: true });
const stamp = flag('name', new Date().toISOString().slice(0, 10));
fs.writeFileSync(path.join(outDir, `perf-${stamp}.md`), text);
fs.writeFileSync(path.join(outDir, `perf-${stamp}.json`), JSON.stringify({ count, repeat, version, chains: perChain, ready }, null, 2));
fs.rmSync(work, { recursive: true, force: true });
