import type { StatementError } from '../db/statement-error.js';
import type { Direction } from '../migrations/history.js';

export interface CallSite {
  file: string;
  line: number;
  column: number;
}

/** Where a relation locked or rewritten by a statement came from, relative to the capture run. */
export type RelationOrigin =
  /** Existed before the run started: on a target-backed run, it holds the target's data. */
  | 'existing'
  /** Created by an earlier migration of this run. */
  | 'earlier-migration'
  /** Created by this migration (nobody else can be blocked on it). */
  | 'this-migration';

export interface RelationRef {
  oid: number;
  schema: string;
  name: string;
  /** pg_class.relkind: r table, p partitioned, i index, S sequence, m matview, v view, f foreign, t toast. */
  kind: string;
  /** For an index, the table it belongs to. */
  table?: string;
  origin: RelationOrigin;
}

export interface ObservedLock {
  relation: RelationRef;
  /** pg_locks spelling: AccessExclusiveLock, ShareLock, … */
  mode: string;
}

export type { StatementError } from '../db/statement-error.js';

export interface CapturedStatement {
  /** Position in the whole capture run. */
  index: number;
  migration: string;
  direction: Direction;
  sql: string;
  bindings: unknown[];
  /** The knex call in the user's migration file that produced it, when found. */
  site?: CallSite;
  /** BEGIN / COMMIT / SAVEPOINT … sent by knex itself. */
  control: boolean;
  /** Whether the statement ran inside a transaction block (knex's or the migration's own). */
  inTransaction: boolean;
  /** knex transaction id (`trx2`…), when in one. */
  transactionId?: string;
  durationMs: number;
  /** Locks this statement newly acquired on relations that existed before this migration. */
  locks: ObservedLock[];
  /**
   * Whether `locks` was observed in pg_locks. Outside a transaction block the locks are gone when we
   * look (e.g. CREATE INDEX CONCURRENTLY); rules then fall back to static inference.
   */
  locksObserved: boolean;
  /** Relations whose storage was rewritten (pg_class.relfilenode changed). */
  rewrites: RelationRef[];
  rowCount?: number;
  command?: string;
  error?: StatementError;
}

export interface MigrationTrace {
  name: string;
  file: string;
  direction: Direction;
  /** knex ran this migration inside a transaction (its own or the batch's). */
  transactional: boolean;
  /** The transaction it ran in was shared with other migrations of the batch (knex latest). */
  batchTransactionId?: string;
  statements: CapturedStatement[];
  /** knex builders the migration's own code created but never ran (a missing await or return). */
  neverRun?: CallSite[];
  durationMs: number;
  error?: StatementError;
  /** Which relations the migration's statements could have changed in the catalog (see `SchemaFootprint`). */
  footprint?: SchemaFootprint;
}

/**
 * The relations a migration could have changed, as the recorder saw it: every relation its session
 * held a lock on after one of its statements (DDL always locks what it changes). `complete` is
 * false when that may not be the whole story: a statement that was not parsed, not watched (run
 * outside a transaction, e.g. CONCURRENTLY), failed, or may change something schema-wide or
 * without a relation lock (types, functions, schemas, renames, DO blocks…).
 */
export interface SchemaFootprint {
  relations: number[];
  complete: boolean;
  /**
   * Read at the migration's end only (RecorderOptions.footprintAtEnd): the qualified names
   * (`schema.name`) the locked relations had then, those not dropped. No row of a relation changes
   * without a lock on it, so verify's probe re-reads only the tables named here.
   */
  names?: string[];
}
