import { createRequire } from 'node:module';
import { importUserModule } from '../config/load-module.js';

const require = createRequire(import.meta.url);

interface FsSeedsCtor {
  new (
    directories: string[],
    sortDirsSeparately: boolean,
    loadExtensions: string[],
  ): {
    loadExtensions: string[];
    getSeeds(config: Record<string, unknown>): Promise<string[]>;
    getSeed(file: string): Promise<unknown>;
  };
}

// Reuse knex's own seed listing (recursive folders, sort order, --specific) and swap only the loader.
const { FsSeeds } = require('knex/lib/migrations/seed/sources/fs-seeds.js') as { FsSeeds: FsSeedsCtor };

/** knex's FsSeeds with jiti loading, so TS and ESM seeds run without ts-node. */
export class KnexsafeSeedSource extends FsSeeds {
  constructor(
    directories: string[],
    sortDirsSeparately: boolean,
    loadExtensions: string[],
    private readonly recursive: boolean,
  ) {
    super(directories, sortDirsSeparately, loadExtensions);
  }

  /** knex would pass its default extension list (no .mjs) unless given FS options, which drop a custom source. */
  override getSeeds(config: Record<string, unknown>): Promise<string[]> {
    return super.getSeeds({ ...config, loadExtensions: this.loadExtensions, recursive: this.recursive });
  }

  override async getSeed(file: string): Promise<unknown> {
    const mod = await importUserModule(file, 'seed');
    const e = mod.exports;
    return typeof e.seed === 'function' ? e : (e.default ?? e);
  }
}
