import type { ColumnInfo, TableInfo } from '../../schema/types.js';
import type { Writer } from './writer.js';

// What dropping or re-creating a column must know about it.

/** Whether the column's default draws from a sequence that dropping the column drops too (serial). */
export function ownsSequence(w: Writer, table: TableInfo, column: ColumnInfo): boolean {
  const owner = `${table.schema}.${table.name}.${column.name}`;
  return column.default !== null && column.default.startsWith('nextval(') && Object.values(w.schema.snapshot.sequences).some((s) => s.ownedBy === owner);
}
