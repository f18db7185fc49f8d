import type { A_Const, Node, TypeName } from 'libpg-query';
import { constantValue, nodeOf, stringList, unwrap, walk, type ConstantValue, type QualifiedName, nameFromParts } from './ast.js';
import { typeRefFromTypeName } from './datatypes.js';

/** PostgreSQL function volatility; `unknown` for functions knexsafe cannot classify without the catalog. */
export type Volatility = 'immutable' | 'stable' | 'volatile' | 'unknown';

/** A default (or other) expression as the SQL wrote it. */
export interface ExpressionFacts {
  ast: Node;
  /** Best-effort SQL spelling, e.g. `gen_random_uuid()`, `'0'`, `CURRENT_TIMESTAMP`; undefined for shapes not printed. */
  text?: string;
  /** For literals (optionally cast): the value, e.g. `'0'` → `"0"`, `NULL` → `null`. */
  constant?: ConstantValue;
  /** True for a literal NULL (`DEFAULT NULL` stores nothing). */
  isNull: boolean;
  volatility: Volatility;
  /** `volatility === 'volatile'`: evaluated per row, so ADD COLUMN with it rewrites the table. */
  volatile: boolean;
  /** Functions the expression calls, lower-case, schema-qualified when the SQL qualified them. */
  functions: string[];
}

const VOLATILE_FUNCTIONS = new Set([
  'random', 'random_normal', 'setseed', 'gen_random_uuid', 'uuidv4', 'uuidv7', 'uuid_generate_v1', 'uuid_generate_v1mc',
  'uuid_generate_v4', 'gen_random_bytes', 'gen_salt', 'clock_timestamp', 'timeofday', 'nextval', 'setval', 'currval', 'lastval',
  'txid_current', 'pg_current_xact_id', 'pg_sleep', 'dblink', 'pg_advisory_lock', 'pg_try_advisory_lock', 'set_config',
]);

const STABLE_FUNCTIONS = new Set([
  'now', 'transaction_timestamp', 'statement_timestamp', 'current_setting', 'current_database', 'current_schema',
  'current_schemas', 'current_user', 'session_user', 'current_role', 'pg_backend_pid', 'inet_client_addr', 'to_char', 'to_timestamp',
  'age', 'concat', 'concat_ws', 'format', 'to_json', 'to_jsonb', 'json_build_object', 'jsonb_build_object', 'json_build_array',
  'jsonb_build_array', 'row_to_json', 'array_to_json', 'date_trunc', 'date_part', 'extract', 'localtimestamp', 'localtime',
  'current_date', 'current_time', 'current_timestamp', 'timezone', 'txid_current_snapshot', 'pg_my_temp_schema',
]);

const IMMUTABLE_FUNCTIONS = new Set([
  'lower', 'upper', 'btrim', 'ltrim', 'rtrim', 'trim', 'length', 'char_length', 'octet_length', 'substr', 'substring', 'replace',
  'md5', 'abs', 'round', 'floor', 'ceil', 'ceiling', 'greatest', 'least', 'coalesce', 'nullif', 'left', 'right', 'lpad', 'rpad',
  'split_part', 'make_interval', 'make_date', 'make_time', 'uuid_nil', 'uuid_ns_dns', 'uuid_ns_url', 'uuid_ns_oid', 'uuid_ns_x500',
  'uuid_generate_v3', 'uuid_generate_v5', 'int4', 'int8', 'text', 'jsonb_typeof', 'array_length', 'cardinality', 'encode', 'decode',
  'digest', 'sha256', 'sha512', 'to_tsvector', 'power', 'mod', 'sqrt', 'exp', 'ln', 'log', 'sign', 'trunc',
]);

const RANK: Record<Volatility, number> = { immutable: 0, stable: 1, unknown: 2, volatile: 3 };

export function moreVolatile(a: Volatility, b: Volatility): Volatility {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Volatility of a known function name (lower case, without schema); undefined when not known. */
export function functionVolatility(name: string): Volatility | undefined {
  const key = name.toLowerCase();
  if (VOLATILE_FUNCTIONS.has(key)) return 'volatile';
  if (STABLE_FUNCTIONS.has(key)) return 'stable';
  if (IMMUTABLE_FUNCTIONS.has(key)) return 'immutable';
  return undefined;
}

export type FunctionVolatilityLookup = (name: QualifiedName) => Volatility | undefined;

/**
 * The volatility of an expression: the most volatile function it calls. Unknown functions are
 * `unknown` unless `lookup` (e.g. `pg_proc.provolatile` of the shadow database) knows them.
 */
export function expressionVolatility(ast: Node, lookup?: FunctionVolatilityLookup): Volatility {
  let result: Volatility = 'immutable';
  walk(ast, (kind, body) => {
    switch (kind) {
      case 'FuncCall': {
        const parts = stringList((body as { funcname?: Node[] }).funcname);
        const name = nameFromParts(parts);
        const schemaOk = name.schema === undefined || name.schema === 'pg_catalog' || name.schema === 'public';
        const known = lookup?.(name) ?? (schemaOk ? functionVolatility(name.name) : undefined);
        result = moreVolatile(result, known ?? 'unknown');
        break;
      }
      case 'SQLValueFunction':
        result = moreVolatile(result, 'stable');
        break;
      case 'SubLink':
      case 'ParamRef':
        result = moreVolatile(result, 'unknown');
        return false;
      default:
        break;
    }
    return true;
  });
  return result;
}

export function expressionFacts(ast: Node, lookup?: FunctionVolatilityLookup): ExpressionFacts {
  const volatility = expressionVolatility(ast, lookup);
  const constant = literalOf(ast);
  const functions: string[] = [];
  walk(ast, (kind, body) => {
    if (kind === 'FuncCall') functions.push(stringList((body as { funcname?: Node[] }).funcname).join('.').toLowerCase());
  });
  const text = expressionText(ast);
  return {
    ast,
    ...(text !== undefined ? { text } : {}),
    ...(constant !== undefined ? { constant: constant.value } : {}),
    isNull: constant !== undefined && constant.value === null,
    volatility,
    volatile: volatility === 'volatile',
    functions: [...new Set(functions.filter((name) => name !== ''))],
  };
}

/** The literal of `'x'`, `42`, `NULL`, `'x'::type`; undefined for anything else. */
function literalOf(ast: Node): { value: ConstantValue } | undefined {
  const constant = nodeOf<A_Const>(ast, 'A_Const');
  if (constant) return { value: constantValue(constant) };
  const cast = nodeOf<{ arg?: Node }>(ast, 'TypeCast');
  if (cast?.arg) return literalOf(cast.arg);
  return undefined;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const SQL_VALUE_FUNCTIONS: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'CURRENT_DATE',
  SVFOP_CURRENT_TIME: 'CURRENT_TIME',
  SVFOP_CURRENT_TIME_N: 'CURRENT_TIME',
  SVFOP_CURRENT_TIMESTAMP: 'CURRENT_TIMESTAMP',
  SVFOP_CURRENT_TIMESTAMP_N: 'CURRENT_TIMESTAMP',
  SVFOP_LOCALTIME: 'LOCALTIME',
  SVFOP_LOCALTIME_N: 'LOCALTIME',
  SVFOP_LOCALTIMESTAMP: 'LOCALTIMESTAMP',
  SVFOP_LOCALTIMESTAMP_N: 'LOCALTIMESTAMP',
  SVFOP_CURRENT_ROLE: 'CURRENT_ROLE',
  SVFOP_CURRENT_USER: 'CURRENT_USER',
  SVFOP_USER: 'USER',
  SVFOP_SESSION_USER: 'SESSION_USER',
  SVFOP_CURRENT_CATALOG: 'CURRENT_CATALOG',
  SVFOP_CURRENT_SCHEMA: 'CURRENT_SCHEMA',
};

/** Prints the common shapes of default and predicate expressions; undefined for anything else. */
export function expressionText(ast: Node | undefined): string | undefined {
  const entry = unwrap(ast);
  if (!entry) return undefined;
  const [kind, body] = entry;
  switch (kind) {
    case 'A_Const': {
      const value = constantValue(body as A_Const);
      if (value === null) return 'NULL';
      if (typeof value === 'string') return (body as A_Const).bsval ? `B'${value}'` : quoteLiteral(value);
      return typeof value === 'boolean' ? (value ? 'TRUE' : 'FALSE') : String(value);
    }
    case 'TypeCast': {
      const cast = body as { arg?: Node; typeName?: TypeName };
      const arg = expressionText(cast.arg);
      if (arg === undefined) return undefined;
      const needsParens = unwrap(cast.arg)?.[0] === 'A_Expr';
      return `${needsParens ? `(${arg})` : arg}::${typeRefFromTypeName(cast.typeName).text}`;
    }
    case 'FuncCall': {
      const call = body as { funcname?: Node[]; args?: Node[]; agg_star?: boolean; funcformat?: string };
      // `x AT TIME ZONE y`, `EXTRACT(f FROM x)`, `TRIM(...)`: printed as calls they would not read like the SQL.
      if (call.funcformat === 'COERCE_SQL_SYNTAX') return undefined;
      const name = stringList(call.funcname).filter((part, index, all) => !(part === 'pg_catalog' && index < all.length - 1)).map(quoteIdent).join('.');
      if (call.agg_star) return `${name}(*)`;
      const args = (call.args ?? []).map(expressionText);
      if (args.some((arg) => arg === undefined)) return undefined;
      return `${name}(${args.join(', ')})`;
    }
    case 'SQLValueFunction': {
      const op = (body as { op?: string; typmod?: number }).op ?? '';
      const typmod = (body as { typmod?: number }).typmod;
      const base = SQL_VALUE_FUNCTIONS[op];
      if (!base) return undefined;
      return op.endsWith('_N') && typmod !== undefined && typmod >= 0 ? `${base}(${typmod})` : base;
    }
    case 'ColumnRef': {
      const fields = (body as { fields?: Node[] }).fields ?? [];
      return fields.map((field) => (nodeOf(field, 'A_Star') ? '*' : quoteIdent(nodeOf<{ sval?: string }>(field, 'String')?.sval ?? ''))).join('.');
    }
    case 'A_Expr': {
      const expr = body as { kind?: string; name?: Node[]; lexpr?: Node; rexpr?: Node };
      const op = stringList(expr.name).join('.');
      const left = expr.lexpr ? expressionText(expr.lexpr) : '';
      if (expr.kind === 'AEXPR_OP') {
        const right = expressionText(expr.rexpr);
        if (left === undefined || right === undefined) return undefined;
        return left ? `${left} ${op} ${right}` : `${op}${right}`;
      }
      if (expr.kind === 'AEXPR_BETWEEN' || expr.kind === 'AEXPR_NOT_BETWEEN') {
        const bounds = nodeOf<{ items?: Node[] }>(expr.rexpr, 'List')?.items?.map(expressionText) ?? [];
        if (left === undefined || bounds.length !== 2 || bounds.some((b) => b === undefined)) return undefined;
        return `${left} ${expr.kind === 'AEXPR_NOT_BETWEEN' ? 'NOT ' : ''}BETWEEN ${bounds[0]} AND ${bounds[1]}`;
      }
      if (expr.kind === 'AEXPR_IN') {
        const items = nodeOf<{ items?: Node[] }>(expr.rexpr, 'List')?.items?.map(expressionText) ?? [];
        if (left === undefined || items.some((item) => item === undefined)) return undefined;
        return `${left} ${op === '<>' ? 'NOT IN' : 'IN'} (${items.join(', ')})`;
      }
      return undefined;
    }
    case 'NullTest': {
      const test = body as { arg?: Node; nulltesttype?: string };
      const arg = expressionText(test.arg);
      return arg === undefined ? undefined : `${arg} IS ${test.nulltesttype === 'IS_NOT_NULL' ? 'NOT ' : ''}NULL`;
    }
    case 'BoolExpr': {
      const expr = body as { boolop?: string; args?: Node[] };
      const args = (expr.args ?? []).map((arg) => {
        const text = expressionText(arg);
        return text === undefined ? undefined : unwrap(arg)?.[0] === 'BoolExpr' ? `(${text})` : text;
      });
      if (args.some((arg) => arg === undefined)) return undefined;
      if (expr.boolop === 'NOT_EXPR') return `NOT ${args[0]}`;
      return args.join(expr.boolop === 'OR_EXPR' ? ' OR ' : ' AND ');
    }
    case 'A_ArrayExpr': {
      const elements = ((body as { elements?: Node[] }).elements ?? []).map(expressionText);
      if (elements.some((element) => element === undefined)) return undefined;
      return `ARRAY[${elements.join(', ')}]`;
    }
    default:
      return undefined;
  }
}
