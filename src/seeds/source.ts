import { createRequire } from 'node:module';
import { importUserModule } from '../config/load-module.js';

const require = createRequire(import.meta.url);

interface FsSeedsCtor {
  new (directories: string[], sortDirsSeparately: boolean, loadExtensions: string[]): {
    getSeeds(config: unknown): Promise<string[]>;
    getSeed(file: string): Promise<unknown>;
  };
}

// Reuse knex's own seed listing (recursive folders, sort order, --specific) and swap only the loader.
const { FsSeeds } = require('knex/lib/migrations/seed/sources/fs-seeds.js') as { FsSeeds: FsSeedsCtor };

/** knex's FsSeeds with jiti loading, so TS and ESM seeds run without ts-node. */
export class KnexsafeSeedSource extends FsSeeds {
  override async getSeed(file: string): Promise<unknown> {
    const mod = await importUserModule(file, 'seed');
    const e = mod.exports;
    return typeof e.seed === 'function' ? e : (e.default ?? e);
  }
}
