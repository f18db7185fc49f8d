import type { Knex } from 'knex';
import type { ProjectConfig } from '../config/resolve.js';
import type { StatementError } from '../capture/types.js';
import { asKnexsafe } from '../db/internal-queries.js';

/**
 * The schemas a project's knexfile takes for granted. `migrations.schemaName` must exist before
 * knex's Migrator runs at all (knex creates its history tables there, never the schema): every
 * target that ran a migration has it, so a shadow gets it too. The schemas of `searchPath` are
 * left alone: migrations often create them (`createSchemaIfNotExists`), and one that nothing
 * creates fails on the shadow as it fails on a database without it — explained, not hidden.
 */
export async function prepareScope(knex: Knex, project: Pick<ProjectConfig, 'migrations'>): Promise<void> {
  const schema = project.migrations.schemaName;
  if (!schema) return;
  await asKnexsafe(() => knex.raw('create schema if not exists ??', [schema]));
}

/** A failure that comes from the knexfile's searchPath naming schemas that do not exist, said so. */
export function explainScopeFailure<E extends StatementError>(error: E, project: Pick<ProjectConfig, 'searchPath'>): E {
  if (error.sqlState !== '3F000' || project.searchPath === undefined) return error;
  const schemas = [project.searchPath].flat();
  return {
    ...error,
    message: `${error.message} — the knexfile's searchPath (${schemas.map((s) => `"${s}"`).join(', ')}) names no schema that exists when this migration runs, so PostgreSQL has nowhere to create it; knex fails the same way on a database without ${schemas.length === 1 ? 'that schema' : 'those schemas'}`,
    hint: `Create the schema before the first migration needs it (knex.schema.createSchemaIfNotExists('${schemas[0]}') in an earlier migration), or add an existing schema such as "public" to searchPath.`,
  };
}
