import type { ColumnInfo, ConstraintInfo, FunctionInfo, IndexInfo, SchemaChange, TriggerInfo, ViewInfo } from '../schema/index.js';

/**
 * SQL that brings the target back to the schema its migrations produce, one statement per schema
 * difference that has an obvious inverse. Differences without one (a changed view, a missing
 * table) get no statement: the finding's text says what to do instead.
 */

const SIMPLE_IDENTIFIER = /^[a-z_][a-z0-9_$]*$/;
/** Reserved words that are also common table and column names. */
const RESERVED = new Set(['user', 'order', 'group', 'table', 'select', 'where', 'from', 'to', 'default', 'check', 'column', 'constraint', 'references', 'primary', 'foreign', 'unique', 'limit', 'offset', 'end', 'desc', 'asc', 'all', 'and', 'or', 'not', 'null', 'true', 'false', 'case', 'when', 'then', 'else', 'grant', 'create', 'index', 'key', 'role', 'analyse', 'analyze', 'offset', 'window', 'with', 'union', 'using', 'on', 'in', 'is', 'as', 'into', 'having', 'fetch', 'for', 'only', 'some', 'any', 'array', 'both', 'cast', 'do', 'distinct', 'leading', 'trailing', 'placing', 'returning', 'session_user', 'current_user', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'lateral', 'collate', 'deferrable', 'initially', 'symmetric', 'variadic', 'verbose', 'freeze', 'join', 'left', 'right', 'inner', 'outer', 'full', 'cross', 'natural', 'like', 'ilike', 'similar', 'between', 'overlaps', 'notnull', 'isnull']);

export function quoteIdent(name: string): string {
  return SIMPLE_IDENTIFIER.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** `public.users` → `users`; other schemas stay qualified. */
export function qualified(key: string): string {
  const dot = key.indexOf('.');
  if (dot === -1) return quoteIdent(key);
  const schema = key.slice(0, dot);
  const name = key.slice(dot + 1);
  return schema === 'public' ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** `public.users.email` → [`users`, `email`]. */
function member(key: string): [string, string] {
  const last = key.lastIndexOf('.');
  return [qualified(key.slice(0, last)), quoteIdent(key.slice(last + 1))];
}

function columnDefinition(c: ColumnInfo): string {
  const parts = [c.type];
  if (c.identity) parts.push(`GENERATED ${c.identity.toUpperCase()} AS IDENTITY`);
  if (c.generated) parts.push(`GENERATED ALWAYS AS ${c.generated}`);
  if (c.default !== null && !c.identity && !c.generated) parts.push(`DEFAULT ${c.default}`);
  if (!c.nullable) parts.push('NOT NULL');
  return parts.join(' ');
}

/** Order in which objects are dropped: dependants first. */
const DROP_ORDER = ['policy', 'trigger', 'view', 'index', 'constraint', 'column', 'table', 'sequence', 'function', 'enum', 'composite', 'domain', 'extension', 'schema', 'comment'];

/** Removes an object that exists but should not (left by a partial run, or made by hand). */
export function dropStatement(change: SchemaChange): string | undefined {
  const key = change.object;
  const info = (change.actual ?? change.expected) as Record<string, unknown> | undefined;
  switch (change.kind) {
    case 'table':
      return `DROP TABLE ${qualified(key)};`;
    case 'column': {
      const [table, column] = member(key);
      return `ALTER TABLE ${table} DROP COLUMN ${column};`;
    }
    case 'constraint': {
      const [table, constraint] = member(key);
      return `ALTER TABLE ${table} DROP CONSTRAINT ${constraint};`;
    }
    case 'index':
      return `DROP INDEX ${qualified(key)};`;
    case 'sequence':
      return `DROP SEQUENCE ${qualified(key)};`;
    case 'enum':
    case 'composite':
      return `DROP TYPE ${qualified(key)};`;
    case 'domain':
      return `DROP DOMAIN ${qualified(key)};`;
    case 'view':
      return `DROP ${(info as unknown as ViewInfo | undefined)?.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${qualified(key)};`;
    case 'function': {
      const f = info as unknown as FunctionInfo | undefined;
      if (!f) return undefined;
      return `DROP ${f.kind === 'procedure' ? 'PROCEDURE' : f.kind === 'aggregate' ? 'AGGREGATE' : 'FUNCTION'} ${f.schema === 'public' ? '' : `${quoteIdent(f.schema)}.`}${f.signature};`;
    }
    case 'trigger': {
      const t = info as unknown as TriggerInfo | undefined;
      return t ? `DROP TRIGGER ${quoteIdent(t.name)} ON ${qualified(t.table)};` : undefined;
    }
    case 'extension':
      return `DROP EXTENSION ${quoteIdent(key)};`;
    case 'schema':
      return `DROP SCHEMA ${quoteIdent(key)};`;
    default:
      return undefined;
  }
}

/** Makes the target match the expected schema for one difference, when the inverse is obvious. */
export function restoreStatement(change: SchemaChange): string | undefined {
  if (change.change === 'extra') return dropStatement(change);
  const key = change.object;
  if (change.change === 'missing') {
    switch (change.kind) {
      case 'column': {
        const [table, column] = member(key);
        return `ALTER TABLE ${table} ADD COLUMN ${column} ${columnDefinition(change.expected as ColumnInfo)};`;
      }
      case 'index':
        return `${(change.expected as IndexInfo).definition};`;
      case 'constraint': {
        const [table, constraint] = member(key);
        return `ALTER TABLE ${table} ADD CONSTRAINT ${constraint} ${(change.expected as ConstraintInfo).definition};`;
      }
      case 'view': {
        const v = change.expected as ViewInfo;
        return `CREATE ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${qualified(key)} AS ${v.definition.trim().replace(/;$/, '')};`;
      }
      case 'enum': {
        const values = (change.expected as { values: string[] }).values.map((v) => `'${v.replace(/'/g, "''")}'`);
        return `CREATE TYPE ${qualified(key)} AS ENUM (${values.join(', ')});`;
      }
      default:
        return undefined;
    }
  }
  if (change.kind === 'column') {
    const [table, column] = member(key);
    const alter = `ALTER TABLE ${table} ALTER COLUMN ${column}`;
    switch (change.attribute) {
      case 'type':
        return `${alter} TYPE ${String(change.expected)} USING ${column}::${String(change.expected)};`;
      case 'nullable':
        return change.expected ? `${alter} DROP NOT NULL;` : `${alter} SET NOT NULL;`;
      case 'default':
        return change.expected === null ? `${alter} DROP DEFAULT;` : `${alter} SET DEFAULT ${String(change.expected)};`;
      default:
        return undefined;
    }
  }
  if (change.kind === 'index' && change.attribute === 'definition') {
    return `DROP INDEX ${qualified(key)}; ${String(change.expected)};`;
  }
  return undefined;
}

/** Statements for several changes, in an order PostgreSQL accepts (dependants dropped first). */
export function orderedStatements(changes: SchemaChange[], make: (c: SchemaChange) => string | undefined): string[] {
  const rank = (c: SchemaChange) => (c.change === 'missing' ? 100 - DROP_ORDER.indexOf(c.kind) : DROP_ORDER.indexOf(c.kind));
  return [...changes]
    .sort((a, b) => rank(a) - rank(b))
    .map(make)
    .filter((s): s is string => s !== undefined);
}
