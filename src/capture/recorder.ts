import type { Node } from 'libpg-query';
import type { BuilderOrigin, ExecuteStatement, QueryContext, QueryObserver, QueryResultSummary } from '../db/dialects.js';
import { PreparedSessions, preparedStatement, RoundTrip, type Answer, type Rows } from '../db/round-trip.js';
import { sqlState } from '../errors.js';
import { statementKind } from '../sql/parse.js';
import type { Direction } from '../migrations/history.js';
import { compareText } from '../util/compare-text.js';
import { callSiteFromStack } from './call-site.js';
import { isRelationScoped } from './footprint.js';
import { statementShape } from './transaction-block.js';
import type { CallSite, CapturedStatement, MigrationTrace, ObservedLock, RelationOrigin, RelationRef, SchemaFootprint, StatementError } from './types.js';

interface ActiveMigration {
  name: string;
  file: string;
  direction: Direction;
  started: number;
  statements: CapturedStatement[];
  /** Relations that existed when the migration started (loaded at its first statement). */
  relations?: Map<number, RelationRef>;
  /**
   * Their loading, shared: statements sent together (a query the migration does not await) must
   * reach the database in the order they were sent, so none may wait on a read of its own.
   */
  relationsLoading?: Promise<Map<number, RelationRef>>;
  transactional: boolean;
  batchTransactionId?: string;
  /** Builders created while it ran and not compiled yet, by creation order, with where they were made. */
  unrun: Map<object, BuilderOrigin>;
  /** Relations locked after any of its statements, and whether that covers every catalog change. */
  locked: Set<number>;
  footprintComplete: boolean;
  /** Sessions whose transaction a failed statement aborted (and nothing rolled back since), with that error. */
  aborted: Map<object, StatementError>;
  /**
   * knex's transaction id per session, as first seen: knex clears it from the connection when a
   * nested knex.transaction() ends, although the migration's own transaction goes on.
   */
  transactions: Map<object, string>;
}

interface RelationRow {
  oid: number | string;
  schema: string;
  name: string;
  kind: string;
  filenode: number | string;
  tbl: string | null;
}

export interface RecorderOptions {
  /** knex's history tables, never reported. */
  knexTables: string[];
  /** All migration files of the project: a call site inside any of them counts. */
  migrationFiles: string[];
  migrationDirectories: string[];
  /**
   * Record locks and rewrites (one extra catalog query per statement). verify only needs the
   * statements, their call sites and errors, and turns this off.
   */
  observeEffects?: boolean;
  /**
   * Without effects observed: still vouch for the footprint of a migration that runs in one
   * transaction on one session, read once at its end (`completeFootprint`) from the locks that
   * transaction holds, which are all it took. verify's snapshots and probe re-read just those.
   */
  footprintAtEnd?: boolean;
}

/**
 * Watches every statement a migration sends to the shadow, on the same connection and inside the
 * same transaction: which relations it locked (pg_locks) and in which mode, whether it rewrote a
 * table (relfilenode), how long it took, how many rows it touched, and where in the user's file the
 * knex call is. Outside a transaction block, a statement that may run in one is wrapped in
 * BEGIN … COMMIT on the shadow so that its locks can be seen.
 */
export class Recorder implements QueryObserver {
  private active: ActiveMigration | undefined;
  private readonly traces: MigrationTrace[] = [];
  private statementIndex = 0;
  /** Relations that existed before the capture run started (set by `markRunStart`). */
  private runRelations: Set<number> | undefined;
  /** Last seen relfilenode per relation: a change means the statement rewrote it. */
  private readonly fileNodes = new Map<number, string>();
  /** Locks held per session after its last statement: what a statement adds is the difference. */
  private heldLocks = new WeakMap<object, Set<string>>();
  /** The transaction the previous migration ran in: a migration in a new one starts with no locks held. */
  private lastBatchTransactionId: string | undefined;
  /** Sessions where the migration itself issued BEGIN (a raw transaction in a non-transactional migration). */
  private readonly manualTransaction = new WeakSet<object>();
  /** Sessions known to hold our prepared catalog queries (see PREPARED). */
  private readonly preparedSessions = new PreparedSessions();
  /** The one session the running (or last) migration sent its statements on; null once it used several. */
  private migrationSession: object | null | undefined;
  /** A statement finished after its migration ended, unwatched: what the next snapshot re-reads cannot rely on locks. */
  private lateStatement = false;
  /** Statements seen, BEGIN and COMMIT aside: primed relations are good while none ran since. */
  private statementsSeen = 0;
  private primed: { rows: RelationRow[]; seen: number } | { relations: Map<number, RelationRef>; seen: number } | undefined;
  /** The relations `relationsQuery` asked only the new ones for: the rows `primeRelations` gets are added to them. */
  private primeBase: Map<number, RelationRef> | undefined;
  /** The relations the migration that ended last ran with. */
  private lastRelations: Map<number, RelationRef> | undefined;
  private readonly files: Set<string>;
  private readonly excludedNames: Set<string>;

  /** The SQL parser must be ready (`ensureParser()`) before the first statement is seen. */
  constructor(private readonly options: RecorderOptions) {
    this.files = new Set(options.migrationFiles);
    const names = new Set<string>();
    for (const t of options.knexTables) {
      names.add(t);
      names.add(`${t}_pkey`);
      names.add(`${t}_id_seq`);
      names.add(`${t}_index_seq`);
    }
    this.excludedNames = names;
  }

  /** The relations present now count as "existing" (the target's tables) for the rest of the run. */
  async markRunStart(query: (sql: string) => Promise<Record<string, unknown>[]>): Promise<void> {
    const rows = (await query(RELATIONS_SQL)) as unknown as RelationRow[];
    this.runRelations = new Set(rows.filter((r) => !this.excludedNames.has(r.name)).map((r) => Number(r.oid)));
  }

  restoreRunStart(oids: readonly number[]): void {
    this.runRelations = new Set(oids);
  }

  /** The relations that existed when the run started (what a resumed run must start with). */
  runStartRelations(): number[] | undefined {
    return this.runRelations ? [...this.runRelations].sort((a, b) => a - b) : undefined;
  }

  beginMigration(name: string, file: string, direction: Direction, transactional: boolean, batchTransactionId?: string): void {
    // In one knex batch transaction, locks taken by earlier migrations stay held; otherwise none are.
    if (batchTransactionId === undefined || batchTransactionId !== this.lastBatchTransactionId) this.heldLocks = new WeakMap();
    this.lastBatchTransactionId = batchTransactionId;
    this.active = {
      name,
      file,
      direction,
      started: performance.now(),
      statements: [],
      transactional,
      ...(batchTransactionId ? { batchTransactionId } : {}),
      unrun: new Map(),
      locked: new Set(),
      aborted: new Map(),
      transactions: new Map(),
      // Without effects observed there are no locks to go by, but the ones a transaction holds at its end.
      footprintComplete: (this.options.observeEffects !== false || (this.options.footprintAtEnd === true && transactional)) && !this.lateStatement,
    };
    this.lateStatement = false;
    this.migrationSession = undefined;
  }

  onBuilderCreated(builder: object, origin: BuilderOrigin): void {
    // Where it was made is worked out only for builders never run (reading a stack costs more than taking it).
    this.active?.unrun.set(builder, origin);
  }

  onBuilderCompiled(builder: object): void {
    this.active?.unrun.delete(builder);
  }

  endMigration(error?: unknown): MigrationTrace | undefined {
    const a = this.active;
    if (!a) return undefined;
    this.active = undefined;
    this.lastRelations = a.relations;
    const trace: MigrationTrace = {
      name: a.name,
      file: a.file,
      direction: a.direction,
      transactional: a.transactional,
      ...(a.batchTransactionId ? { batchTransactionId: a.batchTransactionId } : {}),
      statements: a.statements,
      // Only a migration that finished: one that threw stops before its later builders run anyway.
      ...(error === undefined && a.unrun.size > 0 ? neverRunIn(a, this.files, this.options.migrationDirectories) : {}),
      durationMs: performance.now() - a.started,
      ...(error !== undefined ? { error: toStatementError(error) } : {}),
      footprint: { relations: [...a.locked], complete: a.footprintComplete && error === undefined },
    };
    this.traces.push(trace);
    return trace;
  }

  /**
   * The error that left the running migration's transaction aborted, when its code caught it and
   * went on: PostgreSQL then answers knex's COMMIT with a silent ROLLBACK, and in production knex
   * fails on recording the migration (25P02).
   */
  abortedTransaction(): StatementError | undefined {
    return this.active?.aborted.values().next().value;
  }

  /**
   * Fills the footprint of `trace` (just ended, its transaction still open) from the relation locks
   * that transaction holds, read through `query` on its session (footprintAtEnd). Should the read
   * fail, the footprint is not vouched for.
   */
  async completeFootprint(trace: MigrationTrace, query: (sql: string) => Promise<{ rows?: Record<string, unknown>[] }[]>): Promise<void> {
    const footprint = trace.footprint;
    if (!footprint?.complete || this.options.observeEffects !== false || !this.options.footprintAtEnd) return;
    try {
      let results: { rows?: Record<string, unknown>[] }[];
      try {
        results = await query(LOCKED_AT_END_GUARDED);
      } catch (error) {
        // Not prepared on this session yet, or the migration dropped it (DEALLOCATE ALL): the
        // savepoint undoes the failed execute, so the migration's transaction goes on unharmed.
        if (sqlState(error) !== '26000') throw error;
        results = await query(LOCKED_AT_END_PREPARING);
      }
      const rows = (results.find((r) => Array.isArray(r.rows) && r.rows.length > 0 && 'oid' in r.rows[0]!)?.rows ?? []) as { oid: number | string; name: string | null }[];
      footprint.relations = rows.map((r) => Number(r.oid));
      footprint.names = rows.flatMap((r) => (r.name === null ? [] : [r.name]));
    } catch {
      footprint.complete = false;
    }
  }

  /** The footprint of the migration that ended last (what an incremental snapshot after it re-reads). */
  lastFootprint(): SchemaFootprint | undefined {
    return this.traces[this.traces.length - 1]?.footprint;
  }

  takeTraces(): MigrationTrace[] {
    return this.traces.splice(0, this.traces.length);
  }

  async onQuery(ctx: QueryContext, execute: ExecuteStatement): Promise<QueryResultSummary> {
    const a = this.active;
    if (!a) {
      if (!BEGIN_OR_COMMIT.test(ctx.sql)) this.statementsSeen++;
      try {
        return await execute();
      } catch (error) {
        // A COMMIT that failed rolled back.
        this.statementsSeen++;
        throw error;
      }
    }
    const observe = this.options.observeEffects !== false;
    if (observe && !a.relations) a.relations = await (a.relationsLoading ??= this.loadRelations(ctx));
    this.statementsSeen++;
    if (this.migrationSession === undefined) this.migrationSession = ctx.connection;
    else if (this.migrationSession !== ctx.connection) this.migrationSession = null;

    const session = ctx.connection;
    if (ctx.txId !== undefined && !a.transactions.has(session)) a.transactions.set(session, ctx.txId);
    const txId = ctx.txId ?? a.transactions.get(session);
    const inKnexTransaction = txId !== undefined;
    // knex's everyday statements in a migration's transaction go out first and are parsed while
    // PostgreSQL runs them: their effects query can ride along without a parse (see PLAIN_STATEMENT).
    const plain = observe && inKnexTransaction && RoundTrip.canGoAfter(ctx) && this.preparedSessions.has(session) && isPlainStatement(ctx.sql);
    let shape = plain ? undefined : statementShape(ctx.sql);
    // DEALLOCATE / DISCARD drop prepared statements, ours included.
    const dropsPrepared = shape?.asts.some(dropsPreparedStatements) ?? false;
    if (dropsPrepared) this.preparedSessions.forget(session);
    const control = shape?.control;
    const inManual = this.manualTransaction.has(session);
    const inTransaction = inKnexTransaction || inManual || control === 'commit' || control === 'rollback' || control === 'savepoint' || control === 'release' || control === 'rollback-to';
    // Wrapping shows the locks of statements that autocommit; never for CONCURRENTLY and friends.
    // Nor for what PostgreSQL refuses outside a transaction block: wrapped, it would pass.
    const wrap = shape !== undefined && observe && !inKnexTransaction && !inManual && shape.parsed && control === undefined && shape.allowedInTransactionBlock && !shape.requiresTransactionBlock;

    const record: CapturedStatement = {
      index: this.statementIndex++,
      migration: a.name,
      direction: a.direction,
      sql: ctx.sql,
      bindings: [...ctx.bindings],
      control: control !== undefined,
      // As production runs it: a statement we wrap in BEGIN…COMMIT only to see its locks is not in one.
      inTransaction,
      ...(txId ? { transactionId: txId } : {}),
      durationMs: 0,
      locks: [],
      locksObserved: observe && (inTransaction || wrap),
      rewrites: [],
    };
    a.statements.push(record);
    // Read at the end, the transaction's locks are those of its statements on its session while
    // nothing ended the transaction (a savepoint rolled back to undoes what its locks were for).
    const lockedAtEnd = !observe && this.options.footprintAtEnd === true && inKnexTransaction && !inManual && this.migrationSession !== null && control !== 'commit' && control !== 'rollback';
    if (!lockedAtEnd && !record.control && !record.locksObserved) a.footprintComplete = false;
    if (!observe && !lockedAtEnd) a.footprintComplete = false;

    // The effects query rides with the statement when both can go as one simple query: a round
    // trip per statement saved. Only for one plain statement that may run in a transaction block.
    const withEffects =
      plain ||
      (shape !== undefined &&
        observe &&
        record.locksObserved &&
        RoundTrip.canGoAfter(ctx) &&
        !dropsPrepared &&
        shape.asts.length === 1 &&
        shape.allowedInTransactionBlock &&
        statementKind(shape.asts[0]!) !== 'CopyStmt' &&
        this.preparedSessions.has(session));

    if (wrap) await RoundTrip.beside(ctx).command('begin').send();
    const effectsAfter = withEffects ? RoundTrip.beside(ctx) : undefined;
    const effectsWithStatement = effectsAfter?.query(PREPARED.effects.execute(), (rows) => rows);
    const started = performance.now();
    const executing = effectsAfter ? effectsAfter.sendAfter(execute) : execute();
    // Awaited below, after the bookkeeping that did not have to come first: it runs while the statement is on its way.
    executing.catch(() => undefined);
    shape ??= statementShape(ctx.sql);
    if (!shape.parsed || !shape.asts.every(isRelationScoped)) a.footprintComplete = false;
    const site = ctx.origin ? callSiteFromStack(ctx.origin.stack, this.files, this.options.migrationDirectories) : undefined;
    if (site) record.site = site;
    let summary: QueryResultSummary;
    try {
      summary = await executing;
    } catch (error) {
      record.durationMs = performance.now() - started;
      record.error = toStatementError(error);
      a.footprintComplete = false;
      if ((inKnexTransaction || inManual) && !a.aborted.has(session)) a.aborted.set(session, record.error);
      if (wrap)
        await RoundTrip.beside(ctx)
          .command('rollback')
          .send()
          .catch(() => undefined);
      throw error;
    }
    record.durationMs = performance.now() - started;
    if (summary.rowCount !== undefined) record.rowCount = summary.rowCount;
    if (summary.command !== undefined) record.command = summary.command;

    // Rolling back (to a savepoint, as knex's nested transactions do) ends the aborted state.
    if (control !== undefined && control !== 'savepoint' && control !== 'release') a.aborted.delete(session);
    // The migration's code ended the transaction itself: what follows autocommits.
    if (control === 'commit' || control === 'rollback') a.transactions.delete(session);
    if (control === 'begin') this.manualTransaction.add(session);
    if (control === 'commit' || control === 'rollback') this.manualTransaction.delete(session);

    // A query the migration did not await may finish after the migration ended (knex may have
    // committed already): a read of its locks would come too late, and could fail on a closed session.
    if (observe && this.active !== a && !effectsWithStatement) {
      record.locksObserved = false;
      if (this.active) this.active.footprintComplete = false;
      else this.lateStatement = true;
    } else if (observe) await this.observeEffects(ctx, a, record, session, effectsWithStatement);
    if (wrap) {
      await RoundTrip.beside(ctx).command('commit').send();
      this.heldLocks.set(session, new Set());
    }
    return summary;
  }

  /**
   * The query that reads the relations the next migration starts with, to send in a round trip of
   * ours on the session the last migration ran on, after its statements (check's schema snapshot,
   * in its transaction); its rows go to `primeRelations`. Undefined unless that migration sent its
   * statements on one session, which holds the prepared query.
   */
  relationsQuery(): string | undefined {
    this.primeBase = undefined;
    const session = this.migrationSession;
    if (this.options.observeEffects === false || !session || !this.preparedSessions.has(session)) return undefined;
    // With a complete footprint, the relations changed only by those the last migration made: a
    // new relation is locked by its creator, and the footprint vouches that nothing was renamed or
    // changed unwatched. Only those are read. A dropped one stays listed: its oid can no longer be locked.
    const footprint = this.lastFootprint();
    const known = this.lastRelations;
    if (known && footprint?.complete) {
      const made = footprint.relations.filter((oid) => !known.has(oid));
      if (made.length === 0) {
        this.primed = { relations: known, seen: this.statementsSeen };
        return undefined;
      }
      this.primeBase = known;
      return PREPARED.relationsAmong.execute(`'{${made.map((oid) => String(Math.trunc(oid))).join(',')}}'`);
    }
    return PREPARED.relations.execute();
  }

  /** The relations now (rows of `relationsQuery`): the next migration starts with them if nothing but BEGIN and COMMIT runs first. */
  primeRelations(rows: Record<string, unknown>[]): void {
    const base = this.primeBase;
    this.primeBase = undefined;
    if (!base) {
      this.primed = { rows: rows as unknown as RelationRow[], seen: this.statementsSeen };
      return;
    }
    const relations = new Map(base);
    for (const [oid, relation] of this.relationMap(rows as unknown as RelationRow[])) relations.set(oid, relation);
    this.primed = { relations, seen: this.statementsSeen };
  }

  /** The relations now, through the prepared query (prepared first on a session new to us). */
  private async loadRelations(ctx: QueryContext): Promise<Map<number, RelationRef>> {
    const primed = this.primed;
    this.primed = undefined;
    if (primed && primed.seen === this.statementsSeen) return 'relations' in primed ? primed.relations : this.relationMap(primed.rows);
    const trip = RoundTrip.beside(ctx);
    if (!this.preparedSessions.has(ctx.connection)) {
      // PGlite has one session for all its connections: prepare only what it does not hold yet.
      const heldTrip = RoundTrip.beside(ctx);
      const held = heldTrip.query(PREPARED_HELD_SQL, (rows) => new Set(rows.map((r) => String(r.name))));
      await heldTrip.send();
      for (const p of Object.values(PREPARED)) if (!held.value.has(p.name)) trip.command(p.prepare);
      this.preparedSessions.add(ctx.connection);
    }
    const rows = trip.query(PREPARED.relations.execute(), (rows) => rows as unknown as RelationRow[]);
    await trip.send();
    return this.relationMap(rows.value);
  }

  private relationMap(rows: readonly RelationRow[]): Map<number, RelationRef> {
    const map = new Map<number, RelationRef>();
    for (const r of rows) {
      if (this.excludedNames.has(r.name)) continue;
      const oid = Number(r.oid);
      const origin: RelationOrigin = !this.runRelations || this.runRelations.has(oid) ? 'existing' : 'earlier-migration';
      map.set(oid, { oid, schema: r.schema, name: r.name, kind: r.kind, ...(r.tbl ? { table: r.tbl } : {}), origin });
      this.fileNodes.set(oid, String(r.filenode));
    }
    return map;
  }

  private async observeEffects(ctx: QueryContext, a: ActiveMigration, record: CapturedStatement, session: object, sentWithStatement: Answer<Rows> | undefined): Promise<void> {
    const relations = a.relations;
    if (!relations) return;
    let rows = sentWithStatement?.value;
    if (!rows) {
      // A statement that ran on its own (VACUUM FULL, CONCURRENTLY…) has released its locks by now:
      // then every relation's file is compared.
      const trip = RoundTrip.beside(ctx);
      const answer = trip.query(!record.locksObserved ? effectsOfUnwatchedSql([...relations.keys()]) : this.preparedSessions.has(session) ? PREPARED.effects.execute() : EFFECTS_SQL, (rows) => rows);
      await trip.send();
      rows = answer.value;
    }
    const effects = (rows[0]?.r ?? { locks: [], files: [] }) as { locks: { oid: number | string; mode: string }[]; files: { oid: number | string; f: number | string }[] } | string;
    const parsed = typeof effects === 'string' ? (JSON.parse(effects) as Exclude<typeof effects, string>) : effects;

    // Every lock held, not only the new ones and not only on the tables, indexes and sequences
    // reported (views too): in a batch, a table an earlier migration locked shows no new lock
    // when this one changes it again.
    for (const l of parsed.locks) a.locked.add(Number(l.oid));
    const now = new Set(parsed.locks.filter((l) => relations.has(Number(l.oid))).map((l) => `${Number(l.oid)}:${l.mode}`));
    const before = this.heldLocks.get(session) ?? new Set<string>();
    const fresh: ObservedLock[] = [];
    for (const key of now) {
      if (before.has(key)) continue;
      const [oid, mode] = key.split(':') as [string, string];
      const relation = relations.get(Number(oid));
      if (relation) fresh.push({ relation, mode });
    }
    this.heldLocks.set(session, record.inTransaction ? now : new Set());
    record.locks = fresh.sort((x, y) => compareText(x.relation.name, y.relation.name) || compareText(x.mode, y.mode));

    for (const f of parsed.files) {
      const oid = Number(f.oid);
      const previous = this.fileNodes.get(oid);
      const current = String(f.f);
      if (previous !== undefined && previous !== current && current !== '0') {
        const relation = relations.get(oid);
        if (relation) record.rewrites.push(relation);
      }
      this.fileNodes.set(oid, current);
    }
  }
}

/** What knex sends to open and close a migration's transaction: the relations stay as they were. */
const BEGIN_OR_COMMIT = /^\s*(begin|commit)\s*;?\s*$/i;

const RELATIONS_SQL = `
select c.oid::int8 as oid, n.nspname as schema, c.relname as name, c.relkind::text as kind,
       c.relfilenode::int8 as filenode, t.relname as tbl
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
left join pg_catalog.pg_index i on i.indexrelid = c.oid
left join pg_catalog.pg_class t on t.oid = i.indrelid
where c.relkind in ('r', 'p', 'i', 'I', 'S', 'm', 'f')
  -- Only objects made after initdb (FirstNormalObjectId): an index range, not a scan of pg_class.
  and c.oid >= 16384
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'`;

/** The relation locks this session holds now on user relations of this database: `held`, read once. */
const HELD_LOCKS = `held as materialized (
  select l.relation, l.mode
  from pg_catalog.pg_locks l
  where l.pid = pg_backend_pid() and l.locktype = 'relation' and l.granted
    and l.database = (select oid from pg_catalog.pg_database where datname = current_database())
    and l.relation >= 16384
)`;

/** The relations the session's transaction holds locks on, each with its name now (none once dropped). */
const LOCKED_AT_END_SQL = `
with ${HELD_LOCKS}
select distinct h.relation::int8 as oid, n.nspname || '.' || c.relname as name
from held h
left join pg_catalog.pg_class c on c.oid = h.relation
left join pg_catalog.pg_namespace n on n.oid = c.relnamespace`;

/**
 * The lock read, prepared: planned once per session, not once per migration (its joins of the
 * catalogs cost more to plan than to run: ~1 ms of PGlite's CPU per migration). In a savepoint, as
 * an execute of a statement the session lacks fails and would otherwise abort the migration's
 * transaction.
 */
const LOCKED_AT_END = preparedStatement('knexsafe_locked_at_end', LOCKED_AT_END_SQL);
const LOCKED_AT_END_GUARDED = `savepoint knexsafe_locks; ${LOCKED_AT_END.execute()}; release savepoint knexsafe_locks`;
const LOCKED_AT_END_PREPARING = `rollback to savepoint knexsafe_locks; ${LOCKED_AT_END.prepare}; ${LOCKED_AT_END.execute()}; release savepoint knexsafe_locks`;

const LOCKS_JSON = `'locks', coalesce((select json_agg(json_build_object('oid', h.relation::int8, 'mode', h.mode)) from held h), '[]'::json)`;

/**
 * Locks held now, and the file of each relation held in ACCESS EXCLUSIVE mode: nothing gets a new
 * file (a rewrite: the table and each of its indexes, TRUNCATE, REINDEX) without that lock. No
 * parameters: the driver sends one simple query, a fifth of the messages, after every statement.
 * pg_locks is read once (materialized): each read copies the whole lock table, half the query's cost.
 */
const EFFECTS_SQL = `
with ${HELD_LOCKS}
select json_build_object(
  ${LOCKS_JSON},
  'files', coalesce((select json_agg(json_build_object('oid', c.oid::int8, 'f', c.relfilenode::int8))
                     from held h
                     join pg_catalog.pg_class c on c.oid = h.relation
                     where h.mode = 'AccessExclusiveLock'), '[]'::json)
) as r`;

/**
 * The two catalog queries run around every statement, prepared once per session: planning them
 * cost about as much as running them. Named after their text, so no other version's get used.
 */
const PREPARED = {
  effects: preparedStatement('knexsafe_effects', EFFECTS_SQL),
  relations: preparedStatement('knexsafe_relations', RELATIONS_SQL),
  /** Some of them, by oid ($1): the ones a migration made. */
  relationsAmong: preparedStatement('knexsafe_relations_among', `${RELATIONS_SQL}\n  and c.oid = any($1)`, ['oid[]']),
};

const PREPARED_HELD_SQL = `select name from pg_catalog.pg_prepared_statements where name in (${Object.values(PREPARED)
  .map((p) => `'${p.name}'`)
  .join(', ')})`;

/**
 * Statements knex's schema and query builders send, recognisable without a parse as one statement
 * that may run in a transaction block and is neither COPY nor DEALLOCATE / DISCARD: no semicolon,
 * no CONCURRENTLY, one of these leading keywords. Anything else is parsed before it goes.
 */
const PLAIN_STATEMENT = /^\s*(?:create\s+(?:unique\s+)?index|create\s+table|alter\s+table|drop\s+(?:table|index)|insert\s+into|update|delete\s+from|comment\s+on)\s[^;]*$/i;

export function isPlainStatement(sql: string): boolean {
  return PLAIN_STATEMENT.test(sql) && !/concurrently/i.test(sql);
}

function dropsPreparedStatements(ast: Node): boolean {
  const kind = statementKind(ast);
  return kind === 'DeallocateStmt' || kind === 'DiscardStmt';
}

/** Locks held now (none, outside a transaction) and the file of each of `oids` (numbers from the catalog, written into the text). */
function effectsOfUnwatchedSql(oids: readonly number[]): string {
  const list = oids.map((oid) => String(Math.trunc(Number(oid)))).join(',');
  return `
with ${HELD_LOCKS}
select json_build_object(
  ${LOCKS_JSON},
  'files', coalesce((select json_agg(json_build_object('oid', c.oid::int8, 'f', c.relfilenode::int8))
                     from pg_catalog.pg_class c where c.oid = any('{${list}}'::oid[])), '[]'::json)
) as r`;
}

/** The builders created at a line of the migration's own file that never ran (a missing await or return). */
function neverRunIn(a: ActiveMigration, files: ReadonlySet<string>, directories: readonly string[]): { neverRun?: CallSite[] } {
  const sites: CallSite[] = [];
  for (const origin of a.unrun.values()) {
    const site = callSiteFromStack(origin.stack, files, directories);
    if (site && site.file === a.file) sites.push(site);
  }
  return sites.length > 0 ? { neverRun: sites } : {};
}

export function toStatementError(error: unknown): StatementError {
  const e = (error ?? {}) as { message?: string; code?: string; position?: string | number; detail?: string; hint?: string };
  const message = String(e.message ?? error)
    // knex prefixes the SQL: "<sql> - <message>"; the SQL is recorded separately.
    .replace(/^[\s\S]* - (?=[^-]+$)/, '');
  return {
    message,
    ...(typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? { sqlState: e.code } : {}),
    ...(e.position !== undefined && !Number.isNaN(Number(e.position)) ? { position: Number(e.position) } : {}),
    ...(e.detail ? { detail: e.detail } : {}),
    ...(e.hint ? { hint: e.hint } : {}),
  };
}
