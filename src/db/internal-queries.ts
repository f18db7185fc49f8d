import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * knexsafe's own queries (catalog reads, the data probe, history reads) go through the same knex as
 * the user's migrations, which carries the knexfile's `wrapIdentifier` and `postProcessResponse`:
 * those hooks must shape the migrations' SQL and results exactly as under `npx knex`, but not ours
 * (a snake_case → camelCase response hook would rename the `rows` we read). Code run through
 * `asKnexsafe` is ours: our knex clients skip the user's hooks for it (src/db/dialects.ts).
 */
const ours = new AsyncLocalStorage<boolean>();

export function asKnexsafe<T>(fn: () => Promise<T>): Promise<T> {
  return ours.run(true, fn);
}

/** The user's code again, inside code of ours (a migration run from within a knexsafe hook). */
export function asUser<T>(fn: () => Promise<T>): Promise<T> {
  return ours.run(false, fn);
}

export function isKnexsafeQuery(): boolean {
  return ours.getStore() === true;
}
