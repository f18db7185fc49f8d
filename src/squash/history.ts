import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { resolveProject, type ProjectConfig, type ProjectOptions } from '../config/resolve.js';
import { openTarget } from '../db/connect.js';
import { KnexsafeError } from '../errors.js';
import { selectHistoryRows, tableExists } from '../migrations/applied.js';
import { listMigrationFiles } from '../migrations/source.js';
import { displayPath } from '../util/paths.js';
import { knexTimestamp } from '../util/timestamp.js';
import { findManifests, type FoundManifest } from './manifest.js';
import { sqlQualified } from '../codegen/sql.js';

/**
 * `squash --apply-history`: on a database that ran every squashed migration, their
 * knex_migrations rows are replaced by one row for the baseline — in one transaction that holds
 * knex's own lock (the `is_locked` row, taken the way knex takes it), after a backup of the rows.
 * `npx knex migrate:status` then sees the baseline as applied and the files as they are now.
 */
export interface HistoryRow {
  id: number;
  name: string;
  batch: number;
  migration_time: string | null;
}

export type SquashHistoryState = 'apply' | 'already-applied' | 'fresh' | 'partial' | 'conflict';

export interface ManifestState {
  manifest: string;
  baseline: string;
  replaces: number;
  state: SquashHistoryState;
  appliedOfReplaced: string[];
  missingOfReplaced: string[];
}

export interface ApplyHistoryResult {
  target: string;
  dryRun: boolean;
  /** True when rows were changed. */
  changed: boolean;
  manifests: ManifestState[];
  removed: HistoryRow[];
  inserted: HistoryRow[];
  backup?: { dir: string; json: string; sql: string };
  restoreCommand?: string;
  warnings: string[];
}

export interface ApplyHistoryOptions extends ProjectOptions {
  dryRun?: boolean;
  /** Explicit squash.json files (or archive folders); default: every `_squashed/*\/squash.json`. */
  manifests?: string[];
  now?: Date;
}

function qualified(project: ProjectConfig, table: string): string {
  return sqlQualified(project.migrations.schemaName, table);
}

function knexTableName(project: ProjectConfig, table: string): string {
  return project.migrations.schemaName ? `${project.migrations.schemaName}.${table}` : table;
}

/** What each squash means for this database, given the names it has applied. */
export function classify(found: FoundManifest[], appliedNames: readonly string[]): ManifestState[] {
  const applied = new Set(appliedNames);
  const out: ManifestState[] = [];
  for (const { file, manifest } of found) {
    const has = manifest.replaces.filter((n) => applied.has(n));
    const missing = manifest.replaces.filter((n) => !applied.has(n));
    const hasBaseline = applied.has(manifest.baseline);
    let state: SquashHistoryState;
    if (has.length === 0) state = hasBaseline ? 'already-applied' : 'fresh';
    else if (hasBaseline) state = 'conflict';
    else if (missing.length === 0) state = 'apply';
    else state = 'partial';
    out.push({ manifest: file, baseline: manifest.baseline, replaces: manifest.replaces.length, state, appliedOfReplaced: has, missingOfReplaced: missing });
    // Later squashes see this one as done (a squash of a squash replaces the earlier baseline).
    if (state === 'apply') {
      for (const n of manifest.replaces) applied.delete(n);
      applied.add(manifest.baseline);
    }
  }
  return out;
}

/**
 * `squash --apply-history`: replaces the squashed migrations' rows in knex's history with the baseline's, under knex's lock, after a backup.
 * @example
 * const result = await applySquashHistory({ cwd: '/srv/app', dryRun: true });
 * console.log(result.removed.length, result.inserted.length);
 */
export async function applySquashHistory(options: ApplyHistoryOptions): Promise<ApplyHistoryResult> {
  const project = await resolveProject(options);
  const found = findManifests(project.migrations.directories, options.manifests ?? []);
  if (found.length === 0) {
    throw new KnexsafeError(
      'SQUASH_NO_MANIFEST',
      `No squash to apply: there is no ${project.migrations.directories.map((d) => displayPath(path.join(d, '_squashed', '*', 'squash.json'))).join(' or ')}.`,
      {
        hint: 'Run `knexsafe squash --to <migration>` first (and commit it), or pass --manifest <squash.json>.',
      },
    );
  }
  const fileNames = new Set(listMigrationFiles(project.migrations).map((f) => f.name));
  const db = await openTarget(project);
  const table = project.migrations.tableName;
  const lockTable = `${table}_lock`;
  const warnings: string[] = [];
  try {
    const knex = db.knex;
    if (!(await tableExists(knex, table, project.migrations.schemaName))) {
      return {
        target: db.description,
        dryRun: options.dryRun === true,
        changed: false,
        manifests: classify(found, []),
        removed: [],
        inserted: [],
        warnings: [`${db.description} has no ${table} table: it is a fresh database and \`knexsafe latest\` (or knex migrate:latest) just runs the baseline.`],
      };
    }
    const current = await readRows(knex, project);
    const states = classify(
      found,
      current.map((r) => r.name),
    );
    const refused = states.filter((s) => s.state === 'partial' || s.state === 'conflict');
    if (refused.length) throw refusal(refused, db.description, project);
    const todo = states.filter((s) => s.state === 'apply');
    const latest = found[found.length - 1]!;
    if (!fileNames.has(latest.manifest.baseline)) {
      warnings.push(`The baseline ${latest.manifest.baseline} is not in the migrations folder: knex will report it as a missing file until it is back.`);
    }
    if (todo.length === 0) {
      const fresh = states.every((s) => s.state === 'fresh');
      warnings.push(
        fresh ? `${db.description} ran none of the squashed migrations: nothing to replace; \`knexsafe latest\` runs the baseline.` : `${db.description} already records the baseline: nothing to do.`,
      );
      return { target: db.description, dryRun: options.dryRun === true, changed: false, manifests: states, removed: [], inserted: [], warnings };
    }
    const plan = planRows(found, todo, current);
    for (const w of batchWarnings(plan, current)) warnings.push(w);
    if (options.dryRun) {
      return { target: db.description, dryRun: true, changed: false, manifests: states, removed: plan.removed, inserted: plan.inserted, warnings };
    }

    const stamp = knexTimestamp(options.now ?? new Date());
    const dir = uniqueDir(path.join(project.baseDir, '.knexsafe', 'backups', stamp));
    const json = path.join(dir, 'knex_migrations.json');
    const sql = path.join(dir, 'restore.sql');
    await knex.transaction(async (trx) => {
      await takeKnexLock(trx, project, lockTable);
      // Read again under the lock: nobody migrates between the check and the change.
      const locked = await readRows(trx, project);
      const again = classify(
        found,
        locked.map((r) => r.name),
      );
      const stillRefused = again.filter((s) => s.state === 'partial' || s.state === 'conflict');
      if (stillRefused.length) throw refusal(stillRefused, db.description, project);
      const planNow = planRows(
        found,
        again.filter((s) => s.state === 'apply'),
        locked,
      );
      writeBackup(json, sql, project, locked, planNow);
      const names = planNow.removed.map((r) => r.name);
      await trx(knexTableName(project, table)).whereIn('name', names).delete();
      for (const row of planNow.inserted) {
        await trx(knexTableName(project, table)).insert({ id: row.id, name: row.name, batch: row.batch, migration_time: row.migration_time });
      }
      await trx(knexTableName(project, lockTable)).update({ is_locked: 0 });
      plan.removed = planNow.removed;
      plan.inserted = planNow.inserted;
    });
    return {
      target: db.description,
      dryRun: false,
      changed: true,
      manifests: states,
      removed: plan.removed,
      inserted: plan.inserted,
      backup: { dir, json, sql },
      restoreCommand: `knexsafe squash --restore-history ${displayPath(dir)}`,
      warnings,
    };
  } finally {
    await db.close();
  }
}

/** knex's lock, the way knex takes it: fails fast when another migration holds it. */
async function takeKnexLock(trx: Knex.Transaction, project: ProjectConfig, lockTable: string): Promise<void> {
  if (!(await tableExists(trx, lockTable, project.migrations.schemaName))) {
    throw new KnexsafeError('MIGRATION_LOCK_MISSING', `knex's lock table ${lockTable} is missing, so knex's lock cannot be taken.`, {
      exitCode: 1,
      hint: 'Run `knexsafe status` or any knex migrate command once: knex recreates it.',
    });
  }
  const updated = await trx(knexTableName(project, lockTable)).where('is_locked', 0).update({ is_locked: 1 });
  if (Number(updated) === 0) {
    throw new KnexsafeError('MIGRATION_LOCKED', `Another migration holds knex's lock (${lockTable}.is_locked = 1), so the history was not changed.`, {
      exitCode: 1,
      hint: 'If a migration is running elsewhere, wait for it. If a previous run crashed, `knexsafe doctor` shows it and `knexsafe unlock` frees it.',
    });
  }
}

async function readRows(knex: Knex, project: ProjectConfig): Promise<HistoryRow[]> {
  const rows = await selectHistoryRows(knex, knexTableName(project, project.migrations.tableName));
  return rows.map((r) => ({ id: r.id, name: r.name, batch: r.batch, migration_time: r.migrationTime === null ? null : r.migrationTime.toISOString() }));
}

interface RowPlan {
  removed: HistoryRow[];
  inserted: HistoryRow[];
}

/**
 * Each baseline row takes the place of the rows it replaces: their smallest id (so knex's
 * id order still reads like the file order), their last batch and their last migration time.
 */
function planRows(found: FoundManifest[], todo: ManifestState[], current: HistoryRow[]): RowPlan {
  const byName = new Map(current.map((r) => [r.name, r]));
  const removed: HistoryRow[] = [];
  const inserted: HistoryRow[] = [];
  for (const state of todo) {
    const manifest = found.find((f) => f.file === state.manifest)!.manifest;
    const rows = manifest.replaces.map((n) => byName.get(n) ?? inserted.find((i) => i.name === n)).filter((r): r is HistoryRow => r !== undefined);
    const times = rows
      .map((r) => r.migration_time)
      .filter((t): t is string => t !== null)
      .sort();
    const row: HistoryRow = {
      id: Math.min(...rows.map((r) => r.id)),
      name: manifest.baseline,
      batch: Math.max(...rows.map((r) => r.batch)),
      migration_time: times[times.length - 1] ?? null,
    };
    for (const r of rows) {
      const insertedAt = inserted.indexOf(r);
      if (insertedAt >= 0) inserted.splice(insertedAt, 1);
      else removed.push(r);
    }
    inserted.push(row);
  }
  return { removed, inserted };
}

/** Rolling back the baseline's batch runs its down, which drops the whole squashed schema. */
function batchWarnings(plan: RowPlan, current: HistoryRow[]): string[] {
  const removedNames = new Set(plan.removed.map((r) => r.name));
  const out: string[] = [];
  for (const row of plan.inserted) {
    const sharing = current.filter((r) => r.batch === row.batch && !removedNames.has(r.name)).map((r) => r.name);
    if (sharing.length) {
      const shown = sharing.length > 3 ? `${sharing.slice(0, 3).join(', ')} and ${sharing.length - 3} more` : sharing.join(', ');
      out.push(
        `The baseline is recorded in batch ${row.batch}, which also holds ${shown}: as before the squash, rolling back that batch runs all their downs — now including the baseline's, which drops the whole squashed schema at once.`,
      );
    }
  }
  return out;
}

function refusal(refused: ManifestState[], target: string, project: ProjectConfig): KnexsafeError {
  const parts = refused.map((s) => {
    if (s.state === 'conflict') {
      return `${target} records both the baseline ${s.baseline} and ${s.appliedOfReplaced.length} of the migrations it replaces (${s.appliedOfReplaced.slice(0, 3).join(', ')}${s.appliedOfReplaced.length > 3 ? ', …' : ''}); that history was edited by hand or restored halfway, and knexsafe will not guess which is right.`;
    }
    return `${target} ran only ${s.appliedOfReplaced.length} of the ${s.replaces} migrations that ${s.baseline} replaces; not yet: ${s.missingOfReplaced.slice(0, 5).join(', ')}${s.missingOfReplaced.length > 5 ? `, … (${s.missingOfReplaced.length} in all)` : ''}. The baseline builds the schema of all of them, so recording it here would claim changes this database does not have, and running it would fail on the tables that exist.`;
  });
  return new KnexsafeError('SQUASH_HISTORY_REFUSED', `${parts.join(' ')} Nothing was changed.`, {
    exitCode: 1,
    hint: `Bring the database up to the squash point with the old files first (restore them from the archive folder or git, run \`knexsafe latest\` with them), then run --apply-history; or, for a disposable database, recreate it from the baseline. The ${project.migrations.tableName} rows are untouched.`,
    details: { manifests: refused },
  });
}

function uniqueDir(dir: string): string {
  let candidate = dir;
  for (let i = 1; fs.existsSync(candidate); i++) candidate = `${dir}-${i}`;
  fs.mkdirSync(candidate, { recursive: true });
  return candidate;
}

interface Backup {
  knexsafe: 'squash-history-backup';
  version: 1;
  createdAt: string;
  tableName: string;
  schemaName?: string;
  /** The whole table as it was, in id order. */
  rows: HistoryRow[];
  removed: HistoryRow[];
  inserted: HistoryRow[];
}

function writeBackup(json: string, sqlFile: string, project: ProjectConfig, rows: HistoryRow[], plan: RowPlan): void {
  const backup: Backup = {
    knexsafe: 'squash-history-backup',
    version: 1,
    createdAt: new Date().toISOString(),
    tableName: project.migrations.tableName,
    ...(project.migrations.schemaName ? { schemaName: project.migrations.schemaName } : {}),
    rows,
    removed: plan.removed,
    inserted: plan.inserted,
  };
  fs.writeFileSync(json, `${JSON.stringify(backup, null, 2)}\n`);
  fs.writeFileSync(sqlFile, restoreSql(project, plan));
}

const lit = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);

/** The same restore as `--restore-history`, for psql: under knex's lock, in one transaction. */
function restoreSql(project: ProjectConfig, plan: RowPlan): string {
  const table = qualified(project, project.migrations.tableName);
  const lock = qualified(project, `${project.migrations.tableName}_lock`);
  const values = plan.removed.map((r) => `  (${r.id}, ${lit(r.name)}, ${r.batch}, ${lit(r.migration_time)})`).join(',\n');
  return `-- Puts back the ${project.migrations.tableName} rows that \`knexsafe squash --apply-history\` replaced.
-- Run with: psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f restore.sql
-- Put the squashed migration files back in the migrations folder as well (git), or knex will
-- report them missing.
BEGIN;
DO $$ BEGIN
  UPDATE ${lock} SET is_locked = 1 WHERE is_locked = 0;
  IF NOT FOUND THEN RAISE EXCEPTION 'knex''s migration lock is held: nothing restored'; END IF;
END $$;
DELETE FROM ${table} WHERE name IN (${plan.inserted.map((r) => lit(r.name)).join(', ')});
INSERT INTO ${table} (id, name, batch, migration_time) VALUES
${values};
UPDATE ${lock} SET is_locked = 0;
COMMIT;
`;
}

export interface RestoreHistoryResult {
  target: string;
  restored: HistoryRow[];
  removed: HistoryRow[];
}

/**
 * `squash --restore-history <backup>`: undoes --apply-history from its backup, under knex's lock.
 * @example
 * await restoreSquashHistory({ cwd: '/srv/app', backup: '/srv/app/.knexsafe/backups/20240601100000' });
 */
export async function restoreSquashHistory(options: ProjectOptions & { backup: string }): Promise<RestoreHistoryResult> {
  const project = await resolveProject(options);
  const file = fs.existsSync(options.backup) && fs.statSync(options.backup).isDirectory() ? path.join(options.backup, 'knex_migrations.json') : options.backup;
  if (!fs.existsSync(file)) throw new KnexsafeError('SQUASH_NO_BACKUP', `${file} does not exist.`, { hint: 'Give the backup folder printed by --apply-history (.knexsafe/backups/<timestamp>).' });
  let backup: Backup;
  try {
    backup = JSON.parse(fs.readFileSync(file, 'utf8')) as Backup;
  } catch (error) {
    throw new KnexsafeError('SQUASH_BAD_BACKUP', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (backup.knexsafe !== 'squash-history-backup' || !Array.isArray(backup.removed) || !Array.isArray(backup.inserted)) {
    throw new KnexsafeError('SQUASH_BAD_BACKUP', `${file} is not a knexsafe --apply-history backup.`);
  }
  const db = await openTarget(project);
  try {
    const table = project.migrations.tableName;
    await db.knex.transaction(async (trx) => {
      await takeKnexLock(trx, project, `${table}_lock`);
      const current = await readRows(trx, project);
      const names = new Set(current.map((r) => r.name));
      const back = backup.removed.filter((r) => names.has(r.name));
      if (back.length) {
        throw new KnexsafeError(
          'SQUASH_RESTORE_CONFLICT',
          `${db.description} already records ${back
            .map((r) => r.name)
            .slice(0, 3)
            .join(', ')}${back.length > 3 ? ', …' : ''}: the backup was restored already, or the history changed since. Nothing was changed.`,
          { exitCode: 1 },
        );
      }
      await trx(knexTableName(project, table))
        .whereIn(
          'name',
          backup.inserted.map((r) => r.name),
        )
        .delete();
      for (const r of backup.removed) await trx(knexTableName(project, table)).insert({ id: r.id, name: r.name, batch: r.batch, migration_time: r.migration_time });
      await trx(knexTableName(project, `${table}_lock`)).update({ is_locked: 0 });
    });
    return { target: db.description, restored: backup.removed, removed: backup.inserted };
  } finally {
    await db.close();
  }
}
