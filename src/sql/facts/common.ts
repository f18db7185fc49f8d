import type { A_Const, Node, ObjectType, RangeVar } from 'libpg-query';
import { constantValue, nodeOf, relationName, walk, type QualifiedName } from '../ast.js';

// Small readings several statement families share: object kinds, option lists, literal
// arguments, the relations a statement reads.

/** `OBJECT_MATVIEW` → `materialized-view`, `OBJECT_FOREIGN_TABLE` → `foreign-table`. */
export function objectTypeName(type: ObjectType | string): string {
  if (type === 'OBJECT_MATVIEW') return 'materialized-view';
  return type
    .replace(/^OBJECT_/, '')
    .toLowerCase()
    .replace(/_/g, '-');
}

export function optionNames(def: Node | undefined): string[] {
  const names: string[] = [];
  for (const node of nodeOf<{ items?: Node[] }>(def, 'List')?.items ?? []) {
    const option = nodeOf<{ defnamespace?: string; defname?: string }>(node, 'DefElem');
    if (option?.defname) names.push(option.defnamespace ? `${option.defnamespace}.${option.defname}` : option.defname);
  }
  return names;
}

export function literalArgument(node: Node | undefined): string | number | boolean | null | undefined {
  const constant = nodeOf<A_Const>(node, 'A_Const');
  if (constant) return constantValue(constant);
  const cast = nodeOf<{ arg?: Node }>(node, 'TypeCast');
  if (cast) return literalArgument(cast.arg);
  return undefined;
}

/**
 * Tables a statement reads (FROM, USING, JOIN, subqueries), CTE names excluded. A DML target is a
 * plain field, not a `RangeVar` node, so it is listed only when a subquery reads it too.
 */
export function relationsRead(root: unknown): QualifiedName[] {
  const cteNames = new Set<string>();
  walk(root, (kind, body) => {
    if (kind === 'CommonTableExpr') cteNames.add((body as { ctename?: string }).ctename ?? '');
  });
  const out: QualifiedName[] = [];
  const seen = new Set<string>();
  walk(root, (kind, body) => {
    if (kind !== 'RangeVar') return;
    const range = body as RangeVar;
    if (!range.schemaname && cteNames.has(range.relname ?? '')) return;
    const name = relationName(range);
    const key = `${name.schema ?? ''}.${name.name}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(name);
  });
  return out;
}
