import type { IndexElem, IndexStmt, Node, RangeVar } from 'libpg-query';
import { defElemText, defElems, nodeOf, relationName, stringList } from '../ast.js';
import type { CreateIndexFacts, IndexColumnFacts, ReindexFacts } from './types.js';
import type { FactReader } from './reader.js';

// CREATE INDEX and REINDEX.

export function createIndex(r: FactReader, stmt: IndexStmt): CreateIndexFacts {
  const columns: IndexColumnFacts[] = [];
  for (const node of stmt.indexParams ?? []) {
    const elem = nodeOf<IndexElem>(node, 'IndexElem');
    if (!elem) continue;
    const column: IndexColumnFacts = { descending: elem.ordering === 'SORTBY_DESC' };
    if (elem.name) column.column = elem.name;
    if (elem.expr) column.expression = r.expression(elem.expr);
    const opclass = stringList(elem.opclass).join('.');
    if (opclass) column.opclass = opclass;
    const collation = stringList(elem.collation).join('.');
    if (collation) column.collation = collation;
    columns.push(column);
  }
  const include = (stmt.indexIncludingParams ?? []).map((node) => nodeOf<IndexElem>(node, 'IndexElem')?.name ?? '').filter(Boolean);
  const facts: CreateIndexFacts = {
    kind: 'create-index',
    table: relationName(stmt.relation),
    unique: stmt.unique ?? false,
    concurrently: stmt.concurrent ?? false,
    ifNotExists: stmt.if_not_exists ?? false,
    only: stmt.relation ? !(stmt.relation.inh ?? false) : false,
    method: stmt.accessMethod ?? 'btree',
    columns,
    include,
    nullsNotDistinct: stmt.nulls_not_distinct ?? false,
  };
  if (stmt.idxname) facts.name = stmt.idxname;
  if (stmt.whereClause) facts.where = r.expression(stmt.whereClause);
  return facts;
}

/** REINDEX (ReindexStmt). */
export function reindex(body: Record<string, unknown>): ReindexFacts {
  const reindex = body as { kind?: string; relation?: RangeVar; name?: string; params?: Node[] };
  const target = (reindex.kind ?? 'REINDEX_OBJECT_INDEX').replace('REINDEX_OBJECT_', '').toLowerCase() as ReindexFacts['target'];
  const opts = defElems(reindex.params);
  return {
    kind: 'reindex',
    target,
    name: reindex.relation ? relationName(reindex.relation) : { name: reindex.name ?? '' },
    concurrently: opts.has('concurrently') && defElemText(opts.get('concurrently')) !== 'false',
  };
}
