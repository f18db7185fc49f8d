import type { ColumnInfo, ConstraintInfo, IndexInfo, SchemaSnapshot, TableInfo } from '../../src/schema/types.js';
import { SchemaView } from '../../src/make/schema-lookup.js';

export interface TableSpec {
  /** column → `type[ not null][ default <expr>]`, e.g. `integer not null default 0`. */
  columns: Record<string, string>;
  primaryKey?: string[];
  unique?: Record<string, string[]>;
  foreign?: Record<string, { columns: string[]; table: string; refColumns: string[] }>;
  indexes?: Record<string, string[]>;
}

/** A hand-written schema for grammar tests: what a snapshot would hold, without a database. */
export function schemaOf(tables: Record<string, TableSpec>, enums: Record<string, string[]> = {}): SchemaView {
  const snapshot: SchemaSnapshot = SchemaView.empty().snapshot;
  for (const [name, spec] of Object.entries(tables)) {
    const columns: Record<string, ColumnInfo> = {};
    for (const [col, def] of Object.entries(spec.columns)) {
      const m = /^(.*?)( not null)?(?: default (.*))?$/.exec(def)!;
      columns[col] = { name: col, type: m[1]!, nullable: !m[2], default: m[3] ?? null, identity: null, generated: null, collation: null };
    }
    const constraints: Record<string, ConstraintInfo> = {};
    if (spec.primaryKey) {
      constraints[`${name}_pkey`] = { name: `${name}_pkey`, kind: 'primary', definition: `PRIMARY KEY (${spec.primaryKey.join(', ')})`, columns: spec.primaryKey, validated: true, deferrable: false };
    }
    for (const [cname, cols] of Object.entries(spec.unique ?? {})) {
      constraints[cname] = { name: cname, kind: 'unique', definition: `UNIQUE (${cols.join(', ')})`, columns: cols, validated: true, deferrable: false };
    }
    for (const [cname, fk] of Object.entries(spec.foreign ?? {})) {
      constraints[cname] = {
        name: cname,
        kind: 'foreign',
        definition: `FOREIGN KEY (${fk.columns.join(', ')}) REFERENCES public.${fk.table}(${fk.refColumns.join(', ')})`,
        columns: fk.columns,
        validated: true,
        deferrable: false,
        references: { table: `public.${fk.table}`, columns: fk.refColumns, onUpdate: 'a', onDelete: 'a' },
      };
    }
    const table: TableInfo = { schema: 'public', name, kind: 'table', rowSecurity: false, forceRowSecurity: false, columns, columnOrder: Object.keys(columns), constraints };
    snapshot.tables[`public.${name}`] = table;
    for (const [iname, cols] of Object.entries(spec.indexes ?? {})) {
      const index: IndexInfo = {
        schema: 'public',
        name: iname,
        table: `public.${name}`,
        definition: `CREATE INDEX ${iname} ON public.${name} USING btree (${cols.join(', ')})`,
        unique: false,
        predicate: null,
        valid: true,
        columns: cols,
      };
      snapshot.indexes[`public.${iname}`] = index;
    }
  }
  for (const [name, values] of Object.entries(enums)) snapshot.enums[`public.${name}`] = { schema: 'public', name, values };
  return new SchemaView(snapshot);
}
