import { isDeepStrictEqual } from 'node:util';
import type { Knex } from 'knex';
import type { SchemaFootprint } from '../capture/types.js';
import { diffSchemas } from './diff.js';
import { formatDiff } from './format.js';
import { buildSnapshot, readCatalog, type FollowingQuery, type RawCatalog, type RiddenCatalog, type RideWithCommit, type SnapshotOptions } from './snapshot.js';
import type { SchemaSnapshot } from './types.js';

/** The per-relation kinds of the catalog query: their rows carry an owner and are replaced owner by owner. */
const OWNED_KINDS = ['tables', 'columns', 'constraints', 'indexes', 'sequences', 'views', 'triggers', 'policies', 'comments'] as const;

interface State {
  raw: RawCatalog;
  snapshot: SchemaSnapshot;
  /** oid → [owner oid, qualified name, relkind] of every relation in scope. */
  relations: Map<number, [number, string, string]>;
}

/** A delta read and the owners it was asked for. */
interface Delta {
  owners: Set<number>;
  read: RiddenCatalog;
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

  /**
   * The schema now. With no `footprint` (or an incomplete one) it is read whole. `following` may
   * ride along (see readCatalog). With `ride`, the read may wait for the transaction's COMMIT and
   * go in its round trip; should it then turn out that only a whole read is right, that is read
   * through `ride.root` once the transaction is over (nothing else runs on a shadow meanwhile).
   */
  async take(knex: Knex, footprint?: SchemaFootprint, following?: FollowingQuery, ride?: RideWithCommit & { root: Knex }): Promise<SchemaSnapshot> {
    if (!ride) return this.read(knex, footprint, following);
    try {
      return await this.read(knex, footprint, following, ride);
    } catch (error) {
      // The statements it was to execute are gone (the migration ran DEALLOCATE or DISCARD): the
      // COMMIT went without it, so the schema is read whole after it.
      const failed = error as { code?: string; knexsafeRidden?: boolean };
      if (failed.code === '26000' && failed.knexsafeRidden) return this.readAll(ride.root);
      throw error;
    }
  }

  private async read(knex: Knex, footprint?: SchemaFootprint, following?: FollowingQuery, ride?: RideWithCommit & { root: Knex }): Promise<SchemaSnapshot> {
    const state = this.state;
    const prove = process.env.KNEXSAFE_CHECK_INCREMENTAL === '1';
    if (state && footprint?.complete) {
      const delta = await this.readDelta(knex, state, footprint.relations, following, ride && { ...ride, withFullRead: prove });
      const snapshot = delta === 'whole' ? undefined : this.merge(state, delta);
      const full = delta === 'whole' ? undefined : delta.read.full;
      if (snapshot) {
        if (prove) await this.prove(full ?? knex, snapshot);
        return snapshot;
      }
      if (full) return this.remember(full, true);
      // The delta went with the COMMIT: the transaction is over, the whole schema is read after it.
      if (delta !== 'whole' && delta.read.ridden) return this.readAll(ride!.root);
    }
    return this.readAll(knex, following, ride);
  }

  private async readAll(knex: Knex, following?: FollowingQuery, ride?: RideWithCommit): Promise<SchemaSnapshot> {
    const raw = await readCatalog(knex, this.options, undefined, following, ride);
    return this.remember(raw, true);
  }

  private remember(raw: RawCatalog, whole = false): SchemaSnapshot {
    if (whole) this.counts.full++;
    const snapshot = buildSnapshot(raw);
    this.state = { raw, snapshot, relations: new Map(raw.relations.map(([oid, owner, qname, kind]) => [oid, [owner, qname, kind]])) };
    return snapshot;
  }

  /**
   * The rows a migration could have changed, or 'whole' when only a full read is right. A complete
   * footprint names every relation the migration made or dropped (PostgreSQL locks a relation it
   * creates or drops until the transaction ends), so the owners of the relations it locked are all
   * that can differ.
   */
  private async readDelta(knex: Knex, state: State, locked: readonly number[], following?: FollowingQuery, ride?: RideWithCommit): Promise<Delta | 'whole'> {
    const owners = new Set<number>();
    const fresh: number[] = [];
    for (const oid of locked) {
      const known = state.relations.get(oid);
      if (known) owners.add(known[0]);
      else fresh.push(oid);
    }
    if ([...owners].some((owner) => !OWNER_KINDS.has(state.relations.get(owner)?.[2] ?? ''))) return 'whole';
    return { owners, read: await readCatalog(knex, this.options, { owners: [...owners], fresh }, following, ride) };
  }

  /** The delta read merged into what was known, or undefined when only a full read is right. */
  private merge(state: State, { owners, read: partial }: Delta): SchemaSnapshot | undefined {
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

  /** Throws unless `incremental` equals the schema read whole (`source`: read now through it, or read already). */
  private async prove(source: Knex | RawCatalog, incremental: SchemaSnapshot): Promise<void> {
    const full = buildSnapshot(typeof source === 'function' ? await readCatalog(source, this.options) : source);
    if (!isDeepStrictEqual(full, incremental)) {
      const diff = diffSchemas(full, incremental);
      throw new Error(`incremental schema snapshot differs from a full one:\n${formatDiff(diff)}`);
    }
  }
}
