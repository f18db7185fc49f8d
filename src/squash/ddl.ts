import { KnexsafeError } from '../errors.js';
import { key, type CatalogColumn, type CatalogModel, type CatalogSequence, type CatalogTable } from '../schema/catalog-model.js';
import { ident, sqlString } from '../codegen/sql.js';

/**
 * Turns a catalog model into the baseline's SQL, in pg_dump's shape: objects before the data
 * ("pre-data", in dependency order), then the data, then what is faster and simpler to build on
 * loaded tables ("post-data": constraints, indexes, foreign keys, triggers, rules, policies,
 * comments). The down drops every object the up created, dependents first, without CASCADE: if
 * something else has come to depend on them, dropping fails instead of taking it along.
 */
export interface BaselineDdl {
  preData: string[];
  postData: string[];
  down: string[];
  /** SQL-language functions whose bodies reference objects created later: checked at run time only. */
  needsUncheckedFunctionBodies: boolean;
}

type NodeKind = 'schema' | 'extension' | 'enum' | 'composite' | 'domain' | 'sequence' | 'function' | 'table' | 'view';

interface Node {
  key: string;
  kind: NodeKind;
  /** Name for ordering ties and messages. */
  name: string;
  create: string[];
  /** `DROP <what>` group and the object's name in it; absent when it goes with another object. */
  drop?: { what: string; name: string };
}

/** Creation order among independent objects: containers and types first, as pg_dump does. */
const PRIORITY: Record<NodeKind, number> = { schema: 0, extension: 1, enum: 2, composite: 3, domain: 3, sequence: 4, function: 5, table: 6, view: 7 };

export function generateDdl(model: CatalogModel, fresh: CatalogModel | undefined): BaselineDdl {
  const existingSchemas = new Set((fresh?.schemas ?? []).map((s) => s.name));
  existingSchemas.add('public');
  const existingExtensions = new Set((fresh?.extensions ?? []).map((e) => e.name));
  existingExtensions.add('plpgsql');
  const existingComments = new Map((fresh?.comments ?? []).map((c) => [c.target, c.text]));

  const nodes = new Map<string, Node>();
  const add = (node: Node) => nodes.set(node.key, node);

  for (const s of model.schemas) {
    if (existingSchemas.has(s.name)) continue;
    add({ key: key.namespace(s.oid), kind: 'schema', name: s.ident, create: [`CREATE SCHEMA ${s.ident}`], drop: { what: 'SCHEMA', name: s.ident } });
  }
  for (const e of model.extensions) {
    if (existingExtensions.has(e.name)) continue;
    const name = ident(e.name);
    add({ key: key.extension(e.oid), kind: 'extension', name: e.name, create: [`CREATE EXTENSION IF NOT EXISTS ${name} WITH SCHEMA ${e.schema}`], drop: { what: 'EXTENSION', name } });
  }
  for (const t of model.enums) {
    add({ key: key.type(t.oid), kind: 'enum', name: t.ident, create: [`CREATE TYPE ${t.ident} AS ENUM (${t.labels.map(sqlString).join(', ')})`], drop: { what: 'TYPE', name: t.ident } });
  }
  for (const t of model.composites) {
    const attributes = t.attributes.map((a) => `    ${a.name} ${a.type}${a.collation ? ` COLLATE ${a.collation}` : ''}`);
    add({ key: key.type(t.oid), kind: 'composite', name: t.ident, create: [`CREATE TYPE ${t.ident} AS (\n${attributes.join(',\n')}\n)`], drop: { what: 'TYPE', name: t.ident } });
  }
  for (const d of model.domains) {
    const parts = [`CREATE DOMAIN ${d.ident} AS ${d.baseType}`];
    if (d.collation) parts.push(`COLLATE ${d.collation}`);
    if (d.default !== null) parts.push(`DEFAULT ${d.default}`);
    if (d.notNull) parts.push('NOT NULL');
    for (const c of d.constraints) parts.push(`CONSTRAINT ${c.name} ${c.definition}`);
    add({ key: key.type(d.oid), kind: 'domain', name: d.ident, create: [parts.join('\n    ')], drop: { what: 'DOMAIN', name: d.ident } });
  }
  const identitySequences = new Map<string, CatalogSequence>();
  for (const s of model.sequences) {
    if (s.identity) {
      identitySequences.set(s.ident, s);
      continue;
    }
    add({
      key: key.class(s.oid),
      kind: 'sequence',
      name: s.ident,
      create: [`CREATE SEQUENCE ${s.ident}\n    AS ${s.type}\n    ${sequenceOptions(s).join('\n    ')}`],
      // A serial's sequence goes with its table.
      ...(s.ownedBy ? {} : { drop: { what: 'SEQUENCE', name: s.ident } }),
    });
  }
  let needsUncheckedFunctionBodies = false;
  for (const f of model.functions) {
    if (f.language === 'sql' && !/\bBEGIN\s+ATOMIC\b/i.test(f.definition)) needsUncheckedFunctionBodies = true;
    const what = f.kind === 'p' ? 'PROCEDURE' : f.kind === 'a' ? 'AGGREGATE' : 'FUNCTION';
    add({ key: key.proc(f.oid), kind: 'function', name: f.signature, create: [f.definition], drop: { what, name: f.signature } });
  }
  const tablesByOid = new Map(model.tables.map((t) => [t.oid, t]));
  for (const t of model.tables) {
    const create = [createTable(t, tablesByOid, model.sequences)];
    for (const s of model.sequences) {
      if (s.ownedBy?.tableOid === t.oid) create.push(`ALTER SEQUENCE ${s.ident} OWNED BY ${t.ident}.${s.ownedBy.column}`);
    }
    for (const c of tableConstraints(model, t.oid)) create.push(`ALTER TABLE ${c.table} ADD CONSTRAINT ${c.ident} ${c.definition}`);
    // Partitions go with their parent; inheritance children must be named.
    add({ key: key.class(t.oid), kind: 'table', name: t.ident, create, ...(t.partitionOf ? {} : { drop: { what: 'TABLE', name: t.ident } }) });
  }
  for (const v of model.views) {
    const options = v.options.length ? ` WITH (${v.options.join(', ')})` : '';
    const body = v.definition.trim().replace(/;$/, '');
    const create = v.materialized ? `CREATE MATERIALIZED VIEW ${v.ident}${options} AS\n${body}\n  WITH NO DATA` : `CREATE VIEW ${v.ident}${options} AS\n${body}`;
    add({ key: key.class(v.oid), kind: 'view', name: v.ident, create: [create], drop: { what: v.materialized ? 'MATERIALIZED VIEW' : 'VIEW', name: v.ident } });
  }

  // Up: dependency order among the objects created before the data.
  const preEdges = model.dependencies.filter((d) => d.kind === 'pre');
  const extraEdges: { from: string; to: string }[] = [];
  for (const s of model.sequences) {
    // ALTER SEQUENCE … OWNED BY runs with the table: the sequence must exist by then.
    if (s.ownedBy && !s.identity) extraEdges.push({ from: key.class(s.ownedBy.tableOid), to: key.class(s.oid) });
  }
  const upOrder = topologicalOrder([...nodes.values()], [...preEdges, ...extraEdges], (n) => n.key);
  const preData = upOrder.flatMap((n) => n.create);

  const postData = postDataStatements(model, existingComments);

  // Down: every table in one DROP TABLE (foreign keys between them need no order then), what
  // depends on tables before it, what tables depend on after it.
  const TABLES = 'tables';
  const collapse = (k: string) => (nodes.get(k)?.kind === 'table' ? TABLES : k);
  const downNodes = new Map<string, { key: string; kind: NodeKind; name: string }>();
  for (const n of nodes.values()) {
    const k = collapse(n.key);
    if (!downNodes.has(k)) downNodes.set(k, { key: k, kind: n.kind, name: k === TABLES ? '' : n.name });
  }
  const downEdges = [...model.dependencies, ...extraEdges].map((d) => ({ from: collapse(d.from), to: collapse(d.to) })).filter((d) => d.from !== d.to);
  const downOrder = topologicalOrder([...downNodes.values()], downEdges, (n) => n.key).reverse();
  const down: string[] = [];
  let group: { what: string; names: string[] } | undefined;
  const flush = () => {
    if (group && group.names.length) down.push(`DROP ${group.what} ${group.names.join(',\n    ')}`);
    group = undefined;
  };
  for (const d of downOrder) {
    const members = d.key === TABLES ? [...nodes.values()].filter((n) => n.kind === 'table') : [nodes.get(d.key)!];
    for (const m of members) {
      if (!m.drop) continue;
      if (group?.what !== m.drop.what) {
        flush();
        group = { what: m.drop.what, names: [] };
      }
      group.names.push(m.drop.name);
    }
  }
  flush();
  // Comments the chain changed on objects that existed before it (e.g. the public schema).
  for (const c of model.comments) {
    if (existingComments.has(c.target) && existingComments.get(c.target) !== c.text) down.push(`COMMENT ON ${c.target} IS ${sqlString(existingComments.get(c.target)!)}`);
  }
  for (const [target] of existingComments) {
    if (!model.comments.some((c) => c.target === target)) {
      // The chain removed a comment that a fresh database has: the down puts it back.
      down.push(`COMMENT ON ${target} IS ${sqlString(existingComments.get(target)!)}`);
    }
  }

  return { preData, postData, down, needsUncheckedFunctionBodies };
}

/**
 * Constraints created with their table, before the rows: primary key first (a view may rely on it
 * for GROUP BY, foreign keys of other tables on it or on a unique constraint), then unique and
 * exclusion constraints, then validated checks.
 */
function tableConstraints(model: CatalogModel, tableOid: number) {
  const own = model.constraints.filter((c) => c.tableOid === tableOid);
  return (['p', 'u', 'x', 'c'] as const).flatMap((type) => own.filter((c) => c.type === type && (type !== 'c' || c.validated)));
}

function sequenceOptions(s: CatalogSequence): string[] {
  return [`START WITH ${s.start}`, `INCREMENT BY ${s.increment}`, `MINVALUE ${s.min}`, `MAXVALUE ${s.max}`, `CACHE ${s.cache}`, ...(s.cycle ? ['CYCLE'] : [])];
}

function columnDefinition(c: CatalogColumn, sequences: readonly CatalogSequence[], table: CatalogTable): string {
  const parts = [`${c.ident} ${c.type}`];
  if (c.collation) parts.push(`COLLATE ${c.collation}`);
  // pg_get_expr prints the expression in parentheses already; doubling them is harmless.
  if (c.generated) parts.push(`GENERATED ALWAYS AS (${c.generated.expression}) ${c.generated.kind === 'v' ? 'VIRTUAL' : 'STORED'}`);
  if (c.identity) {
    const seq = identitySequenceOf(table, c, sequences);
    const options = seq ? ` (\n        SEQUENCE NAME ${seq.ident}\n        ${sequenceOptions(seq).join('\n        ')}\n    )` : '';
    parts.push(`GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY${options}`);
  }
  if (c.default !== null) parts.push(`DEFAULT ${c.default}`);
  if (c.notNull) parts.push('NOT NULL');
  return parts.join(' ');
}

function identitySequenceOf(table: CatalogTable, column: CatalogColumn, sequences: readonly CatalogSequence[]): CatalogSequence | undefined {
  return sequences.find((s) => s.identity && s.identityOf?.tableOid === table.oid && s.identityOf.column === column.name);
}

function createTable(t: CatalogTable, tables: ReadonlyMap<number, CatalogTable>, sequences: readonly CatalogSequence[]): string {
  const unlogged = t.unlogged ? 'UNLOGGED ' : '';
  const options = t.options.length ? ` WITH (${t.options.join(', ')})` : '';
  const partitionBy = t.partitionKey ? ` PARTITION BY ${t.partitionKey}` : '';
  const statements: string[] = [];
  if (t.partitionOf) {
    statements.push(`CREATE ${unlogged}TABLE ${t.ident} PARTITION OF ${t.partitionOf.parent} ${t.partitionOf.bound}${partitionBy}${options}`);
    statements.push(...inheritedColumnFixes(t, [tables.get(t.partitionOf.parentOid)]));
  } else {
    const local = t.columns.filter((c) => c.isLocal);
    const body = local.map((c) => `    ${columnDefinition(c, sequences, t)}`).join(',\n');
    const inherits = t.inherits.length ? ` INHERITS (${t.inherits.map((p) => p.ident).join(', ')})` : '';
    statements.push(`CREATE ${unlogged}TABLE ${t.ident} (${body ? `\n${body}\n` : ''})${inherits}${partitionBy}${options}`);
    statements.push(
      ...inheritedColumnFixes(
        t,
        t.inherits.map((p) => tables.get(p.oid)),
      ),
    );
  }
  return statements.join(';\n');
}

/** Columns a table gets from its parents, where its own default or NOT NULL differs from theirs. */
function inheritedColumnFixes(t: CatalogTable, parents: (CatalogTable | undefined)[]): string[] {
  const out: string[] = [];
  for (const c of t.columns) {
    if (c.isLocal) continue;
    const fromParent = parents.map((p) => p?.columns.find((pc) => pc.name === c.name)).find((pc) => pc !== undefined);
    if (!fromParent) continue;
    if (c.default !== fromParent.default && !c.identity && !c.generated) {
      out.push(c.default === null ? `ALTER TABLE ONLY ${t.ident} ALTER COLUMN ${c.ident} DROP DEFAULT` : `ALTER TABLE ONLY ${t.ident} ALTER COLUMN ${c.ident} SET DEFAULT ${c.default}`);
    }
    if (c.notNull && !fromParent.notNull) out.push(`ALTER TABLE ONLY ${t.ident} ALTER COLUMN ${c.ident} SET NOT NULL`);
  }
  return out;
}

function postDataStatements(model: CatalogModel, existingComments: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  const constraints = model.constraints;
  // NOT VALID checks after the rows: rows inserted after one are checked, and the chain's may not pass.
  for (const c of constraints.filter((x) => x.type === 'c' && !x.validated)) out.push(`ALTER TABLE ${c.table} ADD CONSTRAINT ${c.ident} ${c.definition}`);
  const realIndexes = model.indexes.filter((i) => i.definition !== '');
  for (const i of realIndexes) out.push(i.definition);
  for (const i of realIndexes) {
    if (i.parentIndex) out.push(`ALTER INDEX ${i.parentIndex} ATTACH PARTITION ${i.ident}`);
  }
  for (const c of constraints.filter((x) => x.type === 'f')) out.push(`ALTER TABLE ${c.table} ADD CONSTRAINT ${c.ident} ${c.definition}`);
  for (const i of model.indexes) {
    if (i.replicaIdentity) out.push(`ALTER TABLE ONLY ${i.table} REPLICA IDENTITY USING INDEX ${unqualified(i.ident)}`);
    if (i.clustered) out.push(`ALTER TABLE ONLY ${i.table} CLUSTER ON ${unqualified(i.ident)}`);
  }
  for (const t of model.tables) {
    if (t.replicaIdentity === 'f') out.push(`ALTER TABLE ONLY ${t.ident} REPLICA IDENTITY FULL`);
    if (t.replicaIdentity === 'n') out.push(`ALTER TABLE ONLY ${t.ident} REPLICA IDENTITY NOTHING`);
  }
  for (const s of model.statistics) out.push(s.definition);
  for (const t of model.triggers) {
    out.push(t.definition);
    const state = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS', O: '' }[t.enabled];
    if (state) out.push(`ALTER TABLE ${t.table} ${state} TRIGGER ${t.ident}`);
  }
  for (const r of model.rules) out.push(r.definition.trim().replace(/;$/, ''));
  for (const t of model.tables) {
    if (t.rowSecurity) out.push(`ALTER TABLE ${t.ident} ENABLE ROW LEVEL SECURITY`);
    if (t.forceRowSecurity) out.push(`ALTER TABLE ${t.ident} FORCE ROW LEVEL SECURITY`);
  }
  for (const p of model.policies) {
    const parts = [`CREATE POLICY ${p.ident} ON ${p.table}`, `AS ${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'}`, `FOR ${p.command}`, `TO ${p.roles.join(', ')}`];
    if (p.using !== null) parts.push(`USING (${p.using})`);
    if (p.withCheck !== null) parts.push(`WITH CHECK (${p.withCheck})`);
    out.push(parts.join('\n    '));
  }
  for (const c of model.comments) {
    if (existingComments.get(c.target) === c.text) continue;
    out.push(`COMMENT ON ${c.target} IS ${sqlString(c.text)}`);
  }
  for (const v of model.views) {
    if (v.materialized && v.populated) out.push(`REFRESH MATERIALIZED VIEW ${v.ident}`);
  }
  return out;
}

function unqualified(ident: string): string {
  // regclass text of an index is `schema.name` (each part quoted when needed): keep the name.
  const parts = splitQualified(ident);
  return parts[parts.length - 1] ?? ident;
}

/** Splits `a."b.c"` into [`a`, `"b.c"`], respecting double quotes. */
export function splitQualified(ident: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < ident.length; i++) {
    const ch = ident[i]!;
    if (ch === '"') {
      if (quoted && ident[i + 1] === '"') {
        current += '""';
        i++;
        continue;
      }
      quoted = !quoted;
      current += ch;
    } else if (ch === '.' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/**
 * Kahn's algorithm; among the objects that are ready, the one of lowest priority then name comes
 * first, so the output is deterministic. A cycle is reported with the objects in it.
 */
export function topologicalOrder<T extends { kind: NodeKind; name: string }>(items: T[], edges: { from: string; to: string }[], keyOf: (item: T) => string): T[] {
  const byKey = new Map(items.map((i) => [keyOf(i), i]));
  const dependsOn = new Map<string, Set<string>>();
  const dependents = new Map<string, Set<string>>();
  for (const k of byKey.keys()) {
    dependsOn.set(k, new Set());
    dependents.set(k, new Set());
  }
  for (const e of edges) {
    if (!byKey.has(e.from) || !byKey.has(e.to) || e.from === e.to) continue;
    dependsOn.get(e.from)!.add(e.to);
    dependents.get(e.to)!.add(e.from);
  }
  const rank = (k: string) => {
    const item = byKey.get(k)!;
    return [PRIORITY[item.kind], item.name] as const;
  };
  const compare = (a: string, b: string) => {
    const [pa, na] = rank(a);
    const [pb, nb] = rank(b);
    return pa !== pb ? pa - pb : na < nb ? -1 : na > nb ? 1 : 0;
  };
  const ready = [...byKey.keys()].filter((k) => dependsOn.get(k)!.size === 0).sort(compare);
  const out: T[] = [];
  while (ready.length) {
    const k = ready.shift()!;
    out.push(byKey.get(k)!);
    for (const d of dependents.get(k)!) {
      const deps = dependsOn.get(d)!;
      deps.delete(k);
      if (deps.size === 0) {
        ready.push(d);
        ready.sort(compare);
      }
    }
  }
  if (out.length !== byKey.size) {
    const stuck = [...byKey.keys()].filter((k) => dependsOn.get(k)!.size > 0).map((k) => byKey.get(k)!.name || 'the tables');
    throw new KnexsafeError('SQUASH_CYCLE', `The squashed schema has objects that depend on each other in a cycle, which the baseline cannot order: ${stuck.join(', ')}.`, {
      exitCode: 1,
      hint: 'Try --ddl pg_dump with --shadow-url, or squash up to a point before the cycle was introduced.',
    });
  }
  return out;
}
