import type { Node, ObjectType, RangeVar } from 'libpg-query';
import { nameFromNode, nameFromParts, nodeOf, relationName, stringList, type QualifiedName } from '../ast.js';
import type { CommentFacts, DropFacts, RenameFacts } from './types.js';
import { objectTypeName } from './common.js';

// Statements on any kind of object: DROP, RENAME, COMMENT.

export function drop(body: Record<string, unknown>): DropFacts {
  const stmt = body as { objects?: Node[]; removeType?: ObjectType; behavior?: string; missing_ok?: boolean; concurrent?: boolean };
  const objectType = objectTypeName(stmt.removeType ?? 'OBJECT_TABLE');
  const onTable = objectType === 'trigger' || objectType === 'policy' || objectType === 'rule';
  const names: QualifiedName[] = [];
  let table: QualifiedName | undefined;
  for (const object of stmt.objects ?? []) {
    if (onTable) {
      const parts = stringList(nodeOf<{ items?: Node[] }>(object, 'List')?.items);
      names.push({ name: parts[parts.length - 1] ?? '' });
      table = nameFromParts(parts.slice(0, -1));
    } else {
      const name = nameFromNode(object);
      if (name) names.push(name);
    }
  }
  return {
    kind: 'drop',
    objectType,
    names,
    ...(table ? { table } : {}),
    ifExists: stmt.missing_ok ?? false,
    cascade: stmt.behavior === 'DROP_CASCADE',
    concurrently: stmt.concurrent ?? false,
  };
}

export function rename(body: Record<string, unknown>): RenameFacts {
  const stmt = body as { renameType?: ObjectType; relation?: RangeVar; object?: Node; subname?: string; newname?: string; missing_ok?: boolean };
  const objectType = objectTypeName(stmt.renameType ?? 'OBJECT_TABLE');
  const ifExists = stmt.missing_ok ?? false;
  const to = stmt.newname ?? '';
  if (stmt.relation) {
    const relation = relationName(stmt.relation);
    if (stmt.subname !== undefined) {
      return { kind: 'rename', objectType, target: relation, table: relation, from: stmt.subname, to, ifExists };
    }
    return { kind: 'rename', objectType, target: relation, from: relation.name, to, ifExists };
  }
  if (objectType === 'schema' || stmt.object === undefined) {
    const from = stmt.subname ?? '';
    return { kind: 'rename', objectType, target: { name: from }, from, to, ifExists };
  }
  const target = nameFromNode(stmt.object) ?? { name: '' };
  return { kind: 'rename', objectType, target, from: target.name, to, ifExists };
}

export function comment(body: Record<string, unknown>): CommentFacts {
  const stmt = body as { objtype?: ObjectType; object?: Node; comment?: string };
  const objectType = objectTypeName(stmt.objtype ?? 'OBJECT_TABLE');
  const text = stmt.comment ?? null;
  const memberOfTable = objectType === 'column' || objectType === 'tabconstraint' || objectType === 'trigger' || objectType === 'policy' || objectType === 'rule';
  if (memberOfTable) {
    const parts = stringList(nodeOf<{ items?: Node[] }>(stmt.object, 'List')?.items);
    return { kind: 'comment', objectType: objectType === 'tabconstraint' ? 'constraint' : objectType, target: nameFromParts(parts.slice(0, -1)), member: parts[parts.length - 1] ?? '', text };
  }
  return { kind: 'comment', objectType, target: nameFromNode(stmt.object) ?? { name: '' }, text };
}
