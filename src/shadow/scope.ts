import type { Knex } from 'knex';
import type { ProjectConfig } from '../config/resolve.js';
import type { StatementError } from '../db/statement-error.js';
import { asKnexsafe } from '../db/internal-queries.js';

/**
 * The schemas a project's knexfile takes for granted. `migrations.schemaName` must exist before
 * knex's Migrator runs at all (knex creates its history tables there, never the schema): every
 * target that ran a migration has it, so a shadow gets it too. Without a schemaName, knex creates
 * its history table in the first schema of `searchPath` that exists — so on a target knex has
 * migrated, one of them existed before the first migration (a deployment's CREATE SCHEMA). When
 * none exists on the shadow, the first is created there, and the returned note says so. A
 * searchPath that keeps a schema beside knex's table (schemaName set, or one of its schemas
 * exists) is left alone: migrations often create the others, and one that nothing creates fails
 * on the shadow as on a database without it — explained, not hidden.
 */
export async function prepareScope(knex: Knex, project: Pick<ProjectConfig, 'migrations' | 'searchPath'>): Promise<string[]> {
  const schema = project.migrations.schemaName;
  if (schema) {
    await asKnexsafe(() => knex.raw('create schema if not exists ??', [schema]));
    return [];
  }
  const searchPath = [project.searchPath ?? []].flat().filter((s) => s !== '' && !s.startsWith('$'));
  if (searchPath.length === 0) return [];
  const existing = await asKnexsafe(() => knex.raw('select nspname from pg_namespace where nspname = any(?)', [searchPath]));
  if ((existing as { rows: unknown[] }).rows.length > 0) return [];
  const first = searchPath[0]!;
  await asKnexsafe(() => knex.raw('create schema ??', [first]));
  return [
    `Schema "${first}" (first in the knexfile's searchPath) does not exist before the first migration, so it was created on the shadow: knex keeps its migration table there, so every database knex has migrated has it (created outside the migrations). A new database without it fails at knex's first step (SQLSTATE 3F000).`,
  ];
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
