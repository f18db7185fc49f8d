import { isDeepStrictEqual } from 'node:util';
import type { Knex } from 'knex';
import type { SchemaFootprint } from '../capture/types.js';
import { diffSchemas } from './diff.js';
import { formatDiff } from './format.js';
import { buildSnapshot, readCatalog, type FollowingQuery, type RawCatalog, type SnapshotOptions } from './snapshot.js';
import type { SchemaSnapshot } from './types.js';

/** The per-relation kinds of the catalog query: their rows carry an owner and are replaced owner by owner. */
const OWNED_KINDS = ['tables', 'columns', 'constraints', 'indexes', 'sequences', 'views', 'triggers', 'policies', 'comments'] as const;

interface State {
  raw: RawCatalog;
  snapshot: SchemaSnapshot;
  /** oid → [owner oid, qualified name, relkind] of every relation in scope. */
  relations: Map<number, [number, string, string]>;
}

/** Owners read with their rows: tables, views, materialized views, sequences. A composite type's relation is read with the schema-wide kinds. */
const OWNER_KINDS = new Set(['r', 'p', 'f', 'v', 'm', 'S']);

/**
 * Schema snapshots of one database taken one after another (check: before and after each
 * migration), where each one after the first re-reads only what the last migration could have
 * changed: the owner relations (a table with its indexes, a view, a sequence) it locked or created
 * or dropped. What a footprint cannot vouch for (types, functions, renames, statements not
 * watched…), a relation that changed its name, or a dropped relation whose table was not locked,
 * gets a full read. The result is meant to equal `snapshotSchema` on the same database;
 * KNEXSAFE_CHECK_INCREMENTAL=1 (set in CI) makes every incremental snapshot prove it against a full one.
 */
export class IncrementalSnapshots {
  private state: State | undefined;
  /** How many snapshots were read whole and how many incrementally (for tests and benchmarks). */
  readonly counts = { full: 0, incremental: 0 };

  constructor(private readonly options: SnapshotOptions = {}) {}

  /** The schema now. With no `footprint` (or an incomplete one) it is read whole. `following` may ride along (see readCatalog). */
  async take(knex: Knex, footprint?: SchemaFootprint, following?: FollowingQuery): Promise<SchemaSnapshot> {
    const state = this.state;
    if (state && footprint?.complete) {
      const snapshot = await this.readChanges(knex, state, footprint.relations, following);
      if (snapshot) {
        if (process.env.KNEXSAFE_CHECK_INCREMENTAL === '1') await this.prove(knex, snapshot);
        return snapshot;
      }
    }
    return this.readAll(knex, following);
  }

  private async readAll(knex: Knex, following?: FollowingQuery): Promise<SchemaSnapshot> {
    const raw = await readCatalog(knex, this.options, undefined, following);
    this.counts.full++;
    return this.remember(raw);
  }

  private remember(raw: RawCatalog): SchemaSnapshot {
    const snapshot = buildSnapshot(raw);
    this.state = { raw, snapshot, relations: new Map(raw.relations.map(([oid, owner, qname, kind]) => [oid, [owner, qname, kind]])) };
    return snapshot;
  }

  /**
   * The incremental read, or undefined when only a full read is right. A complete footprint names
   * every relation the migration made or dropped (PostgreSQL locks a relation it creates or drops
   * until the transaction ends), so the owners of the relations it locked are all that can differ.
   */
  private async readChanges(knex: Knex, state: State, locked: readonly number[], following?: FollowingQuery): Promise<SchemaSnapshot | undefined> {
    const owners = new Set<number>();
    const fresh: number[] = [];
    for (const oid of locked) {
      const known = state.relations.get(oid);
      if (known) owners.add(known[0]);
      else fresh.push(oid);
    }
    if ([...owners].some((owner) => !OWNER_KINDS.has(state.relations.get(owner)?.[2] ?? ''))) return undefined;
    const partial = await readCatalog(knex, this.options, { owners: [...owners], fresh }, following);
    const now = new Map(partial.relations.map(([oid, owner, qname, kind]) => [oid, [owner, qname, kind] as [number, string, string]]));
    // Every owner read comes back with all its relations (none when it was dropped): its rows
    // replace the ones known.
    const replaced = new Set(owners);
    for (const [oid, [owner, qname, kind]] of now) {
      if (!OWNER_KINDS.has(now.get(owner)?.[2] ?? kind)) return undefined;
      const before = state.relations.get(oid);
      // Renamed or moved: other objects (foreign keys, views, defaults) print the old name.
      if (before && (before[0] !== owner || before[1] !== qname)) return undefined;
      replaced.add(owner);
    }
    if (replaced.size === 0) {
      this.counts.incremental++;
      return state.snapshot;
    }
    const merged: RawCatalog = { ...state.raw, relations: [...state.raw.relations.filter(([, owner]) => !replaced.has(owner)), ...partial.relations] };
    for (const kind of OWNED_KINDS) {
      const kept = (state.raw[kind] as { owner: number | null }[]).filter((row) => row.owner === null || !replaced.has(row.owner));
      (merged as unknown as Record<string, unknown[]>)[kind] = [...kept, ...(partial[kind] as { owner: number | null }[]).filter((row) => row.owner !== null)];
    }
    this.counts.incremental++;
    return this.remember(merged);
  }

  private async prove(knex: Knex, incremental: SchemaSnapshot): Promise<void> {
    const full = buildSnapshot(await readCatalog(knex, this.options));
    if (!isDeepStrictEqual(full, incremental)) {
      const diff = diffSchemas(full, incremental);
      throw new Error(`incremental schema snapshot differs from a full one:\n${formatDiff(diff)}`);
    }
  }
}
