#!/usr/bin/env node
// Raw SQL linted statically (the mode squawk works in): a generated 1,000-statement file of ALTERs on
// existing tables, whole processes, knexsafe's default output and --json next to squawk-cli, and the
// start-up of every command (`--version`, `check` on a one-statement file).
//   node bench/rawsql/run.mjs [--squawk PATH] [--knexsafe PATH] [--baseline PATH] [--repeat 7]
//                             [--statements 1000] [--name DATE] [--no-report]
// squawk: --squawk, else $SQUAWK_BIN, else on PATH, else /tmp/peers/node_modules/.bin/squawk (install it
// outside the repository, as bench/peers/compare.mjs says); without it only knexsafe's figures are
// reported. --baseline: another build's dist/cli/main.js (e.g. a worktree of main), timed in the same
// rounds, so that before and after share the machine's load.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    squawk: { type: 'string' },
    knexsafe: { type: 'string', default: path.join(root, 'dist/cli/main.js') },
    baseline: { type: 'string' },
    repeat: { type: 'string', default: '7' },
    statements: { type: 'string', default: '1000' },
    name: { type: 'string', default: new Date().toISOString().slice(0, 10) },
    'no-report': { type: 'boolean', default: false },
  },
});
const cli = path.resolve(args.knexsafe);
if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
const baseline = args.baseline ? path.resolve(args.baseline) : undefined;
if (baseline && !fs.existsSync(baseline)) throw new Error(`--baseline ${baseline} does not exist`);

/** Five kinds of ALTER on 50 tables the file does not create: four of them are findings. */
export function generate(count) {
  const lines = [];
  for (let i = 0; i < count; i++) {
    const t = `t${i % 50}`;
    const c = `c${i % 7}`;
    switch (i % 5) {
      case 0:
        lines.push(`CREATE INDEX idx_${i} ON ${t} (${c});`);
        break;
      case 1:
        lines.push(`ALTER TABLE ${t} ADD COLUMN col_${i} integer NOT NULL DEFAULT 0;`);
        break;
      case 2:
        lines.push(`ALTER TABLE ${t} ALTER COLUMN ${c} TYPE bigint;`);
        break;
      case 3:
        lines.push(`ALTER TABLE ${t} ADD CONSTRAINT fk_${i} FOREIGN KEY (${c}) REFERENCES t${(i + 1) % 50} (id);`);
        break;
      default:
        lines.push(`ALTER TABLE ${t} ALTER COLUMN ${c} SET DEFAULT 1;`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function findSquawk() {
  if (args.squawk) return args.squawk;
  if (process.env.SQUAWK_BIN) return process.env.SQUAWK_BIN;
  const found = spawnSync('sh', ['-c', 'command -v squawk'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  return fs.existsSync('/tmp/peers/node_modules/.bin/squawk') ? '/tmp/peers/node_modules/.bin/squawk' : undefined;
}

// CPU time (user + system, the process and its children) next to the wall clock: on a shared machine
// the wall clock also counts the time other processes had the cores. GNU time writes it to a file of
// its own, so the command's stderr stays the command's.
const gnuTime = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
function time(command, argv) {
  const cpuFile = path.join(dir, 'cpu.txt');
  const [cmd, cmdArgv] = gnuTime ? [gnuTime, ['-o', cpuFile, '-f', '%U %S', command, ...argv]] : [command, argv];
  const started = performance.now();
  const run = spawnSync(cmd, cmdArgv, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - started;
  const cpu = gnuTime
    ? fs
        .readFileSync(cpuFile, 'utf8')
        .trim()
        .split('\n')
        .at(-1)
        .split(' ')
        .reduce((a, b) => a + Number(b) * 1000, 0)
    : undefined;
  return { ms, cpu, status: run.status, bytes: run.stdout.length };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-rawsql-'));
const file = path.join(dir, 'statements.sql');
const one = path.join(dir, 'one.sql');
fs.writeFileSync(file, generate(Number(args.statements)));
fs.writeFileSync(one, generate(1));
const squawk = findSquawk();

function findingsOf(main) {
  try {
    return JSON.parse(execFileSync(process.execPath, [main, 'check', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 }).toString() || '{}').findings?.length;
  } catch (error) {
    return JSON.parse(error.stdout).findings.length; // exit 1: there are errors, as intended
  }
}
const findings = findingsOf(cli);
if (baseline && findingsOf(baseline) !== findings) throw new Error('the baseline reports another number of findings: not the same work');

// What is timed, per round: [label, command, argv]. knexsafe's rows for the build under test, then the
// baseline's, then squawk.
const builds = [['knexsafe', cli], ...(baseline ? [['baseline', baseline]] : [])];
const commands = [];
for (const [who, main] of builds) {
  commands.push([`${who} check file.sql (default output)`, process.execPath, [main, 'check', file]]);
  commands.push([`${who} check file.sql --json (every field, fix code included)`, process.execPath, [main, 'check', file, '--json']]);
  commands.push([`${who} --version`, process.execPath, [main, '--version']]);
  commands.push([`${who} check one.sql (1 statement)`, process.execPath, [main, 'check', one]]);
}
if (squawk) commands.push(['squawk file.sql', squawk, [file]]);
const runs = Object.fromEntries(commands.map(([label]) => [label, []]));
const cpus = Object.fromEntries(commands.map(([label]) => [label, []]));
const loadBefore = os.loadavg();
// Interleaved rounds: a slow minute of a shared machine hits every tool alike.
for (let round = 0; round < Number(args.repeat); round++) {
  for (const [label, command, argv] of commands) {
    const t = time(command, argv);
    runs[label].push(t.ms);
    if (t.cpu !== undefined) cpus[label].push(t.cpu);
  }
}
const loadAfter = os.loadavg();
fs.rmSync(dir, { recursive: true, force: true });

const squawkVersion = squawk ? spawnSync(squawk, ['--version'], { encoding: 'utf8' }).stdout.trim() : undefined;
const squawkLabel = 'squawk file.sql';
const ratio = (xs) => (squawk ? `${(median(xs) / median(runs[squawkLabel])).toFixed(2)}×` : '—');
const cpuRatio = (xs) => (squawk && xs.length ? `${(median(xs) / median(cpus[squawkLabel])).toFixed(2)}×` : '—');
const seconds = (ms) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(3)} s`);
const row = (label) =>
  `| ${label} | ${seconds(median(runs[label]))} | ${label.includes('file.sql') ? ratio(runs[label]) : '—'} | ${seconds(median(cpus[label]))} | ${label.includes('file.sql') ? cpuRatio(cpus[label]) : '—'} | ${runs[label].map((x) => (x / 1000).toFixed(3)).join(', ')} |`;
const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
const report = [
  `# Raw SQL, statically — ${args.name}`,
  '',
  `${args.statements} statements (bench/rawsql/run.mjs: indexes, NOT NULL columns, type changes, foreign keys, defaults on 50 tables the file does not create); knexsafe reports ${findings} findings. Whole processes, medians of ${args.repeat} interleaved rounds; ${os.cpus().length} cores, Node ${process.version}${squawkVersion ? `, ${squawkVersion}` : ''}. Load average (1, 5, 15 min) ${load(loadBefore)} before, ${load(loadAfter)} after.`,
  ...(baseline ? ['', `baseline: ${baseline}`] : []),
  '',
  '| command | median wall | vs squawk | median CPU (user+sys) | vs squawk | wall, each round |',
  '|---|--:|--:|--:|--:|---|',
  ...commands.map(([label]) => row(label)),
  '',
].join('\n');
console.log(report);
if (!args['no-report']) {
  const out = path.join(root, 'bench/results');
  fs.writeFileSync(path.join(out, `rawsql-${args.name}.md`), report);
  fs.writeFileSync(
    path.join(out, `rawsql-${args.name}.json`),
    `${JSON.stringify({ statements: Number(args.statements), findings, squawk: squawkVersion, loadavg: { before: loadBefore, after: loadAfter }, runs, cpus }, null, 1)}\n`,
  );
}
