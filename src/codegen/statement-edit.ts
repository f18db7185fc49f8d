import { deparseStatement } from '../sql/deparse.js';

/**
 * Statements of a migration written again without the part a fix writes itself: one ALTER TABLE
 * of knex's `alterTable` often adds several columns, and a fix that re-creates one of them must
 * keep adding the others.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The ALTER TABLE statement `ast` (libpg-query's) without its ADD COLUMN commands for `columns`,
 * printed by the deparser: `null` when nothing else is left, `undefined` when it is not an ALTER
 * TABLE or cannot be printed (the caller then keeps the statement whole or gives up).
 */
export function alterTableWithoutAddedColumns(ast: unknown, columns: readonly string[]): string | null | undefined {
  const stmt = structuredClone(ast) as Json;
  const alter = isObject(stmt) ? stmt['AlterTableStmt'] : undefined;
  if (!isObject(alter) || !Array.isArray(alter['cmds'])) return undefined;
  const drop = new Set(columns);
  const kept = alter['cmds'].filter((cmd) => {
    const c = isObject(cmd) ? cmd['AlterTableCmd'] : undefined;
    if (!isObject(c) || c['subtype'] !== 'AT_AddColumn') return true;
    const def = isObject(c['def']) ? c['def']['ColumnDef'] : undefined;
    return !(isObject(def) && typeof def['colname'] === 'string' && drop.has(def['colname']));
  });
  if (kept.length === 0) return null;
  alter['cmds'] = kept;
  return deparseStatement(stmt);
}
