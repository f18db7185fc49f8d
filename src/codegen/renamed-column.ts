import { parseSync } from 'libpg-query';
import { deparseStatement } from '../sql/deparse.js';
import { columnList, ident, sqlName } from './sql.js';

/**
 * An index or constraint of a column, written again for the column that replaces it (expand /
 * contract of a rename): the catalog's definition (`pg_get_indexdef`, `pg_get_constraintdef`) read
 * with PostgreSQL's parser, its references to the old column pointed at the new one, printed back
 * by the deparser. Needs libpg-query's module loaded (check's analysis has loaded it); anything the
 * parser or deparser cannot do gives undefined, and the caller falls back to a comment.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Points column references to `from` at `to`, in place: ColumnRef, IndexElem, a constraint's own
 * columns (not the referenced ones). Returns how many it changed.
 */
function renameReferences(node: Json, from: string, to: string): number {
  if (Array.isArray(node)) return node.reduce<number>((n, item) => n + renameReferences(item, from, to), 0);
  if (!isObject(node)) return 0;
  let changed = 0;
  const columnRef = node['ColumnRef'];
  if (isObject(columnRef) && Array.isArray(columnRef['fields'])) {
    const last = columnRef['fields'][columnRef['fields'].length - 1];
    const str = isObject(last) ? last['String'] : undefined;
    if (isObject(str) && str['sval'] === from) {
      str['sval'] = to;
      changed++;
    }
  }
  const elem = node['IndexElem'];
  if (isObject(elem) && elem['name'] === from) {
    elem['name'] = to;
    changed++;
  }
  const constraint = node['Constraint'];
  if (isObject(constraint)) {
    for (const key of ['keys', 'fk_attrs', 'including']) {
      const list = constraint[key];
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        const str = isObject(item) ? item['String'] : undefined;
        if (isObject(str) && str['sval'] === from) {
          str['sval'] = to;
          changed++;
        }
      }
    }
  }
  for (const [key, value] of Object.entries(node)) {
    // The referenced table's columns keep their names.
    if (key === 'pk_attrs') continue;
    changed += renameReferences(value, from, to);
  }
  return changed;
}

/**
 * Whether an index definition (`pg_get_indexdef`) uses `column`, in its key columns, expressions
 * or predicate; undefined when it cannot be parsed.
 */
export function indexUsesColumn(definition: string, column: string): boolean | undefined {
  const stmt = parseOne(definition);
  return stmt ? renameReferences(stmt, column, column) > 0 : undefined;
}

function parseOne(sql: string): JsonObject | undefined {
  try {
    const tree = parseSync(sql) as unknown as { stmts?: { stmt?: Json }[] };
    const stmt = tree.stmts?.length === 1 ? tree.stmts[0]!.stmt : undefined;
    return isObject(stmt) ? stmt : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `CREATE INDEX CONCURRENTLY IF NOT EXISTS <name> …` from an index definition (`pg_get_indexdef`),
 * on column `to` where it named `from`.
 */
export function indexOnRenamedColumn(definition: string, from: string, to: string, name: string): string | undefined {
  const stmt = parseOne(definition);
  const index = stmt?.['IndexStmt'];
  if (!isObject(index)) return undefined;
  renameReferences(index, from, to);
  index['idxname'] = name;
  index['concurrent'] = true;
  index['if_not_exists'] = true;
  return deparseStatement(stmt!);
}

export type RenamedConstraint =
  /** UNIQUE: the unique index built CONCURRENTLY, attached as the constraint later (ADD CONSTRAINT … USING INDEX). */
  | { kind: 'unique'; createIndex: string }
  /** FOREIGN KEY / CHECK: added NOT VALID, validated separately. */
  | { kind: 'not-valid'; add: string };

/**
 * A constraint of `table` (its `pg_get_constraintdef` text) on column `to` where it named `from`,
 * named `name`: UNIQUE as a unique index to build CONCURRENTLY, FOREIGN KEY and CHECK as ADD
 * CONSTRAINT … NOT VALID. Primary keys, exclusion and deferrable constraints give undefined.
 */
export function constraintOnRenamedColumn(table: string, definition: string, from: string, to: string, name: string): RenamedConstraint | undefined {
  const stmt = parseOne(`ALTER TABLE ${sqlName(table)} ADD CONSTRAINT ${ident(name)} ${definition}`);
  const alter = stmt?.['AlterTableStmt'];
  const cmds = isObject(alter) ? alter['cmds'] : undefined;
  const cmd = Array.isArray(cmds) && cmds.length === 1 && isObject(cmds[0]) ? cmds[0]['AlterTableCmd'] : undefined;
  const def = isObject(cmd) && isObject(cmd['def']) ? cmd['def']['Constraint'] : undefined;
  if (!isObject(def) || def['deferrable'] === true) return undefined;
  renameReferences(alter!, from, to);
  const names = (key: string) => (Array.isArray(def[key]) ? def[key].map((n) => (isObject(n) && isObject(n['String']) ? String(n['String']['sval']) : '')) : []);
  if (def['contype'] === 'CONSTR_UNIQUE') {
    // An index-backed UNIQUE has plain columns; expressions and WHERE exist only on indexes.
    if (def['indexname'] || def['indexspace'] || def['options'] || def['where_clause']) return undefined;
    const keys = names('keys');
    const include = names('including');
    if (keys.length === 0 || keys.some((k) => !k) || include.some((k) => !k)) return undefined;
    return {
      kind: 'unique',
      createIndex: `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(name)} ON ${sqlName(table)} (${columnList(keys)})${include.length ? ` INCLUDE (${columnList(include)})` : ''}${def['nulls_not_distinct'] === true ? ' NULLS NOT DISTINCT' : ''}`,
    };
  }
  if (def['contype'] === 'CONSTR_FOREIGN' || def['contype'] === 'CONSTR_CHECK') {
    def['skip_validation'] = true;
    def['initially_valid'] = false;
    const add = deparseStatement(stmt!);
    return add ? { kind: 'not-valid', add } : undefined;
  }
  return undefined;
}
