import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { ProjectConfig } from '../config/resolve.js';
import type { Database } from '../db/connect.js';
import { KnexsafeError } from '../errors.js';
import { tableExists } from '../migrations/applied.js';
import { listMigrationFiles } from '../migrations/source.js';
import { followHistoryEdit } from '../migrations/checksums.js';
import { knexTimestamp } from '../util/timestamp.js';
import { sqlQualified, sqlString } from '../codegen/sql.js';

/**
 * `knexsafe history forget|rename`: the two edits of knex's history that doctor's fixes need. Each
 * runs in one transaction that takes knex's own lock (is_locked 0 → 1, as knex does, so no
 * migration can start meanwhile), backs the row up to a SQL file that restores it, edits, and
 * frees the lock; a crash rolls all of it back.
 */

export interface HistoryRow {
  id: number;
  name: string;
  batch: number;
  migration_time: Date | string | null;
}

export interface HistoryEditResult {
  action: 'forget' | 'rename';
  database: string;
  row: HistoryRow;
  /** For rename: the new name. */
  to?: string;
  /** The SQL file that undoes the edit. */
  backup: string;
}

interface EditContext {
  db: Database;
  project: ProjectConfig;
}

function tableRef(project: ProjectConfig, table: string): string {
  return sqlQualified(project.migrations.schemaName, table);
}

function timeLiteral(value: HistoryRow['migration_time']): string {
  if (value === null) return 'NULL';
  return `${sqlString((value instanceof Date ? value : new Date(value)).toISOString())}::timestamptz`;
}

/** Resolves a name given with or without its extension to exactly one history row. */
async function findRow(trx: Knex, project: ProjectConfig, given: string): Promise<HistoryRow> {
  const table = tableRef(project, project.migrations.tableName);
  const rows = ((await trx.raw(`select id, name, batch, migration_time from ${table} order by id`)) as { rows: HistoryRow[] }).rows;
  const base = path.basename(given);
  const exact = rows.filter((r) => r.name === base);
  const matches = exact.length ? exact : rows.filter((r) => r.name.slice(0, r.name.length - path.extname(r.name).length) === base);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new KnexsafeError('AMBIGUOUS_MIGRATION', `"${given}" matches several history rows: ${matches.map((m) => m.name).join(', ')}.`, { hint: 'Give the full name, with its extension.' });
  }
  throw new KnexsafeError('NOT_IN_HISTORY', `${project.migrations.tableName} has no row named "${given}".`, { hint: 'Run `knexsafe status` to see the applied migrations and their names.' });
}

async function underKnexLock<T>(ctx: EditContext, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const { project, db } = ctx;
  const history = project.migrations.tableName;
  if (!(await tableExists(db.knex, history, project.migrations.schemaName)) || !(await tableExists(db.knex, `${history}_lock`, project.migrations.schemaName))) {
    throw new KnexsafeError('NO_HISTORY', `${db.description} has no knex history (${history} does not exist).`, { hint: 'Nothing was migrated there; check --env / the connection.' });
  }
  const lock = tableRef(project, `${history}_lock`);
  return db.knex.transaction(async (trx) => {
    // knex's own lock step: fails if another run holds it, and blocks others until we commit.
    await trx.raw(`set local lock_timeout = '10s'`);
    const locked = () =>
      new KnexsafeError('MIGRATION_LOCKED', `knex's migration lock is set on ${db.description}, so the history was left alone.`, {
        exitCode: 1,
        hint: 'If a migration is running, wait for it; if a crashed run left the lock, `knexsafe doctor` says so and `knexsafe unlock` frees it.',
      });
    let taken: { rowCount?: number; affectedRows?: number };
    try {
      taken = (await trx.raw(`update ${lock} set is_locked = 1 where is_locked = 0`)) as { rowCount?: number; affectedRows?: number };
    } catch (error) {
      // A batch running in one transaction holds the lock row: we waited lock_timeout for it.
      if ((error as { code?: string }).code === '55P03') throw locked();
      throw error;
    }
    if ((taken.rowCount ?? taken.affectedRows) !== 1) throw locked();
    const result = await fn(trx);
    await trx.raw(`update ${lock} set is_locked = 0`);
    return result;
  });
}

function writeBackup(project: ProjectConfig, action: string, name: string, lines: string[]): string {
  const dir = path.join(project.baseDir, '.knexsafe', 'backups');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${knexTimestamp()}-history-${action}-${name.replace(/[^\w.-]/g, '_')}.sql`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { flag: 'wx' });
  return file;
}

/**
 * `knexsafe forget <name>`: deletes a migration's row from knex's history (its file must be gone), under knex's lock, with a backup of the row.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   await forgetMigration({ db, project }, '20240102000000_add_email.js');
 * } finally {
 *   await db.close();
 * }
 */
export async function forgetMigration(ctx: EditContext, given: string, options: { force?: boolean } = {}): Promise<HistoryEditResult> {
  const { project, db } = ctx;
  const files = listMigrationFiles(project.migrations);
  return underKnexLock(ctx, async (trx) => {
    const row = await findRow(trx, project, given);
    const file = files.find((f) => f.name === row.name);
    if (file && !options.force) {
      throw new KnexsafeError('FILE_STILL_THERE', `${row.name} still has its file (${file.file}): forgetting it would make knex run it again on the next \`latest\`.`, {
        hint: 'To undo a migration, use `knexsafe down <name>`. To forget it anyway, add --force.',
      });
    }
    const table = tableRef(project, project.migrations.tableName);
    const backup = writeBackup(project, 'forget', row.name, [
      `-- knexsafe history forget ${row.name} on ${db.description}, ${new Date().toISOString()}`,
      `-- This restores the row that was removed from ${project.migrations.tableName}:`,
      `INSERT INTO ${table} (id, name, batch, migration_time) VALUES (${Number(row.id)}, ${sqlString(row.name)}, ${Number(row.batch)}, ${timeLiteral(row.migration_time)});`,
    ]);
    await trx.raw(`delete from ${table} where id = ?`, [row.id]);
    // knexsafe's checksum of the row goes with it (its own table, same transaction).
    await followHistoryEdit(trx, project.migrations, row.name, null);
    return { action: 'forget' as const, database: db.description, row, backup };
  });
}

/**
 * `knexsafe rename <old> <new>`: renames a migration's row in knex's history (after renaming its file), under knex's lock, with a backup of the row.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   await renameMigration({ db, project }, '20240102000000_add_email.js', '20240102000000_add_email_to_users.js');
 * } finally {
 *   await db.close();
 * }
 */
export async function renameMigration(ctx: EditContext, given: string, to: string, options: { force?: boolean } = {}): Promise<HistoryEditResult> {
  const { project, db } = ctx;
  const files = listMigrationFiles(project.migrations);
  const target = path.basename(to);
  if (!files.some((f) => f.name === target) && !options.force) {
    throw new KnexsafeError('UNKNOWN_MIGRATION', `No migration file named ${target} in ${project.migrations.directories.join(', ')}: the renamed row would point at nothing.`, {
      hint: 'Give the file name exactly as it is in the migrations folder (with its extension), or add --force.',
    });
  }
  return underKnexLock(ctx, async (trx) => {
    const row = await findRow(trx, project, given);
    const table = tableRef(project, project.migrations.tableName);
    const clash = (await trx.raw(`select 1 from ${table} where name = ?`, [target])) as { rows: unknown[] };
    if (clash.rows.length) {
      throw new KnexsafeError('ALREADY_IN_HISTORY', `${project.migrations.tableName} already has a row named ${target}.`, {
        hint: `If ${row.name} and ${target} are the same migration, forget the stale row instead: knexsafe history forget ${row.name} --force`,
      });
    }
    const backup = writeBackup(project, 'rename', row.name, [
      `-- knexsafe history rename ${row.name} ${target} on ${db.description}, ${new Date().toISOString()}`,
      `-- This restores the original name in ${project.migrations.tableName}:`,
      `UPDATE ${table} SET name = ${sqlString(row.name)} WHERE id = ${Number(row.id)} AND name = ${sqlString(target)};`,
    ]);
    await trx.raw(`update ${table} set name = ? where id = ?`, [target, row.id]);
    await followHistoryEdit(
      trx,
      project.migrations,
      row.name,
      target,
      files.find((f) => f.name === target),
    );
    return { action: 'rename' as const, database: db.description, row, to: target, backup };
  });
}
