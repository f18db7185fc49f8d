import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShadowCache, cacheSettings } from '../../src/cache/store.js';
import { currentTemplate, ensureTemplate } from '../../src/db/embedded.js';
import type { SavedSnapshots } from '../../src/schema/incremental.js';
import { buildSnapshot, snapshotSchema } from '../../src/schema/snapshot.js';
import { createShadow } from '../../src/shadow/shadow.js';
import { readProbeRows } from '../../src/verify/probe.js';
import { copyChain, freshCacheDir, run, shop, type Command } from './warm-helpers.js';

/**
 * A stored state carries the schema the run that stored it knew after its last migration
 * (`resume.schema`), so that a run resumed from it reads only what the next migration changes.
 * That schema must be the one a fresh read of the restored state gives: otherwise a warm run would
 * judge the next migration against another schema than the cold run.
 */
describe('warm cache: the schema stored with a state', () => {
  for (const command of ['check', 'verify'] as const satisfies readonly Command[]) {
    it(`${command}: equals a fresh read of the restored state`, async () => {
      const dir = copyChain(shop);
      const cacheDir = freshCacheDir();
      await run(command, dir, cacheDir);
      const cache = new ShadowCache({ ...cacheSettings(undefined, undefined), dir: cacheDir });
      await ensureTemplate();
      const template = currentTemplate()!;
      const keys = fs.readdirSync(path.join(cacheDir, 'states')).filter((name) => !name.startsWith('.'));
      expect(keys.length).toBeGreaterThan(1);
      let rowsCompared = 0;
      for (const key of keys) {
        let meta: ReturnType<ShadowCache['restoreState']>;
        const shadow = await createShadow({ seed: (dataDir) => (meta = cache.restoreState(key, dataDir, template)) !== undefined });
        try {
          const saved = (meta!.resume as { schema?: SavedSnapshots }).schema;
          expect(saved, `state ${key} stores its schema`).toBeDefined();
          // As JSON: the same document a later run parses.
          const stored = buildSnapshot((JSON.parse(JSON.stringify(saved)) as SavedSnapshots).raw);
          const fresh = await snapshotSchema(shadow.knex, { excludeTables: ['knex_migrations', 'knex_migrations_lock', 'knex_migrations_knexsafe'] });
          expect(stored, `state ${key}`).toEqual(fresh);
          // verify: the probe rows it knew, as a fresh read gives them: but in the tables touched
          // since (read again anyway), and in the columns both have. The run that stored the state
          // knew them as read after the migration's down: columns its second up added or dropped
          // since are not compared (verify compares the columns two schemas share).
          const known = (meta!.resume as { rowsKnown?: { rows: [string, Record<string, unknown>[]][]; settings: string; touched: string[] | null } }).rowsKnown;
          if (known) {
            const kept = known.rows.filter(([table]) => !known.touched?.includes(table));
            const read = await readProbeRows(
              shadow.knex,
              fresh,
              kept.map(([table]) => table),
            );
            const shared = (a: Record<string, unknown>[], b: Record<string, unknown>[]) => {
              const columns = new Set(a.flatMap((row) => Object.keys(row)).filter((c) => b.some((row) => c in row)));
              return a.map((row) => Object.fromEntries(Object.entries(row).filter(([c]) => columns.has(c))));
            };
            expect(
              kept.map(([table, rows]) => [table, rows.length]),
              `probe rows of state ${key}`,
            ).toEqual([...read.rows].map(([table, rows]) => [table, rows.length]));
            for (const [table, rows] of kept) {
              const freshRows = read.rows.get(table)!;
              expect(shared(rows, freshRows), `probe rows of ${table} in state ${key}`).toEqual(shared(freshRows, rows));
            }
            expect(known.settings).toBe(read.settings);
            rowsCompared++;
          }
        } finally {
          await shadow.close();
        }
      }
      if (command === 'verify') expect(rowsCompared, 'states with the probe rows known').toBeGreaterThan(0);
    }, 300_000);
  }
});
