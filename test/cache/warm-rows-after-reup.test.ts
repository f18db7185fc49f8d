import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE, CHAINS, KNEXFILE, LOST } from '../helpers/reup-chains.js';
import { copyChain, freshCacheDir, run, scratch, touch } from './warm-helpers.js';

/**
 * A warm run resumed from the state after the second migration starts from the probe rows the cold
 * run kept (read after its down) and the tables its second up touched: those must be read again, so
 * the third migration's loss is the one a cold run reports.
 */
describe('warm cache: the probe rows kept after a second up', () => {
  for (const [name, files] of Object.entries(CHAINS)) {
    it(name, async () => {
      const source = fs.mkdtempSync(path.join(scratch, 'reup-'));
      for (const [file, text] of Object.entries({ 'knexfile.js': KNEXFILE, 'migrations/20240101000000_base.js': BASE, ...files })) {
        fs.mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
        fs.writeFileSync(path.join(source, file), text);
      }
      const dir = copyChain(source);
      const cacheDir = freshCacheDir();
      await run('verify', dir, cacheDir);
      // The third migration edited: the warm run resumes after the second.
      touch(path.join(dir, 'migrations/20240103000000_drop.js'));
      const warm = await run('verify', dir, cacheDir);
      expect(warm.fromCache).toBe(2);
      const cold = await run('verify', dir, freshCacheDir(), ['--no-cache']);
      expect(warm.json).toEqual(cold.json);
      const verdicts = (warm.json as { migrations: { name: string; dataLoss: { columns: string[] }[] }[] }).migrations;
      const lost = LOST[name]!;
      expect(verdicts.find((v) => v.name.includes('_drop'))!.dataLoss.map((l) => [...l.columns].sort())).toEqual(lost.length ? [lost] : []);
    }, 120_000);
  }
});
