import type { ColumnDef, Constraint, Node, ObjectType, RangeVar, TypeName } from 'libpg-query';
import { nameFromParts, nodeOf, relationName, stringList } from '../ast.js';
import { typeRefFromTypeName } from '../datatypes.js';
import type { AlterTypeFacts, CreateTypeFacts, OtherFacts } from './types.js';
import type { FactReader } from './reader.js';

// CREATE TYPE (enum, composite, range, base), CREATE DOMAIN, ALTER TYPE … ADD/RENAME VALUE.

export function alterEnum(body: Record<string, unknown>): AlterTypeFacts {
  const stmt = body as { typeName?: Node[]; oldVal?: string; newVal?: string; newValNeighbor?: string; newValIsAfter?: boolean; skipIfNewValExists?: boolean };
  const name = nameFromParts(stringList(stmt.typeName));
  if (stmt.oldVal !== undefined) {
    return { kind: 'alter-type', name, action: 'rename-value', value: stmt.newVal ?? '', oldValue: stmt.oldVal, ifNotExists: false };
  }
  const facts: AlterTypeFacts = { kind: 'alter-type', name, action: 'add-value', value: stmt.newVal ?? '', ifNotExists: stmt.skipIfNewValExists ?? false };
  if (stmt.newValNeighbor !== undefined) {
    if (stmt.newValIsAfter) facts.after = stmt.newValNeighbor;
    else facts.before = stmt.newValNeighbor;
  }
  return facts;
}

/** CREATE TYPE … AS ENUM (CreateEnumStmt). */
export function createEnum(body: Record<string, unknown>): CreateTypeFacts {
  return {
    kind: 'create-type',
    name: nameFromParts(stringList((body as { typeName?: Node[] }).typeName)),
    variant: 'enum',
    values: stringList((body as { vals?: Node[] }).vals),
  };
}

/** CREATE TYPE … AS (composite) (CompositeTypeStmt). */
export function createCompositeType(r: FactReader, body: Record<string, unknown>): CreateTypeFacts {
  const composite = body as { typevar?: RangeVar; coldeflist?: Node[] };
  const attributes = (composite.coldeflist ?? [])
    .map((node) => nodeOf<ColumnDef>(node, 'ColumnDef'))
    .filter((def): def is ColumnDef => def !== undefined)
    .map((def) => r.column(def));
  return { kind: 'create-type', name: relationName(composite.typevar), variant: 'composite', attributes };
}

/** CREATE TYPE … AS RANGE (CreateRangeStmt). */
export function createRange(body: Record<string, unknown>): CreateTypeFacts {
  return { kind: 'create-type', name: nameFromParts(stringList((body as { typeName?: Node[] }).typeName)), variant: 'range' };
}

/** CREATE TYPE (base type); other DEFINE statements are not read (DefineStmt). */
export function defineType(body: Record<string, unknown>): CreateTypeFacts | OtherFacts {
  const define = body as { kind?: ObjectType; defnames?: Node[] };
  if (define.kind === 'OBJECT_TYPE') return { kind: 'create-type', name: nameFromParts(stringList(define.defnames)), variant: 'base' };
  return { kind: 'other', nodeKind: 'DefineStmt' };
}

/** CREATE DOMAIN (CreateDomainStmt). */
export function createDomain(r: FactReader, body: Record<string, unknown>): CreateTypeFacts {
  const domain = body as { domainname?: Node[]; typeName?: TypeName; constraints?: Node[] };
  const constraints = (domain.constraints ?? [])
    .map((node) => nodeOf<Constraint>(node, 'Constraint'))
    .filter((c): c is Constraint => c !== undefined && (c.contype === 'CONSTR_CHECK' || c.contype === 'CONSTR_NOTNULL'))
    .map((c) => r.constraint(c, []));
  return {
    kind: 'create-type',
    name: nameFromParts(stringList(domain.domainname)),
    variant: 'domain',
    baseType: typeRefFromTypeName(domain.typeName),
    constraints,
  };
}
