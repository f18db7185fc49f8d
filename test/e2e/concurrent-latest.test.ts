import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeProject, parseJson, REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

/**
 * `knexsafe latest` and a plain `knex.migrate.latest()` started together on one database: what
 * knexsafe reports as applied must be what it applied (knex's history rows of its own batch), and
 * when the other process applied the migrations or holds knex's lock, it must say so and exit 1.
 */

const CHAIN = 5;

function migrations(options: { nonTransactional?: number } = {}): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 1; i <= CHAIN; i++) {
    const config = options.nonTransactional === i ? 'exports.config = { transaction: false };\n' : '';
    // Under KS_HOLD (plain knex only), the first migration waits for a `release` file there: the
    // other process then starts while this one holds knex's lock, however slow the machine is.
    const hold =
      i === 1
        ? "const hold = process.env.KS_HOLD; if (hold) { require('fs').writeFileSync(hold + '/holding', ''); while (!require('fs').existsSync(hold + '/release')) await new Promise((r) => setTimeout(r, 10)); } "
        : '';
    // Each creates a table without IF NOT EXISTS: a second apply would fail loudly.
    files[`migrations/2024010100000${i}_step${i}.js`] =
      `${config}exports.up = async (knex) => { ${hold}await knex.raw('create table step${i} (id int)'); await knex.raw('select pg_sleep(0.3)'); };\nexports.down = (knex) => knex.raw('drop table step${i}');\n`;
  }
  return files;
}

/** Plain knex, as `npx knex migrate:latest` runs it; waits for a `go` file in KS_BARRIER when set. */
const PLAIN_KNEX = `const fs = require('fs');
const path = require('path');
(async () => {
  const knex = require(${JSON.stringify(path.join(REPO_ROOT, 'node_modules/knex'))})(await require('./knexfile.js')());
  const barrier = process.env.KS_BARRIER;
  if (barrier) {
    fs.writeFileSync(path.join(barrier, 'ready-plain'), '');
    while (!fs.existsSync(path.join(barrier, 'go'))) await new Promise((r) => setTimeout(r, 2));
  }
  try {
    const [batch, log] = await knex.migrate.latest();
    console.log(JSON.stringify({ batch, log }));
  } catch (error) {
    console.log(JSON.stringify({ error: error.message }));
  } finally {
    await knex.destroy();
  }
})();
`;

/** A knexfile that, under KS_BARRIER, holds knexsafe until the plain run is ready too. */
function knexfile(url: string): string {
  return `const fs = require('fs');\nconst path = require('path');\nmodule.exports = async () => {\n  const barrier = process.env.KS_BARRIER;\n  if (barrier && process.env.KS_SIDE === 'knexsafe') {\n    fs.writeFileSync(path.join(barrier, 'ready-knexsafe'), '');\n    while (!fs.existsSync(path.join(barrier, 'go'))) await new Promise((r) => setTimeout(r, 2));\n  }\n  return { client: 'pg', connection: ${JSON.stringify(url)} };\n};\n`;
}

function runPlain(dir: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['plain.cjs'], { cwd: dir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface HistoryRow {
  name: string;
  batch: number;
}

async function history(url: string): Promise<HistoryRow[]> {
  const exists = await sqlOn<{ e: boolean }>(url, "select to_regclass('knex_migrations') is not null as e");
  if (!exists[0]?.e) return [];
  return sqlOn<HistoryRow>(url, 'select name, batch from knex_migrations order by id');
}

async function reset(url: string, keepKnexTables: boolean): Promise<void> {
  const drops = Array.from({ length: CHAIN }, (_, i) => `drop table if exists step${i + 1};`).join(' ');
  await sqlOn(
    url,
    keepKnexTables ? `${drops} delete from knex_migrations; update knex_migrations_lock set is_locked = 0` : `${drops} drop table if exists knex_migrations; drop table if exists knex_migrations_lock`,
  );
}

async function waitFor(what: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The invariants of one round, whoever won. */
async function expectTruthfulRound(url: string, ks: CliResult, plain: CliResult, round: string): Promise<void> {
  const rows = await history(url);
  const context = `${round}\nknexsafe ${ks.code}: ${ks.stdout}${ks.stderr}\nplain: ${plain.stdout}${plain.stderr}`;
  // Every migration applied exactly once, in one batch per applier.
  expect(rows.map((r) => r.name).sort(), context).toEqual(Array.from({ length: CHAIN }, (_, i) => `2024010100000${i + 1}_step${i + 1}.js`));
  expect(ks.stderr, context).not.toMatch(/\n\s+at /);
  const plainOut = parseJson<{ batch?: number; log?: string[]; error?: string }>(plain.stdout.trim());
  const plainApplied = new Set(plainOut.log ?? []);
  if (ks.code === 0) {
    const report = parseJson<{ migrations: { name: string }[]; batches: number[] }>(ks.stdout);
    const claimed = report.migrations.map((m) => m.name);
    // Nothing knexsafe claims was applied by plain knex, and each claim is a row of knexsafe's batch.
    expect(
      claimed.filter((n) => plainApplied.has(n)),
      context,
    ).toEqual([]);
    for (const name of claimed) expect(report.batches, context).toContain(rows.find((r) => r.name === name)?.batch);
    expect(claimed.length + plainApplied.size, context).toBe(CHAIN);
  } else {
    expect(ks.code, context).toBe(1);
    const error = parseJson<{ error: { code: string; message: string } }>(ks.stdout).error;
    expect(error.message, context).toMatch(/^(nothing to apply: \d+ migrations? (was|were) applied by another process meanwhile|another process is migrating: )/);
    // knexsafe applied nothing: every row is plain knex's.
    expect(plainApplied.size, context).toBe(CHAIN);
  }
  const lock = await sqlOn<{ locked: number }>(url, 'select coalesce(sum(is_locked), 0)::int as locked from knex_migrations_lock');
  expect(lock[0]?.locked, context).toBe(0);
}

describeServer('knexsafe latest next to a plain knex migrate:latest', () => {
  let db: TempDatabase;
  beforeAll(async () => {
    db = await createTempDatabase('ks_concurrent');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('plain knex mid-batch: knexsafe waits for the lock row, then says the migrations were applied by another process (was a false "Applied")', async () => {
    const dir = makeProject({ 'knexfile.js': knexfile(db.url), 'plain.cjs': PLAIN_KNEX, ...migrations() });
    const hold = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-hold-'));
    const plain = runPlain(dir, { KS_HOLD: hold });
    // knexsafe starts while plain knex's batch transaction is in its first migration, and plain
    // knex goes on once knexsafe waits for knex's lock row.
    await waitFor(async () => fs.existsSync(path.join(hold, 'holding')));
    const ksRun = runCli(['latest', '--no-check', '--json', '--cwd', dir]);
    await waitFor(async () => (await sqlOn(db.url, "select 1 from pg_stat_activity where datname = current_database() and application_name like 'knexsafe%' and wait_event_type = 'Lock'")).length > 0);
    fs.writeFileSync(path.join(hold, 'release'), '');
    const [ks, plainResult] = await Promise.all([ksRun, plain]);
    expect(ks.code, ks.stdout + ks.stderr).toBe(1);
    const error = parseJson<{ error: { code: string; message: string } }>(ks.stdout).error;
    expect(error.code).toBe('APPLIED_ELSEWHERE');
    expect(error.message).toMatch(/^nothing to apply: 5 migrations were applied by another process meanwhile \(knex_migrations batch 1: 20240101000001_step1\.js, /);
    await expectTruthfulRound(db.url, ks, plainResult, 'batch transaction');
  });

  it('plain knex holding knex_migrations_lock (a migration without a transaction): knexsafe says another process is migrating', async () => {
    await reset(db.url, true);
    const dir = makeProject({ 'knexfile.js': knexfile(db.url), 'plain.cjs': PLAIN_KNEX, ...migrations({ nonTransactional: 3 }) });
    const hold = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-hold-'));
    const plain = runPlain(dir, { KS_HOLD: hold });
    await waitFor(async () => fs.existsSync(path.join(hold, 'holding')));
    const ks = await runCli(['latest', '--no-check', '--cwd', dir]);
    fs.writeFileSync(path.join(hold, 'release'), '');
    const plainResult = await plain;
    expect(ks.code, ks.stdout + ks.stderr).toBe(1);
    expect(ks.stderr).toMatch(/another process is migrating: knex_migrations_lock is held/);
    expect(ks.stderr).not.toMatch(/Applied batch/);
    expect(ks.stdout).toBe('');
    expect(parseJson<{ log: string[] }>(plainResult.stdout.trim()).log).toHaveLength(CHAIN);
  });

  it('started together, fresh database and kept tables, bounded rounds: the report is always the truth', async () => {
    const dir = makeProject({ 'knexfile.js': knexfile(db.url), 'plain.cjs': PLAIN_KNEX, ...migrations() });
    const rounds = 4;
    const outcomes: string[] = [];
    for (let round = 0; round < rounds; round++) {
      // Even rounds start from an empty database: both create knex's tables at once.
      await reset(db.url, round % 2 === 1);
      const barrier = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-concurrent-'));
      const ksRun = runCli(['latest', '--no-check', '--json', '--cwd', dir], { env: { KS_BARRIER: barrier, KS_SIDE: 'knexsafe' } });
      const plainRun = runPlain(dir, { KS_BARRIER: barrier });
      const until = Date.now() + 60_000;
      while (fs.readdirSync(barrier).filter((f) => f.startsWith('ready-')).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      fs.writeFileSync(path.join(barrier, 'go'), '');
      const [ks, plain] = await Promise.all([ksRun, plainRun]);
      await expectTruthfulRound(db.url, ks, plain, `round ${round}`);
      outcomes.push(ks.code === 0 ? 'knexsafe applied' : parseJson<{ error: { code: string } }>(ks.stdout).error.code);
      fs.rmSync(barrier, { recursive: true, force: true });
    }
    console.log(`concurrent latest: ${outcomes.join(', ')}`);
  }, 240_000);
});
