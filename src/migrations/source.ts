import type { Knex } from 'knex';
import { importUserModule } from '../config/load-module.js';
import { trapped } from '../util/exit-trap.js';

import { listMigrationFiles, type MigrationFile } from '../config/migration-files.js';

// The listing lives in config (db needs it, below migrations); kept here for the modules that load migrations.
export { listMigrationFiles, type MigrationFile };

export type MigrationFn = (knex: Knex) => unknown;

export interface LoadedMigration {
  name: string;
  file: string;
  up: MigrationFn | undefined;
  down: MigrationFn | undefined;
  /** `exports.config.transaction`; undefined means knex's default (a transaction). */
  transaction: boolean | undefined;
}

export async function loadMigration(entry: MigrationFile): Promise<LoadedMigration> {
  const e = entry.custom ? (((await entry.custom.load()) as Record<string, unknown>) ?? {}) : (await importUserModule(entry.file, 'migration')).exports;
  // CJS files come back as { default: module.exports }; ESM/TS as their named exports.
  const body = (typeof e.up === 'function' || typeof e.down === 'function' ? e : (e.default as Record<string, unknown> | undefined)) ?? e;
  const up = typeof body.up === 'function' ? (body.up as MigrationFn) : undefined;
  const down = typeof body.down === 'function' ? (body.down as MigrationFn) : undefined;
  const config = (body.config ?? e.config) as { transaction?: unknown } | undefined;
  // A module without up or down loads: knex refuses it when it runs (knexRefusal), not when it lists.
  return {
    name: entry.name,
    file: entry.file,
    up,
    down,
    transaction: typeof config?.transaction === 'boolean' ? config.transaction : undefined,
  };
}

/**
 * knex's own check before it runs a batch (Migrator._validateMigrationStructure): a migration whose
 * up or down is not a function is refused with this message, and nothing of its batch runs.
 */
export function knexRefusal(m: Pick<LoadedMigration, 'name' | 'up' | 'down'>): string | undefined {
  if (m.up && m.down) return undefined;
  const missing = [m.up ? '' : 'up', m.down ? '' : 'down'].filter(Boolean).join(' or ');
  return `${knexRefusalMessage(m.name)} (it exports no ${missing} function)`;
}

/** knex's text, word for word: `npx knex migrate:latest` prints it. */
export function knexRefusalMessage(name: string): string {
  return `Invalid migration: ${name} must have both an up and down function`;
}

/** The migration named by knex's refusal, when `message` is one. */
export function refusedMigration(message: string): string | undefined {
  return /^Invalid migration: (.+) must have both an up and down function/.exec(message)?.[1];
}

export interface MigrationWrapper {
  /** Wraps one direction of one migration: timing, capture, progress. */
  wrap(migration: LoadedMigration, direction: 'up' | 'down', run: (knex: Knex) => Promise<unknown>): (knex: Knex) => Promise<unknown>;
}

/**
 * A knex MigrationSource over our file list, loading files with jiti so that TS and ESM
 * migrations run without ts-node. knex's Migrator still does all the bookkeeping.
 */
export class KnexsafeMigrationSource implements Knex.MigrationSource<MigrationFile> {
  private readonly cache = new Map<string, LoadedMigration>();

  constructor(
    private readonly files: MigrationFile[],
    private readonly wrapper?: MigrationWrapper,
    /** knex refuses a migration without `down`; analysis replaces a missing one with a no-op instead. */
    private readonly options: { noopMissingDown?: boolean } = {},
  ) {}

  getMigrations(): Promise<MigrationFile[]> {
    return Promise.resolve(this.files);
  }

  getMigrationName(migration: MigrationFile): string {
    return migration.name;
  }

  async getMigration(migration: MigrationFile): Promise<Knex.Migration> {
    let loaded = this.cache.get(migration.name);
    if (!loaded) {
      // Its top-level code is the migration's: an exit there fails it (while a run has the trap armed).
      loaded = await trapped(migration.name, () => loadMigration(migration), { loading: true, file: migration.file });
      this.cache.set(migration.name, loaded);
    }
    const m = loaded;
    const direction = (d: 'up' | 'down') => {
      const fn = d === 'up' ? m.up : m.down;
      const run = async (knex: Knex) => (fn ? await fn(knex) : undefined);
      return this.wrapper ? this.wrapper.wrap(m, d, run) : run;
    };
    return {
      up: direction('up'),
      down: m.down || this.options.noopMissingDown ? direction('down') : undefined,
      ...(m.transaction !== undefined ? { config: { transaction: m.transaction } } : {}),
    } as Knex.Migration;
  }
}
