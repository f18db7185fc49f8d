import type { Knex } from 'knex';
import { MODEL_SQL, squashOnlySql } from './catalog-model-sql.js';
import { buildSnapshot, readCatalog, type RawCatalog } from './snapshot.js';
import type { SchemaSnapshot } from './types.js';
import { compareText } from '../util/compare-text.js';
import { ident, sqlString } from '../codegen/sql.js';

/**
 * What the baseline generator needs to know about a database, read from the catalogs with
 * PostgreSQL's own deparsers (pg_get_*def, format_type, regclass/regprocedure text) while
 * search_path is pg_catalog: every user object comes out schema-qualified and quoted, so the
 * generated DDL does not depend on the search_path it later runs with.
 *
 * The kinds a snapshot holds (schemas, extensions, enums, composites, domains, sequences, routines,
 * tables and columns, constraints, indexes, views, triggers, policies) come from the snapshot's own
 * read (CATALOG_SQL, run here in the same session); what it does not (sequences' values, partitions
 * of partitioned indexes, rules, statistics, comment targets, dependencies, grants, unsupported
 * kinds) from the statements of catalog-model-sql.ts, over the snapshot's scope.
 *
 * Runs on PostgreSQL 13+ servers and on PGlite's 18. Objects that belong to an extension are left
 * out (the extension recreates them); so are knex's bookkeeping tables.
 */

export interface CatalogSchema {
  oid: number;
  name: string;
  /** Quoted identifier. */
  ident: string;
  comment: string | null;
}

export interface CatalogExtension {
  oid: number;
  name: string;
  schema: string;
}

export interface CatalogEnum {
  oid: number;
  ident: string;
  labels: string[];
}

export interface CatalogComposite {
  oid: number;
  /** The pg_class row behind the type (its attributes). */
  relid: number;
  ident: string;
  attributes: { name: string; type: string; collation: string | null }[];
}

export interface CatalogDomain {
  oid: number;
  ident: string;
  baseType: string;
  collation: string | null;
  notNull: boolean;
  default: string | null;
  constraints: { name: string; definition: string }[];
}

export interface CatalogSequence {
  oid: number;
  ident: string;
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  /** Serial-style ownership (`ALTER SEQUENCE … OWNED BY`): table regclass text and column. */
  ownedBy: { tableOid: number; table: string; column: string } | null;
  /** Identity sequences are created by their column, never on their own. */
  identity: boolean;
  /** For identity sequences: the column (unquoted name) they belong to. */
  identityOf: { tableOid: number; column: string } | null;
  lastValue: string | null;
  isCalled: boolean;
}

export interface CatalogFunction {
  oid: number;
  /** regprocedure text: `public.f(integer, text)`. */
  signature: string;
  kind: 'f' | 'p' | 'a' | 'w';
  language: string;
  /** CREATE statement without the trailing semicolon. */
  definition: string;
}

export interface CatalogColumn {
  num: number;
  name: string;
  ident: string;
  type: string;
  notNull: boolean;
  default: string | null;
  /** Generation expression and kind ('s' stored, 'v' virtual), or null. */
  generated: { expression: string; kind: 's' | 'v' } | null;
  identity: 'a' | 'd' | null;
  collation: string | null;
  isLocal: boolean;
  inheritedCount: number;
}

export interface CatalogTable {
  oid: number;
  ident: string;
  schema: string;
  name: string;
  kind: 'r' | 'p';
  unlogged: boolean;
  options: string[];
  partitionOf: { parentOid: number; parent: string; bound: string } | null;
  partitionKey: string | null;
  inherits: { oid: number; ident: string }[];
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  replicaIdentity: 'd' | 'n' | 'f' | 'i';
  /** Quoted primary key columns (empty without one): the order rows are written in. */
  primaryKey: string[];
  columns: CatalogColumn[];
}

export interface CatalogConstraint {
  tableOid: number;
  table: string;
  name: string;
  ident: string;
  type: 'p' | 'u' | 'f' | 'c' | 'x';
  definition: string;
  validated: boolean;
}

export interface CatalogIndex {
  ident: string;
  tableOid: number;
  table: string;
  definition: string;
  valid: boolean;
  /** The partitioned index this one is attached to, if it is a partition of one. */
  parentIndex: string | null;
  clustered: boolean;
  replicaIdentity: boolean;
}

export interface CatalogView {
  oid: number;
  ident: string;
  materialized: boolean;
  populated: boolean;
  options: string[];
  definition: string;
}

export interface CatalogTrigger {
  tableOid: number;
  table: string;
  ident: string;
  definition: string;
  enabled: 'O' | 'D' | 'R' | 'A';
}

export interface CatalogRule {
  oid: number;
  tableOid: number;
  definition: string;
}

export interface CatalogPolicy {
  tableOid: number;
  table: string;
  ident: string;
  permissive: boolean;
  command: string;
  roles: string[];
  using: string | null;
  withCheck: string | null;
}

export interface CatalogStatistics {
  oid: number;
  definition: string;
}

export interface CatalogComment {
  /** `COMMENT ON … IS` target text, e.g. `COLUMN public.users.email`. */
  target: string;
  text: string;
}

/** A dependency between two objects, both named by `classname:oid`. */
export interface CatalogDependency {
  from: string;
  to: string;
  /**
   * 'pre': between objects created before the data (orders the up and the down); 'post': from
   * something created after the data (index, constraint, trigger, policy, rule) to what it uses —
   * orders only the down; 'fk': a foreign key from one table to another (orders only the down).
   */
  kind: 'pre' | 'post' | 'fk';
}

export interface Unsupported {
  kind: string;
  name: string;
}

export interface CatalogModel {
  serverVersionNum: number;
  schemas: CatalogSchema[];
  extensions: CatalogExtension[];
  enums: CatalogEnum[];
  composites: CatalogComposite[];
  domains: CatalogDomain[];
  sequences: CatalogSequence[];
  functions: CatalogFunction[];
  tables: CatalogTable[];
  constraints: CatalogConstraint[];
  indexes: CatalogIndex[];
  views: CatalogView[];
  triggers: CatalogTrigger[];
  rules: CatalogRule[];
  policies: CatalogPolicy[];
  statistics: CatalogStatistics[];
  comments: CatalogComment[];
  dependencies: CatalogDependency[];
  /** Objects the generator cannot rebuild; the squash is refused when there are any. */
  unsupported: Unsupported[];
  /** Objects with GRANTs (not carried into the baseline, like pg_dump --no-privileges). */
  privileges: string[];
}

export interface ReadCatalogOptions {
  /** knex's history tables: bare names match in every schema. */
  excludeTables: string[];
}

/** Keys used across the model: `<catalog>:<oid>`. */
export const key = {
  class: (oid: number) => `pg_class:${oid}`,
  type: (oid: number) => `pg_type:${oid}`,
  proc: (oid: number) => `pg_proc:${oid}`,
  namespace: (oid: number) => `pg_namespace:${oid}`,
  extension: (oid: number) => `pg_extension:${oid}`,
};

async function rows<T>(trx: Knex.Transaction, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  return ((await trx.raw(sql, bindings)) as { rows: T[] }).rows;
}

/**
 * Reads the model in `trx`, which must hold the canonical session settings (squash's
 * withCanonicalSession): search_path = pg_catalog above all, so names come out qualified.
 */
export async function readCatalogModel(trx: Knex.Transaction, options: ReadCatalogOptions): Promise<CatalogModel> {
  return (await readModel(trx, options)).model;
}

/** The model and the snapshot of the same read (squash compares the baseline's schema with this snapshot). */
export async function readCatalogModelAndSnapshot(trx: Knex.Transaction, options: ReadCatalogOptions): Promise<{ model: CatalogModel; snapshot: SchemaSnapshot }> {
  const { model, shared } = await readModel(trx, options);
  return { model, snapshot: buildSnapshot(shared) };
}

async function readModel(trx: Knex.Transaction, options: ReadCatalogOptions): Promise<{ model: CatalogModel; shared: RawCatalog }> {
  const excluded = JSON.stringify(options.excludeTables);
  // The snapshot's read: the kinds it has whole are taken from it, not read a second time.
  const shared = await readCatalog(trx, { excludeTables: options.excludeTables });

  // The user's schemas and relations, as the snapshot's scope has them: not extension members, not
  // the tables left out (nor what they own).
  await trx.raw(MODEL_SQL.relationsTable);
  await trx.raw(MODEL_SQL.relations, [excluded]);

  // What the snapshot does not read (check does not need it), in one statement over the same scope.
  const sequenceRows = sequencesOf(shared);
  const own = (await rows<SquashOnlyRow>(trx, squashOnlySql(sequenceRows.map((s) => s.ident))))[0];
  if (!own) throw new Error('catalog model: the model query returned no row');
  const serverVersionNum = Number(own.v);

  const schemaComments = new Map(shared.comments.map((c) => [c.key, c.text]));
  const schemas = sortedBy(
    shared.schemas.map(([oid, name]): CatalogSchema => ({ oid, name, ident: ident(name), comment: schemaComments.get(`schema ${name}`) ?? null })),
    (s) => [s.name],
  );

  const extensions = shared.extensions.map((e): CatalogExtension => ({ oid: e.oid, name: e.name, schema: ident(e.schema) }));

  const enums = sortedBy(
    shared.enums.map((e): CatalogEnum => ({ oid: e.oid, ident: qualified(e.schema, e.name), labels: e.values })),
    (e) => [e.ident],
  );

  const composites = sortedBy(
    shared.composites.map(
      (c): CatalogComposite => ({
        oid: c.oid,
        relid: c.relid,
        ident: qualified(c.schema, c.name),
        attributes: c.attributes.map((a) => ({ name: ident(a.name), type: a.type, collation: collationName(a.collation) })),
      }),
    ),
    (c) => [c.ident],
  );
  const domains = sortedBy(
    shared.domains.map(
      (d): CatalogDomain => ({
        oid: d.oid,
        ident: qualified(d.schema, d.name),
        baseType: d.type,
        collation: collationName(d.collation),
        notNull: d.not_null,
        default: d.default,
        constraints: d.named_checks.map((c) => ({ name: ident(c.name), definition: c.definition })),
      }),
    ),
    (d) => [d.ident],
  );

  const stateOf = new Map((own.sequences ?? []).map((r) => [Number(r.i), r]));
  const sequences = sequenceRows.map((s, i): CatalogSequence => ({ ...s, lastValue: stateOf.get(i)?.last_value ?? null, isCalled: stateOf.get(i)?.is_called ?? false }));

  const unsupported: Unsupported[] = [];
  const functions = functionsOf(shared, unsupported);

  const tables = tablesOf(shared);

  const constraints = constraintsOf(shared);

  const indexes = indexesOf(shared, own.partitionIndexes);

  const views = viewsOf(shared);

  const triggers = triggersOf(shared);

  const rules = own.rules;

  const policies = policiesOf(shared);

  const statistics = own.statistics;

  const comments = await readComments(trx);
  const dependencies = own.dependencies;

  // Kinds of objects the generator does not rebuild: refuse rather than produce a baseline that
  // silently lacks them.
  unsupported.push(...own.unsupported);

  const privileges = own.privileges.map((r) => r.name);

  const model: CatalogModel = {
    serverVersionNum,
    schemas,
    extensions,
    enums,
    composites,
    domains,
    sequences,
    functions,
    tables,
    constraints,
    indexes,
    views,
    triggers,
    rules,
    policies,
    statistics,
    comments,
    dependencies,
    unsupported,
    privileges,
  };
  return { model, shared };
}

/** A relation or type name as regclass / regtype text prints it under search_path = pg_catalog. */
function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

function collationName(collation: [string, string] | null): string | null {
  return collation === null ? null : qualified(collation[0], collation[1]);
}

/** `items` in code-point order of `keys` (the order ORDER BY gives under the C collation). */
function sortedBy<T>(items: T[], keys: (item: T) => string[]): T[] {
  return items.sort((a, b) => {
    const ka = keys(a);
    const kb = keys(b);
    for (let i = 0; i < ka.length; i++) {
      const c = compareText(ka[i] ?? '', kb[i] ?? '');
      if (c !== 0) return c;
    }
    return 0;
  });
}

/** The baseline's names (regclass text) of the relations the snapshot read, by oid. */
function relationNames(shared: RawCatalog): Map<number, string> {
  const names = new Map<number, string>();
  for (const r of [...shared.tables, ...shared.views]) if (r.owner !== null) names.set(r.owner, qualified(r.schema, r.name));
  return names;
}

function relationOf(names: ReadonlyMap<number, string>, owner: number | null, what: string): { oid: number; ident: string } {
  const ident = owner === null ? undefined : names.get(owner);
  if (owner === null || ident === undefined) throw new Error(`catalog model: ${what}, on a relation the snapshot did not read`);
  return { oid: owner, ident };
}

const TABLE_KINDS = new Set(['r', 'p']);

/**
 * The snapshot's tables (not foreign ones: `unsupported` names them) with their columns, named as the
 * baseline writes them (regclass text, quoted schema, table and column names), by name.
 */
function tablesOf(shared: RawCatalog): CatalogTable[] {
  const names = relationNames(shared);
  const columnsByTable = new Map<number, RawCatalog['columns']>();
  for (const c of shared.columns) {
    if (c.owner === null) continue;
    const list = columnsByTable.get(c.owner);
    if (list) list.push(c);
    else columnsByTable.set(c.owner, [c]);
  }
  const tables = shared.tables
    .filter((t) => TABLE_KINDS.has(t.relkind))
    .map((t): CatalogTable => {
      if (t.owner === null) throw new Error(`catalog model: table ${t.qname} without its oid`);
      const own = (columnsByTable.get(t.owner) ?? []).sort((a, b) => a.num - b.num);
      const inherited = new Map((t.inherited_columns ?? []).map(([num, isLocal, count]) => [num, { isLocal, count }]));
      const columns = own.map((c): CatalogColumn => {
        const inheritance = inherited.get(c.num);
        return {
          num: c.num,
          name: c.name,
          ident: ident(c.name),
          type: c.type,
          notNull: c.not_null,
          default: c.default,
          generated: c.generated_kind ? { expression: c.generated ?? '', kind: c.generated_kind as 's' | 'v' } : null,
          identity: c.identity ? (c.identity as 'a' | 'd') : null,
          collation: collationName(c.collation),
          isLocal: inheritance?.isLocal ?? true,
          inheritedCount: inheritance?.count ?? 0,
        };
      });
      const columnIdents = new Map(columns.map((c) => [c.num, c.ident]));
      const parents = (t.parent_oids ?? []).map((oid) => relationOf(names, oid, `parent of table ${t.qname}`));
      const parent = parents[0];
      return {
        oid: t.owner,
        ident: qualified(t.schema, t.name),
        schema: ident(t.schema),
        name: ident(t.name),
        kind: t.relkind as CatalogTable['kind'],
        unlogged: t.unlogged,
        options: t.options ?? [],
        partitionOf: t.partition_bound !== null && parent ? { parentOid: parent.oid, parent: parent.ident, bound: t.partition_bound } : null,
        partitionKey: t.partition_key,
        inherits: t.partition_bound !== null ? [] : parents,
        rowSecurity: t.row_security,
        forceRowSecurity: t.force_row_security,
        replicaIdentity: t.replica_identity as CatalogTable['replicaIdentity'],
        primaryKey: (t.primary_key ?? []).flatMap((num) => columnIdents.get(num) ?? []),
        columns,
      };
    });
  return sortedBy(tables, (t) => [t.ident]);
}

/** A partition of a partitioned index: not in a snapshot (its parent implies it), read apart. */
/**
 * The row of squashOnlySql: each kind as parsed JSON. `dependencies`: between the top-level objects
 * the baseline creates, from pg_depend: sub-objects (columns, defaults, view rules, row and array
 * types, domain constraints) count as their owner; foreign keys are kept apart (created after the
 * data, but they order the drops).
 */
interface SquashOnlyRow {
  v: string;
  partitionIndexes: PartitionIndexRow[];
  rules: CatalogRule[];
  statistics: CatalogStatistics[];
  dependencies: CatalogDependency[];
  unsupported: Unsupported[];
  privileges: { name: string }[];
  sequences?: { i: number; last_value: string; is_called: boolean }[];
}

type PartitionIndexRow = { tableOid: number; name: string; ident: string; definition: string; valid: boolean; parentIndex: string };

/**
 * The indexes the baseline creates (the snapshot's, those not behind a constraint, and the partitions
 * of partitioned indexes), by name, then the constraints' indexes a table is clustered on or takes
 * its replica identity from (ALTER TABLE … CLUSTER ON / REPLICA IDENTITY USING INDEX), by table.
 * An index lives in its table's schema: the table's cluster_on and replica_index name it bare.
 */
function indexesOf(shared: RawCatalog, partitionIndexes: PartitionIndexRow[]): CatalogIndex[] {
  const names = relationNames(shared);
  const tableRows = new Map<number, RawCatalog['tables'][number]>();
  for (const t of shared.tables) if (t.owner !== null) tableRows.set(t.owner, t);
  const flags = (tableOid: number, name: string) => {
    const t = tableRows.get(tableOid);
    return { clustered: t?.cluster_on === name, replicaIdentity: t?.replica_index === name };
  };
  const found = new Set<string>();
  const indexes: CatalogIndex[] = [];
  const sources = [
    ...shared.indexes.map((i) => ({ owner: i.owner, name: i.name, ident: qualified(i.schema, i.name), definition: i.definition, valid: i.valid, parentIndex: null })),
    ...partitionIndexes.map((i) => ({ owner: i.tableOid, name: i.name, ident: i.ident, definition: i.definition, valid: i.valid, parentIndex: i.parentIndex })),
  ];
  for (const i of sources) {
    const table = relationOf(names, i.owner, `index ${i.ident}`);
    found.add(`${table.oid}:${i.name}`);
    indexes.push({ ident: i.ident, tableOid: table.oid, table: table.ident, definition: i.definition, valid: i.valid, parentIndex: i.parentIndex, ...flags(table.oid, i.name) });
  }
  const constraintIndexes: CatalogIndex[] = [];
  for (const [oid, t] of tableRows) {
    for (const name of new Set([t.replica_index, t.cluster_on])) {
      if (name === null || found.has(`${oid}:${name}`)) continue;
      constraintIndexes.push({ ident: qualified(t.schema, name), tableOid: oid, table: qualified(t.schema, t.name), definition: '', valid: true, parentIndex: null, ...flags(oid, name) });
    }
  }
  return [...sortedBy(indexes, (i) => [i.ident]), ...sortedBy(constraintIndexes, (i) => [i.table, i.ident])];
}

/** The snapshot's sequences with their options and column (a serial's OWNED BY, an identity's), by name; their values are read apart. */
function sequencesOf(shared: RawCatalog): Omit<CatalogSequence, 'lastValue' | 'isCalled'>[] {
  const sequences = shared.sequences.map((s) => {
    if (s.owner === null) throw new Error(`catalog model: sequence ${s.qname} without its oid`);
    const [tableOid, tableSchema, tableName, column, deptype] = s.owned_by_ref ?? [];
    const owned = tableOid !== undefined && tableSchema !== undefined && tableName !== undefined && column !== undefined;
    return {
      oid: s.owner,
      ident: qualified(s.schema, s.name),
      type: s.type,
      start: s.start,
      increment: s.increment,
      min: s.min,
      max: s.max,
      cache: s.cache,
      cycle: s.cycle,
      identity: owned && deptype === 'i',
      identityOf: owned && deptype === 'i' ? { tableOid, column } : null,
      ownedBy: owned && deptype === 'a' ? { tableOid, table: qualified(tableSchema, tableName), column: ident(column) } : null,
    };
  });
  return sortedBy(sequences, (s) => [s.ident]);
}

/**
 * The snapshot's routines, named by regprocedure text as the baseline writes them (`public.f(integer,text)`:
 * the snapshot's signature lists the argument types as oidvectortypes does, with ", " between them),
 * aggregates written as CREATE AGGREGATE; those with options the baseline cannot write go to `unsupported`.
 */
function functionsOf(shared: RawCatalog, unsupported: Unsupported[]): CatalogFunction[] {
  const functions = shared.functions.map((f): CatalogFunction => {
    const name = qualified(f.schema, f.name);
    const prefix = `${f.schema}.${f.name}(`;
    if (!f.qsignature.startsWith(prefix) || !f.qsignature.endsWith(')')) throw new Error(`catalog model: routine ${f.qsignature}, its signature not as read`);
    const signature = `${name}(${argumentTypes(f.qsignature.slice(prefix.length, -1)).join(',')})`;
    const kind = f.kind as CatalogFunction['kind'];
    if (kind !== 'a') return { oid: f.oid, signature, kind, language: f.language, definition: (f.definition ?? '').trim().replace(/;$/, '') };
    const a = f.aggregate;
    if (a === null) throw new Error(`catalog model: aggregate ${f.qsignature} without its pg_aggregate row`);
    if (a.unsupported) unsupported.push({ kind: 'aggregate (moving/ordered-set/serial options)', name: signature });
    const parts = [`SFUNC = ${a.sfunc}`, `STYPE = ${a.stype}`];
    if (a.finalfunc) parts.push(`FINALFUNC = ${a.finalfunc}`);
    if (a.combinefunc) parts.push(`COMBINEFUNC = ${a.combinefunc}`);
    if (a.initcond !== null) parts.push(`INITCOND = ${sqlString(a.initcond)}`);
    return { oid: f.oid, signature, kind, language: f.language, definition: `CREATE AGGREGATE ${name}(${a.args}) (\n    ${parts.join(',\n    ')}\n)` };
  });
  return sortedBy(functions, (f) => [f.signature]);
}

/** The types of an oidvectortypes list (`integer, "a, b"[]`): separated by ", " outside double quotes. */
function argumentTypes(list: string): string[] {
  if (list === '') return [];
  const types: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === '"') quoted = !quoted;
    else if (!quoted && list.startsWith(', ', i)) {
      types.push(list.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  types.push(list.slice(start));
  return types;
}

/** The snapshot's triggers, named as the baseline writes them: by table, then name. */
function triggersOf(shared: RawCatalog): CatalogTrigger[] {
  const names = relationNames(shared);
  const triggers = shared.triggers.map((t): CatalogTrigger => {
    const table = relationOf(names, t.owner, `trigger ${t.qtable}.${t.name}`);
    return { tableOid: table.oid, table: table.ident, ident: ident(t.name), definition: t.definition, enabled: t.enabled };
  });
  return sortedBy(triggers, (t) => [t.table, t.ident]);
}

/** The snapshot's constraints of tables, but those a table inherits (INHERITS recreates them): by table, then name. */
function constraintsOf(shared: RawCatalog): CatalogConstraint[] {
  const names = relationNames(shared);
  const constraints = shared.constraints
    .filter((c) => c.local)
    .map((c) => {
      const table = relationOf(names, c.owner, `constraint ${c.qtable}.${c.name}`);
      const constraint: CatalogConstraint = {
        tableOid: table.oid,
        table: table.ident,
        name: c.name,
        ident: ident(c.name),
        type: c.type as CatalogConstraint['type'],
        definition: c.definition,
        validated: c.validated,
      };
      return constraint;
    });
  return sortedBy(constraints, (c) => [c.table, c.name]);
}

function viewsOf(shared: RawCatalog): CatalogView[] {
  const views = shared.views.map((v): CatalogView => {
    if (v.owner === null) throw new Error(`catalog model: view ${v.qname} without its oid`);
    return { oid: v.owner, ident: qualified(v.schema, v.name), materialized: v.materialized, populated: v.populated, options: v.options ?? [], definition: v.definition };
  });
  return sortedBy(views, (v) => [v.ident]);
}

const POLICY_COMMANDS: Record<string, string> = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' };

/** The snapshot's policies as CREATE POLICY writes them (roles quoted, PUBLIC for every role): by table, then name. */
function policiesOf(shared: RawCatalog): CatalogPolicy[] {
  const names = relationNames(shared);
  const policies = shared.policies.map((p): CatalogPolicy => {
    const table = relationOf(names, p.owner, `policy ${p.qtable}.${p.name}`);
    // The snapshot writes role 0 (every role) as 'public': no role can have that name.
    const roles = sortedBy(
      p.roles.map((r) => (r === 'public' ? 'PUBLIC' : ident(r))),
      (r) => [r],
    );
    return {
      tableOid: table.oid,
      table: table.ident,
      ident: ident(p.name),
      permissive: p.permissive,
      command: POLICY_COMMANDS[p.command] ?? 'ALL',
      roles,
      using: p.using,
      withCheck: p.with_check,
    };
  });
  return sortedBy(policies, (p) => [p.table, p.ident]);
}

/** COMMENT ON targets from pg_identify_object, for every commented user object. */
async function readComments(trx: Knex.Transaction): Promise<CatalogComment[]> {
  const found = await rows<{ type: string; identity: string; text: string }>(trx, MODEL_SQL.comments);
  const out: CatalogComment[] = [];
  for (const c of found) {
    const target = commentTarget(c.type, c.identity);
    if (!target) continue;
    out.push({ target, text: c.text });
  }
  return out;
}

/** `COMMENT ON <target>` for a pg_identify_object type/identity pair. */
function commentTarget(type: string, identity: string): string | undefined {
  switch (type) {
    case 'table':
    case 'view':
    case 'materialized view':
    case 'sequence':
    case 'index':
    case 'function':
    case 'procedure':
    case 'aggregate':
    case 'type':
    case 'domain':
    case 'schema':
    case 'extension':
    case 'rule':
    case 'trigger':
    case 'policy':
      return `${type.toUpperCase()} ${identity}`;
    case 'table column':
    case 'view column':
    case 'materialized view column':
      return `COLUMN ${identity}`;
    case 'composite type':
      return `TYPE ${identity}`;
    case 'composite type column':
      return `COLUMN ${identity}`;
    case 'table constraint':
      return `CONSTRAINT ${identity}`;
    case 'domain constraint':
      // identity reads `name on <domain>`.
      return `CONSTRAINT ${identity.replace(/ on /, ' ON DOMAIN ')}`;
    default:
      return undefined;
  }
}
