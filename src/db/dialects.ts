import { createRequire } from 'node:module';
import type { KnexQueryObject } from 'knex/lib/dialects/postgres/index.js';
import type Client_PG from 'knex/lib/dialects/postgres/index.js';
import { splitStatements } from '../sql/split.js';
import { applySessionSettings, nodePgLikeConnection, runAfterCreate, type AfterCreate, type SessionSetting } from '../shadow/session-settings.js';
import { isKnexsafeQuery } from './internal-queries.js';
import { loadPg } from './pg-driver.js';
import { requireFromProject } from '../config/project-modules.js';

const require = createRequire(import.meta.url);
// knex's dialect classes are CommonJS; loading them through require keeps one copy with knex itself.
const PgClientBase = require('knex/lib/dialects/postgres/index.js') as typeof Client_PG;
// node-pg's own conversion of a parameter (the `pg` knex loads): what production sends.
const { prepareValue } = require('pg/lib/utils.js') as { prepareValue(value: unknown): string | Buffer | null };

/** Where in the user's code a knex builder was created (the knex call behind a statement). */
export interface BuilderOrigin {
  /** `new Error().stack` at creation, kept raw: resolving it is only worth it for captured statements. */
  stack: string;
}

export interface QueryContext {
  sql: string;
  bindings: readonly unknown[];
  origin: BuilderOrigin | undefined;
  /** knex's transaction id when the statement runs inside knex.transaction / a migration transaction. */
  txId: string | undefined;
  /** The driver connection: one database session, stable across knex's nested transactions. */
  connection: object;
  /**
   * Sends `sql` on the same connection (so, in the same transaction), unobserved: the driver's
   * results, one per statement of the text. Placeholders are $1, $2 (the driver's), not knex's `?`.
   * For the capture, through `RoundTrip.beside` (src/db/round-trip.ts).
   */
  sideQuery(sql: string, bindings?: readonly unknown[]): Promise<unknown[]>;
  /**
   * The statement goes out as one simple query (no parameters or driver options), so `execute`
   * can append a text of the observer's own to it: one round trip instead of two.
   */
  appendable: boolean;
}

export interface QueryResultSummary {
  rowCount: number | undefined;
  command: string | undefined;
  /** The driver's results of the text appended with `execute(followedBy)`, one per statement. */
  following?: unknown[];
}

/**
 * Runs the statement. With `followedBy` (only when `appendable`, for a text holding exactly one
 * statement), that text is sent after it in the same simple query: PostgreSQL runs it only if the
 * statement succeeded, and knex still sees the statement's own result. The capture appends
 * through `RoundTrip.sendAfter` (src/db/round-trip.ts).
 */
export type ExecuteStatement = (followedBy?: string) => Promise<QueryResultSummary>;

/**
 * Queries sent in the round trip of knex's COMMIT, ahead of it, inside the transaction (the schema
 * read after a migration). `undo` brings the transaction back to where the rider found it should
 * the rider fail, so that the COMMIT can still go. Made by `RoundTrip.sendWithCommit`
 * (src/db/round-trip.ts), the one way in.
 */
export interface CommitRider {
  sql: string;
  /** How many results `sql` gives. */
  results: number;
  undo: string;
  receive(results: unknown[]): void;
  fail(error: unknown): void;
}

/**
 * Sees every statement a knex instance sends, on the connection that sends it. The capture engine
 * implements this; everything else runs without one and pays nothing.
 */
export interface QueryObserver {
  onQuery(ctx: QueryContext, execute: ExecuteStatement): Promise<QueryResultSummary>;
  /** A knex builder (query, schema or raw) was created, at `origin`. */
  onBuilderCreated?(builder: object, origin: BuilderOrigin): void;
  /** A builder was compiled to SQL: run, or embedded in another query. One never compiled never ran. */
  onBuilderCompiled?(builder: object): void;
}

// biome-ignore lint/suspicious/noExplicitAny: a mixin's base constructor must take `...args: any[]` (TS2545).
type AnyCtor = new (...args: any[]) => Client_PG;

const ORIGIN = Symbol('knexsafe.origin');

interface Compilers {
  queryCompiler(this: unknown, builder: unknown, ...rest: unknown[]): unknown;
  schemaCompiler(this: unknown, builder: unknown, ...rest: unknown[]): unknown;
}

function withObserver<TBase extends AnyCtor>(Base: TBase) {
  return class ObservedClient extends Base {
    get observer(): QueryObserver | undefined {
      return (this.config as { knexsafeObserver?: QueryObserver }).knexsafeObserver;
    }

    // The knexfile's hooks shape the user's queries, never knexsafe's own (src/db/internal-queries.ts).
    override customWrapIdentifier(value: string, origImpl: (value: string) => string, queryContext: unknown): string {
      if (isKnexsafeQuery()) return origImpl(value);
      return super.customWrapIdentifier(value, origImpl, queryContext);
    }

    override postProcessResponse(response: unknown, queryContext: unknown): unknown {
      if (isKnexsafeQuery()) return response;
      return super.postProcessResponse(response, queryContext);
    }

    /** A shadow's session settings taken from the target's connection (src/shadow/session-settings.ts), set first on each session. */
    override async _acquireOnlyConnection(): Promise<unknown> {
      const connection = (await super._acquireOnlyConnection()) as { query(sql: string, params: unknown[]): Promise<unknown> };
      const settings = (this.config as { knexsafeSessionSettings?: SessionSetting[] }).knexsafeSessionSettings;
      if (settings?.length) await applySessionSettings((sql, params) => connection.query(sql, params), settings);
      return connection;
    }

    override queryBuilder(): unknown {
      return stamp(super.queryBuilder(), this.observer);
    }

    override schemaBuilder(): unknown {
      return stamp(super.schemaBuilder(), this.observer);
    }

    override raw(...args: unknown[]): unknown {
      return stamp(super.raw(...args), this.observer);
    }

    // A query used as a subquery is compiled through here, without its own toSQL().
    // (knex's typings omit these two; they exist on every Client.)
    queryCompiler(builder: unknown, ...rest: unknown[]): unknown {
      if (builder && typeof builder === 'object') this.observer?.onBuilderCompiled?.(builder);
      return (Base.prototype as unknown as Compilers).queryCompiler.call(this, builder, ...rest);
    }

    schemaCompiler(builder: unknown, ...rest: unknown[]): unknown {
      if (builder && typeof builder === 'object') this.observer?.onBuilderCompiled?.(builder);
      return (Base.prototype as unknown as Compilers).schemaCompiler.call(this, builder, ...rest);
    }

    override runner(builder: unknown) {
      const runner = super.runner(builder);
      const origin = (builder as { [ORIGIN]?: BuilderOrigin } | undefined)?.[ORIGIN];
      if (origin) {
        const query = runner.query.bind(runner);
        runner.query = (obj: KnexQueryObject) => {
          obj[ORIGIN as unknown as string] = origin;
          return query(obj);
        };
      }
      return runner;
    }

    /** A shadow's knex (`knexsafeDeferBegin`): its transactions' BEGIN goes out with the next statement. */
    get defersBegin(): boolean {
      return (this.config as { knexsafeDeferBegin?: boolean }).knexsafeDeferBegin === true && this.appendsQueries;
    }

    override async _query(connection: unknown, obj: KnexQueryObject): Promise<KnexQueryObject> {
      // knex's pg client refuses an empty text before sending it; a deferred BEGIN in front of it
      // would have made it a valid query on a server shadow.
      if (!obj.sql) throw new Error('The query is empty');
      // knex's own BEGIN (no isolation level): answered here, sent in front of the next statement
      // on the connection by executeStatement. A round trip per transaction; check runs one per migration.
      if (obj.sql === 'BEGIN;' && (obj.bindings?.length ?? 0) === 0 && this.defersBegin) {
        beginPending.add(connection as object);
        obj.response = { command: 'BEGIN', rowCount: null, rows: [], fields: [] };
        return obj;
      }
      const observer = this.observer;
      if (!observer) return this.executeStatement(connection, obj);
      const ctx: QueryContext = {
        sql: obj.sql,
        bindings: obj.bindings ?? [],
        origin: obj[ORIGIN as unknown as string] as BuilderOrigin | undefined,
        txId: (connection as { __knexTxId?: string }).__knexTxId,
        connection: connection as object,
        sideQuery: async (sql, bindings = []) => asResults((await this.executeStatement(connection, { sql, bindings: [...bindings] })).response),
        appendable: this.appendsQueries && (obj.bindings?.length ?? 0) === 0 && hasNoOptions(obj.options),
      };
      let result: KnexQueryObject = obj;
      await observer.onQuery(ctx, async (followedBy) => {
        if (followedBy === undefined) {
          result = await this.executeStatement(connection, obj);
          return summarize(result.response);
        }
        if (!ctx.appendable) throw new Error('knexsafe: a query was appended to a statement sent with parameters');
        // A new line first: the statement may end in a -- comment.
        const done = await this.executeStatement(connection, { ...obj, sql: `${obj.sql}\n;${followedBy}` });
        const responses = done.response as unknown;
        if (!Array.isArray(responses) || responses.length < 2) throw new Error('knexsafe: a statement sent with a text appended did not come back as several results');
        obj.response = responses[0];
        result = obj;
        return { ...summarize(obj.response), following: responses.slice(1) };
      });
      return result;
    }

    /** Whether a query may be appended to a statement (see QueryContext.appendable). */
    get appendsQueries(): boolean {
      return true;
    }

    /**
     * Sends `rider` with the connection's next statement when that is knex's COMMIT: one round trip
     * instead of two. Ahead of any other statement it goes alone first, as it would have without
     * waiting. False when this client cannot append queries (then send it yourself).
     */
    rideWithCommit(connection: object, rider: CommitRider): boolean {
      if (!this.appendsQueries || riders.has(connection)) return false;
      riders.set(connection, rider);
      this.pendingRiders.add(rider);
      return true;
    }

    /** Fails this knex's riders no statement took (their transaction ended without COMMIT): nobody waits forever. */
    settleRiders(): void {
      for (const rider of this.pendingRiders) {
        this.pendingRiders.delete(rider);
        rider.fail(new Error('knexsafe: the transaction ended before the schema read meant to go with its COMMIT was sent'));
      }
    }

    /** Riders waiting, per knex instance: a transaction's client is another object sharing the instance's config. */
    get pendingRiders(): Set<CommitRider> {
      let pending = pendingRiders.get(this.config);
      if (!pending) pendingRiders.set(this.config, (pending = new Set()));
      return pending;
    }

    /** The dialect's own execution, overridable per driver. */
    async executeStatement(connection: unknown, obj: KnexQueryObject): Promise<KnexQueryObject> {
      const rider = riders.get(connection as object);
      if (rider) {
        riders.delete(connection as object);
        this.pendingRiders.delete(rider);
        if (obj.sql === 'COMMIT;' && (obj.bindings?.length ?? 0) === 0) return this.commitWith(connection, obj, rider);
        try {
          const done = await this.executeStatement(connection, rawQuery(rider.sql));
          rider.receive(asResults(done.response));
        } catch (error) {
          rider.fail(error);
          await super._query(connection, rawQuery(rider.undo)).catch(() => undefined);
        }
      }
      if (!beginPending.delete(connection as object)) return super._query(connection, obj);
      // A statement with parameters goes by the extended protocol, which takes one statement.
      if ((obj.bindings?.length ?? 0) > 0 || !hasNoOptions(obj.options)) {
        await super._query(connection, rawQuery('BEGIN;'));
        return super._query(connection, obj);
      }
      let done: KnexQueryObject;
      try {
        done = await super._query(connection, { ...obj, sql: `${BEGIN_PREFIX}${obj.sql}` });
      } catch (error) {
        // PostgreSQL points into the text it got: the statement starts after the prefix.
        const e = error as { position?: string };
        if (e.position !== undefined && Number(e.position) > BEGIN_PREFIX.length) e.position = String(Number(e.position) - BEGIN_PREFIX.length);
        throw error;
      }
      // BEGIN's result first, then the statement's (several for a text of several statements; none
      // for one without any, which then answers with BEGIN's).
      const responses = done.response as unknown;
      const own = Array.isArray(responses) ? responses.slice(1) : [];
      obj.response = own.length === 0 ? responses : own.length === 1 ? own[0] : own;
      return obj;
    }

    /** knex's COMMIT with `rider` in front of it, in one round trip. */
    async commitWith(connection: unknown, obj: KnexQueryObject, rider: CommitRider): Promise<KnexQueryObject> {
      let done: KnexQueryObject;
      try {
        // A new line first: the rider may end in a -- comment.
        done = await this.executeStatement(connection, { ...obj, sql: `${rider.sql};\nCOMMIT;` });
      } catch (error) {
        // Either the rider failed (the transaction waits, aborted, at its savepoint: undo it and
        // commit) or the COMMIT did (the transaction is gone and the undo fails: knex gets the error).
        let committed: KnexQueryObject;
        try {
          committed = await super._query(connection, { ...obj, sql: `${rider.undo};\nCOMMIT;` });
        } catch {
          rider.fail(error);
          throw error;
        }
        rider.fail(error);
        obj.response = asResults(committed.response).at(-1);
        return obj;
      }
      const results = asResults(done.response);
      obj.response = results.at(-1);
      // The COMMIT went through whatever the rider got: only the rider learns of a surprise.
      if (results.length !== rider.results + 1) rider.fail(new Error(`knexsafe: a COMMIT sent with ${rider.results} queries ahead of it came back with ${results.length} results`));
      else rider.receive(results.slice(0, rider.results));
      return obj;
    }
  };
}

/** A query of knexsafe's own, without parameters, in the shape knex hands to `_query`. */
function rawQuery(sql: string): KnexQueryObject {
  return { method: 'raw', sql, bindings: [] } as unknown as KnexQueryObject;
}

function asResults(response: unknown): unknown[] {
  return Array.isArray(response) ? response : [response];
}

/** Queries waiting for their connection's COMMIT (see `rideWithCommit`), by connection and by knex config. */
const riders = new WeakMap<object, CommitRider>();
const pendingRiders = new WeakMap<object, Set<CommitRider>>();

/** Connections whose knex BEGIN has not gone out yet (see `defersBegin`). */
const beginPending = new WeakSet<object>();
const BEGIN_PREFIX = 'BEGIN;\n';

function stamp<T>(builder: T, observer: QueryObserver | undefined): T {
  if (observer && builder && typeof builder === 'object') {
    // The frames are taken now, in the user's synchronous code; V8 formats them only if `stack` is read.
    const origin = {} as BuilderOrigin;
    Error.captureStackTrace(origin);
    (builder as { [ORIGIN]?: BuilderOrigin })[ORIGIN] = origin;
    const target = builder as unknown as { toSQL?: (...args: unknown[]) => unknown };
    const compile = target.toSQL;
    if (observer.onBuilderCreated && typeof compile === 'function') {
      observer.onBuilderCreated(target, origin);
      // Running a builder, or using it inside another query, compiles it: that is how an un-awaited one shows.
      target.toSQL = function (this: unknown, ...args: unknown[]) {
        observer.onBuilderCompiled?.(target);
        return compile.apply(this, args);
      };
    }
  }
  return builder;
}

function hasNoOptions(options: unknown): boolean {
  return options === undefined || options === null || (typeof options === 'object' && Object.keys(options).length === 0);
}

function summarize(response: unknown): QueryResultSummary {
  const last = Array.isArray(response) ? response[response.length - 1] : response;
  const r = last as { rowCount?: number | null; affectedRows?: number; command?: string } | undefined;
  return { rowCount: r?.rowCount ?? r?.affectedRows ?? undefined, command: r?.command };
}

/** knex's `pg` dialect, observable. */
export class KnexsafePgClient extends withObserver(PgClientBase) {
  // The driver knex requires on its own, loaded the quicker way (see loadPg).
  _driver(): unknown {
    return loadPg();
  }

  // knex requires pg-query-stream from its own folder, which is knexsafe's: a project that installed
  // it (as `.stream()` in a migration needs) would fail here and not under `npx knex`.
  _stream(connection: PgStreamConnection, obj: { sql?: string; bindings?: unknown[] }, stream: NodeJS.WritableStream & NodeJS.EventEmitter, options: unknown): Promise<void> {
    if (!obj.sql) throw new Error('The query is empty');
    const QueryStream = requireFromProject('pg-query-stream') as (new (sql: string, values: unknown[] | undefined, options: unknown) => NodeJS.ReadableStream) | undefined;
    if (!QueryStream) {
      // knex throws here and never ends the stream: `npx knex` hangs. The error goes on the stream.
      const error = new Error(
        "knex PostgreSQL query streaming requires the 'pg-query-stream' package. Please install it in the project (e.g. `npm i pg-query-stream`); without it, `npx knex` would wait forever on this migration.",
      );
      stream.emit('error', error);
      return Promise.reject(error);
    }
    const sql = obj.sql;
    return new Promise((resolve, reject) => {
      const queryStream = connection.query(new QueryStream(sql, obj.bindings, options));
      queryStream.on('error', (error: unknown) => {
        reject(error);
        stream.emit('error', error);
      });
      queryStream.on('end', () => resolve());
      queryStream.pipe(stream);
    });
  }
}

interface PgStreamConnection {
  query(stream: NodeJS.ReadableStream): NodeJS.ReadableStream;
}

/**
 * What a knexfile's own client class (`client: class extends Client_PG { … }`) changes that shapes
 * SQL and results — identifier quoting, compilers, formatters, bindings — is taken over onto one
 * of our clients; how it connects (driver, pool, connections, queries on the wire) stays ours, so
 * a shadow keeps its own database and its observer. Members of knex's base classes are not copied.
 */
const CONNECTION_MEMBERS = new Set([
  'constructor',
  '_driver',
  'driverName',
  'initializeDriver',
  'initializePool',
  'poolDefaults',
  'getPoolSettings',
  'acquireConnection',
  'releaseConnection',
  'acquireRawConnection',
  '_acquireOnlyConnection',
  'destroyRawConnection',
  'validateConnection',
  'wrapNativePool',
  'checkVersion',
  '_parseVersion',
  'setSchemaSearchPath',
  'query',
  'stream',
  '_query',
  '_stream',
  'processResponse',
  'destroy',
  'canCancelQuery',
  'cancelQuery',
  '_wrappedCancelQueryCall',
  // Ours: the observer sees every builder and statement through them.
  'queryBuilder',
  'schemaBuilder',
  'raw',
  'runner',
  'executeStatement',
]);

const KNEX_BASE_CLASSES = new Set(['Client_PG', 'Client', 'EventEmitter', 'Object']);

const withUserClients = new WeakMap<object, Map<unknown, typeof Client_PG>>();

export function withUserClient<T extends typeof Client_PG>(Base: T, userClient: unknown): T {
  if (typeof userClient !== 'function') return Base;
  let cache = withUserClients.get(Base);
  if (!cache) withUserClients.set(Base, (cache = new Map()));
  const cached = cache.get(userClient);
  if (cached) return cached as T;
  const chain: object[] = [];
  for (let proto = (userClient as { prototype?: object }).prototype; proto; proto = Object.getPrototypeOf(proto) as object | undefined) {
    // knex's own classes, whichever copy of knex the user's class extends.
    const name = (proto as { constructor?: { name?: string } }).constructor?.name ?? '';
    if (proto === PgClientBase.prototype || Object.prototype.isPrototypeOf.call(proto, PgClientBase.prototype) || KNEX_BASE_CLASSES.has(name)) break;
    chain.unshift(proto);
  }
  const Derived = class extends (Base as typeof Client_PG) {};
  for (const proto of chain) {
    for (const key of Reflect.ownKeys(proto)) {
      if (typeof key === 'string' && CONNECTION_MEMBERS.has(key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      if (descriptor) Object.defineProperty(Derived.prototype, key, descriptor);
    }
  }
  cache.set(userClient, Derived);
  return Derived as unknown as T;
}

let pgliteClient: typeof Client_PG | undefined;

/**
 * knex-pglite's dialect, observable, plus multi-statement `knex.raw` (PGlite's `query` uses the
 * extended protocol, which takes one statement; node-postgres sends raw SQL without bindings as a
 * simple query, which takes many — migrations rely on that). Loaded on first use: a run against a
 * server never needs it.
 */
export function knexsafePgliteClient(): typeof Client_PG {
  pgliteClient ??= definePgliteClient(require('knex-pglite') as typeof Client_PG);
  return pgliteClient;
}

function definePgliteClient(PgliteClientBase: typeof Client_PG) {
  return class KnexsafePgliteClient extends withObserver(PgliteClientBase) {
    /**
     * knex-pglite takes no pool options (one session): the knexfile's `pool.afterCreate` runs here,
     * where knex's pool would run it, after the search path is set.
     */
    override async acquireRawConnection(): Promise<unknown> {
      const connection = (await super.acquireRawConnection()) as Parameters<typeof nodePgLikeConnection>[0];
      const afterCreate = (this.config as { knexsafeAfterCreate?: AfterCreate }).knexsafeAfterCreate;
      if (afterCreate) await runAfterCreate(afterCreate, nodePgLikeConnection(connection));
      return connection;
    }

    // In process there is no round trip to save, and splitting the text first would let a
    // statement sent after this one (not awaited by the migration) run before it.
    override get appendsQueries(): boolean {
      return false;
    }

    override async executeStatement(connection: unknown, obj: KnexQueryObject): Promise<KnexQueryObject> {
      // PGlite runs a statement on this thread and settles it through microtasks alone, so a
      // migration of many short statements would never give the event loop a turn: Ctrl-C, SIGTERM
      // and --timeout's timer would wait for the whole migration. A turn before every statement, not
      // every few milliseconds: whether a turn comes between two of a migration's concurrent queries
      // (Promise.all) decides which PostgreSQL sees first, and that must not depend on the machine's
      // speed — a cold and a warm run (src/cache/) must report the same. A turn costs microseconds.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if ((obj.bindings?.length ?? 0) === 0 && mayHoldSeveralStatements(obj.sql)) {
        const statements = await splitStatements(obj.sql);
        if (statements.length > 1) {
          const db = connection as { exec(sql: string): Promise<unknown[]> };
          const results = (await db.exec(obj.sql)) as { rows: unknown[]; affectedRows?: number; fields: unknown[] }[];
          obj.response = results.map((r) => ({ ...r, rowCount: r.affectedRows ?? 0 }));
          return obj;
        }
      }
      if ((obj.bindings?.length ?? 0) === 0) {
        if (!obj.sql || !hasNoOptions(obj.options)) return super.executeStatement(connection, obj);
        // One statement without parameters goes as a simple query, as node-postgres sends it to a
        // server. PGlite's query() would take six calls into PostgreSQL (parse, describe, bind,
        // describe, execute, sync) where exec() takes two: ~0.05–0.1 ms less CPU a statement, and
        // a check sends ~7 per migration (BEGIN, COMMIT, its own reads, the migration's statements).
        // Same rows, fields and errors (query() adds `params: []` to an error; kept).
        const db = connection as { exec(sql: string): Promise<unknown[]> };
        let results: unknown[];
        try {
          results = await db.exec(obj.sql);
        } catch (error) {
          if (error && typeof error === 'object' && !('params' in error)) (error as { params?: unknown[] }).params = [];
          throw error;
        }
        obj.response = results.length === 1 ? results[0] : (results as { affectedRows?: number }[]).map((r) => ({ ...r, rowCount: r.affectedRows ?? 0 }));
        return obj;
      }
      // PGlite would serialize each parameter by the type PostgreSQL infers for it (a JS array into
      // jsonb as JSON); node-pg turns every one into text (an array literal, a local-time string, …)
      // or a Buffer, sent untyped, and lets PostgreSQL parse it. Do exactly that, so the embedded
      // shadow accepts and rejects what the server does.
      const prepared: KnexQueryObject = {
        ...obj,
        bindings: obj.bindings!.map((value) => prepareValue(value)),
        options: { ...(obj.options as object | undefined), serializers: SEND_AS_PREPARED },
      };
      const done = await super.executeStatement(connection, prepared);
      obj.response = done.response;
      return obj;
    }

    override processResponse(obj: KnexQueryObject, runner: unknown): unknown {
      // Several results come back as an array, as node-postgres returns them.
      if (Array.isArray(obj.response)) return obj.response;
      return super.processResponse(obj, runner);
    }
  };
}

/**
 * PGlite's per-query serializer table, saying "send as is" for every type: node-pg's prepared text
 * goes out as text and its Buffers as binary parameters, as node-pg's protocol writer sends them.
 */
const SEND_AS_PREPARED: Record<number | string, (value: unknown) => unknown> = new Proxy({}, { get: () => (value: unknown) => value });

function mayHoldSeveralStatements(sql: string): boolean {
  const i = sql.indexOf(';');
  return i !== -1 && i < sql.trimEnd().length - 1;
}
