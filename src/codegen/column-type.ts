import { rawCall } from './knex.js';
import { migrationCode } from './migration.js';
import { LOCK_TIMEOUT_SQL } from './recipes.js';
import { ident, sqlName } from './sql.js';

/** A column's type change, for a migration written after the one that made the column. */
export interface ColumnTypeChange {
  /** Qualified `schema.table` (or bare). */
  table: string;
  column: string;
  from: string;
  to: string;
  /** Why, for the comment at the top. */
  reason: string;
}

/** USING clauses PostgreSQL needs (it has no assignment cast between json and jsonb in that direction). */
function using(column: string, to: string): string {
  return /^jsonb?$/.test(to) ? ` USING ${ident(column)}::${to}` : '';
}

/**
 * A new migration changing column types in place, under a lock_timeout: how a style fix reaches a
 * table an applied migration already made (that migration is history and is not edited). A change
 * that rewrites the table is then reported by `check` like any other, with its own safe recipe.
 */
export function columnTypeMigration(changes: ColumnTypeChange[]): string {
  const alter = (c: ColumnTypeChange, type: string) => rawCall(`ALTER TABLE ${sqlName(c.table)} ALTER COLUMN ${ident(c.column)} TYPE ${type}${using(c.column, type)}`);
  return migrationCode({
    comment: changes.map((c) => c.reason),
    up: [rawCall(LOCK_TIMEOUT_SQL), ...changes.map((c) => alter(c, c.to))],
    down: [rawCall(LOCK_TIMEOUT_SQL), ...[...changes].reverse().map((c) => alter(c, c.from))],
  });
}

/** Readable SQL spelling of a type as facts give it: `int8` → `bigint`, `varchar(100)`, `numeric(10,2)`. */
export function typeLabel(type: { name: string; schema?: string; modifiers: number[]; array: boolean }): string {
  const names: Record<string, string> = {
    int2: 'smallint',
    int4: 'integer',
    int8: 'bigint',
    float4: 'real',
    float8: 'double precision',
    bool: 'boolean',
    bpchar: 'char',
    varchar: 'varchar',
    timestamptz: 'timestamptz',
    timestamp: 'timestamp',
    timetz: 'timetz',
    varbit: 'varbit',
  };
  const base = type.schema ? `${ident(type.schema)}.${ident(type.name)}` : (names[type.name] ?? type.name);
  return `${base}${type.modifiers.length ? `(${type.modifiers.join(',')})` : ''}${type.array ? '[]' : ''}`;
}

/**
 * The empty value of a built-in type, as SQL: what existing rows can hold in a new NOT NULL column
 * or a re-created one. Types whose empty value is a choice (clock values, uuid) are left to the caller.
 */
export function emptyValueFor(type: { name: string; array: boolean }): string | undefined {
  if (type.array) return `'{}'`;
  switch (type.name) {
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'citext':
    case 'name':
    case 'bytea':
      return `''`;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'float4':
    case 'float8':
    case 'money':
      return '0';
    case 'bool':
      return 'false';
    case 'json':
    case 'jsonb':
      return `'{}'`;
    case 'interval':
      return `'0'`;
    default:
      return undefined;
  }
}
