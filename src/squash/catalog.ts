import type { Knex } from 'knex';
import { PRINTING_SETTINGS, setLocalSql } from '../schema/snapshot.js';
import { readCatalogModel, readCatalogModelAndSnapshot, type CatalogModel, type ReadCatalogOptions } from '../schema/catalog-model.js';
import type { SchemaSnapshot } from '../schema/types.js';
import { asKnexsafe } from '../db/internal-queries.js';

/**
 * squash's session around the catalog reads (the reads themselves, and the model they fill, are
 * src/schema/catalog-model.ts, next to the snapshot's).
 */

// The snapshot's printing settings (bytea literals among them, in one fixed form for the generated DDL).
const SESSION = setLocalSql(PRINTING_SETTINGS);

/** Runs `fn` in a read-only transaction (rolled back) with the canonical session settings. */
export function withCanonicalSession<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return asKnexsafe(() => withCanonicalSessionOwn(knex, fn));
}

async function withCanonicalSessionOwn<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const trx = await knex.transaction();
  let result: T;
  try {
    await trx.raw(`select ${SESSION.sql}`, SESSION.bindings);
    result = await fn(trx);
  } catch (error) {
    await trx.rollback().catch(() => undefined);
    throw error;
  }
  await trx.rollback();
  return result;
}

/** The baseline's model of the database behind `knex`, read in the canonical session. */
export function readCatalog(knex: Knex, options: ReadCatalogOptions): Promise<CatalogModel> {
  return withCanonicalSession(knex, (trx) => readCatalogModel(trx, options));
}

/** The model and the schema's snapshot, both from one catalog read (the snapshot a plain snapshotSchema gives). */
export function readCatalogAndSnapshot(knex: Knex, options: ReadCatalogOptions): Promise<{ model: CatalogModel; snapshot: SchemaSnapshot }> {
  return withCanonicalSession(knex, (trx) => readCatalogModelAndSnapshot(trx, options));
}
