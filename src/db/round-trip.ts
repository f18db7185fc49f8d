import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { sqlString } from '../codegen/sql.js';
import { sqlState } from '../errors.js';
import type { CommitRider, ExecuteStatement, QueryContext, QueryResultSummary } from './dialects.js';

/**
 * knexsafe's own queries as round trips: statements queued together, sent as one simple query (no
 * parameters, so no extended protocol), each answer read by the one who queued it. Round trips are
 * most of the cost of a small catalog read taken after every migration, so the tricks that save
 * them live here and in the dialects (src/db/dialects.ts), not in the code that builds the queries:
 *
 * - `send()` goes straight to the driver on the transaction's session (none of knex's query
 *   machinery, unseen by the capture's observer) when knexsafe's client runs the transaction;
 * - `sendWithCommit()` waits for the transaction's COMMIT and goes in its round trip, ahead of it;
 * - `RoundTrip.beside(statement)` goes on the session of a statement the capture's observer is
 *   watching, unobserved: alone (`send()`), or appended to the statement itself (`sendAfter()`);
 * - a round trip in a transaction just opened (`knex.transaction()`) carries its BEGIN: a shadow's
 *   knex defers it to the next statement (`knexsafeDeferBegin`);
 * - `preparedStatement` names a query prepared once per session, and `PreparedSessions` remembers
 *   which sessions hold it (a query planned once costs several times less than planned each time).
 */

/** The rows one statement of a round trip returned (none for a command). */
export type Rows = Record<string, unknown>[];

/** A query's answer, there once its round trip came back. */
export interface Answer<T> {
  /** Throws when asked for before the round trip came back, or when reading its rows fails. */
  readonly value: T;
}

/**
 * A round trip that went with a COMMIT failed: the COMMIT went anyway (the transaction is over,
 * committed unless the COMMIT itself failed), so nothing can be read through it any more.
 * `message` and `sqlState` are PostgreSQL's, `cause` the driver's error.
 */
export class CommitRideError extends Error {
  readonly sqlState: string | undefined;
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'CommitRideError';
    this.sqlState = sqlState(cause);
  }
}

/** What knexsafe's clients (src/db/dialects.ts) offer beyond knex's: one statement text to the driver, riding with COMMIT. */
interface KnexsafeClient {
  acquireConnection(): Promise<unknown>;
  executeStatement?(connection: unknown, query: { sql: string; bindings: unknown[] }): Promise<{ response?: unknown }>;
  rideWithCommit?(connection: object, rider: CommitRider): boolean;
}

export class RoundTrip {
  private readonly statements: string[] = [];
  /** One result per statement, once the round trip came back. */
  private results: unknown[] | undefined;

  private constructor(
    /** What sends it: a knex, or the observed statement it goes beside. */
    private readonly via: { knex: Knex } | { statement: QueryContext },
    /** The driver connection of the transaction, when knexsafe's client runs it (the observed statement's). */
    readonly session: object | undefined,
  ) {}

  /**
   * A round trip on `knex`. Its `session` is the transaction's driver connection when knexsafe's
   * client runs the transaction (then `send` goes straight to the driver), else undefined (another
   * knex, or no transaction: `send` goes through `knex.raw`).
   */
  static async on(knex: Knex): Promise<RoundTrip> {
    const client = knex.client as KnexsafeClient;
    const direct = Boolean(knex.isTransaction) && typeof client.executeStatement === 'function';
    return new RoundTrip({ knex }, direct ? ((await client.acquireConnection()) as object) : undefined);
  }

  /** A round trip through `knex.raw`, whatever runs the transaction. */
  static viaKnex(knex: Knex): RoundTrip {
    return new RoundTrip({ knex }, undefined);
  }

  /**
   * A round trip on the connection (so, in the transaction) of `statement`, which the capture's
   * observer is watching: the observer does not see it. `send()` sends it alone, `sendAfter()` with
   * the statement.
   */
  static beside(statement: QueryContext): RoundTrip {
    return new RoundTrip({ statement }, statement.connection);
  }

  /** Whether a round trip can go appended to `statement` (`sendAfter`): it goes out as one simple query. */
  static canGoAfter(statement: QueryContext): boolean {
    return statement.appendable;
  }

  /** Another round trip on the same knex (or beside the same statement) and session. */
  next(): RoundTrip {
    return new RoundTrip(this.via, this.session);
  }

  /** One statement whose result nobody reads (a savepoint, a PREPARE, a rollback). */
  command(sql: string): this {
    this.statements.push(sql);
    return this;
  }

  /** One statement whose rows `read` turns into the answer (read when asked for, once the round trip is back). */
  query<T>(sql: string, read: (rows: Rows) => T): Answer<T> {
    const at = this.statements.length;
    this.statements.push(sql);
    let answer: { value: T } | undefined;
    const resultsNow = () => this.results;
    return {
      get value(): T {
        const results = resultsNow();
        if (!results) throw new Error('knexsafe: a query was read before its round trip came back');
        answer ??= { value: read((results[at] as { rows?: Rows } | undefined)?.rows ?? []) };
        return answer.value;
      },
    };
  }

  /** The text sent: a new line after each statement, which may end in a -- comment. */
  get sql(): string {
    return this.statements.join(';\n');
  }

  /**
   * Sends it now and reads the answers. `through: 'knex'` sends it as `knex.raw` would even when
   * it could go straight to the driver: then the capture's observer sees it, as it sees the
   * migration's own statements.
   */
  async send({ through = 'driver' }: { through?: 'driver' | 'knex' } = {}): Promise<void> {
    if ('statement' in this.via) {
      this.receive(await this.via.statement.sideQuery(this.sql));
      return;
    }
    const knex = this.via.knex;
    const client = knex.client as KnexsafeClient;
    const response =
      through === 'driver' && this.session && client.executeStatement ? (await client.executeStatement(this.session, { sql: this.sql, bindings: [] })).response : await knex.raw(this.sql);
    this.receive(asResults(response));
  }

  /**
   * Sends it appended to the observed statement it goes beside, which `execute` runs (only when
   * `canGoAfter` it, and the statement's text holds exactly one statement): one round trip.
   * PostgreSQL runs it only if the statement succeeded. The statement's own result is returned.
   */
  async sendAfter(execute: ExecuteStatement): Promise<QueryResultSummary> {
    if (!('statement' in this.via)) throw new Error('knexsafe: only a round trip beside an observed statement can go after it');
    const summary = await execute(this.sql);
    const results = summary.following ?? [];
    if (results.length !== this.statements.length) throw new Error(`knexsafe: ${this.statements.length} queries sent after a statement came back with ${results.length} results`);
    this.receive(results);
    return summary;
  }

  /**
   * Waits for the transaction's COMMIT and goes in its round trip, ahead of it, inside the
   * transaction; when another statement comes first, it goes alone ahead of that one. `undo`
   * brings the transaction back to where the round trip found it should it fail, so that the
   * COMMIT still goes. Undefined when it cannot wait (not knexsafe's client on a server, a
   * round trip beside an observed statement, or a round trip waits already): send it yourself. The promise settles once the COMMIT is answered;
   * a failure is a CommitRideError.
   */
  sendWithCommit(undo: readonly string[]): Promise<void> | undefined {
    if (!('knex' in this.via)) return undefined;
    const client = this.via.knex.client as KnexsafeClient;
    if (!this.session || typeof client.rideWithCommit !== 'function') return undefined;
    let rider!: CommitRider;
    const answered = new Promise<void>((resolve, reject) => {
      rider = {
        sql: this.sql,
        results: this.statements.length,
        undo: undo.join('; '),
        receive: (results) => {
          this.receive(results);
          resolve();
        },
        fail: (error) => reject(new CommitRideError(error)),
      };
    });
    if (!client.rideWithCommit(this.session, rider)) return undefined;
    return answered;
  }

  private receive(results: unknown[]): void {
    this.results = results;
  }
}

/** A single result, or one per statement of a text of several. */
function asResults(response: unknown): unknown[] {
  return Array.isArray(response) ? response : [response];
}

/** A query prepared once per session, named after its text: two versions of knexsafe sharing a session never mix them up. */
export interface PreparedStatement {
  name: string;
  /** `prepare <name>(<types>) as <sql>`: not transactional, it outlives a rollback, for the session. */
  prepare: string;
  /** `execute <name>(<literals>)`, each argument an SQL literal (see `jsonText`). */
  execute(...literals: string[]): string;
}

export function preparedStatement(prefix: string, sql: string, parameterTypes: readonly string[] = []): PreparedStatement {
  const name = `${prefix}_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
  const list = (items: readonly string[]) => (items.length > 0 ? `(${items.join(', ')})` : '');
  return { name, prepare: `prepare ${name}${list(parameterTypes)} as ${sql}`, execute: (...literals) => `execute ${name}${list(literals)}` };
}

/** `value` as JSON in a text literal: a prepared statement's argument written into the SQL, no parameters sent. */
export function jsonText(value: unknown): string {
  return sqlString(JSON.stringify(value));
}

/** Sessions known to hold a set of prepared statements: a round trip saved on each read after the first. */
export class PreparedSessions {
  private readonly sessions = new WeakSet<object>();

  has(session: object | undefined): boolean {
    return session !== undefined && this.sessions.has(session);
  }

  add(session: object | undefined): void {
    if (session) this.sessions.add(session);
  }

  /** The session lost them (DEALLOCATE, DISCARD: SQLSTATE 26000 on execute): prepare again next time. */
  forget(session: object | undefined): void {
    if (session) this.sessions.delete(session);
  }
}

/**
 * Fails the round trips waiting for a COMMIT of `knex` that no statement took (their transaction
 * ended without COMMIT): nobody waits forever. Call once a transaction that may have had one is over.
 */
export function settleCommitRides(knex: Knex): void {
  (knex.client as { settleRiders?(): void }).settleRiders?.();
}
