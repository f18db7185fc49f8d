import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { guardedLatest } from '../../src/guard/run.js';
import { KnexsafeError } from '../../src/errors.js';
import { makeProject, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

/** After every round: one history row, knex's lock free, nobody holding knexsafe's run lock. */
async function expectCleanState(url: string): Promise<void> {
  const rows = await sqlOn<{ applied: number; locked: number; advisory: number }>(
    url,
    `select (select count(*)::int from knex_migrations) as applied,
            (select coalesce(sum(is_locked), 0)::int from knex_migrations_lock) as locked,
            (select count(*)::int from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())) as advisory`,
  );
  expect(rows[0]).toEqual({ applied: 1, locked: 0, advisory: 0 });
}

async function reset(url: string): Promise<void> {
  // Keep knex's tables (creating them every round is most of a round's cost); empty the history.
  await sqlOn(url, `drop table if exists raced; do $$ begin if to_regclass('knex_migrations') is not null then delete from knex_migrations; end if; end $$`);
}

describeServer('two latest runs started together on one database', () => {
  let db: TempDatabase;
  beforeAll(async () => {
    db = await createTempDatabase('ks_race');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('library, 100 rounds: exactly one migrates, the other reports the run lock; no double apply, no stuck lock', async () => {
    // Under load one call could otherwise finish before the other starts: the two meet at a
    // barrier in the knexfile (read before knexsafe takes its run lock) and go on together.
    const dir = makeProject({
      'knexfile.js': `module.exports = async () => {\n  const barrier = globalThis.__knexsafeRaceBarrier;\n  if (barrier && ++barrier.arrived === 2) barrier.open();\n  await barrier?.opened;\n  return { client: 'pg', connection: ${JSON.stringify(db.url)} };\n};\n`,
      // `create table` without IF NOT EXISTS: a second apply would fail loudly.
      'migrations/20240101000000_create_raced.js': `exports.up = async (knex) => { await knex.raw('create table raced (id int)'); await knex.raw('select pg_sleep(0.05)'); };\nexports.down = (knex) => knex.raw('drop table raced');\n`,
    });
    const started = performance.now();
    const rounds = 100;
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await reset(db.url);
      let open = () => {};
      const opened = new Promise<void>((resolve) => (open = resolve));
      (globalThis as { __knexsafeRaceBarrier?: unknown }).__knexsafeRaceBarrier = { arrived: 0, open, opened };
      const outcomes = await Promise.allSettled([guardedLatest({ cwd: dir, check: false }), guardedLatest({ cwd: dir, check: false })]);
      const applied = outcomes.filter((o) => o.status === 'fulfilled' && o.value.migrations.length === 1);
      const refused = outcomes.filter((o) => o.status === 'rejected');
      expect(applied, `round ${round}`).toHaveLength(1);
      expect(refused, `round ${round}`).toHaveLength(1);
      const error = (refused[0] as PromiseRejectedResult).reason as KnexsafeError;
      expect(error).toBeInstanceOf(KnexsafeError);
      expect(error.code).toBe('MIGRATION_LOCKED');
      expect(error.exitCode).toBe(1);
      await expectCleanState(db.url);
    }
    console.log(`library race: ${rounds} rounds in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 240_000);

  it('CLI, 10 rounds of two spawned processes: one applies, the other exits 1 naming the run that holds the lock', async () => {
    await reset(db.url);
    // Node start-up jitter under load can exceed any migration length, so the two processes meet at
    // a barrier in the knexfile (an async function, loaded before knexsafe takes its run lock) and
    // are released together.
    const dir = makeProject({
      'knexfile.js': `const fs = require('fs');\nconst path = require('path');\nmodule.exports = async () => {\n  const barrier = process.env.KS_BARRIER;\n  if (barrier) {\n    fs.writeFileSync(path.join(barrier, 'ready-' + process.pid), '');\n    while (!fs.existsSync(path.join(barrier, 'go'))) await new Promise((r) => setTimeout(r, 5));\n  }\n  return { client: 'pg', connection: ${JSON.stringify(db.url)} };\n};\n`,
      'migrations/20240101000000_create_raced.js': `exports.up = async (knex) => { await knex.raw('create table raced (id int)'); await knex.raw('select pg_sleep(0.5)'); };\nexports.down = (knex) => knex.raw('drop table raced');\n`,
    });
    const started = performance.now();
    const rounds = 10;
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await reset(db.url);
      const barrier = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-barrier-'));
      const running = [0, 1].map(() => runCli(['latest', '--cwd', dir, '--no-check'], { env: { KS_BARRIER: barrier } }));
      const until = Date.now() + 60_000;
      while (fs.readdirSync(barrier).filter((f) => f.startsWith('ready-')).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      fs.writeFileSync(path.join(barrier, 'go'), '');
      const results = await Promise.all(running);
      const ok = results.filter((r) => r.code === 0);
      const locked = results.filter((r) => r.code === 1);
      expect(ok, `round ${round}: ${results.map((r) => r.stderr).join('\n')}`).toHaveLength(1);
      expect(ok[0]!.stdout).toMatch(/Applied batch 1: 1 migration/);
      expect(locked).toHaveLength(1);
      expect(locked[0]!.stderr).toMatch(/Another knexsafe run is migrating this database \(knex_migrations\): pid \d+ \(application "knexsafe:latest"/);
      await expectCleanState(db.url);
    }
    console.log(`CLI race: ${rounds} rounds in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 240_000);
});
