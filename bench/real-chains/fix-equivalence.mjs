#!/usr/bin/env node
// Are knexsafe's whole-file fixes equivalent to the migrations they replace, on real chains?
//
//   node bench/real-chains/fix-equivalence.mjs [--shadow-url URL] [--out PREFIX] [--source name=TEXT]… name=DIR…
//
// For each project DIR (a knexfile.js, or just a migrations/ folder): runs `knexsafe check --all
// --json --shadow-url URL` (dist/cli/main.js of this repo), takes every non-style finding whose fix
// stands for the whole migration (`fix.wholeMigration`: the migration's own file edited, or new
// files; every part has an up), and
// for each: copies the project to a temp dir, puts the fix's first part in the migration's file and
// the other parts (split at the NEXT_MIGRATION marker) in new files `<stem>_fixN<ext>` right after
// it, runs plain knex `migrate.latest()` with the project's knexfile on a fresh database of the
// server, and compares `pg_dump --schema-only` (comments, SET lines and \restrict lines dropped) with
// the original chain's. The knex_migrations rows are compared by name: the fixed chain must have the
// original's names plus the extra parts', nothing else.
// Writes PREFIX.md and PREFIX.json (default bench/results/fix-equivalence-<today>) and exits 1 when
// a fix is not equivalent. Uses only node, this repo's knex and pg_dump (PG_DUMP, or the newest
// /usr/lib/postgresql/*/bin/pg_dump, or pg_dump on PATH).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(REPO, 'package.json'));
const knexFactory = require('knex');
/** Same text as NEXT_MIGRATION in src/codegen/migration.ts. */
const NEXT_MIGRATION = '// ---- next migration ----';

function pgDump() {
  if (process.env.PG_DUMP) return process.env.PG_DUMP;
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin/pg_dump'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin/pg_dump') : 'pg_dump';
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Child mode: run the chain in `dir` with plain knex against `url`; prints { migrations } or { error }. */
async function runChainHere(dir, url) {
  process.chdir(dir);
  process.env.DATABASE_URL = url;
  let config = { client: 'pg', migrations: { directory: 'migrations' } };
  const knexfile = ['knexfile.js', 'knexfile.cjs', 'knexfile.mjs'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (knexfile) {
    const mod = await import(pathToFileURL(knexfile).href);
    config = mod.default ?? mod;
    if (!config.client && config.development) config = config.development;
  }
  const migrations = { ...(config.migrations ?? {}) };
  if (!migrations.migrationSource) {
    const dirs = [].concat(migrations.directory ?? 'migrations');
    migrations.directory = dirs.map((d) => path.resolve(dir, d));
  }
  const knex = knexFactory({ ...config, connection: url, migrations });
  try {
    await knex.migrate.latest();
    const table = migrations.tableName ?? 'knex_migrations';
    const rows = await knex(table).select('name').orderBy('id');
    return { migrations: rows.map((r) => r.name) };
  } catch (error) {
    return { error: String(error?.message ?? error).split('\n')[0] };
  } finally {
    await knex.destroy();
  }
}

if (process.argv[2] === '--run-chain') {
  const result = await runChainHere(process.argv[3], process.argv[4]);
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
let serverUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
let out = path.join(REPO, 'bench/results', `fix-equivalence-${new Date().toISOString().slice(0, 10)}`);
const sources = {};
const chains = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--shadow-url') serverUrl = args[++i];
  else if (args[i] === '--out') out = path.resolve(args[++i]);
  else if (args[i] === '--source') {
    const [name, ...rest] = args[++i].split('=');
    sources[name] = rest.join('=');
  } else {
    const eq = args[i].indexOf('=');
    const dir = path.resolve(eq > 0 ? args[i].slice(eq + 1) : args[i]);
    chains.push({ name: eq > 0 ? args[i].slice(0, eq) : path.basename(dir), dir });
  }
}
if (!chains.length) {
  console.error('usage: node bench/real-chains/fix-equivalence.mjs [--shadow-url URL] [--out PREFIX] [--source name=TEXT]… name=DIR…');
  process.exit(2);
}

const PG_DUMP = pgDump();
// The knexsafe the run used (dist/ is built from the work tree: a dirty tree is said so).
const knexsafeAt = (() => {
  try {
    const head = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', REPO, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !== '';
    return `${head}${dirty ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown';
  }
})();
const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
let seq = 0;

function normalisedDump(url) {
  const dump = execFileSync(PG_DUMP, ['--schema-only', '--no-owner', '--no-privileges', url], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return dump
    .split('\n')
    .filter((l) => l && !l.startsWith('--') && !l.startsWith('SET ') && !l.startsWith('SELECT pg_catalog.set_config') && !/^\\(un)?restrict /.test(l))
    .join('\n');
}

/** Runs the chain copied in `dir` on a new database; { dump, migrations } or { error }. */
async function runChain(dir) {
  const name = `ks_fixeq_${process.pid}_${++seq}`;
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = withDatabase(serverUrl, name);
  try {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--run-chain', dir, url], { encoding: 'utf8', maxBuffer: 64 << 20 });
    let result;
    try {
      result = JSON.parse(child.stdout);
    } catch {
      result = { error: `the knex run crashed: ${(child.stderr || child.stdout).trim().split('\n').slice(-3).join(' | ')}` };
    }
    if (!result.error) result.dump = normalisedDump(url);
    return result;
  } finally {
    await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

function copyProject(src) {
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-fixeq-'));
  fs.cpSync(src, dst, { recursive: true, filter: (f) => path.basename(f) !== 'node_modules' && path.basename(f) !== '.git' });
  if (fs.existsSync(path.join(src, 'node_modules'))) fs.symlinkSync(path.join(src, 'node_modules'), path.join(dst, 'node_modules'));
  return dst;
}

/** Lines only in one dump, or the first differing line when both have the same lines in another order. */
function dumpDiff(expected, got) {
  const a = expected.split('\n');
  const b = got.split('\n');
  const sa = new Set(a);
  const sb = new Set(b);
  const diff = [...a.filter((l) => !sb.has(l)).map((l) => `- ${l}`), ...b.filter((l) => !sa.has(l)).map((l) => `+ ${l}`)];
  if (diff.length) return diff;
  const i = a.findIndex((l, k) => l !== b[k]);
  return [`(same lines, another order; first difference at line ${i + 1})`, `- ${a[i]}`, `+ ${b[i]}`];
}

/**
 * The dump with the column lines of each CREATE TABLE sorted (trailing commas dropped): equal for two
 * schemas that differ only in column order, which expand / contract changes by nature (the new
 * column comes last; PostgreSQL cannot insert a column in place).
 */
function withoutColumnOrder(dump) {
  const out = [];
  let block;
  for (const line of dump.split('\n')) {
    if (block) {
      if (line === ');') {
        out.push(...block.sort(), line);
        block = undefined;
      } else block.push(line.replace(/,$/, ''));
    } else {
      out.push(line);
      if (/^CREATE (UNLOGGED )?TABLE .* \($/.test(line)) block = [];
    }
  }
  return out.join('\n');
}

/**
 * Differences a fix makes on purpose, by rule: knex-unsigned-ignored's fix may enforce what
 * .unsigned() meant with CHECK (col >= 0) named <table>_<col>_unsigned. Only such added lines (and
 * the ALTER TABLE line or comma they come with) count; anything else is a failure.
 */
const INTENDED = {
  'knex-unsigned-ignored': (diff) => {
    const removed = diff.filter((l) => l.startsWith('- ')).map((l) => l.slice(2));
    const added = diff.filter((l) => l.startsWith('+ ')).map((l) => l.slice(2));
    const check = /CONSTRAINT "?[^"\s]*_unsigned"? CHECK \(\("?[^"\s]+"? >= 0\)\)/;
    if (!added.some((l) => check.test(l))) return false;
    // A column line that only gained the comma before the new table constraint.
    const commaOnly = (l) => removed.includes(l.replace(/,$/, ''));
    return removed.every((l) => added.includes(`${l},`)) && added.every((l) => check.test(l) || /^ALTER TABLE /.test(l) || commaOnly(l));
  },
};

const isWholeFile = (finding) => finding.category !== 'style' && finding.fix?.wholeMigration === true && finding.fix.code.split(NEXT_MIGRATION).every((part) => /\bup\b/.test(part));

const results = [];
for (const chain of chains) {
  const started = Date.now();
  console.error(`${chain.name}: check --all …`);
  const check = spawnSync(process.execPath, [path.join(REPO, 'dist/cli/main.js'), 'check', '--all', '--json', '--shadow-url', serverUrl], {
    cwd: chain.dir,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  let report;
  try {
    report = JSON.parse(check.stdout);
  } catch {
    results.push({ chain: chain.name, source: sources[chain.name], error: `check failed (exit ${check.status}): ${check.stderr.trim().slice(0, 500)}` });
    continue;
  }
  const withFix = report.findings.filter((f) => f.category !== 'style' && f.fix);
  const fixes = withFix.filter(isWholeFile);
  const original = await runChain(copyProject(chain.dir));
  const entry = {
    chain: chain.name,
    source: sources[chain.name],
    migrations: report.summary?.migrations,
    nonStyleFindingsWithFix: withFix.length,
    fixes: fixes.length,
    equivalent: 0,
    /** Same schema but for the order of columns (expand / contract). */
    columnOrder: [],
    /** Differences the fix makes on purpose (INTENDED). */
    intended: [],
    failures: [],
  };
  if (original.error) {
    entry.error = `the original chain fails with plain knex: ${original.error}`;
    results.push(entry);
    continue;
  }
  for (const [n, finding] of fixes.entries()) {
    const copy = copyProject(chain.dir);
    // The finding's file, relative to the project (check ran in it), never written outside the copy.
    const file = path.resolve(copy, path.relative(chain.dir, path.resolve(chain.dir, finding.file)));
    if (!file.startsWith(copy + path.sep)) throw new Error(`${finding.file} is outside the project`);
    const ext = path.extname(file);
    const stem = file.slice(0, -ext.length);
    const parts = finding.fix.code.split(NEXT_MIGRATION);
    const extra = [];
    parts.forEach((part, i) => {
      const target = i === 0 ? file : `${stem}_fix${i + 1}${ext}`;
      if (i > 0) extra.push(path.basename(target));
      fs.writeFileSync(target, `${part.trim()}\n`);
    });
    const got = await runChain(copy);
    const label = `${finding.migration} ${finding.rule}`;
    let failure;
    let outcome = 'equivalent';
    let detail;
    if (got.error) failure = { kind: 'chain fails', detail: [got.error] };
    else if (got.dump !== original.dump) {
      detail = dumpDiff(original.dump, got.dump);
      if (withoutColumnOrder(got.dump) === withoutColumnOrder(original.dump)) outcome = 'column order';
      else if (INTENDED[finding.rule]?.(detail)) outcome = 'intended';
      else failure = { kind: 'schema differs', detail };
    }
    if (!failure) {
      // Extra parts are recorded under their own names (with or without .js, as the source names them).
      const bare = (s) => s.replace(/\.(c|m)?[jt]s$/, '');
      const expected = new Set([...original.migrations, ...extra].map(bare));
      const names = new Set(got.migrations.map(bare));
      const missing = [...expected].filter((m) => !names.has(m));
      const unexpected = [...names].filter((m) => !expected.has(m));
      if (missing.length || unexpected.length) failure = { kind: 'knex_migrations differ', detail: [...missing.map((m) => `- ${m}`), ...unexpected.map((m) => `+ ${m}`)] };
    }
    const record = { migration: finding.migration, rule: finding.rule, parts: parts.length };
    if (failure) entry.failures.push({ ...record, ...failure });
    else if (outcome === 'column order') entry.columnOrder.push({ ...record, detail });
    else if (outcome === 'intended') entry.intended.push({ ...record, detail });
    else entry.equivalent++;
    console.error(`  ${n + 1}/${fixes.length} ${label}: ${failure ? failure.kind : outcome}`);
    fs.rmSync(copy, { recursive: true, force: true });
  }
  entry.seconds = Math.round((Date.now() - started) / 1000);
  results.push(entry);
}
await admin.destroy();

const item = (f, kind) => [
  `- \`${f.migration}\` ${f.rule} (${f.parts} file${f.parts > 1 ? 's' : ''}): ${kind}`,
  '',
  '```diff',
  ...f.detail.slice(0, 20),
  ...(f.detail.length > 20 ? [`… ${f.detail.length - 20} more lines`] : []),
  '```',
  '',
];
const md = [
  `# Fix equivalence on real chains — ${new Date().toISOString().slice(0, 10)}`,
  '',
  'Every non-style finding of `check --all` whose fix stands for the whole migration (`fix.wholeMigration`),',
  'substituted for its migration (extra parts as new migrations right after it), run with plain knex',
  "`migrate.latest()` on a fresh PostgreSQL database; `pg_dump --schema-only` compared with the original chain's",
  "(comments and SET lines dropped), and the knex_migrations names (the original's plus the extra parts').",
  '"Column order" = the same schema but for the order of columns in a table (expand / contract adds the new column',
  'last); "intended" = the difference is what the fix is for (knex-unsigned-ignored enforcing `>= 0` with a CHECK).',
  `Script: \`bench/real-chains/fix-equivalence.mjs\`; knexsafe ${knexsafeAt} (dist/), ${execFileSync(PG_DUMP, ['--version'], { encoding: 'utf8' }).trim()}.`,
  '',
  '| chain | migrations | non-style fixes | whole-file fixes | equivalent | column order only | intended change | not equivalent |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map((r) =>
    r.fixes === undefined
      ? `| ${r.chain} | – | – | – | – | – | – | ${r.error} |`
      : `| ${r.chain} | ${r.migrations ?? '–'} | ${r.nonStyleFindingsWithFix} | ${r.fixes} | ${r.error ? '–' : r.equivalent} | ${r.columnOrder.length} | ${r.intended.length} | ${r.error ? r.error : r.failures.length} |`,
  ),
  '',
  ...results.flatMap((r) => [
    `## ${r.chain}`,
    '',
    ...(r.source ? [`Source: ${r.source}`, ''] : []),
    ...(r.error ? [r.error, ''] : []),
    ...(r.fixes !== undefined && !r.error
      ? [
          r.failures.length
            ? `Not equivalent: ${r.failures.length} of ${r.fixes}.`
            : `No fix failed: ${r.equivalent} of ${r.fixes} equivalent${r.columnOrder.length ? `, ${r.columnOrder.length} but for column order` : ''}${r.intended.length ? `, ${r.intended.length} with the intended change` : ''}.`,
          '',
          ...r.failures.flatMap((f) => item(f, f.kind)),
          ...r.columnOrder.flatMap((f) => item(f, 'column order only')),
          ...r.intended.flatMap((f) => item(f, 'intended change')),
        ]
      : []),
  ]),
].join('\n');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(`${out}.md`, md);
fs.writeFileSync(`${out}.json`, `${JSON.stringify({ knexsafe: knexsafeAt, results }, null, 2)}\n`);
console.error(`wrote ${out}.md and .json`);
process.exit(results.some((r) => r.error || r.failures?.length) ? 1 : 0);
