import path from 'node:path';
import type { QueryContext, QueryObserver, QueryResultSummary } from '../db/dialects.js';
import { statementShape } from '../capture/transaction-block.js';
import { BLOCKERS_SQL, toBlockingSession, type BlockingSession } from './blockers.js';
import { pgDuration } from '../util/duration.js';

/** What every statement of a guarded run executes under. */
export interface SessionLimits {
  /** lock_timeout: how long a statement may queue for a lock (and so make others queue behind it). */
  lockTimeoutMs: number;
  /** statement_timeout; undefined leaves the server's setting. */
  statementTimeoutMs?: number;
  /** idle_in_transaction_session_timeout; undefined leaves the server's setting. */
  idleInTransactionTimeoutMs?: number;
  /** application_name outside migrations; inside one it is `<base>:<file>`. */
  applicationName: string;
}

/** A statement a migration ran, as the guard saw it. */
export interface SeenStatement {
  sql: string;
  /** knex's transaction id (the batch's, the migration's own, or one the migration opened). */
  txId: string | undefined;
}

export interface ActiveMigration {
  name: string;
  file: string;
  transactional: boolean;
  completed: SeenStatement[];
  failed?: SeenStatement & { blockers: BlockingSession[] };
}

/** Runs queries on a session of its own (not the migration's): the blocker monitor's window on pg_stat_activity. */
export type ControlQuery = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/**
 * The guard's QueryObserver on the target's knex. Before a statement runs it makes sure the
 * session it runs on has the guard's settings — `set_config(..., is_local => true)` (SET LOCAL)
 * inside a transaction, a session-level SET on an autocommit connection — so it does not matter
 * which pooled connection knex hands out, whether the migration runs in knex's batch transaction,
 * its own, one it opens itself, or none. application_name names the migration file while it runs
 * and goes back to the base name afterwards (the next statement on each connection resets it).
 * While a migration statement waits, it samples who blocks it, so a lock timeout can name them.
 */
export class GuardObserver implements QueryObserver {
  /** Statements running now, by connection, with the session's pid when the driver knows it. */
  readonly inFlight = new Map<object, number | undefined>();
  /** When the last statement started or ended (performance.now()). */
  lastActivity = performance.now();
  /** Called when a session that was inside a transaction dies (the server killed it). */
  onSessionLost: ((error: unknown) => void) | undefined;
  /** Ends the running migration on Ctrl-C (set while one runs). */
  onInterrupt: (() => Promise<void>) | undefined;
  private readonly inTransaction = new WeakSet<object>();
  private readonly listened = new WeakSet<object>();
  private key = '';
  private values: [string, string][] = [];
  private readonly sessionApplied = new WeakMap<object, string>();
  private readonly localApplied = new WeakMap<object, { txId: string; key: string }>();
  private generation = 0;
  active: ActiveMigration | undefined;

  constructor(
    readonly limits: SessionLimits,
    private readonly control?: ControlQuery,
    private readonly sampleAfterMs = Math.min(250, Math.max(20, Math.floor(limits.lockTimeoutMs / 4))),
  ) {
    this.use(limits.applicationName);
  }

  /** Cancels the statements of `pids` (pg_cancel_backend, from the control session); best effort. */
  async cancel(pids: number[]): Promise<void> {
    if (!this.control || !pids.length) return;
    await this.control('select pg_catalog.pg_cancel_backend(pid) from unnest($1::int[]) as pid', [pids]).catch(() => undefined);
  }

  /** application_name while `migration` runs: `knexsafe:<file>` (PostgreSQL keeps 63 bytes). */
  enter(migration: { name: string; file: string }, transactional: boolean): ActiveMigration {
    this.active = { name: migration.name, file: migration.file, transactional, completed: [] };
    this.use(`${this.limits.applicationName}:${path.basename(migration.file)}`);
    return this.active;
  }

  leave(): void {
    this.active = undefined;
    this.use(this.limits.applicationName);
  }

  private use(applicationName: string): void {
    const l = this.limits;
    const values: [string, string][] = [['lock_timeout', pgDuration(l.lockTimeoutMs)]];
    if (l.statementTimeoutMs !== undefined) values.push(['statement_timeout', pgDuration(l.statementTimeoutMs)]);
    if (l.idleInTransactionTimeoutMs !== undefined) values.push(['idle_in_transaction_session_timeout', pgDuration(l.idleInTransactionTimeoutMs)]);
    values.push(['application_name', applicationName.slice(0, 63)]);
    this.values = values;
    this.key = `${++this.generation}`;
  }

  async onQuery(ctx: QueryContext, execute: () => Promise<QueryResultSummary>): Promise<QueryResultSummary> {
    const control = isTransactionControl(ctx.sql);
    this.follow(ctx.connection, ctx.txId !== undefined && !(control && /^\s*(COMMIT|ROLLBACK|END|ABORT)\b/i.test(ctx.sql)));
    if (!control) await this.apply(ctx);
    const migration = this.active;
    const stopSampling = migration ? this.sample(ctx.connection) : undefined;
    const pid = (ctx.connection as { processID?: unknown }).processID;
    this.inFlight.set(ctx.connection, typeof pid === 'number' ? pid : undefined);
    this.lastActivity = performance.now();
    try {
      const result = await execute();
      migration?.completed.push({ sql: ctx.sql, txId: ctx.txId });
      return result;
    } catch (error) {
      if (migration && !migration.failed) {
        migration.failed = { sql: ctx.sql, txId: ctx.txId, blockers: stopSampling?.() ?? [] };
        if (error && typeof error === 'object') Object.assign(error, { knexsafeBlockers: migration.failed.blockers });
      }
      throw error;
    } finally {
      stopSampling?.();
      this.inFlight.delete(ctx.connection);
      this.lastActivity = performance.now();
    }
  }

  /**
   * Watches the session for its end: one that dies inside a transaction (the server killed it:
   * pg_terminate_backend, idle_in_transaction_session_timeout) while a migration waits for
   * something else would otherwise leave that migration waiting forever.
   */
  private follow(connection: object, inTransaction: boolean): void {
    if (inTransaction) this.inTransaction.add(connection);
    else this.inTransaction.delete(connection);
    const emitter = connection as { on?: (event: string, listener: (error?: unknown) => void) => void };
    if (this.listened.has(connection) || typeof emitter.on !== 'function') return;
    this.listened.add(connection);
    let lost = false;
    const onEnd = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.inTransaction.has(connection) && !this.inFlight.has(connection)) this.onSessionLost?.(error);
    };
    emitter.on('error', onEnd);
    emitter.on('end', () => onEnd());
  }

  private async apply(ctx: QueryContext): Promise<void> {
    const conn = ctx.connection;
    const local = ctx.txId !== undefined;
    if (local) {
      const l = this.localApplied.get(conn);
      const effective = l && l.txId === ctx.txId ? l.key : this.sessionApplied.get(conn);
      if (effective === this.key) return;
    } else if (this.sessionApplied.get(conn) === this.key) {
      return;
    }
    const key = this.key;
    const calls = this.values.map((_, i) => `pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, ${local ? 'true' : 'false'})`);
    await ctx.sideQuery(`select ${calls.join(', ')}`, this.values.flat());
    if (local) this.localApplied.set(conn, { txId: ctx.txId!, key });
    else this.sessionApplied.set(conn, key);
  }

  /**
   * While the statement runs, looks (on the control session) for sessions blocking it; returns a
   * function that stops looking and gives the last blockers seen.
   */
  private sample(connection: object): (() => BlockingSession[]) | undefined {
    const pid = (connection as { processID?: unknown }).processID;
    const control = this.control;
    if (!control || typeof pid !== 'number') return undefined;
    let last: BlockingSession[] = [];
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const look = async () => {
      if (stopped) return;
      try {
        const rows = await control(BLOCKERS_SQL, [pid]);
        if (rows.length) last = rows.map(toBlockingSession);
      } catch {
        // Monitoring is best effort: the migration's own error is what matters.
      }
      if (!stopped) timer = setTimeout(() => void look(), Math.max(100, this.sampleAfterMs * 2));
    };
    timer = setTimeout(() => void look(), this.sampleAfterMs);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      return last;
    };
  }
}

/** BEGIN / COMMIT / ROLLBACK / SAVEPOINT / RELEASE: no settings before those (SET LOCAL before BEGIN is lost). */
function isTransactionControl(sql: string): boolean {
  const head = sql.trimStart().slice(0, 9).toUpperCase();
  if (!['BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'START', 'END', 'ABORT'].some((w) => head.startsWith(w))) return false;
  return statementShape(sql).control !== undefined;
}
