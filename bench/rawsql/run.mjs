#!/usr/bin/env node
// Raw SQL linted statically (the mode squawk works in): a generated 1,000-statement file of ALTERs on
// existing tables, whole processes, knexsafe's default output and --json next to squawk-cli.
//   node bench/rawsql/run.mjs [--squawk PATH] [--repeat 7] [--statements 1000] [--name DATE] [--no-report]
// squawk is looked up at --squawk, then on PATH; without it only knexsafe's figures are reported.
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
    repeat: { type: 'string', default: '7' },
    statements: { type: 'string', default: '1000' },
    name: { type: 'string', default: new Date().toISOString().slice(0, 10) },
    'no-report': { type: 'boolean', default: false },
  },
});
const cli = path.join(root, 'dist/cli/main.js');
if (!fs.existsSync(cli)) throw new Error('dist/cli/main.js is missing: run npm run build first');

/** Five kinds of ALTER on 50 tables the file does not create: four of them are findings. */
export function generate(count) {
  const lines = [];
  for (let i = 0; i < count; i++) {
    const t = `t${i % 50}`;
    const c = `c${i % 7}`;
    switch (i % 5) {
      case 0: lines.push(`CREATE INDEX idx_${i} ON ${t} (${c});`); break;
      case 1: lines.push(`ALTER TABLE ${t} ADD COLUMN col_${i} integer NOT NULL DEFAULT 0;`); break;
      case 2: lines.push(`ALTER TABLE ${t} ALTER COLUMN ${c} TYPE bigint;`); break;
      case 3: lines.push(`ALTER TABLE ${t} ADD CONSTRAINT fk_${i} FOREIGN KEY (${c}) REFERENCES t${(i + 1) % 50} (id);`); break;
      default: lines.push(`ALTER TABLE ${t} ALTER COLUMN ${c} SET DEFAULT 1;`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function findSquawk() {
  if (args.squawk) return args.squawk;
  const found = spawnSync('sh', ['-c', 'command -v squawk'], { encoding: 'utf8' }).stdout.trim();
  return found || undefined;
}

function time(command, argv) {
  const started = performance.now();
  const run = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1' } });
  return { ms: performance.now() - started, status: run.status, bytes: run.stdout.length };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-rawsql-'));
const file = path.join(dir, 'statements.sql');
fs.writeFileSync(file, generate(Number(args.statements)));
const squawk = findSquawk();
const runs = { default: [], json: [], squawk: [] };
let findings;
try {
  const json = JSON.parse(execFileSync(process.execPath, [cli, 'check', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 }).toString() || '{}');
  findings = json.findings?.length;
} catch (error) {
  findings = JSON.parse(error.stdout).findings.length; // exit 1: there are errors, as intended
}
// Interleaved rounds: a slow minute of a shared machine hits every tool alike.
for (let round = 0; round < Number(args.repeat); round++) {
  runs.default.push(time(process.execPath, [cli, 'check', file]).ms);
  runs.json.push(time(process.execPath, [cli, 'check', file, '--json']).ms);
  if (squawk) runs.squawk.push(time(squawk, [file]).ms);
}
fs.rmSync(dir, { recursive: true, force: true });

const squawkVersion = squawk ? spawnSync(squawk, ['--version'], { encoding: 'utf8' }).stdout.trim() : undefined;
const row = (what, xs) => `| ${what} | ${(median(xs) / 1000).toFixed(2)} s | ${squawk ? `${(median(xs) / median(runs.squawk)).toFixed(2)}×` : '—'} | ${xs.map((x) => (x / 1000).toFixed(2)).join(', ')} |`;
const report = [
  `# Raw SQL, statically — ${args.name}`,
  '',
  `${args.statements} statements (bench/rawsql/run.mjs: indexes, NOT NULL columns, type changes, foreign keys, defaults on 50 tables the file does not create); knexsafe reports ${findings} findings. Whole processes, medians of ${args.repeat} interleaved rounds; ${os.cpus().length} cores, Node ${process.version}${squawkVersion ? `, ${squawkVersion}` : ''}.`,
  '',
  '| command | median | vs squawk | runs |',
  '|---|--:|--:|---|',
  row('knexsafe check file.sql (default output)', runs.default),
  row('knexsafe check file.sql --json (every field, fix code included)', runs.json),
  ...(squawk ? [row('squawk file.sql', runs.squawk)] : []),
  '',
].join('\n');
console.log(report);
if (!args['no-report']) {
  const out = path.join(root, 'bench/results');
  fs.writeFileSync(path.join(out, `rawsql-${args.name}.md`), report);
  fs.writeFileSync(path.join(out, `rawsql-${args.name}.json`), `${JSON.stringify({ statements: Number(args.statements), findings, squawk: squawkVersion, runs }, null, 1)}\n`);
}
