import { parseTypeText } from '../sql/datatypes.js';
import { jsString as js } from '../codegen/js.js';

/** A column type knexsafe can write both as SQL and as a knex builder call. */
export interface ColumnType {
  /** As PostgreSQL spells it (`format_type`), e.g. `numeric(10,2)`, `character varying(100)`, `public.order_status`. */
  sql: string;
  /** The knex builder call that creates a column of this type, e.g. `table.decimal('price', 10, 2)`. */
  builder(column: string): string;
}

function simple(sql: string, method: string): ColumnType {
  return { sql, builder: (c) => `table.${method}(${js(c)})` };
}

function specific(sql: string): ColumnType {
  return { sql, builder: (c) => `table.specificType(${js(c)}, ${js(sql)})` };
}

function varchar(length: number | undefined): ColumnType {
  if (length === undefined) return specific('character varying');
  return { sql: `character varying(${length})`, builder: (c) => `table.string(${js(c)}, ${length})` };
}

function numeric(precision: number | undefined, scale: number | undefined): ColumnType {
  if (precision === undefined) return specific('numeric');
  const s = scale ?? 0;
  return { sql: `numeric(${precision},${s})`, builder: (c) => `table.decimal(${js(c)}, ${precision}, ${s})` };
}

function timestamp(tz: boolean): ColumnType {
  return { sql: tz ? 'timestamp with time zone' : 'timestamp without time zone', builder: (c) => `table.timestamp(${js(c)}, { useTz: ${tz} })` };
}

/** Single-word types (and their aliases) of the name grammar. */
const WORDS: Record<string, () => ColumnType> = {
  text: () => simple('text', 'text'),
  string: () => varchar(255),
  varchar: () => varchar(undefined),
  integer: () => simple('integer', 'integer'),
  int: () => simple('integer', 'integer'),
  bigint: () => simple('bigint', 'bigInteger'),
  smallint: () => simple('smallint', 'smallint'),
  decimal: () => numeric(10, 2),
  numeric: () => numeric(undefined, undefined),
  real: () => specific('real'),
  float: () => specific('real'),
  double: () => specific('double precision'),
  boolean: () => simple('boolean', 'boolean'),
  bool: () => simple('boolean', 'boolean'),
  json: () => simple('json', 'json'),
  jsonb: () => simple('jsonb', 'jsonb'),
  uuid: () => simple('uuid', 'uuid'),
  date: () => simple('date', 'date'),
  time: () => specific('time without time zone'),
  timetz: () => specific('time with time zone'),
  timestamptz: () => timestamp(true),
  timestamp: () => timestamp(false),
  interval: () => specific('interval'),
  bytea: () => specific('bytea'),
  inet: () => specific('inet'),
  cidr: () => specific('cidr'),
  citext: () => specific('citext'),
  tsvector: () => specific('tsvector'),
  money: () => specific('money'),
};

export const TYPE_WORDS_HELP =
  'text, string (varchar 255), varchar, varchar_<n>, char_<n>, integer|int, bigint, smallint, decimal (= decimal_10_2), ' +
  'decimal_<p>[_<s>], numeric, numeric_<p>[_<s>], real|float, double, boolean|bool, json, jsonb, uuid, date, time, timetz, ' +
  'timestamp (without time zone), timestamptz, interval, bytea, inet, cidr, citext, tsvector, money, the name of an enum ' +
  'type of the schema, and any of these followed by _array';

/**
 * Reads the type part of a name (`decimal_10_2`, `varchar_100`, `timestamptz`, `text_array`,
 * `order_status` when that enum exists). Undefined when the words are not a type.
 */
export function parseTypeWords(words: string[], enumNames: string[] = []): ColumnType | undefined {
  if (words.length === 0) return undefined;
  if (words[words.length - 1] === 'array' && words.length > 1) {
    const element = parseTypeWords(words.slice(0, -1), enumNames);
    if (!element) return undefined;
    return specific(`${element.sql}[]`);
  }
  const joined = words.join('_');
  if (enumNames.includes(joined)) return specific(joined);
  const [head, ...rest] = words;
  const numbers = rest.map((w) => (/^\d+$/.test(w) ? Number(w) : NaN));
  if (numbers.some((n) => Number.isNaN(n))) {
    if (joined === 'double_precision') return specific('double precision');
    if (joined === 'timestamp_with_time_zone') return timestamp(true);
    if (joined === 'timestamp_without_time_zone') return timestamp(false);
    if (joined === 'character_varying') return varchar(undefined);
    return undefined;
  }
  if (head === undefined) return undefined;
  if (numbers.length === 0) return WORDS[head]?.();
  const [a, b] = numbers;
  if (numbers.length <= 2 && (head === 'decimal' || head === 'numeric')) return numeric(a, b);
  if (numbers.length === 1 && (head === 'varchar' || head === 'string')) return varchar(a);
  if (numbers.length === 1 && head === 'char') return specific(`character(${a})`);
  return undefined;
}

/**
 * The knex builder call that re-creates a column of a type PostgreSQL printed (`format_type`).
 * Needs the SQL parser loaded (`ensureParser()`).
 */
export function typeFromCatalog(formatType: string): ColumnType {
  const ref = parseTypeText(formatType);
  if (!ref || ref.schema !== undefined || ref.array) return specific(formatType);
  const [a, b] = ref.modifiers;
  switch (ref.name) {
    case 'varchar':
      return a !== undefined ? varchar(a) : specific(formatType);
    case 'numeric':
      return a !== undefined ? numeric(a, b) : specific(formatType);
    case 'text':
      return simple('text', 'text');
    case 'int4':
      return simple('integer', 'integer');
    case 'int8':
      return simple('bigint', 'bigInteger');
    case 'int2':
      return simple('smallint', 'smallint');
    case 'bool':
      return simple('boolean', 'boolean');
    case 'json':
      return simple('json', 'json');
    case 'jsonb':
      return simple('jsonb', 'jsonb');
    case 'uuid':
      return simple('uuid', 'uuid');
    case 'date':
      return simple('date', 'date');
    case 'timestamptz':
      return a === undefined ? timestamp(true) : specific(formatType);
    case 'timestamp':
      return a === undefined ? timestamp(false) : specific(formatType);
    default:
      return specific(formatType);
  }
}

export interface GuessedColumn {
  type: ColumnType;
  /** Extra builder calls, e.g. `.notNullable().defaultTo(false)`. */
  modifiers: string;
  /** Why this type, for the comment in the file. */
  reason: string;
}

const MONEY_WORDS = new Set(['price', 'amount', 'total', 'cost', 'balance', 'fee', 'subtotal', 'tax', 'discount']);
const JSON_WORDS = new Set(['metadata', 'meta', 'data', 'settings', 'preferences', 'options', 'payload', 'attributes', 'properties', 'config', 'details', 'extra']);
const BOOLEAN_PREFIXES = ['is', 'has', 'can', 'should', 'was', 'allow', 'allows'];
const BOOLEAN_WORDS = new Set(['active', 'enabled', 'disabled', 'verified', 'archived', 'deleted', 'published', 'admin', 'confirmed', 'locked', 'visible', 'hidden']);

/**
 * The type a column probably has, from its name (documented in docs/make.md). `referencedKeyType`
 * is the primary key type of the table a `<x>_id` column points at, when the schema has it.
 */
export function guessColumnType(column: string, referencedKeyType?: string): GuessedColumn {
  const words = column.split('_');
  const last = words[words.length - 1] ?? column;
  const first = words[0] ?? column;
  if (column === 'id' || last === 'id') {
    if (referencedKeyType) return { type: typeFromCatalog(referencedKeyType), modifiers: '', reason: `same type as the key it refers to` };
    return { type: simple('bigint', 'bigInteger'), modifiers: '', reason: 'an id' };
  }
  if (last === 'uuid' || last === 'guid') return { type: simple('uuid', 'uuid'), modifiers: '', reason: 'a uuid' };
  if (last === 'at') return { type: timestamp(true), modifiers: '', reason: 'a point in time (…_at)' };
  if (last === 'on' || last === 'date' || column === 'birthday') return { type: simple('date', 'date'), modifiers: '', reason: 'a date' };
  if ((BOOLEAN_PREFIXES.includes(first) && words.length > 1) || BOOLEAN_WORDS.has(column) || last === 'enabled' || last === 'flag') {
    return { type: simple('boolean', 'boolean'), modifiers: '.notNullable().defaultTo(false)', reason: 'a flag' };
  }
  if (last === 'count' || column === 'quantity' || column === 'qty') {
    return { type: simple('integer', 'integer'), modifiers: '.notNullable().defaultTo(0)', reason: 'a count' };
  }
  if (column === 'position' || column === 'age' || column === 'rank' || column === 'priority' || last === 'number' || column === 'year') {
    return { type: simple('integer', 'integer'), modifiers: '', reason: 'a number' };
  }
  if (MONEY_WORDS.has(last)) return { type: numeric(10, 2), modifiers: '', reason: 'an amount' };
  if (last === 'json' || JSON_WORDS.has(column)) return { type: simple('jsonb', 'jsonb'), modifiers: '', reason: 'structured data' };
  if (last === 'ip' || column.endsWith('ip_address')) return { type: specific('inet'), modifiers: '', reason: 'an IP address' };
  return { type: simple('text', 'text'), modifiers: '', reason: 'text (the default guess)' };
}
