import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { expectSame, freshCacheDir, copyChain, run, shop, shopReference } from './warm-helpers.js';

/**
 * For every fixture chain, `check --all --json` and `verify --json` report the same cold
 * (--no-cache), while filling the warm cache, and warm.
 */

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
