import type { Knex } from 'knex';
import type { MigrationUnit } from '../rules/types.js';
import type { QualifiedName } from '../sql/facts.js';

/** Data a migration is about to destroy: a whole table, or some of its columns. */
export interface BackupTarget {
  /** As the migration names it; resolved against the target's search_path when backing up. */
  table: QualifiedName;
  /** Undefined: the whole table (dropped or truncated). */
  columns?: string[];
  /** Why, per migration: `drop-column email (20240101_drop_email.js)`. */
  reasons: string[];
  migrations: string[];
}

/**
 * Reads the statements a migration sent on the shadow and lists what it drops or rewrites:
 * DROP TABLE / TRUNCATE (whole table), ALTER TABLE ... DROP COLUMN and ALTER COLUMN ... TYPE
 * (the column, with the primary key to put it back). Tables that only exist later in the same
 * batch are filtered out when backing up (they are not on the target yet).
 */
export function destructiveTargets(units: MigrationUnit[]): BackupTarget[] {
  const byTable = new Map<string, BackupTarget>();
  const add = (table: QualifiedName, columns: string[] | undefined, reason: string, migration: string) => {
    const key = `${table.schema ?? ''}.${table.name}`;
    const existing = byTable.get(key);
    if (!existing) {
      byTable.set(key, { table, ...(columns ? { columns: [...columns] } : {}), reasons: [`${reason} (${migration})`], migrations: [migration] });
      return;
    }
    if (!columns) delete existing.columns;
    else if (existing.columns) for (const c of columns) if (!existing.columns.includes(c)) existing.columns.push(c);
    existing.reasons.push(`${reason} (${migration})`);
    if (!existing.migrations.includes(migration)) existing.migrations.push(migration);
  };
  for (const unit of units) {
    for (const statement of unit.statements) {
      if (statement.error) continue;
      const f = statement.facts;
      if (f.kind === 'drop' && (f.objectType === 'table' || f.objectType === 'materialized-view')) {
        for (const name of f.names) add(name, undefined, `drop ${f.objectType}`, unit.name);
      } else if (f.kind === 'truncate') {
        for (const name of f.tables) add(name, undefined, 'truncate', unit.name);
      } else if (f.kind === 'alter-table') {
        for (const command of f.commands) {
          if (command.action === 'drop-column') add(f.table, [command.column], `drop column ${command.column}`, unit.name);
          if (command.action === 'alter-column-type') add(f.table, [command.column], `change the type of ${command.column}`, unit.name);
        }
      }
    }
  }
  return [...byTable.values()];
}

/**
 * Drops targets with nothing on the database to lose yet: tables (or columns) that an earlier
 * migration of the same run creates, as the target database `knex` shows them now.
 */
export async function existingTargets(targets: BackupTarget[], knex: Knex): Promise<BackupTarget[]> {
  const exists = async (table: string, column?: string) => {
    const sql =
      column === undefined
        ? 'select pg_catalog.to_regclass(?) is not null as e'
        : 'select exists (select 1 from pg_catalog.pg_attribute where attrelid = pg_catalog.to_regclass(?) and attname = ? and attnum > 0 and not attisdropped) as e';
    const rows = (await knex.raw(sql, column === undefined ? [table] : [table, column])) as { rows: { e: boolean }[] };
    return rows.rows[0]?.e === true;
  };
  const out: BackupTarget[] = [];
  for (const t of targets) {
    const table = t.table.schema ? `"${t.table.schema.replace(/"/g, '""')}"."${t.table.name.replace(/"/g, '""')}"` : `"${t.table.name.replace(/"/g, '""')}"`;
    if (!(await exists(table))) continue;
    if (!t.columns) {
      out.push(t);
      continue;
    }
    const columns: string[] = [];
    for (const c of t.columns) if (await exists(table, c)) columns.push(c);
    if (columns.length) out.push({ ...t, columns });
  }
  return out;
}
