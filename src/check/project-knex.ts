import { createRequire } from 'node:module';
import path from 'node:path';
import type { ProjectConfig } from '../config/resolve.js';
import { bundledKnexVersion, knexVersionFrom } from '../config/knex-version.js';
import { defaultExport, importUserModule } from '../config/load-module.js';
import { errorMessage } from '../errors.js';
import type { MigrationFile } from '../migrations/source.js';
import { createShadowDatabase } from '../shadow/server-database.js';

/** What the project's own knex made of the chain up to a migration that failed under knexsafe's. */
export interface ProjectKnexRun {
  version: string;
  /** The chain up to and including the migration ran under the project's knex. */
  runs: boolean;
  /** Why it failed there too. */
  message?: string;
}

interface MinimalKnex {
  migrate: { latest(config: Record<string, unknown>): Promise<unknown> };
  destroy(): Promise<void>;
}

/**
 * Runs `chain` (the migrations up to and including one that failed on the shadow) with the knex the
 * project itself resolves, as `npx knex migrate:latest` would, on a fresh temporary database on
 * the shadow server; drops it after. Undefined when the project has no knex of its own.
 */
export async function runUnderProjectKnex(project: ProjectConfig, chain: MigrationFile[], serverUrl: string): Promise<ProjectKnexRun | undefined> {
  const own = knexVersionFrom(project.baseDir);
  if (!own) return undefined;
  let knexFactory: (config: Record<string, unknown>) => MinimalKnex;
  try {
    const required = createRequire(path.join(project.baseDir, 'noop.js'))('knex') as { default?: unknown };
    knexFactory = (typeof required === 'function' ? required : required.default) as typeof knexFactory;
    if (typeof knexFactory !== 'function') return undefined;
  } catch {
    return undefined;
  }
  const database = await createShadowDatabase(serverUrl);
  const knex = knexFactory({ ...project.knexOptions, client: 'pg', connection: database.url });
  try {
    await knex.migrate.latest({
      tableName: project.migrations.tableName,
      ...(project.migrations.schemaName ? { schemaName: project.migrations.schemaName } : {}),
      ...(project.migrations.disableTransactions ? { disableTransactions: true } : {}),
      migrationSource: {
        getMigrations: () => Promise.resolve(chain),
        getMigrationName: (f: MigrationFile) => f.name,
        getMigration: async (f: MigrationFile) => (f.custom ? f.custom.load() : defaultExport(await importUserModule(f.file, 'migration'))),
      },
    });
    return { version: own.version, runs: true };
  } catch (error) {
    return { version: own.version, runs: false, message: errorMessage(error) };
  } finally {
    await knex.destroy().catch(() => undefined);
    await database.drop().catch(() => undefined);
  }
}

/** The failure's note once the project's knex has run the chain too. */
export function confirmedNote(run: ProjectKnexRun): string {
  const ours = bundledKnexVersion();
  return run.runs
    ? `fails only under knex ${ours.split('.')[0]}: under this project's knex ${run.version} it runs (knexsafe runs migrations with knex ${ours}, which behaves differently, e.g. in what .returning() resolves to)`
    : `fails under the project's knex ${run.version} too: ${run.message ?? ''}`;
}
