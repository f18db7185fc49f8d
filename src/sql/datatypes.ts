import type { Node, TypeName } from 'libpg-query';
import { integerOf, nodeOf, stringList } from './ast.js';
import { parseSqlSync } from './parse.js';

/** A column type as written in the SQL, normalised to PostgreSQL's internal names (`int4`, `varchar`, `timestamptz`). */
export interface TypeRef {
  /** Internal name: `int4`, `int8`, `varchar`, `bpchar`, `numeric`, `timestamptz`, `text`, `serial`, `order_status`. */
  name: string;
  /** Only when the SQL named a schema other than `pg_catalog`. */
  schema?: string;
  /** Literal type modifiers: `varchar(100)` → `[100]`, `numeric(10,2)` → `[10, 2]`. */
  modifiers: number[];
  array: boolean;
  /** Compact spelling, e.g. `varchar(100)`, `numeric(10,2)`, `int4[]`. */
  text: string;
}

// Spellings that reach the AST without the grammar mapping them to the internal name.
const ALIASES: Record<string, string> = {
  serial4: 'serial',
  serial8: 'bigserial',
  serial2: 'smallserial',
  int: 'int4',
  integer: 'int4',
  smallint: 'int2',
  bigint: 'int8',
  boolean: 'bool',
  real: 'float4',
  decimal: 'numeric',
  'character varying': 'varchar',
  character: 'bpchar',
  'double precision': 'float8',
  'timestamp with time zone': 'timestamptz',
  'timestamp without time zone': 'timestamp',
  'time with time zone': 'timetz',
  'time without time zone': 'time',
  'bit varying': 'varbit',
};

/** Types that live in pg_catalog: a change between two of these is fully known statically. */
const BUILTIN = new Set([
  'int2',
  'int4',
  'int8',
  'float4',
  'float8',
  'numeric',
  'money',
  'bool',
  'text',
  'varchar',
  'bpchar',
  'char',
  'name',
  'bytea',
  'uuid',
  'json',
  'jsonb',
  'xml',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'bit',
  'varbit',
  'tsvector',
  'tsquery',
  'oid',
  'point',
  'line',
  'lseg',
  'box',
  'path',
  'polygon',
  'circle',
  'int4range',
  'int8range',
  'numrange',
  'tsrange',
  'tstzrange',
  'daterange',
  'serial',
  'bigserial',
  'smallserial',
]);

export function isBuiltinType(type: TypeRef): boolean {
  return type.schema === undefined && BUILTIN.has(type.name);
}

export function typeRefFromTypeName(typeName: TypeName | undefined): TypeRef {
  const parts = stringList(typeName?.names);
  let name = parts[parts.length - 1] ?? '';
  let schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  if (schema === 'pg_catalog') schema = undefined;
  if (schema === undefined) name = ALIASES[name] ?? name;
  const modifiers: number[] = [];
  for (const mod of typeName?.typmods ?? []) {
    const value = integerOf(mod);
    if (value !== undefined) modifiers.push(value);
  }
  const array = (typeName?.arrayBounds?.length ?? 0) > 0;
  const base = schema ? `${schema}.${name}` : name;
  const text = `${base}${modifiers.length ? `(${modifiers.join(',')})` : ''}${array ? '[]' : ''}`;
  return schema !== undefined ? { name, schema, modifiers, array, text } : { name, modifiers, array, text };
}

const parsedTypes = new Map<string, TypeRef | undefined>();

/**
 * Reads a type as PostgreSQL prints it (`format_type`: `character varying(255)`, `numeric(10,2)`,
 * `timestamp with time zone`, `public.order_status`) or as SQL spells it. Needs the parser loaded
 * (`ensureParser()`); undefined when the text is not a type.
 */
export function parseTypeText(text: string): TypeRef | undefined {
  if (parsedTypes.has(text)) return parsedTypes.get(text);
  let result: TypeRef | undefined;
  try {
    const [statement] = parseSqlSync(`select null::${text}`);
    const select = nodeOf<{ targetList?: Node[] }>(statement?.ast, 'SelectStmt');
    const target = nodeOf<{ val?: Node }>(select?.targetList?.[0], 'ResTarget');
    const cast = nodeOf<{ typeName?: TypeName }>(target?.val, 'TypeCast');
    result = cast?.typeName ? typeRefFromTypeName(cast.typeName) : undefined;
  } catch {
    result = undefined;
  }
  parsedTypes.set(text, result);
  return result;
}

export function sameType(a: TypeRef, b: TypeRef): boolean {
  return a.name === b.name && a.schema === b.schema && a.array === b.array && a.modifiers.join(',') === b.modifiers.join(',');
}

export interface TypeChange {
  rewrite: boolean;
  reason: string;
  /** False when the answer depends on something not known statically (user types, session time zone). */
  certain: boolean;
}

const TEMPORAL = new Set(['timestamp', 'timestamptz', 'time', 'timetz']);
const MAX_TEMPORAL_PRECISION = 6;

/**
 * Whether `ALTER COLUMN ... TYPE to` (with no USING, or a USING that is the plain cast) rewrites a
 * column of type `from`. No rewrite when PostgreSQL can relabel the stored values: binary-coercible
 * casts (varchar → text, cidr → inet) and typmod changes whose length-coercion function is a no-op
 * (varchar(n) → varchar(m ≥ n), numeric(p,s) → numeric(p2 ≥ p,s), timestamp(p) → timestamp(q ≥ p)).
 */
export function typeChange(from: TypeRef, to: TypeRef, context: { pgVersion: number; timeZone?: string }): TypeChange {
  const certain = isBuiltinType(from) && isBuiltinType(to);
  const change = `${from.text} → ${to.text}`;
  if (sameType(from, to)) return { rewrite: false, reason: `${change}: the type does not change`, certain: true };
  if (from.array !== to.array) return { rewrite: true, reason: `${change}: converting between arrays and scalars rewrites every row`, certain };
  if (from.name === to.name && from.schema === to.schema) {
    if (from.array) {
      return { rewrite: true, reason: `${change}: changing the element modifier of an array re-checks every element`, certain };
    }
    const [fromLength, fromScale] = from.modifiers;
    const [toLength, toScale] = to.modifiers;
    const unlimited = to.modifiers.length === 0;
    switch (from.name) {
      case 'varchar':
      case 'varbit':
        if (unlimited) return { rewrite: false, reason: `${change}: removing the length limit only relabels the column`, certain };
        if (fromLength !== undefined && toLength !== undefined && toLength >= fromLength) {
          return { rewrite: false, reason: `${change}: widening the length limit only relabels the column`, certain };
        }
        return { rewrite: true, reason: `${change}: ${fromLength === undefined ? 'adding' : 'shortening'} a length limit re-checks and rewrites every row`, certain };
      case 'numeric':
        if (unlimited) return { rewrite: false, reason: `${change}: removing the precision limit only relabels the column`, certain };
        if (fromLength !== undefined && toLength !== undefined && (toScale ?? 0) === (fromScale ?? 0) && toLength >= fromLength) {
          return { rewrite: false, reason: `${change}: raising the precision with the same scale only relabels the column`, certain };
        }
        return { rewrite: true, reason: `${change}: changing the scale or lowering the precision rewrites every row`, certain };
      default:
        if (TEMPORAL.has(from.name)) {
          if (unlimited || (toLength !== undefined && (toLength >= MAX_TEMPORAL_PRECISION || (fromLength !== undefined && toLength >= fromLength)))) {
            return { rewrite: false, reason: `${change}: raising the fractional-second precision only relabels the column`, certain };
          }
          return { rewrite: true, reason: `${change}: lowering the fractional-second precision rounds and rewrites every row`, certain };
        }
        return { rewrite: true, reason: `${change}: changing the type modifier rewrites every row`, certain };
    }
  }
  const pair = `${from.name}>${to.name}`;
  const toUnlimited = to.modifiers.length === 0;
  if ((pair === 'varchar>text' || pair === 'text>varchar' || pair === 'xml>text' || pair === 'cidr>inet') && toUnlimited && !from.schema && !to.schema) {
    return { rewrite: false, reason: `${change}: the types are binary coercible, so the column is only relabelled`, certain: true };
  }
  if (pair === 'text>varchar' || pair === 'xml>varchar') {
    return { rewrite: true, reason: `${change}: the new length limit re-checks and rewrites every row`, certain: true };
  }
  if ((from.name === 'citext' && (to.name === 'text' || (to.name === 'varchar' && toUnlimited))) || (to.name === 'citext' && (from.name === 'text' || from.name === 'varchar'))) {
    return { rewrite: false, reason: `${change}: citext is binary coercible with text and varchar (its indexes are still rebuilt)`, certain: false };
  }
  if ((pair === 'timestamp>timestamptz' || pair === 'timestamptz>timestamp') && !from.schema && !to.schema) {
    const precisionOk = toUnlimited || (to.modifiers[0] ?? 0) >= (from.modifiers[0] ?? MAX_TEMPORAL_PRECISION);
    if (context.pgVersion >= 12 && precisionOk) {
      const utc = context.timeZone !== undefined && isUtc(context.timeZone);
      if (utc) return { rewrite: false, reason: `${change}: with the session TimeZone at UTC, PostgreSQL ≥ 12 only relabels the column`, certain: true };
      return {
        rewrite: true,
        reason: `${change}: rewrites every row unless the session TimeZone is UTC (PostgreSQL ≥ 12 then only relabels the column)`,
        certain: context.timeZone !== undefined,
      };
    }
    return { rewrite: true, reason: `${change}: converting between timestamp and timestamptz rewrites every row`, certain: true };
  }
  if (from.name === 'serial' || from.name === 'bigserial' || from.name === 'smallserial') {
    return { rewrite: true, reason: `${change}: assuming a rewrite`, certain: false };
  }
  return {
    rewrite: true,
    reason: certain ? `${change}: the values are converted, so every row is rewritten` : `${change}: the values are converted (unless the types are binary coercible), so every row is rewritten`,
    certain,
  };
}

function isUtc(zone: string): boolean {
  return ['utc', 'etc/utc', 'gmt', 'etc/gmt', 'uct', 'zulu', 'universal', 'etc/universal', 'etc/zulu', 'etc/uct', 'gmt0', 'etc/gmt0', 'gmt+0', 'gmt-0'].includes(zone.trim().toLowerCase());
}
