import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { makeProject } from '../helpers/cli.js';
import { BASE, CHAINS, KNEXFILE, LOST } from '../helpers/reup-chains.js';
import { run, touch } from './warm-helpers.js';

/**
 * A warm run resumed from the state after the second migration starts from the probe rows the cold
 * run kept (read after its down) and the tables its second up touched: those must be read again, so
 * the third migration's loss is the one a cold run reports.
 */
describe('warm cache: the probe rows kept after a second up', () => {
  for (const [name, files] of Object.entries(CHAINS)) {
    it(name, async () => {
      // Folders of its own (warm-helpers' scratch goes with the first file that used it, in a shared worker).
      const dir = makeProject({ 'knexfile.js': KNEXFILE, 'migrations/20240101000000_base.js': BASE, ...files }, 'ks-warm-reup-');
      const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-warm-reup-cache-'));
      const coldCacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-warm-reup-cache-'));
      try {
        await run('verify', dir, cacheDir);
        // The third migration edited: the warm run resumes after the second.
        touch(path.join(dir, 'migrations/20240103000000_drop.js'));
        const warm = await run('verify', dir, cacheDir);
        expect(warm.fromCache).toBe(2);
        const cold = await run('verify', dir, coldCacheDir, ['--no-cache']);
        expect(warm.json).toEqual(cold.json);
        const verdicts = (warm.json as { migrations: { name: string; dataLoss: { columns: string[] }[] }[] }).migrations;
        const lost = LOST[name]!;
        expect(verdicts.find((v) => v.name.includes('_drop'))!.dataLoss.map((l) => [...l.columns].sort())).toEqual(lost.length ? [lost] : []);
      } finally {
        for (const d of [dir, cacheDir, coldCacheDir]) fs.rmSync(d, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
