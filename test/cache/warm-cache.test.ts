import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';

/**
 * The warm cache of shadow states (src/cache/, issue 21 point 3) must never change what a run
 * reports: for every fixture chain, `check --all --json` and `verify --json` print the same JSON
 * (but for durations) and exit with the same code cold (--no-cache), while filling the cache, and
 * warm — also after the newest and a middle migration change, and with two runs sharing the cache.
 */

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-warm-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let copies = 0;
/** A private copy of a chain: cache keys include the project's path, and the tests edit files. */
function copyChain(from: string): string {
  const dir = path.join(scratch, `chain-${copies++}`);
  fs.cpSync(from, dir, { recursive: true });
  return dir;
}

function freshCacheDir(): string {
  return fs.mkdtempSync(path.join(scratch, 'cache-'));
}

type Command = 'check' | 'verify';
const ARGS: Record<Command, string[]> = { check: ['check', '--all', '--json'], verify: ['verify', '--json'] };

interface Run {
  code: number;
  /** The JSON result without what differs between any two runs (durations, timings). */
  json: unknown;
  /** Migrations the run took from the cache (KNEXSAFE_CACHE_TRACE), undefined when it did not use one. */
  fromCache: number | undefined;
  raw: CliResult;
}

/** Also the copy's folder as <project>: a cold run of one copy is the reference for another copy of the same chain. */
function normalise(value: unknown, dir: string): unknown {
  if (typeof value === 'string') return value.split(dir).join('<project>');
  if (Array.isArray(value)) return value.map((v) => normalise(v, dir));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'durationMs' || k === 'shadowReadyMs' || k === 'timings') continue;
      out[k] = normalise(v, dir);
    }
    return out;
  }
  return value;
}

async function run(command: Command, cwd: string, cacheDir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  const raw = await runCli([...ARGS[command], '--cwd', cwd, ...extra], { env: { KNEXSAFE_STATE_CACHE_DIR: cacheDir, KNEXSAFE_CACHE_TRACE: '1', ...env } });
  let json: unknown;
  try {
    json = normalise(JSON.parse(raw.stdout), cwd);
  } catch {
    throw new Error(`${command} in ${cwd} printed no JSON (exit ${raw.code}):\n${raw.stdout}\n${raw.stderr}`);
  }
  const traced = /knexsafe cache: (\d+) of \d+ migrations from the cache/.exec(raw.stderr);
  return { code: raw.code, json, fromCache: traced ? Number(traced[1]) : undefined, raw };
}

function expectSame(actual: Run, expected: Run, what: string): void {
  expect(actual.json, what).toEqual(expected.json);
  expect(actual.code, what).toBe(expected.code);
}

function migrationFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (/migrations/.test(full) && /\.(c|m)?[jt]s$/.test(e.name)) found.push(full);
    }
  };
  walk(dir);
  return found.sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
}

/**
 * Changes a migration's bytes and nothing it does (a comment at the end keeps every line number).
 * The same comment every time: check's fix code quotes the file, and two copies edited alike must
 * print the same (the shared references below).
 */
function touch(file: string): void {
  fs.appendFileSync(file, '\n// edited\n');
}

const shop = path.join(REPO_ROOT, 'examples/shop');

/**
 * Cold (--no-cache) runs of the example shop, as it is and with its newest migration edited, each
 * made once on a copy of its own and shared by the tests that compare a run of their copy with it:
 * a cold run costs a whole shadow, and the suite must stay bounded on 2 cores.
 */
const references = new Map<string, Promise<Run>>();
function shopReference(command: Command, edit: 'as is' | 'newest edited'): Promise<Run> {
  const key = `${command} ${edit}`;
  let made = references.get(key);
  if (!made) {
    const dir = copyChain(shop);
    if (edit === 'newest edited') touch(migrationFiles(dir).at(-1)!);
    made = run(command, dir, freshCacheDir(), ['--no-cache']);
    references.set(key, made);
  }
  return made;
}

const realworld = path.join(REPO_ROOT, 'test/fixtures/realworld');
const FIXTURES: [string, string][] = [
  ['examples/shop', shop],
  ['verify-broken', path.join(REPO_ROOT, 'test/fixtures/verify-broken')],
  ...fs
    .readdirSync(realworld, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e): [string, string] => [`realworld/${e.name}`, path.join(realworld, e.name)]),
];

describe('warm cache: cold and warm runs report the same', () => {
  for (const fixture of FIXTURES) {
    const [name, source] = fixture;
    for (const command of ['check', 'verify'] as const) {
      it(`${command}: ${name}`, async () => {
        const dir = copyChain(source);
        const cache = freshCacheDir();
        // The run that fills the cache is a cold run too; a --no-cache run as well only for the first
        // two fixtures (--no-cache has its own test below): the suite must stay bounded on 2 cores.
        const filling = await run(command, dir, cache);
        let cold = filling;
        if (FIXTURES.indexOf(fixture) < 2) {
          cold = source === shop ? await shopReference(command, 'as is') : await run(command, dir, cache, ['--no-cache']);
          expect(cold.fromCache, '--no-cache uses no cache').toBeUndefined();
          expectSame(filling, cold, 'filling the cache');
        }
        const warm = await run(command, dir, cache);
        expectSame(warm, cold, 'warm');
        // A chain the cache can hold (not a custom migrationSource) is taken from it whole.
        if (warm.fromCache !== undefined) expect(warm.fromCache).toBeGreaterThan(0);
      });
    }
  }
});

describe('warm cache: exact invalidation', () => {
  const generated = path.join(scratch, 'generated');
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'bench/chains/generate.mjs'), generated, '--count', '24'], { stdio: 'ignore' });

  for (const [name, source] of [['examples/shop', shop], ['generated chain of 24', generated]] as const) {
    for (const command of ['check', 'verify'] as const) {
      it(`${command}: ${name}, after editing the newest and then a middle migration`, async () => {
        const dir = copyChain(source);
        const cache = freshCacheDir();
        const files = migrationFiles(dir);
        await run(command, dir, cache);

        touch(files[files.length - 1]!);
        const newest = await run(command, dir, cache);
        expect(newest.fromCache, 'resumed right before the newest migration').toBe(files.length - 1);
        const reference = source === shop ? await shopReference(command, 'newest edited') : await run(command, dir, cache, ['--no-cache']);
        expectSame(newest, reference, 'after editing the newest migration');

        const middle = Math.floor(files.length / 2);
        touch(files[middle]!);
        const edited = await run(command, dir, cache);
        // Exact: nothing at or after the edited migration comes from the cache.
        expect(edited.fromCache).toBeLessThanOrEqual(middle);
        expectSame(edited, await run(command, dir, cache, ['--no-cache']), 'after editing a middle migration');
        // Five runs of the chain: like the shared-cache tests below, more than the default on a loaded 2-core machine.
      }, 300_000);
    }
  }

  it('check: a change that alters what a later migration finds is seen (not the old findings)', async () => {
    const dir = copyChain(shop);
    const cache = freshCacheDir();
    fs.writeFileSync(
      path.join(dir, 'migrations/20990101000000_index_later.js'),
      `exports.up = (knex) => knex.schema.alterTable('users', (t) => t.index(['email'], 'users_email_later'));\nexports.down = (knex) => knex.schema.alterTable('users', (t) => t.dropIndex(['email'], 'users_email_later'));\n`,
    );
    const before = await run('check', dir, cache);
    // The first migration now creates no users table: the later index has nothing to lock.
    const first = migrationFiles(dir)[0]!;
    fs.writeFileSync(first, fs.readFileSync(first, 'utf8').replace(/createTable\('users'/g, "createTable('people'"));
    const after = await run('check', dir, cache);
    expect(after.json).not.toEqual(before.json);
    expectSame(after, await run('check', dir, cache, ['--no-cache']), 'after the change');
  });
});

describe('warm cache: what opening the shadow notes', () => {
  for (const command of ['check', 'verify'] as const) {
    it(`${command}: the note about a searchPath schema the shadow had to create is there warm, whole and resumed`, async () => {
      const dir = path.join(scratch, `search-path-${command}`);
      fs.mkdirSync(path.join(dir, 'migrations'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'knexfile.js'), `module.exports = { client: 'pg', searchPath: ['app'], migrations: { directory: './migrations' } };\n`);
      for (const [i, table] of ['a', 'b', 'c'].entries()) {
        fs.writeFileSync(
          path.join(dir, `migrations/2024010${i + 1}000000_${table}.js`),
          `exports.up = (knex) => knex.schema.createTable('${table}', (t) => { t.bigIncrements('id'); t.text('name'); });\nexports.down = (knex) => knex.schema.dropTable('${table}');\n`,
        );
      }
      const cache = freshCacheDir();
      const cold = await run(command, dir, cache, ['--no-cache']);
      expect(JSON.stringify(cold.json)).toMatch(/Schema \\"app\\"/);
      expectSame(await run(command, dir, cache), cold, 'filling');
      const whole = await run(command, dir, cache);
      expect(whole.fromCache).toBe(3);
      expectSame(whole, cold, 'every result cached');
      touch(path.join(dir, 'migrations/20240103000000_c.js'));
      const resumed = await run(command, dir, cache);
      expect(resumed.fromCache).toBe(2);
      expectSame(resumed, await run(command, dir, cache, ['--no-cache']), 'resumed from a stored state');
    });
  }
});

describe('warm cache: switches and sharing', () => {
  it('--no-cache and KNEXSAFE_NO_CACHE=1 neither read nor write it', async () => {
    const dir = copyChain(shop);
    const cache = freshCacheDir();
    const off = await run('check', dir, cache, [], { KNEXSAFE_NO_CACHE: '1' });
    expect(off.fromCache).toBeUndefined();
    expect(fs.readdirSync(cache)).toEqual([]);
    await run('check', dir, cache);
    const listed = () => fs.readdirSync(path.join(cache, 'states')).sort();
    const stored = listed();
    expect(stored.length).toBeGreaterThan(0);
    const flagged = await run('check', dir, cache, ['--no-cache']);
    expect(flagged.fromCache).toBeUndefined();
    expect(listed()).toEqual(stored);
  });

  for (const command of ['check', 'verify'] as const) {
    it(`${command}: two runs sharing a cache at once both succeed with the cold output, cold and warm`, async () => {
      const dir = copyChain(shop);
      const cache = freshCacheDir();
      const cold = await shopReference(command, 'as is');
      const both = await Promise.all([run(command, dir, cache), run(command, dir, cache)]);
      for (const r of both) expectSame(r, cold, `${command}, filling the cache together`);
      touch(migrationFiles(dir).at(-1)!);
      const reference = await shopReference(command, 'newest edited');
      const warm = await Promise.all([run(command, dir, cache), run(command, dir, cache)]);
      for (const r of warm) expectSame(r, reference, `${command}, warm together`);
      // No half-written entry left behind under a temporary name.
      expect(fs.readdirSync(path.join(cache, 'states')).filter((n) => n.startsWith('.'))).toEqual([]);
    }, 300_000);
  }

  it('stays under its size limit, dropping the least recently used states', async () => {
    const dir = copyChain(shop);
    const cache = freshCacheDir();
    const limitMb = 40;
    await run('check', dir, cache, [], { KNEXSAFE_CACHE_MAX_MB: String(limitMb) });
    const size = (d: string): number => fs.readdirSync(d, { withFileTypes: true }).reduce((sum, e) => sum + (e.isDirectory() ? size(path.join(d, e.name)) : fs.statSync(path.join(d, e.name)).size), 0);
    expect(size(cache)).toBeLessThanOrEqual(limitMb * 1024 * 1024 + 64 * 1024);
    // Still exact with entries evicted.
    expectSame(await run('check', dir, cache, [], { KNEXSAFE_CACHE_MAX_MB: String(limitMb) }), await shopReference('check', 'as is'), 'after eviction');
  });
});
