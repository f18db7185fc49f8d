import type { A_Const, Node, RangeVar } from 'libpg-query';

/** A relation, type or other object name; `schema` only when the SQL spelled it. */
export interface QualifiedName {
  schema?: string;
  name: string;
}

/** The node type and body of an AST node, e.g. `['IndexStmt', {...}]`. */
export function unwrap(node: Node | undefined): [string, Record<string, unknown>] | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const key = Object.keys(node)[0];
  if (!key) return undefined;
  return [key, (node as unknown as Record<string, Record<string, unknown>>)[key] ?? {}];
}

/** The body of a node when it has the given type. */
export function nodeOf<T>(node: Node | undefined, kind: string): T | undefined {
  const entry = unwrap(node);
  return entry && entry[0] === kind ? (entry[1] as T) : undefined;
}

export function relationName(range: RangeVar | undefined): QualifiedName {
  const name = range?.relname ?? '';
  return range?.schemaname ? { schema: range.schemaname, name } : { name };
}

/** `String` nodes of a list, e.g. a qualified name list `[schema, name]` or a column list. */
export function stringList(nodes: Node[] | undefined): string[] {
  const out: string[] = [];
  for (const node of nodes ?? []) {
    const value = nodeOf<{ sval?: string }>(node, 'String');
    if (value) out.push(value.sval ?? '');
  }
  return out;
}

/** `[schema, name]` or `[name]` (a catalog prefix is dropped) as a qualified name. */
export function nameFromParts(parts: string[]): QualifiedName {
  const name = parts[parts.length - 1] ?? '';
  const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  return schema !== undefined ? { schema, name } : { name };
}

/** A name list node: `List` of `String`s, or a `TypeName`, or a bare `String`. */
export function nameFromNode(node: Node | undefined): QualifiedName | undefined {
  const entry = unwrap(node);
  if (!entry) return undefined;
  const [kind, body] = entry;
  if (kind === 'List') return nameFromParts(stringList((body as { items?: Node[] }).items));
  if (kind === 'String') return { name: (body as { sval?: string }).sval ?? '' };
  if (kind === 'TypeName') return nameFromParts(stringList((body as { names?: Node[] }).names));
  if (kind === 'ObjectWithArgs') return nameFromParts(stringList((body as { objname?: Node[] }).objname));
  if (kind === 'RangeVar') return relationName(body as RangeVar);
  return undefined;
}

export function formatName(name: QualifiedName): string {
  return name.schema ? `${name.schema}.${name.name}` : name.name;
}

/** Same object, comparing the schema only when both sides name one. */
export function sameName(a: QualifiedName, b: QualifiedName): boolean {
  if (a.name !== b.name) return false;
  return a.schema === undefined || b.schema === undefined || a.schema === b.schema;
}

export type ConstantValue = string | number | boolean | null;

/** The value of an `A_Const` (the JSON form omits zero and false). */
export function constantValue(value: A_Const): ConstantValue {
  if (value.isnull) return null;
  if (value.sval) return value.sval.sval ?? '';
  if (value.ival) return value.ival.ival ?? 0;
  if (value.fval) return Number(value.fval.fval ?? '0');
  if (value.boolval) return value.boolval.boolval ?? false;
  if (value.bsval) return value.bsval.bsval ?? '';
  return null;
}

/** A literal number from an `A_Const` or `Integer` node. */
export function integerOf(node: Node | undefined): number | undefined {
  const constant = nodeOf<A_Const>(node, 'A_Const');
  if (constant) {
    const value = constantValue(constant);
    return typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
  }
  const integer = nodeOf<{ ival?: number }>(node, 'Integer');
  if (integer) return integer.ival ?? 0;
  return undefined;
}

/** Visits every node under `root` (depth first, the root included), stopping descent where `visit` returns false. */
// biome-ignore lint/suspicious/noConfusingVoidType: visitors that return nothing (void) are the common case.
export function walk(root: unknown, visit: (kind: string, body: Record<string, unknown>) => boolean | void): void {
  const visitValue = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visitValue(item);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const keys = Object.keys(value);
    // A node is a one-key object whose key is a capitalised node type.
    if (keys.length === 1 && /^[A-Z]/.test(keys[0]!)) {
      const kind = keys[0]!;
      const body = (value as Record<string, unknown>)[kind];
      if (body && typeof body === 'object' && !Array.isArray(body)) {
        if (visit(kind, body as Record<string, unknown>) === false) return;
        for (const child of Object.values(body)) visitValue(child);
        return;
      }
    }
    for (const child of Object.values(value)) visitValue(child);
  };
  visitValue(root);
}

/** `DefElem` options as a name → node map (`WITH (...)`, vacuum options, …). */
export function defElems(nodes: Node[] | undefined): Map<string, Node | undefined> {
  const out = new Map<string, Node | undefined>();
  for (const node of nodes ?? []) {
    const def = nodeOf<{ defname?: string; arg?: Node }>(node, 'DefElem');
    if (def?.defname) out.set(def.defname, def.arg);
  }
  return out;
}

/** The text value of a `DefElem` argument (`String`, `Integer`, `A_Const`, a type name, …). */
export function defElemText(node: Node | undefined): string | undefined {
  const entry = unwrap(node);
  if (!entry) return undefined;
  const [kind, body] = entry;
  switch (kind) {
    case 'String':
      return (body as { sval?: string }).sval ?? '';
    case 'Integer':
      return String((body as { ival?: number }).ival ?? 0);
    case 'Float':
      return (body as { fval?: string }).fval ?? '0';
    case 'Boolean':
      return String((body as { boolval?: boolean }).boolval ?? false);
    case 'A_Const': {
      const value = constantValue(body as A_Const);
      return value === null ? undefined : String(value);
    }
    case 'TypeName':
      return stringList((body as { names?: Node[] }).names).join('.');
    case 'List':
      return stringList((body as { items?: Node[] }).items).join('.');
    default:
      return undefined;
  }
}
