import { parseSync, scanSync, type A_Const, type FuncCall, type Node, type TypeCast } from 'libpg-query';
import type { ColumnInfo, SchemaSnapshot, TableInfo } from '../schema/types.js';
import { perSnapshot } from '../schema/derived.js';
import { nodeOf } from '../sql/ast.js';
import { typeRefFromTypeName } from '../sql/datatypes.js';
import { jsString } from './js.js';
import { ident, sqlName, sqlString } from './sql.js';

/**
 * SQL that re-creates schema objects from a snapshot, for the `down` of fixes that drop them
 * (drop-table, down-missing): what the rule tester proves with `verify` — up, down, up again gives
 * the same schema.
 */

export function columnSql(column: ColumnInfo): string {
  const parts = [ident(column.name), column.type];
  if (column.collation)
    parts.push(
      `COLLATE ${column.collation
        .split('.')
        .map((p) => `"${p.replace(/"/g, '""')}"`)
        .join('.')}`,
    );
  if (column.generated) {
    parts.push(`GENERATED ALWAYS AS ${column.generated}`);
  } else if (column.identity) {
    parts.push(`GENERATED ${column.identity === 'always' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`);
  } else if (column.default !== null) {
    parts.push(`DEFAULT ${column.default}`);
  }
  if (!column.nullable) parts.push('NOT NULL');
  return parts.join(' ');
}

/**
 * Replaces the table a CREATE INDEX / CREATE TRIGGER definition is on (`ON public.orders`), found
 * with the parser, not by searching the text.
 */
export function retargetDefinition(definition: string, table: string): string {
  const stmt = parseSync(definition).stmts?.[0]?.stmt as Record<string, { relation?: { location?: number } }> | undefined;
  const body = stmt?.IndexStmt ?? stmt?.CreateTrigStmt;
  const location = body?.relation?.location;
  if (location === undefined) return definition;
  const bytes = Buffer.from(definition, 'utf8');
  const tokens = scanSync(definition).tokens;
  let k = tokens.findIndex((t) => t.start === location);
  if (k < 0) return definition;
  let end = tokens[k]!.end;
  while (tokens[k + 1]?.text === '.' && tokens[k + 2]) {
    end = tokens[k + 2]!.end;
    k += 2;
  }
  return bytes.subarray(0, location).toString('utf8') + sqlName(table) + bytes.subarray(end).toString('utf8');
}

export interface TableDdlOptions {
  /** Create it under this qualified name instead (the table was renamed before being dropped). */
  as?: string;
}

/**
 * Statements that create the table exactly as the snapshot has it: its owned sequences, columns,
 * constraints, indexes, triggers, row security, policies and comments. Undefined for tables this
 * cannot describe (partitions, partitioned and foreign tables).
 */
export function createTableSql(snapshot: SchemaSnapshot, table: string, options: TableDdlOptions = {}): string[] | undefined {
  const info: TableInfo | undefined = snapshot.tables[table];
  if (!info || info.kind !== 'table' || info.partitionOf) return undefined;
  const target = options.as ?? table;
  const name = sqlName(target);
  const out: string[] = [];
  const identityColumns = new Set(
    Object.values(info.columns)
      .filter((c) => c.identity)
      .map((c) => `${table}.${c.name}`),
  );
  const owned = Object.values(snapshot.sequences).filter((s) => s.ownedBy?.startsWith(`${table}.`) && !identityColumns.has(s.ownedBy));
  for (const s of owned) out.push(`CREATE SEQUENCE ${sqlName(`${s.schema}.${s.name}`)} AS ${s.type} INCREMENT BY ${s.increment} START WITH ${s.start}`);

  const lines = info.columnOrder.map((c) => `  ${columnSql(info.columns[c]!)}`);
  const constraints = Object.values(info.constraints);
  for (const c of constraints) if (c.validated) lines.push(`  CONSTRAINT ${ident(c.name)} ${c.definition}`);
  const unlogged = info.unlogged ? 'UNLOGGED ' : '';
  const inherits = info.inherits?.length ? ` INHERITS (${info.inherits.map(sqlName).join(', ')})` : '';
  out.push(`CREATE ${unlogged}TABLE ${name} (\n${lines.join(',\n')}\n)${inherits}`);
  for (const c of constraints) if (!c.validated) out.push(`ALTER TABLE ${name} ADD CONSTRAINT ${ident(c.name)} ${c.definition}`);

  for (const s of owned) out.push(`ALTER SEQUENCE ${sqlName(`${s.schema}.${s.name}`)} OWNED BY ${name}.${ident(s.ownedBy!.slice(table.length + 1))}`);
  for (const index of Object.values(snapshot.indexes)) if (index.table === table) out.push(target === table ? index.definition : retargetDefinition(index.definition, target));
  for (const trigger of Object.values(snapshot.triggers)) {
    if (trigger.table !== table) continue;
    out.push(target === table ? trigger.definition : retargetDefinition(trigger.definition, target));
    if (!trigger.enabled) out.push(`ALTER TABLE ${name} DISABLE TRIGGER ${ident(trigger.name)}`);
  }
  if (info.rowSecurity) out.push(`ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY`);
  if (info.forceRowSecurity) out.push(`ALTER TABLE ${name} FORCE ROW LEVEL SECURITY`);
  for (const p of Object.values(snapshot.policies)) {
    if (p.table !== table) continue;
    const roles = p.roles.length ? ` TO ${p.roles.map((r) => (r === 'public' ? 'PUBLIC' : ident(r))).join(', ')}` : '';
    out.push(
      `CREATE POLICY ${ident(p.name)} ON ${name} AS ${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${p.command}${roles}${p.using ? ` USING (${p.using})` : ''}${p.withCheck ? ` WITH CHECK (${p.withCheck})` : ''}`,
    );
  }
  const tableComment = snapshot.comments[`table ${table}`];
  if (tableComment !== undefined) out.push(`COMMENT ON TABLE ${name} IS ${sqlString(tableComment)}`);
  for (const column of info.columnOrder) {
    const comment = snapshot.comments[`column ${table}.${column}`];
    if (comment !== undefined) out.push(`COMMENT ON COLUMN ${name}.${ident(column)} IS ${sqlString(comment)}`);
  }
  return out;
}

/** `CREATE TYPE … AS ENUM (…)` for an enum of the snapshot. */
export function createEnumSql(snapshot: SchemaSnapshot, qualified: string): string | undefined {
  const e = snapshot.enums[qualified];
  if (!e) return undefined;
  return `CREATE TYPE ${sqlName(qualified)} AS ENUM (${e.values.map(sqlString).join(', ')})`;
}

/** Enums (qualified) that a column type names: `public.order_status`, `public.order_status[]`. */
export function enumOfType(snapshot: SchemaSnapshot, type: string): string | undefined {
  const base = type.endsWith('[]') ? type.slice(0, -2) : type;
  const unquoted = base.split('"').join('');
  for (const candidate of [base, `public.${base}`, unquoted, `public.${unquoted}`]) if (snapshot.enums[candidate]) return candidate;
  return undefined;
}

/** The columns (`table.column`), domains and composite types of a snapshot whose type is the enum. */
export function enumUsers(snapshot: SchemaSnapshot, qualified: string): string[] {
  return [...(enumUsersIndex(snapshot).get(qualified) ?? [])];
}

// Every enum's users, found in one pass over the snapshot.
const enumUsersIndex = perSnapshot((snapshot) => {
  const found = new Map<string, string[]>();
  if (Object.keys(snapshot.enums).length === 0) return found;
  // A schema has thousands of columns but a few dozen types: each type is looked up once, and a
  // user's name is made only for the columns of an enum type.
  const enumOf = new Map<string, string | undefined>();
  const enumOfCached = (type: string) => {
    let e = enumOf.get(type);
    if (e === undefined && !enumOf.has(type)) enumOf.set(type, (e = enumOfType(snapshot, type)));
    return e;
  };
  const add = (e: string, user: string) => {
    const users = found.get(e);
    if (users) {
      if (users[users.length - 1] !== user) users.push(user);
    } else found.set(e, [user]);
  };
  for (const name in snapshot.tables) {
    const columns = snapshot.tables[name]!.columns;
    for (const column in columns) {
      const e = enumOfCached(columns[column]!.type);
      if (e !== undefined) add(e, `${name}.${column}`);
    }
  }
  for (const [name, d] of Object.entries(snapshot.domains)) {
    const e = enumOfCached(d.type);
    if (e !== undefined) add(e, name);
  }
  for (const [name, c] of Object.entries(snapshot.composites)) {
    for (const a of c.attributes) {
      const e = enumOfCached(a.type);
      if (e !== undefined) add(e, name);
    }
  }
  return found;
});

const TEXT_TYPES = new Set(['varchar', 'text', 'bpchar', 'citext', 'name']);
const NUMBER_TYPES = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']);

/**
 * A knex `.defaultTo(…)` argument for a default as PostgreSQL prints it (read with the parser):
 * plain numbers, strings and booleans become JS literals, `CURRENT_TIMESTAMP` / `now()` become
 * `knex.fn.now()`, anything else `knex.raw('…')`.
 */
export function defaultToJs(expression: string, knexName = 'knex'): string {
  const raw = `${knexName}.raw(${jsString(expression)})`;
  let value: Node | undefined;
  try {
    const select = parseSync(`SELECT ${expression}`).stmts?.[0]?.stmt as { SelectStmt?: { targetList?: { ResTarget?: { val?: Node } }[] } } | undefined;
    const targets = select?.SelectStmt?.targetList;
    if (targets?.length !== 1) return raw;
    value = targets[0]?.ResTarget?.val;
  } catch {
    return raw;
  }
  let cast: string | undefined;
  const typeCast = nodeOf<TypeCast>(value, 'TypeCast');
  if (typeCast) {
    cast = typeRefFromTypeName(typeCast.typeName).name;
    value = typeCast.arg;
  }
  const constant = nodeOf<A_Const>(value, 'A_Const');
  if (constant) {
    if (constant.isnull) return 'null';
    if (constant.boolval) return String(constant.boolval.boolval ?? false);
    if (constant.ival) return String(constant.ival.ival ?? 0);
    if (constant.fval?.fval !== undefined)
      return Number.isFinite(Number(constant.fval.fval)) && String(Number(constant.fval.fval)) === constant.fval.fval ? constant.fval.fval : jsString(constant.fval.fval);
    const text = constant.sval?.sval;
    if (text !== undefined) {
      if (cast === undefined || TEXT_TYPES.has(cast)) return jsString(text);
      if (NUMBER_TYPES.has(cast) && String(Number(text)) === text && Number.isSafeInteger(Math.trunc(Number(text)))) return text;
      if (cast === 'bool' && (text === 'true' || text === 'false')) return text;
    }
    return raw;
  }
  const svf = nodeOf<{ op?: string }>(value, 'SQLValueFunction');
  if (svf?.op === 'SVFOP_CURRENT_TIMESTAMP' && cast === undefined) return `${knexName}.fn.now()`;
  const call = nodeOf<FuncCall>(value, 'FuncCall');
  if (call && cast === undefined && (call.args?.length ?? 0) === 0) {
    const names = (call.funcname ?? []).map((n) => nodeOf<{ sval?: string }>(n, 'String')?.sval);
    if (names[names.length - 1] === 'now' && (names.length === 1 || names[0] === 'pg_catalog')) return `${knexName}.fn.now()`;
  }
  return raw;
}
