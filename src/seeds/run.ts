import type { Knex } from 'knex';
import path from 'node:path';
import fs from 'node:fs';
import { KnexsafeError, errorMessage } from '../errors.js';
import type { ProjectConfig } from '../config/resolve.js';
import type { Database } from '../db/connect.js';
import { KnexsafeSeedSource } from './source.js';

export interface SeedRunResult {
  seeds: string[];
}

/**
 * `knex seed:run` on the target: every seed file, or the one named by `specific`.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   const { seeds } = await runSeeds(db, project);
 * } finally {
 *   await db.close();
 * }
 */
export async function runSeeds(db: Database, project: ProjectConfig, options: { specific?: string } = {}): Promise<SeedRunResult> {
  const missing = project.seeds.directories.filter((d) => !fs.existsSync(d));
  if (missing.length) {
    throw new KnexsafeError('SEEDS_DIR_MISSING', `The seeds directory ${missing.join(', ')} does not exist.`, {
      hint: 'Create a seed with `knexsafe seed:make <name>`, or fix seeds.directory in the knexfile.',
    });
  }
  const s = project.seeds;
  const source = new KnexsafeSeedSource(s.directories, s.sortDirsSeparately, s.loadExtensions, s.recursive);
  try {
    const [files] = (await db.knex.seed.run({
      seedSource: source,
      ...(options.specific ? { specific: path.basename(options.specific) } : {}),
    } as unknown as Knex.SeederConfig)) as [string[]];
    return { seeds: files };
  } catch (error) {
    if (error instanceof KnexsafeError) throw error;
    const message = errorMessage(error);
    if (/specific seed .* does not exist/.test(message)) {
      throw new KnexsafeError('UNKNOWN_SEED', message.replace('Invalid argument provided: the', 'The'), { hint: 'List the seeds folder to see the names.' });
    }
    throw new KnexsafeError('SEED_FAILED', message, { exitCode: 1, cause: error });
  }
}
