import type { Node, RangeVar } from 'libpg-query';
import { integerOf, nodeOf, relationName, stringList, walk } from '../ast.js';
import type { BatchFacts, CreateTableAsFacts, DeleteFacts, InsertFacts, MergeFacts, SelectFacts, UpdateFacts } from './types.js';
import { literalArgument, relationsRead } from './common.js';
import { timeSettingMilliseconds } from './session.js';

// UPDATE, DELETE, INSERT, MERGE, SELECT (and how an UPDATE/DELETE is batched).

export function update(body: Record<string, unknown>): UpdateFacts {
  const stmt = body as { relation?: RangeVar; targetList?: Node[]; whereClause?: Node; fromClause?: Node[]; returningClause?: unknown; returningList?: Node[]; withClause?: unknown };
  const columns = (stmt.targetList ?? []).map((node) => nodeOf<{ name?: string }>(node, 'ResTarget')?.name ?? '').filter(Boolean);
  return { kind: 'update', table: relationName(stmt.relation), columns: [...new Set(columns)], ...rowsWritten(body, stmt, [stmt.fromClause, stmt.withClause]) };
}

export function deleteFrom(body: Record<string, unknown>): DeleteFacts {
  const stmt = body as { relation?: RangeVar; whereClause?: Node; usingClause?: Node[]; withClause?: unknown; returningClause?: unknown; returningList?: Node[] };
  return { kind: 'delete', table: relationName(stmt.relation), ...rowsWritten(body, stmt, [stmt.usingClause, stmt.withClause]) };
}

/** What UPDATE and DELETE share: which rows (WHERE, and whether in batches), what else they read, RETURNING. */
function rowsWritten(
  body: Record<string, unknown>,
  stmt: { whereClause?: Node; returningClause?: unknown; returningList?: Node[] },
  joined: unknown[],
): Pick<UpdateFacts, 'hasWhere' | 'readsFrom' | 'returning' | 'batch'> {
  const batch = batchOf(stmt.whereClause, joined);
  return { hasWhere: stmt.whereClause !== undefined, readsFrom: relationsRead(body), returning: hasReturning(stmt), ...(batch ? { batch } : {}) };
}

export function insert(body: Record<string, unknown>): InsertFacts {
  const stmt = body as { relation?: RangeVar; cols?: Node[]; selectStmt?: Node; onConflictClause?: { action?: string }; returningClause?: unknown; returningList?: Node[] };
  const select = nodeOf<{ valuesLists?: Node[]; fromClause?: Node[] }>(stmt.selectStmt, 'SelectStmt');
  const values = select?.valuesLists;
  const facts: InsertFacts = {
    kind: 'insert',
    table: relationName(stmt.relation),
    columns: (stmt.cols ?? []).map((node) => nodeOf<{ name?: string }>(node, 'ResTarget')?.name ?? ''),
    fromQuery: stmt.selectStmt !== undefined && values === undefined,
    readsFrom: relationsRead(body),
    returning: hasReturning(stmt),
  };
  if (values) facts.rows = values.length;
  const action = stmt.onConflictClause?.action;
  if (action === 'ONCONFLICT_NOTHING') facts.onConflict = 'nothing';
  else if (action === 'ONCONFLICT_UPDATE') facts.onConflict = 'update';
  return facts;
}

export function select(body: Record<string, unknown>): SelectFacts | CreateTableAsFacts {
  const stmt = body as { intoClause?: { rel?: RangeVar; skipData?: boolean }; lockingClause?: Node[] };
  const readsFrom = relationsRead(body);
  if (stmt.intoClause?.rel) {
    return {
      kind: 'create-table-as',
      table: relationName(stmt.intoClause.rel),
      ifNotExists: false,
      withData: !(stmt.intoClause.skipData ?? false),
      temporary: stmt.intoClause.rel.relpersistence === 't',
      readsFrom,
    };
  }
  const setConfig: SelectFacts['setConfig'] = [];
  const functions = new Set<string>();
  walk(body, (kind, node) => {
    if (kind !== 'FuncCall') return;
    const call = node as { funcname?: Node[]; args?: Node[] };
    const name = stringList(call.funcname).join('.').toLowerCase();
    functions.add(name);
    if (name === 'set_config' || name === 'pg_catalog.set_config') {
      const [setting, value, local] = (call.args ?? []).map(literalArgument);
      if (typeof setting === 'string' && (typeof value === 'string' || typeof value === 'number')) {
        const entry: SelectFacts['setConfig'][number] = { name: setting.toLowerCase(), value: String(value), local: local === true || local === 'true' || local === 't' };
        const ms = timeSettingMilliseconds(entry.name, entry.value);
        if (ms !== undefined) entry.milliseconds = ms;
        setConfig.push(entry);
      }
    }
  });
  const facts: SelectFacts = { kind: 'select', readsFrom, setConfig, functions: [...functions] };
  let strongest = -1;
  const strengths = ['LCS_FORKEYSHARE', 'LCS_FORSHARE', 'LCS_FORNOKEYUPDATE', 'LCS_FORUPDATE'];
  const names = ['for key share', 'for share', 'for no key update', 'for update'] as const;
  for (const node of stmt.lockingClause ?? []) {
    const strength = strengths.indexOf(nodeOf<{ strength?: string }>(node, 'LockingClause')?.strength ?? '');
    strongest = Math.max(strongest, strength);
  }
  if (strongest >= 0) facts.locking = names[strongest]!;
  return facts;
}

/** MERGE (MergeStmt). */
export function merge(body: Record<string, unknown>): MergeFacts {
  const merge = body as { relation?: RangeVar };
  const table = relationName(merge.relation);
  return { kind: 'merge', table, readsFrom: relationsRead(body) };
}

function hasReturning(stmt: { returningClause?: unknown; returningList?: Node[] }): boolean {
  const clause = stmt.returningClause as { exprs?: Node[] } | undefined;
  return (clause?.exprs?.length ?? 0) > 0 || (stmt.returningList?.length ?? 0) > 0;
}

function columnOf(node: Node | undefined): string | undefined {
  const ref = nodeOf<{ fields?: Node[] }>(node, 'ColumnRef');
  const fields = stringList(ref?.fields);
  return fields[fields.length - 1];
}

/** Recognises the usual batch shapes of a backfill's WHERE clause (and its FROM / WITH / USING parts). */
function batchOf(where: Node | undefined, extra: unknown[]): BatchFacts | undefined {
  let limit: BatchFacts | undefined;
  const findLimit = (root: unknown) =>
    walk(root, (kind, body) => {
      if (limit) return false;
      if (kind === 'SelectStmt' && (body as { limitCount?: Node }).limitCount) {
        const count = integerOf((body as { limitCount?: Node }).limitCount);
        limit = count !== undefined ? { kind: 'limit', limit: count } : { kind: 'limit' };
        return false;
      }
      return true;
    });
  findLimit(where);
  for (const part of extra) findLimit(part);
  if (limit) return limit;
  if (!where) return undefined;
  return conjunctBatch(where);
}

function conjunctBatch(where: Node): BatchFacts | undefined {
  const conjuncts: Node[] = [];
  const bool = nodeOf<{ boolop?: string; args?: Node[] }>(where, 'BoolExpr');
  if (bool?.boolop === 'AND_EXPR') conjuncts.push(...(bool.args ?? []));
  else conjuncts.push(where);
  const lower = new Set<string>();
  const upper = new Set<string>();
  for (const conjunct of conjuncts) {
    const expr = nodeOf<{ kind?: string; name?: Node[]; lexpr?: Node; rexpr?: Node }>(conjunct, 'A_Expr');
    if (!expr) continue;
    const column = columnOf(expr.lexpr);
    if (!column) continue;
    const op = stringList(expr.name)[0];
    if (expr.kind === 'AEXPR_BETWEEN' || expr.kind === 'AEXPR_BETWEEN_SYM') return { kind: 'range', column };
    if (expr.kind === 'AEXPR_IN' && op === '=') {
      const size = nodeOf<{ items?: Node[] }>(expr.rexpr, 'List')?.items?.length ?? 0;
      return { kind: 'key-list', column, size };
    }
    if (expr.kind === 'AEXPR_OP_ANY' && op === '=') {
      const array = nodeOf<{ elements?: Node[] }>(expr.rexpr, 'A_ArrayExpr');
      if (array) return { kind: 'key-list', column, size: array.elements?.length ?? 0 };
      const literal = literalArgument(expr.rexpr);
      if (typeof literal === 'string' && literal.startsWith('{')) return { kind: 'key-list', column, size: literal.slice(1, -1).split(',').filter(Boolean).length };
    }
    if (expr.kind === 'AEXPR_OP') {
      if (op === '>' || op === '>=') lower.add(column);
      if (op === '<' || op === '<=') upper.add(column);
    }
  }
  for (const column of lower) if (upper.has(column)) return { kind: 'range', column };
  return undefined;
}

/** The smallest non-negative `location` in a tree (node bodies and plain fields such as `relation`). */
