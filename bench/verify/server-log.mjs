// The shadow server's own account of one `knexsafe verify` run: how many statements it ran and how
// much server time they took, by statement (first 60 characters), from the PostgreSQL log.
//
//   node bench/verify/server-log.mjs <dist/cli/main.js of a build> <project dir> [more verify args]
//
// log_min_duration_statement=0 is set for the shadow's sessions only (in the shadow URL's options),
// and the log lines of the run's own shadow database (named after its process id) are summed: other
// sessions on the server are not counted. Needs read access to the server log (LOG, default the
// Debian path) and a log_line_prefix with %d. TOP=n prints the n costliest statements (default 12).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const [cli, dir, ...extra] = process.argv.slice(2);
if (!cli || !dir) {
  console.error('usage: node bench/verify/server-log.mjs <cli main.js> <project dir> [verify args…]');
  process.exit(2);
}
const LOG = process.env.LOG ?? '/var/log/postgresql/postgresql-15-main.log';
const SERVER = process.env.SERVER ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const start = fs.statSync(LOG).size;
const url = `${SERVER}?options=${encodeURIComponent('-c log_min_duration_statement=0')}`;
const began = performance.now();
const run = spawnSync('node', [cli, 'verify', '--shadow-url', url, '--no-cache', '--json', ...extra], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 });
const wallMs = performance.now() - began;
// The logger may write the last lines a moment after the client is gone.
await new Promise((resolve) => setTimeout(resolve, 500));
const size = fs.statSync(LOG).size;
const buffer = Buffer.alloc(size - start);
const fd = fs.openSync(LOG, 'r');
fs.readSync(fd, buffer, 0, buffer.length, start);
fs.closeSync(fd);
let statements = 0;
let serverMs = 0;
const byStatement = new Map();
for (const entry of buffer.toString('utf8').split(/\n(?=\d{4}-\d\d-\d\d )/)) {
  if (!entry.includes(`@knexsafe_shadow_${run.pid}_`)) continue;
  const match = /LOG: {2}duration: ([\d.]+) ms {2}(?:statement|execute [^:]*|parse [^:]*|bind [^:]*): ([\s\S]*)/.exec(entry);
  if (!match) continue;
  const ms = Number(match[1]);
  statements++;
  serverMs += ms;
  const key = match[2].replace(/\s+/g, ' ').slice(0, 60);
  const seen = byStatement.get(key) ?? { count: 0, ms: 0 };
  seen.count++;
  seen.ms += ms;
  byStatement.set(key, seen);
}
console.log(JSON.stringify({ exit: run.status, wallMs: Math.round(wallMs), statements, serverMs: Math.round(serverMs) }));
const top = [...byStatement].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.TOP ?? 12));
for (const [statement, seen] of top) console.log(`${String(seen.count).padStart(5)} ${seen.ms.toFixed(0).padStart(6)} ms  ${statement}`);
if (run.status !== 0 && run.status !== 1) console.error(run.stderr.slice(0, 2000));
