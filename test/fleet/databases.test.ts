import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { describeServer, sqlOn, urlFor } from '../helpers/pg.js';
import { addMigrations, admin, holdTableLock, limited, type FleetJson } from './fleet-helpers.js';

const COUNT = 50;
const RUN = randomBytes(3).toString('hex');
const names = Array.from({ length: COUNT }, (_, i) => `ks_fleet_${RUN}_${String(i).padStart(2, '0')}`);
// trust auth ignores it; it stands for a real password that must never be printed.
const PASSWORD = 'Fleet-Pw-9x7Q';
const withPassword = (db: string) => urlFor(db).replace('//postgres@', `//postgres:${PASSWORD}@`);
const LAST = '20240103000000_add_note.js';

async function appliedOn(db: string): Promise<string[]> {
  const rows = await sqlOn<{ name: string }>(urlFor(db), `select name from knex_migrations order by id`).catch(() => undefined);
  return rows ? rows.map((r) => r.name) : [];
}

// Each step runs a whole fleet (up to 200 guarded runs): on a 2-core machine shared with other jobs
// that takes several times longer than alone, hence the per-step timeout above the default 60 s.
describeServer('fleet of 50 databases', () => {
  let dir: string;
  const cli = (...args: string[]) => runCli(['--no-color', ...args], { cwd: dir });
  const noSecret = (r: { stdout: string; stderr: string }) => expect(`${r.stdout}${r.stderr}`).not.toContain(PASSWORD);

  beforeAll(async () => {
    await limited(names, 6, (n) => admin(`create database "${n}"`));
    dir = makeProject(
      {
        'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(urlFor('postgres'))}, migrations: { directory: './migrations' } };\n`,
        'targets.txt': `# the fleet\n${names.map((n, i) => `${withPassword(n)}${i % 10 === 0 ? '   # every tenth has a comment' : ''}`).join('\n')}\n`,
      },
      'ks-fleet-',
    );
    fs.mkdirSync(path.join(dir, 'migrations'));
    addMigrations(dir, ['20240101000000_create_items.js']);
  });

  afterAll(async () => {
    await limited(names, 6, (n) => admin(`drop database if exists "${n}" with (force)`));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('migrates the targets it is given, never printing a password', { timeout: 150_000 }, async () => {
    // One database first (a table the next step can lock); the other 49 start empty.
    const first = await cli('latest', '--targets', 'targets.txt', '--only', names[0]!, '--json');
    noSecret(first);
    expect(first.code, first.stderr).toBe(0);
    const firstReport = parseJson<FleetJson>(first.stdout);
    expect(firstReport.targets.map((t) => [t.target, t.result, t.version])).toEqual([[names[0], 'ok', '20240101000000_create_items.js']]);
    expect(firstReport.checks).toHaveLength(1);
  });

  it('stops at the first failure, names it, and leaves the targets not started untouched', { timeout: 150_000 }, async () => {
    addMigrations(dir, ['20240102000000_add_price.js', LAST]);
    const blocker = await holdTableLock(urlFor(names[0]!), 'items');
    let failing: Awaited<ReturnType<typeof cli>>;
    const before = new Map<string, string[]>();
    try {
      await limited(names, 8, async (n) => void before.set(n, await appliedOn(n)));
      failing = await cli('latest', '--targets', 'targets.txt', '--concurrency', '2', '--retries', '0', '--lock-timeout', '1s', '--json');
      // The same, as people read it: the summary names the target that failed.
      const text = await cli('latest', '--targets', 'targets.txt', '--only', names[0]!, '--no-check', '--retries', '0', '--lock-timeout', '300ms');
      noSecret(text);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(new RegExp(`${names[0]}\\s+failed`));
      expect(text.stdout).toContain('lock_timeout');
    } finally {
      await blocker.release();
    }
    noSecret(failing);
    expect(failing.code).toBe(1);
    const report = parseJson<FleetJson>(failing.stdout);
    // One check per distinct applied state (first migration applied / nothing applied), not one per database.
    expect(report.checks.map((c) => [c.state, c.targets])).toEqual(
      expect.arrayContaining([
        [null, COUNT - 1],
        ['20240101000000_create_items.js', 1],
      ]),
    );
    expect(report.checks).toHaveLength(2);
    expect(report.stopped).toBe(true);
    const failed = report.targets.filter((t) => t.result === 'failed');
    expect(failed.map((t) => t.target)).toEqual([names[0]]);
    expect(failed[0]!.error?.code).toBe('LOCK_TIMEOUT');
    const notStarted = report.targets.filter((t) => t.result === 'not started');
    expect(notStarted.length).toBeGreaterThan(0);
    await limited(notStarted, 8, async (t) => void expect(await appliedOn(t.target)).toEqual(before.get(t.target)));
    // The failed one's batch was rolled back: it is where it was.
    expect(await appliedOn(names[0]!)).toEqual(['20240101000000_create_items.js']);
    for (const t of report.targets.filter((x) => x.result === 'ok')) expect(t.version).toBe(LAST);
  });

  it('a re-run finishes the fleet from where each target stands', { timeout: 150_000 }, async () => {
    const rerun = await cli('latest', '--targets', 'targets.txt', '--concurrency', '8');
    noSecret(rerun);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain(`✓ latest on ${COUNT} targets: ${COUNT} ok`);
    await limited(names, 8, async (n) => void expect(await appliedOn(n)).toHaveLength(3));
    for (const n of [names[0]!, names[45]!, names[20]!]) expect(await appliedOn(n)).toEqual(['20240101000000_create_items.js', '20240102000000_add_price.js', LAST]);
  });

  it('status shows every target at the same version', { timeout: 150_000 }, async () => {
    const status = await cli('status', '--targets', 'targets.txt', '--concurrency', '8', '--json');
    noSecret(status);
    expect(status.code).toBe(0);
    const report = parseJson<FleetJson>(status.stdout);
    expect(report.targets).toHaveLength(COUNT);
    expect(report.versions).toEqual([{ version: LAST, targets: COUNT }]);
  });

  it('doctor --targets names the stuck, behind and drifted targets', { timeout: 150_000 }, async () => {
    const [stuck, drifted, behind] = [names[1]!, names[2]!, names[3]!];
    await sqlOn(urlFor(stuck), 'update knex_migrations_lock set is_locked = 1');
    await sqlOn(urlFor(drifted), 'alter table items add column extra int');
    await sqlOn(urlFor(behind), `delete from knex_migrations where name = '${LAST}'`);
    const doctor = await cli('doctor', '--targets', 'targets.txt', '--only', `*_0?`, '--json');
    noSecret(doctor);
    expect(doctor.code).toBe(1);
    const report = parseJson<FleetJson>(doctor.stdout);
    const problems = Object.fromEntries(report.targets.filter((t) => t.problems?.length).map((t) => [t.target, t.problems]));
    expect(problems).toEqual({ [stuck]: ['stuck'], [drifted]: ['drifted'], [behind]: ['behind'] });
    // status exits 1 while one is behind.
    const status = await cli('status', '--targets', 'targets.txt', '--only', `*_0?`);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(new RegExp(`${behind}\\s+behind`));
  });
});
