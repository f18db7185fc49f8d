import type { Knex } from 'knex';
import { CommitRideError, jsonText, PreparedSessions, preparedStatement, RoundTrip, type Rows } from '../db/round-trip.js';
import { sqlState } from '../errors.js';
import { CATALOG_CHANGES_SQL, CATALOG_DELTA_SQL, CATALOG_SQL } from './catalog-sql.js';
import { compareText } from '../util/compare-text.js';
import { rememberLast } from '../util/remember.js';
import { ensureViewParser, normalizeViewDefinition } from './view-definition.js';
import type {
  ColumnInfo,
  CompositeInfo,
  ConstraintInfo,
  ConstraintKind,
  DomainInfo,
  EnumInfo,
  ExtensionInfo,
  FunctionInfo,
  IndexInfo,
  PolicyInfo,
  SchemaSnapshot,
  SequenceInfo,
  TableInfo,
  TriggerInfo,
  ViewInfo,
} from './types.js';
import { asKnexsafe } from '../db/internal-queries.js';
import { sqlString } from '../codegen/sql.js';

/** knex's own bookkeeping tables: never part of the user's schema. */
export const KNEX_TABLES: readonly string[] = ['knex_migrations', 'knex_migrations_lock', 'knex_migrations_knexsafe'];

export interface SnapshotOptions {
  /** More tables to leave out (with their indexes, constraints, sequences…): bare names match in every schema, `schema.table` only there. */
  excludeTables?: string[];
  /** Only these schemas; default: every user schema (not pg_*, information_schema or schemas owned by an extension). */
  schemas?: string[];
}

/**
 * Session settings that change how PostgreSQL prints expressions, pinned (SET LOCAL) for the
 * duration of the snapshot so the text does not depend on the caller's session: search_path =
 * pg_catalog makes every user object schema-qualified; the others fix how constants in defaults
 * are printed and how the statement's literals are read. squash's catalog reads use them too.
 */
export const PRINTING_SETTINGS: readonly (readonly [string, string])[] = [
  ['search_path', 'pg_catalog'],
  ['DateStyle', 'ISO, MDY'],
  ['IntervalStyle', 'postgres'],
  ['TimeZone', 'UTC'],
  ['extra_float_digits', '1'],
  ['standard_conforming_strings', 'on'],
  // bytea constants (in defaults) print per bytea_output; pinned so squash's session, which needs
  // hex for its DDL, reads the very snapshot a plain read gives (one read serves both).
  ['bytea_output', 'hex'],
];

// A generic plan is forced so the prepared catalog query is planned once per session.
const SESSION_SETTINGS: readonly (readonly [string, string])[] = [...PRINTING_SETTINGS, ['plan_cache_mode', 'force_generic_plan']];

/** `select set_config(…, true), …` for `settings` (SET LOCAL: until the transaction ends), with its bindings. */
export function setLocalSql(settings: readonly (readonly [string, string])[]): { sql: string; bindings: string[] } {
  return { sql: settings.map(() => 'pg_catalog.set_config(?, ?, true)').join(', '), bindings: settings.flat() };
}

// Every argument a JSON text (see jsonText).
const FULL_QUERY = preparedStatement('knexsafe_schema_snapshot', CATALOG_SQL, ['text', 'text']);
const DELTA_QUERY = preparedStatement('knexsafe_schema_delta', CATALOG_DELTA_SQL, ['text', 'text', 'text', 'text']);
const CHANGES_QUERY = preparedStatement('knexsafe_schema_changes', CATALOG_CHANGES_SQL, ['text', 'text', 'text', 'text']);
const QUERIES = [FULL_QUERY, DELTA_QUERY, CHANGES_QUERY];

// The settings and the statement name are constants: written into the SQL, not sent as parameters.
const SESSION_SETTINGS_SQL = SESSION_SETTINGS.map(([name, value]) => `pg_catalog.set_config(${sqlString(name)}, ${sqlString(value)}, true)`).join(', ');
// All are prepared together, the first time any is needed: check reads whole once, then deltas.
const PREPARED_SQL = `(select coalesce(json_agg(name), '[]'::json) from pg_catalog.pg_prepared_statements where name in (${QUERIES.map((q) => sqlString(q.name)).join(', ')}))`;

function catalogRow(rows: Rows): RawCatalog {
  const row = rows[0] as RawCatalog | undefined;
  if (!row) throw new Error('schema snapshot: the catalog query returned no row');
  return row;
}

/**
 * Reads the schema of the database behind `knex` into a canonical snapshot: equal schemas give
 * deep-equal (and JSON-identical) snapshots, on PostgreSQL 15 servers as on PGlite's 18.
 *
 * One catalog query, prepared once per session (planning it costs several times more than
 * running it), run in a short transaction (a savepoint when `knex` is already a transaction) that
 * is rolled back: the database is only read, and the caller's session settings are left as they were.
 */
/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function snapshotSchema(...args: Parameters<typeof snapshotSchemaOwn>): ReturnType<typeof snapshotSchemaOwn> {
  return asKnexsafe(() => snapshotSchemaOwn(...args));
}

async function snapshotSchemaOwn(knex: Knex, options: SnapshotOptions = {}): Promise<SchemaSnapshot> {
  return buildSnapshot(await readCatalog(knex, options));
}

/**
 * For a delta read, either the owner relations to re-read and relations made since the last read,
 * whose owners are re-read too (CATALOG_DELTA_SQL); or what changed since a read's snapshot, with
 * its row counts per owner (CATALOG_CHANGES_SQL), where `old` and `new` are transactions to count
 * as seen by it, or not, whatever the snapshot says.
 */
export type CatalogDelta = { owners: number[]; fresh: number[] } | { since: { xmax: number; xip: number[]; old: number[]; new: number[] }; totals: Record<string, number> };

/**
 * A read-only query of the caller's sent in the snapshot's round trip, after the catalog query and
 * inside its savepoint (undone with it), when the snapshot takes one round trip (inside a
 * transaction, once the catalog query is prepared). `receive` gets its rows; it is not called when
 * the query did not go.
 */
export interface FollowingQuery {
  sql: string;
  receive(rows: Record<string, unknown>[]): void;
}

/**
 * A read inside a transaction that may wait for the transaction's COMMIT and go in its round trip
 * (check: after each migration, in the migration's own transaction). `queued` is called once it
 * waits; the read then resolves when the COMMIT is answered. Otherwise it is read at once.
 */
export interface RideWithCommit {
  queued(): void;
  /** Also read the schema whole in the same round trip (to prove an incremental read). */
  withFullRead?: boolean;
}

/** A catalog read; `ridden` when it went with a COMMIT, then with the whole schema if asked for. */
export type RiddenCatalog = RawCatalog & { ridden?: true; full?: RawCatalog };

/** Sessions known to hold the prepared catalog queries (a round trip saved on the first read of a new one). */
const preparedOn = new PreparedSessions();

const UNDO_SAVEPOINT = ['rollback to savepoint knexsafe_snapshot', 'release savepoint knexsafe_snapshot'];

/**
 * The catalog read (and a whole one, and the caller's query, when given) in a savepoint with the
 * printing settings pinned, undone at the end: the caller's transaction is left as it was. One
 * round trip, once the catalog queries are prepared on the session.
 */
function readInSavepoint(trip: RoundTrip, execute: string, fullExecute: string | undefined, following: FollowingQuery | undefined) {
  trip.command('savepoint knexsafe_snapshot').command(`select ${SESSION_SETTINGS_SQL}`);
  const catalog = trip.query(execute, catalogRow);
  const full = fullExecute === undefined ? undefined : trip.query(fullExecute, catalogRow);
  // The caller's query goes inside the savepoint too: should it fail, the undo still applies.
  const followed = following && trip.query(following.sql, (rows) => rows);
  for (const undo of UNDO_SAVEPOINT) trip.command(undo);
  return { catalog, full, followed };
}

/** The catalog query's rows, as PostgreSQL returned them (a partial set when `delta` is given). */
/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function readCatalog(...args: Parameters<typeof readCatalogOwn>): ReturnType<typeof readCatalogOwn> {
  return asKnexsafe(() => readCatalogOwn(...args));
}

async function readCatalogOwn(knex: Knex, options: SnapshotOptions = {}, delta?: CatalogDelta, following?: FollowingQuery, ride?: RideWithCommit): Promise<RiddenCatalog> {
  const excluded = [...KNEX_TABLES, ...(options.excludeTables ?? [])];
  const schemas = options.schemas ?? [];
  // Inside a caller's transaction, a plain savepoint: knex's nested-transaction bookkeeping
  // breaks when several are opened and rolled back in one migration transaction.
  const nested = Boolean(knex.isTransaction);
  // A transaction of our own: its BEGIN goes with the first round trip on a shadow (deferred).
  const trx: Knex = nested ? knex : await knex.transaction();
  const fullExecute = FULL_QUERY.execute(jsonText(schemas), jsonText(excluded));
  const query = !delta ? FULL_QUERY : 'owners' in delta ? DELTA_QUERY : CHANGES_QUERY;
  const execute = !delta
    ? fullExecute
    : 'owners' in delta
      ? DELTA_QUERY.execute(jsonText(schemas), jsonText(excluded), jsonText(delta.owners), jsonText(delta.fresh))
      : CHANGES_QUERY.execute(jsonText(schemas), jsonText(excluded), jsonText(delta.since), jsonText(delta.totals));
  let raw: RawCatalog | undefined;
  let undone = false;
  try {
    const trips = nested ? await RoundTrip.on(trx) : undefined;
    // A read in a transaction of its own prepares the statements on its session too: a later read
    // in a migration's transaction there (verify's, with its COMMIT) knows it need not.
    const session = nested ? trips?.session : (await RoundTrip.on(trx)).session;
    if (ride && trips && preparedOn.has(session)) {
      const trip = trips.next();
      const read = readInSavepoint(trip, execute, ride.withFullRead ? fullExecute : undefined, following);
      const answered = trip.sendWithCommit(UNDO_SAVEPOINT);
      if (answered !== undefined) {
        undone = true;
        ride.queued();
        const ridden = await answered.then(
          (): RiddenCatalog => {
            const catalog: RiddenCatalog = { ...read.catalog.value, ridden: true };
            if (read.full) catalog.full = read.full.value;
            if (read.followed) following?.receive(read.followed.value);
            return catalog;
          },
          (error: unknown) => {
            // The migration dropped the prepared statements (DEALLOCATE, DISCARD): prepare again next time.
            if (error instanceof CommitRideError && error.sqlState === '26000') preparedOn.forget(session);
            throw error;
          },
        );
        if (ridden.views.length > 0 || ridden.full?.views.length) await ensureViewParser();
        return ridden;
      }
    }
    // Once the statements are prepared on this session, all of it is one round trip. On a session
    // new to us they are not, unless another knexsafe prepared them (PGlite shares one session).
    if (trips && (session === undefined || preparedOn.has(session))) {
      const trip = trips.next();
      const read = readInSavepoint(trip, execute, undefined, following);
      try {
        await trip.send();
        undone = true;
        raw = read.catalog.value;
        preparedOn.add(session);
        if (read.followed) following?.receive(read.followed.value);
      } catch (error) {
        if (sqlState(error) !== '26000') throw error;
        // Not prepared here (any more: DEALLOCATE, DISCARD): undo, prepare, run.
        preparedOn.forget(session);
        await trx.raw(UNDO_SAVEPOINT.join('; '));
      }
    }
    if (!raw) {
      undone = false;
      // Through knex, as the migration's own statements go (the capture counts them).
      const look = trips?.next() ?? RoundTrip.viaKnex(trx);
      if (nested) look.command('savepoint knexsafe_snapshot');
      const held = look.query(`select ${SESSION_SETTINGS_SQL}, ${PREPARED_SQL} as prepared`, (rows) => new Set((rows[0]?.prepared as string[] | undefined) ?? []));
      await look.send({ through: 'knex' });
      const run = look.next();
      // PREPARE is not transactional: the statements outlive the rollback below, for the session.
      // A whole read (a session's first) prepares the deltas that follow it too; a delta read
      // first (a run resumed from the warm cache, which may read once) only its own: planning
      // each costs tens of milliseconds on PGlite. The session counts as prepared once all are.
      const missing = QUERIES.filter((q) => !held.value.has(q.name) && (!delta || q === query));
      for (const q of missing) run.command(q.prepare);
      const catalog = run.query(execute, catalogRow);
      if (nested) for (const undo of UNDO_SAVEPOINT) run.command(undo);
      await run.send({ through: 'knex' });
      undone = nested;
      raw = catalog.value;
      if (QUERIES.every((q) => held.value.has(q.name) || missing.includes(q))) preparedOn.add(session);
    }
  } finally {
    // After a failure the rollback's own error would hide the one that matters.
    if (!undone) {
      const undo = nested ? trx.raw(UNDO_SAVEPOINT.join('; ')) : (trx as Knex.Transaction).rollback();
      await Promise.resolve(undo).catch((error: unknown) => {
        if (raw) throw error;
      });
    }
  }
  if (raw.views.length > 0) await ensureViewParser();
  return raw;
}

/** The oid of the relation a row belongs to for incremental reads (an index's table, else the object's own relation); null for schema-wide rows. */
type Owner = number | null;

export interface RawCatalog {
  /** [oid, name]. */
  schemas: [number, string][];
  /** The relations read (every one in scope for a full read): [oid, owner oid, qualified name, relkind]. */
  relations: [number, number, string, string][];
  extensions: (ExtensionInfo & { oid: number })[];
  tables: {
    owner: Owner;
    qname: string;
    schema: string;
    name: string;
    relkind: string;
    row_security: boolean;
    force_row_security: boolean;
    partition_parent: string | null;
    partition_bound: string | null;
    partition_key: string | null;
    inherits: string[] | null;
    unlogged: boolean;
    replica_identity: string;
    replica_index: string | null;
    cluster_on: string | null;
    /** Storage parameters as stored (unsorted). */
    options: string[] | null;
    /** For the baseline's model: parent oids in INHERITS order (a partition's one parent). */
    parent_oids: number[] | null;
    /** For the baseline's model: the primary key's column numbers, in key order. */
    primary_key: number[] | null;
    /** For the baseline's model: the columns with inherited definitions, [number, attislocal, attinhcount]. */
    inherited_columns: [number, boolean, number][] | null;
  }[];
  columns: {
    owner: Owner;
    qtable: string;
    name: string;
    num: number;
    type: string;
    not_null: boolean;
    default: string | null;
    generated: string | null;
    generated_kind: string;
    identity: string;
    /** A collation that is not the type's own: [schema, name]. */
    collation: [string, string] | null;
    storage: string | null;
    statistics: number | null;
    options: string[] | null;
    compression: string | null;
  }[];
  constraints: {
    owner: Owner;
    qtable: string;
    name: string;
    type: string;
    definition: string;
    column_numbers: number[];
    validated: boolean;
    local: boolean;
    deferrable: boolean;
    ref_table: string | null;
    ref_columns: string[] | null;
    on_update: string;
    on_delete: string;
  }[];
  indexes: {
    owner: Owner;
    qname: string;
    schema: string;
    name: string;
    qtable: string;
    definition: string;
    unique: boolean;
    predicate: string | null;
    valid: boolean;
    columns: string[] | null;
  }[];
  sequences: {
    owner: Owner;
    qname: string;
    schema: string;
    name: string;
    type: string;
    increment: string;
    start: string;
    owned_by: string | null;
    /** For the baseline's model: the options a snapshot does not compare. */
    min: string;
    max: string;
    cache: string;
    cycle: boolean;
    /** For the baseline's model: the column it belongs to, [table oid, schema, table, column, 'a' (OWNED BY) or 'i' (identity)]. */
    owned_by_ref: [number, string, string, string, 'a' | 'i'] | null;
  }[];
  enums: { oid: number; qname: string; schema: string; name: string; values: string[] }[];
  /** collation: [schema, name] when not the type's own (for the baseline's model). */
  composites: { oid: number; relid: number; qname: string; schema: string; name: string; attributes: { name: string; type: string; collation: [string, string] | null }[] }[];
  domains: {
    oid: number;
    qname: string;
    schema: string;
    name: string;
    type: string;
    collation: [string, string] | null;
    not_null: boolean;
    default: string | null;
    checks: string[];
    named_checks: { name: string; definition: string }[];
  }[];
  views: { owner: Owner; qname: string; schema: string; name: string; materialized: boolean; definition: string; populated: boolean; options: string[] | null }[];
  functions: {
    qsignature: string;
    schema: string;
    name: string;
    kind: string;
    returns: string | null;
    language: string;
    definition: string | null;
    /** For the baseline's model: the routine's oid, and an aggregate's parts (CREATE AGGREGATE). */
    oid: number;
    aggregate: {
      args: string;
      sfunc: string;
      stype: string;
      finalfunc: string | null;
      combinefunc: string | null;
      initcond: string | null;
      /** Moving-aggregate, ordered-set, sort-operator or serial options: the baseline does not write them. */
      unsupported: boolean;
    } | null;
  }[];
  /** enabled: pg_trigger.tgenabled, 'O' (on origin), 'D' (disabled), 'R' (replica), 'A' (always). */
  triggers: { owner: Owner; qtable: string; name: string; definition: string; enabled: 'O' | 'D' | 'R' | 'A' }[];
  policies: {
    owner: Owner;
    qtable: string;
    name: string;
    command: string;
    permissive: boolean;
    roles: string[];
    using: string | null;
    with_check: string | null;
  }[];
  comments: { key: string; text: string; owner: Owner }[];
  /** Catalog rows per owner (0: the schema-wide kinds), for a later 'changes' read (not from an 'owners' one). */
  totals: Record<string, number>;
  /** The read's snapshot: `own`, the transactions of this session whose rows it saw (not from an 'owners' read). */
  since: { xmax: number; xip: number[]; own: number[] };
  /** A delta read's: the owners it re-read (dropped ones too; 0 for the schema-wide kinds, -1 for a whole read). */
  changed?: number[];
  /** A delta read's: the schema-wide kinds were read (else they are null). */
  wide?: boolean;
  /** A delta read's: only a whole read is right (a schema or a collation changed). */
  whole?: boolean;
}

const TABLE_KINDS: Record<string, TableInfo['kind']> = { r: 'table', p: 'partitioned', f: 'foreign' };
const CONSTRAINT_KINDS: Record<string, ConstraintKind> = { p: 'primary', u: 'unique', f: 'foreign', c: 'check', x: 'exclusion' };
const FK_ACTIONS: Record<string, string> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };
const FUNCTION_KINDS: Record<string, FunctionInfo['kind']> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window' };
const IDENTITY: Record<string, ColumnInfo['identity']> = { a: 'always', d: 'by default' };
/** pg_attribute.attgenerated: 's' stored (all versions), 'v' virtual (PostgreSQL 18+). */
const GENERATED: Record<string, string> = { s: 'STORED', v: 'VIRTUAL' };
const STORAGE: Record<string, string> = { p: 'plain', e: 'external', m: 'main', x: 'extended' };
const COMPRESSION: Record<string, string> = { p: 'pglz', l: 'lz4' };
const REPLICA_IDENTITY: Record<string, string> = { f: 'full', n: 'nothing' };
const POLICY_COMMANDS: Record<string, string> = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' };

// Incremental snapshots rebuild every view of the schema each time: each text is normalised once.
const normalizedView = rememberLast(1000, normalizeViewDefinition);

function byKey<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const sorted = [...entries].sort(([a], [b]) => compareText(a, b));
  const out: Record<string, T> = {};
  for (const [key, value] of sorted) out[key] = value;
  return out;
}

function sortedText(values: readonly string[]): string[] {
  return [...values].sort(compareText);
}

function lookup<T>(map: Record<string, T>, code: string, what: string): T {
  const value = map[code];
  if (value === undefined) throw new Error(`schema snapshot: unknown ${what} code '${code}'`);
  return value;
}

/**
 * What was built from a catalog row, by row. An incremental read (src/schema/incremental.ts) keeps
 * the row objects of every owner it did not re-read, so only the re-read ones are built again. A
 * table's columns and constraints share its owner: a kept table row means they were kept too.
 */
const builtFrom = new WeakMap<object, unknown>();

function built<R extends object, T>(row: R, build: (row: R) => T): T {
  let value = builtFrom.get(row) as T | undefined;
  if (value === undefined) builtFrom.set(row, (value = build(row)));
  return value;
}

export function buildSnapshot(raw: RawCatalog): SchemaSnapshot {
  let grouped: { columns: Map<string, RawCatalog['columns']>; constraints: Map<string, RawCatalog['constraints']> } | undefined;
  const byTable = () => (grouped ??= { columns: groupBy(raw.columns, (c) => c.qtable), constraints: groupBy(raw.constraints, (c) => c.qtable) });

  const tables = byKey(
    raw.tables.map((row): [string, TableInfo] => [
      row.qname,
      built(row, (t) => {
        const { columns: columnsByTable, constraints: constraintsByTable } = byTable();
        const columns = (columnsByTable.get(t.qname) ?? []).sort((a, b) => a.num - b.num);
        const columnNames = new Map(columns.map((c) => [c.num, c.name]));
        const info: TableInfo = {
          schema: t.schema,
          name: t.name,
          kind: lookup(TABLE_KINDS, t.relkind, 'relation kind'),
          ...(t.partition_parent !== null ? { partitionOf: { parent: t.partition_parent, bound: t.partition_bound ?? '' } } : {}),
          ...(t.partition_key !== null ? { partitionKey: t.partition_key } : {}),
          ...(t.inherits !== null && t.inherits.length > 0 ? { inherits: t.inherits } : {}),
          ...(t.unlogged ? { unlogged: true as const } : {}),
          rowSecurity: t.row_security,
          forceRowSecurity: t.force_row_security,
          ...replicaIdentity(t.replica_identity, t.replica_index),
          ...(t.cluster_on !== null ? { clusterOn: t.cluster_on } : {}),
          ...(t.options !== null && t.options.length > 0 ? { options: sortedText(t.options) } : {}),
          columns: byKey(columns.map((c) => [c.name, toColumn(c)] as const)),
          columnOrder: columns.map((c) => c.name),
          constraints: byKey((constraintsByTable.get(t.qname) ?? []).map((c) => [c.name, toConstraint(c, columnNames)] as const)),
        };
        return info;
      }),
    ]),
  );

  return {
    schemas: sortedText(raw.schemas.map(([, name]) => name)),
    extensions: byKey(raw.extensions.map((e) => [e.name, { name: e.name, schema: e.schema, version: e.version }] as const)),
    tables,
    indexes: byKey(
      raw.indexes.map((row): [string, IndexInfo] => [
        row.qname,
        built(row, (i) => ({
          schema: i.schema,
          name: i.name,
          table: i.qtable,
          definition: i.definition,
          unique: i.unique,
          predicate: i.predicate,
          valid: i.valid,
          columns: i.columns ?? [],
        })),
      ]),
    ),
    sequences: byKey(raw.sequences.map((s): [string, SequenceInfo] => [s.qname, { schema: s.schema, name: s.name, type: s.type, ownedBy: s.owned_by, increment: s.increment, start: s.start }])),
    enums: byKey(raw.enums.map((e): [string, EnumInfo] => [e.qname, { schema: e.schema, name: e.name, values: e.values }])),
    composites: byKey(raw.composites.map((c): [string, CompositeInfo] => [c.qname, { schema: c.schema, name: c.name, attributes: c.attributes.map((a) => ({ name: a.name, type: a.type })) }])),
    domains: byKey(raw.domains.map((d): [string, DomainInfo] => [d.qname, { schema: d.schema, name: d.name, type: d.type, nullable: !d.not_null, default: d.default, checks: sortedText(d.checks) }])),
    views: byKey(
      raw.views.map((row): [string, ViewInfo] => [row.qname, built(row, (v) => ({ schema: v.schema, name: v.name, materialized: v.materialized, definition: normalizedView(v.definition.trim()) }))]),
    ),
    functions: byKey(
      raw.functions.map((f): [string, FunctionInfo] => [
        f.qsignature,
        {
          schema: f.schema,
          name: f.name,
          signature: f.qsignature.slice(f.schema.length + 1),
          kind: lookup(FUNCTION_KINDS, f.kind, 'function kind'),
          returns: f.returns,
          language: f.language,
          definition: (f.definition ?? '').trim(),
        },
      ]),
    ),
    triggers: byKey(
      raw.triggers.map((row): [string, TriggerInfo] => [`${row.qtable}.${row.name}`, built(row, (t) => ({ table: t.qtable, name: t.name, definition: t.definition, enabled: t.enabled !== 'D' }))]),
    ),
    policies: byKey(
      raw.policies.map((p): [string, PolicyInfo] => [
        `${p.qtable}.${p.name}`,
        {
          table: p.qtable,
          name: p.name,
          command: lookup(POLICY_COMMANDS, p.command, 'policy command'),
          permissive: p.permissive,
          roles: sortedText(p.roles),
          using: p.using,
          withCheck: p.with_check,
        },
      ]),
    ),
    comments: byKey(raw.comments.map((c) => [c.key, c.text] as const)),
  };
}

function toColumn(c: RawCatalog['columns'][number]): ColumnInfo {
  const generatedKind = c.generated_kind === '' ? null : lookup(GENERATED, c.generated_kind, 'generated column kind');
  return {
    name: c.name,
    type: c.type,
    nullable: !c.not_null,
    default: c.default,
    identity: c.identity === '' ? null : lookup(IDENTITY, c.identity, 'identity kind'),
    generated: generatedKind === null ? null : `${c.generated ?? ''} ${generatedKind}`,
    collation: c.collation === null ? null : c.collation[0] === 'pg_catalog' ? c.collation[1] : `${c.collation[0]}.${c.collation[1]}`,
    ...(c.storage !== null ? { storage: lookup(STORAGE, c.storage, 'column storage') } : {}),
    ...(c.statistics !== null ? { statistics: c.statistics } : {}),
    ...(c.options !== null && c.options.length > 0 ? { options: c.options } : {}),
    ...(c.compression !== null ? { compression: lookup(COMPRESSION, c.compression, 'column compression') } : {}),
  };
}

/** pg_class.relreplident: 'd' (DEFAULT: the primary key) is left out, like every default. */
function replicaIdentity(code: string, index: string | null): { replicaIdentity?: string } {
  if (code === 'd') return {};
  if (code === 'i') return { replicaIdentity: `index ${index ?? '?'}` };
  return { replicaIdentity: lookup(REPLICA_IDENTITY, code, 'replica identity') };
}

function toConstraint(c: RawCatalog['constraints'][number], columnNames: ReadonlyMap<number, string>): ConstraintInfo {
  const kind = lookup(CONSTRAINT_KINDS, c.type, 'constraint type');
  return {
    name: c.name,
    kind,
    definition: c.definition,
    // 0 stands for an expression (exclusion constraints): it has no column name.
    columns: c.column_numbers.flatMap((n) => columnNames.get(n) ?? []),
    validated: c.validated,
    deferrable: c.deferrable,
    ...(kind === 'foreign'
      ? {
          references: {
            table: c.ref_table ?? '',
            columns: c.ref_columns ?? [],
            onUpdate: lookup(FK_ACTIONS, c.on_update, 'foreign key action'),
            onDelete: lookup(FK_ACTIONS, c.on_delete, 'foreign key action'),
          },
        }
      : {}),
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
