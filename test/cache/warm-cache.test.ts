import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { copyChain, expectSame, freshCacheDir, migrationFiles, run, scratch, shop, shopReference, touch } from './warm-helpers.js';

/**
 * The warm cache of shadow states (src/cache/, issue 21 point 3) must never change what a run
 * reports: `check --all --json` and `verify --json` print the same JSON (but for durations) and exit
 * with the same code cold (--no-cache) and warm after the newest and a middle migration change,
 * with what opening the shadow notes, and with two runs sharing the cache. Every fixture chain:
 * warm-cache-fixtures.test.ts.
 */

describe('warm cache: exact invalidation', () => {
  const generated = path.join(scratch, 'generated');
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'bench/chains/generate.mjs'), generated, '--count', '24'], { stdio: 'ignore' });

  for (const [name, source] of [
    ['examples/shop', shop],
    ['generated chain of 24', generated],
  ] as const) {
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
