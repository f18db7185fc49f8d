#!/usr/bin/env node
// The warm cache of shadow states (issue 21 point 3), whole processes on the embedded shadow: a
// generated chain (bench/chains/generate.mjs) checked and verified cold (--no-cache), then while
// filling the cache, then warm after touching only the newest migration (a new comment at its end
// each time: new bytes, so it runs again, the 299 before it come from the cache), and warm with
// nothing changed.
// Usage: node bench/cache/run.mjs [--count 300] [--repeat 3] [--commands check,verify] [--name <suffix, default the date>]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtCli, flag, root } from '../args.mjs';

const count = Number(flag('count', '300'));
const repeat = Number(flag('repeat', '3'));
const commands = flag('commands', 'check,verify').split(',');
const name = flag('name', new Date().toISOString().slice(0, 10));
const cli = builtCli();

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-cache-bench-'));
const chain = path.join(work, 'chain');
spawnSync(process.execPath, [path.join(root, 'bench/chains/generate.mjs'), chain, '--count', String(count)], { stdio: 'ignore' });
const migrationsDir = path.join(chain, 'migrations');
const newest = path.join(migrationsDir, fs.readdirSync(migrationsDir).sort().at(-1));

const ARGS = { check: ['check', '--all', '--json', '--max-severity', 'none'], verify: ['verify', '--json'] };
function timed(command, extra, env) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, ...ARGS[command], ...extra], {
    encoding: 'utf8',
    cwd: chain,
    env: { ...process.env, NO_COLOR: '1', KNEXSAFE_CACHE_TRACE: '1', ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${command} exited ${r.status}: ${r.stderr}`);
  const json = JSON.parse(r.stdout);
  delete json.durationMs;
  delete json.shadowReadyMs;
  for (const m of json.migrations ?? []) delete m.timings;
  const fromCache = Number(/(\d+) of \d+ migrations from the cache/.exec(r.stderr)?.[1] ?? NaN);
  return { ms, status: r.status, json: JSON.stringify(json), fromCache };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let edits = 0;
const touchNewest = () => fs.appendFileSync(newest, `\n// edit ${++edits}\n`);

const results = {};
const record = (key, ms) => (results[key] ??= []).push(Math.round(ms));
const mismatches = [];
for (let i = 0; i < repeat; i++) {
  for (const command of commands) {
    const cache = fs.mkdtempSync(path.join(work, 'cache-'));
    const env = { KNEXSAFE_STATE_CACHE_DIR: cache };
    const cold = timed(command, ['--no-cache'], env);
    record(`${command} cold (--no-cache)`, cold.ms);
    const filling = timed(command, [], env);
    record(`${command} cold, filling the cache`, filling.ms);
    if (filling.json !== cold.json) mismatches.push(`${command}: filling differs from cold`);
    const same = timed(command, [], env);
    record(`${command} warm, nothing changed`, same.ms);
    if (same.json !== cold.json) mismatches.push(`${command}: warm differs from cold`);
    touchNewest();
    const edited = timed(command, [], env);
    record(`${command} warm, newest migration edited`, edited.ms);
    if (edited.fromCache !== count - 1) mismatches.push(`${command}: after editing the newest, ${edited.fromCache} from the cache, not ${count - 1}`);
    const reference = timed(command, ['--no-cache'], env);
    if (edited.json !== reference.json) mismatches.push(`${command}: warm after the edit differs from cold`);
    const size = spawnSync('du', ['-sm', cache], { encoding: 'utf8' }).stdout.split('\t')[0];
    record(`${command} cache size (MB)`, Number(size));
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

const load = os.loadavg()[0].toFixed(2);
const rows = Object.entries(results).map(([k, xs]) => ({ what: k, median: median(xs), runs: xs }));
const report = {
  date: new Date().toISOString(),
  chain: `bench/chains/generate.mjs --count ${count}`,
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, load average ${load} at the end`,
  repeat,
  rows,
  mismatches,
};
const out = path.join(root, 'bench/results');
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, `cache-${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
const md = [
  `# Warm cache of shadow states — ${report.date.slice(0, 10)}`,
  '',
  `Chain: \`${report.chain}\`, embedded shadow, whole processes (\`node dist/cli/main.js …\`), medians of ${repeat}.`,
  `Machine: ${report.machine}.`,
  '',
  '| run | median ms | runs (ms) |',
  '|---|--:|---|',
  ...rows.map((r) => `| ${r.what} | ${r.median} | ${r.runs.join(', ')} |`),
  '',
  mismatches.length ? `**Output mismatches:** ${mismatches.join('; ')}` : 'Every warm run printed the same JSON (durations aside) and exit code as the cold run of the same files.',
  '',
];
fs.writeFileSync(path.join(out, `cache-${name}.md`), md.join('\n'));
console.log(md.join('\n'));
fs.rmSync(work, { recursive: true, force: true });
