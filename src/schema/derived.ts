import type { SchemaSnapshot } from './types.js';

/**
 * A value derived from a snapshot, computed once per snapshot: snapshots are never changed once
 * read, and check hands the same one to two migrations (after one, before the next).
 */
export function perSnapshot<T>(derive: (snapshot: SchemaSnapshot) => T): (snapshot: SchemaSnapshot) => T {
  const cache = new WeakMap<SchemaSnapshot, T>();
  return (snapshot) => {
    let value = cache.get(snapshot);
    if (value === undefined) {
      value = derive(snapshot);
      cache.set(snapshot, value);
    }
    return value;
  };
}
