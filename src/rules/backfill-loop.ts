import { scanSync } from 'libpg-query';
import { unwrap } from '../sql/ast.js';
import { jsString, keysetLoop } from '../codegen/index.js';
import { primaryKeyColumn, shortName } from './helpers.js';
import type { AnalyzedStatement, RuleContext } from './types.js';

// An UPDATE / DELETE rewritten as key-range batches: unbatched-backfill's fix, and set-not-null-scan's
// backfill step.

interface SqlPieces {
  /** The statement up to its top-level WHERE (or RETURNING / end), placeholders as `?`. */
  head: string;
  /** The WHERE condition, without the keyword. */
  condition?: string;
  headBindings: unknown[];
  conditionBindings: unknown[];
}

/**
 * Cuts an UPDATE / DELETE into its head and its top-level WHERE condition (RETURNING dropped),
 * using PostgreSQL's scanner; `$n` placeholders become knex `?` with their values, literal `?`
 * characters are escaped for knex.raw. Undefined when the bindings cannot be written as JSON.
 */
function cutDml(sql: string, bindings: readonly unknown[]): SqlPieces | undefined {
  let tokens;
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    return undefined;
  }
  const bytes = Buffer.from(sql, 'utf8');
  let depth = 0;
  let where: number | undefined;
  let end = bytes.length;
  for (const t of tokens) {
    const text = t.text.toLowerCase();
    if (text === '(' || text === '[') depth++;
    else if (text === ')' || text === ']') depth--;
    else if (depth === 0 && t.keywordKind !== 0 && text === 'where' && where === undefined) where = t.start;
    else if (depth === 0 && t.keywordKind !== 0 && text === 'returning') {
      end = t.start;
      break;
    }
  }
  let ok = true;
  const piece = (from: number, to: number, out: unknown[]): string => {
    let text = '';
    let at = from;
    for (const t of tokens) {
      if (t.start < from || t.end > to) continue;
      text += bytes.subarray(at, t.start).toString('utf8');
      if (t.tokenName === 'PARAM') {
        const n = Number(t.text.slice(1));
        const value = bindings[n - 1];
        if (n < 1 || n > bindings.length || !jsonable(value)) ok = false;
        out.push(value instanceof Date ? value.toISOString() : (value ?? null));
        text += '?';
      } else text += t.text.replace(/\?/g, '\\?');
      at = t.end;
    }
    return (text + bytes.subarray(at, to).toString('utf8')).trim();
  };
  const headBindings: unknown[] = [];
  const conditionBindings: unknown[] = [];
  const head = piece(0, where ?? end, headBindings);
  const condition = where !== undefined ? piece(where + 'where'.length, end, conditionBindings) : undefined;
  if (!ok) return undefined;
  return { head, ...(condition ? { condition } : {}), headBindings, conditionBindings };
}

function jsonable(value: unknown): boolean {
  if (value === null || value === undefined || value instanceof Date) return true;
  if (typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(jsonable);
  return typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && Object.values(value as object).every(jsonable);
}

/** The alias or bare name a DML statement refers to its target table by. */
function targetReference(statement: AnalyzedStatement): string | undefined {
  const entry = unwrap(statement.ast);
  const body = entry?.[1] as { relation?: { relname?: string; alias?: { aliasname?: string } } } | undefined;
  return body?.relation?.alias?.aliasname ?? body?.relation?.relname;
}

/**
 * Body lines of an `up` that runs the statement in key-range batches on the primary key, each
 * UPDATE / DELETE committing on its own; undefined when it cannot be written.
 */
export function batchedLoop(statement: AnalyzedStatement, context: RuleContext, table: string, knexVar = 'knex'): string[] | undefined {
  const pieces = cutDml(statement.sql, statement.captured?.bindings ?? []);
  const ref = targetReference(statement);
  if (!pieces || !ref) return undefined;
  const pk = primaryKeyColumn(context, table);
  const key = pk ?? 'id';
  return [
    ...(pk ? [] : [`// ${shortName(table)} has no single-column primary key: replace ${key} with a unique, indexed column.`]),
    ...keysetLoop({
      table,
      key,
      ref,
      head: pieces.head,
      ...(pieces.condition ? { condition: pieces.condition } : {}),
      values: [...pieces.headBindings, ...pieces.conditionBindings].map((v) => (typeof v === 'string' ? jsString(v) : JSON.stringify(v))),
      knexVar,
    }),
  ];
}
