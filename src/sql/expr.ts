import { deparseSync } from './deparse.js';
import type { A_Const, Node } from 'libpg-query';
import { constantValue, nodeOf, stringList, walk, type ConstantValue, type QualifiedName, nameFromParts } from './ast.js';

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
  'random',
  'random_normal',
  'setseed',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'gen_random_bytes',
  'gen_salt',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'setval',
  'currval',
  'lastval',
  'txid_current',
  'pg_current_xact_id',
  'pg_sleep',
  'dblink',
  'pg_advisory_lock',
  'pg_try_advisory_lock',
  'set_config',
]);

const STABLE_FUNCTIONS = new Set([
  'now',
  'transaction_timestamp',
  'statement_timestamp',
  'current_setting',
  'current_database',
  'current_schema',
  'current_schemas',
  'current_user',
  'session_user',
  'current_role',
  'pg_backend_pid',
  'inet_client_addr',
  'to_char',
  'to_timestamp',
  'age',
  'concat',
  'concat_ws',
  'format',
  'to_json',
  'to_jsonb',
  'json_build_object',
  'jsonb_build_object',
  'json_build_array',
  'jsonb_build_array',
  'row_to_json',
  'array_to_json',
  'date_trunc',
  'date_part',
  'extract',
  'localtimestamp',
  'localtime',
  'current_date',
  'current_time',
  'current_timestamp',
  'timezone',
  'txid_current_snapshot',
  'pg_my_temp_schema',
]);

const IMMUTABLE_FUNCTIONS = new Set([
  'lower',
  'upper',
  'btrim',
  'ltrim',
  'rtrim',
  'trim',
  'length',
  'char_length',
  'octet_length',
  'substr',
  'substring',
  'replace',
  'md5',
  'abs',
  'round',
  'floor',
  'ceil',
  'ceiling',
  'greatest',
  'least',
  'coalesce',
  'nullif',
  'left',
  'right',
  'lpad',
  'rpad',
  'split_part',
  'make_interval',
  'make_date',
  'make_time',
  'uuid_nil',
  'uuid_ns_dns',
  'uuid_ns_url',
  'uuid_ns_oid',
  'uuid_ns_x500',
  'uuid_generate_v3',
  'uuid_generate_v5',
  'int4',
  'int8',
  'text',
  'jsonb_typeof',
  'array_length',
  'cardinality',
  'encode',
  'decode',
  'digest',
  'sha256',
  'sha512',
  'to_tsvector',
  'power',
  'mod',
  'sqrt',
  'exp',
  'ln',
  'log',
  'sign',
  'trunc',
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
    if (kind === 'FuncCall')
      functions.push(
        stringList((body as { funcname?: Node[] }).funcname)
          .join('.')
          .toLowerCase(),
      );
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

/** Prints an expression back as SQL; undefined when the deparser cannot. */
export function expressionText(ast: Node | undefined): string | undefined {
  if (!ast) return undefined;
  // An integer (DEFAULT 0, SET DEFAULT 1): printed as the deparser prints it, without loading it.
  const integer = (ast as { A_Const?: { ival?: { ival?: number } } }).A_Const;
  if (integer?.ival && Object.keys(integer).every((k) => k === 'ival' || k === 'location')) return String(integer.ival.ival ?? 0);
  try {
    // PostgreSQL's own grammar, printed back by the deparser made for libpg-query's AST: keeps
    // numeric literals (100.0), parentheses and SQL-syntax calls exactly.
    return deparseSync(ast as never, { pretty: false }).trim();
  } catch {
    return undefined;
  }
}
