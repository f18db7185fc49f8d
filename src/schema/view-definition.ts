import { loadModule, parseSync, scanSync } from 'libpg-query';

let parserReady: Promise<void> | undefined;

/** libpg-query's WASM module must be loaded once before the synchronous calls below. */
export function ensureViewParser(): Promise<void> {
  parserReady ??= loadModule();
  return parserReady;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * `pg_get_viewdef` text in the form PostgreSQL 16+ prints it, whichever version printed it.
 *
 * Up to PostgreSQL 15 a view's query carried two hidden range-table entries (OLD and NEW), so the
 * deparser always qualified column references (`SELECT users.id FROM public.users`). From 16 on,
 * a query whose own range table has exactly one entry is printed without qualifiers
 * (`SELECT id FROM public.users`); nested queries (sublinks, FROM subqueries, CTE bodies,
 * set-operation arms) are qualified on every version. So: when the top-level SELECT reads exactly
 * one FROM item that is not a join, drop the qualifier of its own two-part column references.
 * Whole-row references (`u.*`) keep theirs on every version. The text is read with PostgreSQL's
 * parser and scanner, and edited only at the positions they report; anything unexpected leaves
 * the definition as it was.
 *
 * Needs `ensureViewParser()` to have resolved.
 */
export function normalizeViewDefinition(definition: string): string {
  let tree: { stmts?: { stmt?: Json }[] };
  try {
    tree = parseSync(definition) as unknown as { stmts?: { stmt?: Json }[] };
  } catch {
    return definition;
  }
  const top = tree.stmts?.length === 1 ? tree.stmts[0]?.stmt : undefined;
  const select = asObject(asObject(top)?.['SelectStmt']);
  if (!select) return definition;
  const op = select['op'];
  if (op !== undefined && op !== 'SETOP_NONE') return definition;
  const from = select['fromClause'];
  if (!Array.isArray(from) || from.length !== 1 || asObject(from[0])?.['JoinExpr'] !== undefined) return definition;

  const locations: number[] = [];
  for (const [key, value] of Object.entries(select)) {
    if (key === 'withClause') continue;
    collectQualifiedColumnRefs(value, locations);
  }
  if (locations.length === 0) return definition;

  // libpg-query reports byte offsets into the UTF-8 text.
  const bytes = Buffer.from(definition, 'utf8');
  const tokens = scanSync(definition).tokens;
  const cuts: [number, number][] = [];
  for (const location of locations) {
    const i = tokens.findIndex((t) => t.start === location);
    const dot = i >= 0 ? tokens[i + 1] : undefined;
    if (!dot || bytes.subarray(dot.start, dot.end).toString('utf8') !== '.') return definition;
    cuts.push([location, dot.end]);
  }
  cuts.sort((a, b) => b[0] - a[0]);
  let out = bytes;
  for (const [start, end] of cuts) out = Buffer.concat([out.subarray(0, start), out.subarray(end)]);
  return out.toString('utf8');
}

function asObject(value: Json | undefined): { [key: string]: Json } | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

/** Two-part `qualifier.column` references of this query level: nested SELECTs are left alone. */
function collectQualifiedColumnRefs(node: Json | undefined, out: number[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collectQualifiedColumnRefs(item, out);
    return;
  }
  const object = asObject(node);
  if (!object) return;
  for (const [key, value] of Object.entries(object)) {
    if (key === 'SelectStmt') continue;
    if (key === 'ColumnRef') {
      const ref = asObject(value);
      const fields = ref?.['fields'];
      const location = ref?.['location'];
      if (Array.isArray(fields) && fields.length === 2 && fields.every((f) => asObject(f)?.['String'] !== undefined) && typeof location === 'number') {
        out.push(location);
      }
      continue;
    }
    collectQualifiedColumnRefs(value, out);
  }
}
