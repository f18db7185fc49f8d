import type { ColumnInfo, ConstraintInfo, FunctionInfo, IndexInfo, SchemaChange, TriggerInfo, ViewInfo } from '../schema/index.js';
import { ident, sqlName, sqlString } from '../codegen/sql.js';

/**
 * SQL that brings the target back to the schema its migrations produce, one statement per schema
 * difference that has an obvious inverse. Differences without one (a changed view, a missing
 * table) get no statement: the finding's text says what to do instead.
 */

/** `public.users.email` → [`users`, `email`]. */
function member(key: string): [string, string] {
  const last = key.lastIndexOf('.');
  return [sqlName(key.slice(0, last)), ident(key.slice(last + 1))];
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
      return `DROP TABLE ${sqlName(key)};`;
    case 'column': {
      const [table, column] = member(key);
      return `ALTER TABLE ${table} DROP COLUMN ${column};`;
    }
    case 'constraint': {
      const [table, constraint] = member(key);
      return `ALTER TABLE ${table} DROP CONSTRAINT ${constraint};`;
    }
    case 'index':
      return `DROP INDEX ${sqlName(key)};`;
    case 'sequence':
      return `DROP SEQUENCE ${sqlName(key)};`;
    case 'enum':
    case 'composite':
      return `DROP TYPE ${sqlName(key)};`;
    case 'domain':
      return `DROP DOMAIN ${sqlName(key)};`;
    case 'view':
      return `DROP ${(info as unknown as ViewInfo | undefined)?.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${sqlName(key)};`;
    case 'function': {
      const f = info as unknown as FunctionInfo | undefined;
      if (!f) return undefined;
      return `DROP ${f.kind === 'procedure' ? 'PROCEDURE' : f.kind === 'aggregate' ? 'AGGREGATE' : 'FUNCTION'} ${f.schema === 'public' ? '' : `${ident(f.schema)}.`}${f.signature};`;
    }
    case 'trigger': {
      const t = info as unknown as TriggerInfo | undefined;
      return t ? `DROP TRIGGER ${ident(t.name)} ON ${sqlName(t.table)};` : undefined;
    }
    case 'extension':
      return `DROP EXTENSION ${ident(key)};`;
    case 'schema':
      return `DROP SCHEMA ${ident(key)};`;
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
        return `CREATE ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${sqlName(key)} AS ${v.definition.trim().replace(/;$/, '')};`;
      }
      case 'enum': {
        const values = (change.expected as { values: string[] }).values.map(sqlString);
        return `CREATE TYPE ${sqlName(key)} AS ENUM (${values.join(', ')});`;
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
    return `DROP INDEX ${sqlName(key)}; ${String(change.expected)};`;
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
