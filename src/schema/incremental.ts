import { isDeepStrictEqual } from 'node:util';
import type { Knex } from 'knex';
import { diffSchemas } from './diff.js';
import { formatDiff } from './format.js';
import type { SchemaFootprint } from '../capture/types.js';
import { CommitRideError } from '../db/round-trip.js';
import { buildSnapshot, readCatalog, type FollowingQuery, type RawCatalog, type RiddenCatalog, type RideWithCommit, type SnapshotOptions } from './snapshot.js';
import type { SchemaSnapshot } from './types.js';

/** The per-relation kinds of the catalog query: their rows carry an owner and are replaced owner by owner. */
const OWNED_KINDS = ['tables', 'columns', 'constraints', 'indexes', 'sequences', 'views', 'triggers', 'policies', 'comments'] as const;

/** The schema-wide kinds: a delta read reads them whole, or not at all. */
const WIDE_KINDS = ['schemas', 'extensions', 'enums', 'composites', 'domains', 'functions'] as const;

/**
 * What `IncrementalSnapshots` knows after a read, as JSON: stored with a warm-cache state (src/cache/)
 * so that a run resumed from it reads what the next migration changed, as the run that stored it
 * did, instead of the whole schema first. Transaction ids and oids survive the copy of the data folder.
 */
export interface SavedSnapshots {
  raw: RawCatalog;
  final: boolean;
}

interface State {
  raw: RawCatalog;
  snapshot: SchemaSnapshot;
  /** oid → [owner oid, qualified name, relkind] of every relation in scope. */
  relations: Map<number, [number, string, string]>;
  /** The transaction of the read that took `raw.since` ended with it: the rows it wrote are all seen. */
  final: boolean;
}

/** Owners read with their rows: tables, views, materialized views, sequences. A composite type's relation is read with the schema-wide kinds. */
const OWNER_KINDS = new Set(['r', 'p', 'f', 'v', 'm', 'S']);

/**
 * Schema snapshots of one database taken one after another (check: before and after each
 * migration), where each one after the first re-reads only what the last migration changed. With a
 * complete footprint (the recorder's), that is the owner relations (a table with its indexes, a
 * view, a sequence) it locked, created or dropped. Otherwise (a DO block, a function or procedure
 * that runs DDL, types, functions…) it is what changed since the last read that took an MVCC
 * snapshot: each whole or 'changes' read counts the catalog rows of every owner (0 for types,
 * routines and extensions) and keeps its snapshot; the next re-reads the owners with a row written
 * since (xmin) or with fewer rows left (deleted), the objects that print the name of a type,
 * routine or column written since (pg_depend), and the schema-wide kinds when any of theirs
 * changed. A renamed relation or a changed schema or collation gets a whole read. The result is
 * meant to equal `snapshotSchema` on the same database; KNEXSAFE_CHECK_INCREMENTAL=1 (set in CI)
 * makes every incremental snapshot prove it against a whole one.
 */
export class IncrementalSnapshots {
  private state: State | undefined;
  /**
   * How many snapshots were read whole and how many incrementally, of which how many by what
   * changed since a snapshot, and how many of those read the schema-wide kinds too (for tests and benchmarks).
   */
  readonly counts = { full: 0, incremental: 0, changes: 0, wide: 0 };

  constructor(private readonly options: SnapshotOptions = {}) {}

  /**
   * The schema now. With a complete `footprint` (the recorder's: every relation the migration
   * locked, nothing it could not watch), only the owners of those relations are re-read; otherwise
   * what changed since the last read that took a snapshot (whole or 'changes'). `following` may
   * ride along (see readCatalog). With `ride`, the read may wait for the transaction's COMMIT and
   * go in its round trip; should it then turn out that only a whole read is right, that is read
   * through `ride.root` once the transaction is over (nothing else runs on a shadow meanwhile). A
   * read without `ride` inside a transaction is taken to be followed by more of that transaction's
   * statements (a batch): the rows that transaction wrote count as unseen next time.
   */
  async take(knex: Knex, footprint?: SchemaFootprint, following?: FollowingQuery, ride?: RideWithCommit & { root: Knex }): Promise<SchemaSnapshot> {
    if (!ride) return this.read(knex, footprint, following);
    try {
      return await this.read(knex, footprint, following, ride);
    } catch (error) {
      // The statements it was to execute are gone (the migration ran DEALLOCATE or DISCARD): the
      // COMMIT went without it, so the schema is read whole after it.
      if (error instanceof CommitRideError && error.sqlState === '26000') return this.readAll(ride.root, true);
      throw error;
    }
  }

  private async read(knex: Knex, footprint?: SchemaFootprint, following?: FollowingQuery, ride?: RideWithCommit & { root: Knex }): Promise<SchemaSnapshot> {
    const state = this.state;
    const prove = process.env.KNEXSAFE_CHECK_INCREMENTAL === '1';
    const final = ride !== undefined || !knex.isTransaction;
    const rideAlso = ride && { ...ride, withFullRead: prove };
    if (state) {
      let read: RiddenCatalog | undefined;
      let snapshot: SchemaSnapshot | undefined;
      // The cheapest read: the owners of what the migration locked. The snapshot and row counts
      // stay those of the last read that took them: a later 'changes' read re-reads what changed since.
      const owners = new Set<number>();
      const fresh: number[] = [];
      for (const oid of footprint?.relations ?? []) {
        const known = state.relations.get(oid);
        if (known) owners.add(known[0]);
        else fresh.push(oid);
      }
      if (footprint?.complete && [...owners].every((owner) => OWNER_KINDS.has(state.relations.get(owner)?.[2] ?? ''))) {
        read = await readCatalog(knex, this.options, { owners: [...owners], fresh }, following, rideAlso);
        snapshot = this.merge(state, read, owners, false, state.final);
      } else {
        const { since, totals } = state.raw;
        const delta = { since: { xmax: since.xmax, xip: since.xip, old: state.final ? since.own : [], new: state.final ? [] : since.own }, totals };
        read = await readCatalog(knex, this.options, delta, following, rideAlso);
        this.counts.changes++;
        if (read.wide) this.counts.wide++;
        snapshot = read.whole ? undefined : this.merge(state, read, new Set((read.changed ?? []).filter((owner) => owner > 0)), read.wide === true, final);
      }
      if (snapshot) {
        if (prove) await this.prove(read?.full ?? knex, snapshot);
        return snapshot;
      }
      if (read?.full) return this.remember(read.full, final, true);
      // The delta went with the COMMIT: the transaction is over, the whole schema is read after it,
      // once knex gave the transaction's connection back (else the pool opens another session,
      // which has to prepare the catalog statements anew).
      if (read?.ridden) {
        await new Promise((resolve) => setImmediate(resolve));
        return this.readAll(ride!.root, true);
      }
    }
    return this.readAll(knex, final, following, ride);
  }

  /**
   * What is known now, for `restore` in a copy of this database; undefined before the first read,
   * or when `schema` (what the caller goes on with) is not the snapshot last taken.
   */
  save(schema?: SchemaSnapshot): SavedSnapshots | undefined {
    if (!this.state || (schema !== undefined && schema !== this.state.snapshot)) return undefined;
    // What a read that went with a COMMIT carried besides the catalog is not part of what is known.
    const { ridden: _ridden, full: _full, ...raw } = this.state.raw as RiddenCatalog;
    return { raw, final: this.state.final };
  }

  /**
   * Goes on from what `save` returned in the database it was saved from (or a copy of it, nothing
   * having run since): the schema it knew, without a read.
   */
  restore(saved: SavedSnapshots): SchemaSnapshot {
    return this.remember(saved.raw, saved.final);
  }

  private async readAll(knex: Knex, final: boolean, following?: FollowingQuery, ride?: RideWithCommit): Promise<SchemaSnapshot> {
    const raw = await readCatalog(knex, this.options, undefined, following, ride);
    return this.remember(raw, final, true);
  }

  private remember(raw: RawCatalog, final: boolean, whole = false): SchemaSnapshot {
    if (whole) this.counts.full++;
    const snapshot = buildSnapshot(raw);
    this.state = { raw, snapshot, final, relations: new Map(raw.relations.map(([oid, owner, qname, kind]) => [oid, [owner, qname, kind]])) };
    return snapshot;
  }

  /**
   * A delta read merged into what was known, or undefined when only a whole read is right:
   * `owners` re-read (with `wide`, the schema-wide kinds too). `final` goes with the snapshot and
   * row counts kept: the partial's when it took them, else the ones known.
   */
  private merge(state: State, partial: RawCatalog, owners: ReadonlySet<number>, wide: boolean, final: boolean): SchemaSnapshot | undefined {
    // Every owner read comes back with all its relations (none when it was dropped): its rows
    // replace the ones known. Composite types' relations are read with the schema-wide kinds.
    const replaced = new Set(owners);
    if (wide) for (const [oid, [, , kind]] of state.relations) if (kind === 'c') replaced.add(oid);
    // An 'owners' read takes no snapshot: the last one stays.
    const tracking = partial.since ? { totals: partial.totals, since: partial.since } : { totals: state.raw.totals, since: state.raw.since };
    const now = new Map(partial.relations.map(([oid, owner, qname, kind]) => [oid, [owner, qname, kind] as [number, string, string]]));
    for (const [oid, [owner, qname, kind]] of now) {
      const ownerKind = now.get(owner)?.[2] ?? kind;
      if (!OWNER_KINDS.has(ownerKind) && !(wide && ownerKind === 'c')) return undefined;
      const before = state.relations.get(oid);
      // Renamed or moved: other objects (foreign keys, views, defaults) print the old name.
      if (before && (before[0] !== owner || before[1] !== qname)) return undefined;
      replaced.add(owner);
    }
    this.counts.incremental++;
    if (replaced.size === 0 && !wide) {
      // Nothing to re-read: what is known stands, compared next time with this read's snapshot.
      this.state = { ...state, raw: { ...state.raw, ...tracking }, final };
      return state.snapshot;
    }
    const merged: RawCatalog = {
      ...state.raw,
      relations: [...state.raw.relations.filter(([, owner]) => !replaced.has(owner)), ...partial.relations],
      ...tracking,
    };
    for (const kind of OWNED_KINDS) {
      // Rows of no owner (comments on types, routines, schemas) go with the schema-wide kinds.
      const kept = (state.raw[kind] as { owner: number | null }[]).filter((row) => (row.owner === null ? !wide : !replaced.has(row.owner)));
      (merged as unknown as Record<string, unknown[]>)[kind] = [...kept, ...(partial[kind] as { owner: number | null }[]).filter((row) => wide || row.owner !== null)];
    }
    if (wide) for (const kind of WIDE_KINDS) (merged as unknown as Record<string, unknown>)[kind] = partial[kind];
    return this.remember(merged, final);
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
