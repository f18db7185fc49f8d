import type { Knex } from 'knex';
import path from 'node:path';
import { KnexsafeError, errorMessage, sqlState } from '../errors.js';
import type { ProjectConfig } from '../config/resolve.js';
import type { Database } from '../db/connect.js';
import { readAppliedMigrations, readLockState, type AppliedMigration } from './applied.js';
import { explainFailure, splitKnexMessage } from './explain.js';
import { locateStatement, namesInStatement } from './locate.js';
import { describeSession, readMigrationActivity, runningMigrationSessions, type SessionInfo } from './sessions.js';
import { displayPath } from '../util/paths.js';
import { armExitTrap, trapped } from '../util/exit-trap.js';
import { compareChecksums, diffSinceApplied, readChecksumsOrWarn, type ChecksumRecorder, type ChecksumState, type GitOrigin } from './checksums.js';
import { KnexsafeMigrationSource, listMigrationFiles, type LoadedMigration, type MigrationFile, type MigrationWrapper } from './source.js';

export type Direction = 'up' | 'down';

export interface HistoryEvents {
  migrationStart?(name: string, direction: Direction): void;
  migrationEnd?(name: string, direction: Direction, durationMs: number): void;
}

export interface HistoryContext {
  db: Database;
  project: ProjectConfig;
  events?: HistoryEvents;
  /** Extra wrapping around each migration direction (guards, capture). */
  wrapper?: MigrationWrapper;
  /** Records the checksums of the migrations this run applies (guarded latest / up). */
  checksums?: ChecksumRecorder;
}

export interface MigrationRun {
  name: string;
  direction: Direction;
  durationMs: number;
}

/** Which knex (transaction) object each migration ran with: tells what a failure rolled back. */
const runTransactions = new WeakMap<MigrationRun, Knex>();

export interface BatchResult {
  /** The batch written (latest/up) or removed (rollback/down); 0 when nothing ran. */
  batch: number;
  migrations: MigrationRun[];
  /**
   * Up runs: the rows of knex's history table naming this run's migrations, read while knex's
   * lock was still held (its afterAll hook), so no other process can have written them.
   * Undefined when knex ran no migration (nothing pending once it had the lock).
   */
  recorded?: AppliedMigration[];
}

export interface RunOptions {
  disableTransactions?: boolean;
}

function timingWrapper(ctx: HistoryContext, runs: MigrationRun[]): MigrationWrapper {
  return {
    wrap(migration: LoadedMigration, direction: Direction, run: (knex: Knex) => Promise<unknown>) {
      const inner = ctx.wrapper ? ctx.wrapper.wrap(migration, direction, run) : run;
      return async (knex: Knex) => {
        if (direction === 'up') ctx.checksums?.starting(migration);
        ctx.events?.migrationStart?.(migration.name, direction);
        const started = performance.now();
        let result: unknown;
        try {
          result = await trapped(migration.name, () => inner(knex), { file: migration.file });
        } catch (error) {
          if (error && typeof error === 'object' && !('knexsafeMigration' in error)) {
            Object.assign(error, { knexsafeMigration: migration.name, knexsafeFile: migration.file, knexsafeDirection: direction, knexsafeKnex: knex });
          }
          throw error;
        }
        const durationMs = performance.now() - started;
        const record = { name: migration.name, direction, durationMs };
        runTransactions.set(record, knex);
        runs.push(record);
        ctx.events?.migrationEnd?.(migration.name, direction, durationMs);
        return result;
      };
    },
  };
}

export function migratorConfig(project: ProjectConfig, source: Knex.MigrationSource<unknown>, options: RunOptions = {}): Knex.MigratorConfig {
  const m = project.migrations;
  return {
    migrationSource: source,
    tableName: m.tableName,
    ...(m.schemaName ? { schemaName: m.schemaName } : {}),
    disableTransactions: options.disableTransactions ?? m.disableTransactions,
    disableMigrationsListValidation: m.disableMigrationsListValidation,
  };
}

async function runWithKnex(ctx: HistoryContext, options: RunOptions, action: (migrate: Knex.Migrator, config: Knex.MigratorConfig) => Promise<unknown>): Promise<BatchResult> {
  const files = listMigrationFiles(ctx.project.migrations);
  const runs: MigrationRun[] = [];
  const source = new KnexsafeMigrationSource(files, timingWrapper(ctx, runs));
  const config = migratorConfig(ctx.project, source, options);
  // knex calls afterAll after the batch's last history row is written and before it frees its lock
  // (in the batch transaction when there is one): the rows read there are this run's own. The
  // knexfile's own afterAll still runs first.
  let recorded: AppliedMigration[] | undefined;
  type AfterAll = (knex: Knex, migrations: unknown[]) => unknown;
  const knexfileMigrations = (ctx.db.knex.client as { config?: { migrations?: { afterAll?: AfterAll } } }).config?.migrations;
  const userAfterAll = knexfileMigrations?.afterAll;
  const readApplied = (knex: Knex) => readAppliedMigrations(knex, ctx.project.migrations);
  const upNames = () => runs.filter((r) => r.direction === 'up').map((r) => r.name);
  (config as { afterAll?: AfterAll }).afterAll = async (knex: Knex, migrations: unknown[]) => {
    await userAfterAll?.(knex, migrations);
    const names = new Set(upNames());
    if (!names.size) return;
    recorded = ((await readApplied(knex)) ?? []).filter((a) => names.has(a.name));
    // Same transaction as knex's history rows when knex runs the batch in one.
    await ctx.checksums?.record(knex, [...names], readApplied);
  };
  await ctx.checksums?.prepare(ctx.db.knex);
  const disarm = armExitTrap();
  try {
    const result = (await action(ctx.db.knex.migrate, config)) as [number, string[]] | undefined;
    // knex answers with the current batch number even when nothing ran; 0 says "nothing ran".
    return { batch: Array.isArray(result) && runs.length > 0 ? Number(result[0]) : 0, migrations: runs, ...(recorded ? { recorded } : {}) };
  } catch (error) {
    // Migrations that committed before the failure stay applied: their checksums too (only the names knex recorded).
    if (ctx.checksums && upNames().length) await ctx.checksums.record(ctx.db.knex, upNames(), readApplied).catch(() => undefined);
    throw await explainMigratorError(error, ctx, runs);
  } finally {
    disarm();
  }
}

/**
 * Plain `knex migrate:latest` on the target, with knexsafe's error messages (no check, retries or backups: see guardedLatest).
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   const { batch, migrations } = await migrateLatest({ db, project });
 * } finally {
 *   await db.close();
 * }
 */
export function migrateLatest(ctx: HistoryContext, options: RunOptions = {}): Promise<BatchResult> {
  return runWithKnex(ctx, options, (migrate, config) => migrate.latest(config));
}

/**
 * `knex migrate:rollback`: undoes the last batch (or every batch with `all`).
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   await migrateRollback({ db, project }, { all: false });
 * } finally {
 *   await db.close();
 * }
 */
export function migrateRollback(ctx: HistoryContext, options: RunOptions & { all?: boolean } = {}): Promise<BatchResult> {
  return runWithKnex(ctx, options, (migrate, config) => migrate.rollback(config, options.all ?? false));
}

/**
 * `knex migrate:up`: runs the next pending migration, or the one named.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   await migrateUp({ db, project }, { name: '20240102000000_add_email.js' });
 * } finally {
 *   await db.close();
 * }
 */
export function migrateUp(ctx: HistoryContext, options: RunOptions & { name?: string } = {}): Promise<BatchResult> {
  const name = options.name === undefined ? undefined : resolveMigrationName(ctx.project, options.name);
  return runWithKnex(ctx, options, (migrate, config) => migrate.up({ ...config, ...(name ? { name } : {}) }));
}

/**
 * `knex migrate:down`: undoes the last applied migration, or the one named.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   await migrateDown({ db, project });
 * } finally {
 *   await db.close();
 * }
 */
export function migrateDown(ctx: HistoryContext, options: RunOptions & { name?: string } = {}): Promise<BatchResult> {
  const name = options.name === undefined ? undefined : resolveMigrationName(ctx.project, options.name);
  return runWithKnex(ctx, options, (migrate, config) => migrate.down({ ...config, ...(name ? { name } : {}) }));
}

/** Accepts a name with or without extension, or a path, and returns knex's identity for it. */
export function resolveMigrationName(project: ProjectConfig, given: string): string {
  const files = listMigrationFiles(project.migrations);
  const base = path.basename(given);
  const exact = files.find((f) => f.name === base);
  if (exact) return exact.name;
  const matches = files.filter((f) => f.name.slice(0, f.name.length - path.extname(f.name).length) === base || f.name.startsWith(base));
  if (matches.length === 1 && matches[0]) return matches[0].name;
  if (matches.length > 1) {
    throw new KnexsafeError('AMBIGUOUS_MIGRATION', `"${given}" matches several migrations: ${matches.map((m) => m.name).join(', ')}.`, {
      hint: 'Give the full file name.',
    });
  }
  throw new KnexsafeError('UNKNOWN_MIGRATION', `No migration named "${given}" in ${project.migrations.directories.join(', ')}.`, {
    hint: 'Run `knexsafe list` to see the migration names.',
  });
}

export type MigrationState = 'applied' | 'pending' | 'missing-file';

export interface StatusEntry {
  name: string;
  state: MigrationState;
  batch: number | null;
  appliedAt: string | null;
  file: string | null;
  /** Applied migrations: whether the file is what was applied (null for pending and missing files). */
  checksum?: ChecksumState | null;
}

export interface ChangedMigration {
  name: string;
  file: string;
  recordedSha256: string;
  currentSha256: string;
  recordedAt: string | null;
  /** The git version it was applied from (tracked and clean when applied). */
  appliedFrom: GitOrigin | null;
  /** Unified diff from the applied version to the file now, when git has the applied version. */
  diff?: string;
}

export interface StatusChecksums {
  /** knexsafe's checksum table (next to knex's) and whether it exists. */
  table: string;
  exists: boolean;
  changed: ChangedMigration[];
  /** Applied without a checksum: by plain knex, or applied again by plain knex after knexsafe recorded it. */
  unknown: { name: string; reason: 'no-checksum' | 'applied-again' | 'no-table' }[];
  /** Applied names whose file is gone while a pending file has the same content. */
  renamed: { from: string; to: string }[];
  /** Why the checksums could not be read (then every applied migration is unknown). */
  warning?: string;
}

export interface StatusReport {
  migrations: StatusEntry[];
  applied: number;
  pending: number;
  missingFiles: number;
  locked: boolean;
  /** False when knex's history table does not exist yet (nothing ever ran). */
  historyTableExists: boolean;
  /** Pending files sorted before the last applied one: knex runs them in the next batch anyway. */
  outOfOrder: string[];
  checksums?: StatusChecksums;
}

/**
 * Read-only: never creates knex's tables.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   const { applied, pending, locked } = await migrationStatus({ db, project });
 * } finally {
 *   await db.close();
 * }
 */
export async function migrationStatus(ctx: Pick<HistoryContext, 'db' | 'project'>): Promise<StatusReport> {
  const files = listMigrationFiles(ctx.project.migrations);
  const applied = await readAppliedMigrations(ctx.db.knex, ctx.project.migrations);
  const lock = await readLockState(ctx.db.knex, ctx.project.migrations);
  const report = buildStatus(files, applied ?? [], applied !== undefined, lock.isLocked);
  if (applied?.length) {
    let warning: string | undefined;
    const rows = await readChecksumsOrWarn(ctx.db.knex, ctx.project.migrations, (m) => (warning = m));
    const checks = compareChecksums(files, applied, rows, ctx.project.migrations);
    const states = new Map(checks.verdicts.map((v) => [v.name, v.state]));
    for (const e of report.migrations) e.checksum = e.state === 'applied' ? (states.get(e.name) ?? null) : null;
    report.checksums = {
      table: checks.tableName,
      exists: checks.table,
      changed: checks.changed.map((c) => {
        const diff = diffSinceApplied(c.file, c.recorded?.git ?? null);
        return {
          name: c.name,
          file: c.file,
          recordedSha256: c.recorded!.sha256,
          currentSha256: c.current!,
          recordedAt: c.recorded?.recordedAt?.toISOString() ?? null,
          appliedFrom: c.recorded?.git ?? null,
          ...(diff !== undefined ? { diff } : {}),
        };
      }),
      unknown: checks.unknown.map((u) => ({ name: u.name, reason: u.reason ?? 'no-checksum' })),
      renamed: checks.renamed.map((r) => ({ from: r.from, to: r.to })),
      ...(warning ? { warning } : {}),
    };
  }
  return report;
}

export function buildStatus(files: MigrationFile[], applied: AppliedMigration[], historyTableExists: boolean, locked: boolean): StatusReport {
  const byName = new Map(applied.map((a) => [a.name, a]));
  const fileNames = new Set(files.map((f) => f.name));
  const entries: StatusEntry[] = [];
  for (const f of files) {
    const a = byName.get(f.name);
    entries.push({
      name: f.name,
      state: a ? 'applied' : 'pending',
      batch: a?.batch ?? null,
      appliedAt: a?.appliedAt ? a.appliedAt.toISOString() : null,
      file: f.file,
    });
  }
  for (const a of applied) {
    if (!fileNames.has(a.name)) {
      entries.push({ name: a.name, state: 'missing-file', batch: a.batch, appliedAt: a.appliedAt?.toISOString() ?? null, file: null });
    }
  }
  const lastApplied = [...files].reverse().find((f) => byName.has(f.name));
  const outOfOrder = lastApplied ? files.filter((f) => !byName.has(f.name) && f.name < lastApplied.name).map((f) => f.name) : [];
  return {
    migrations: entries,
    applied: entries.filter((e) => e.state === 'applied').length,
    pending: entries.filter((e) => e.state === 'pending').length,
    missingFiles: entries.filter((e) => e.state === 'missing-file').length,
    locked,
    historyTableExists,
    outOfOrder,
  };
}

export interface UnlockResult {
  wasLocked: boolean;
  /** Sessions that looked like a running migration, freed anyway because of `force`. */
  forcedPast?: SessionInfo[];
}

/**
 * Frees knex's lock (knex's own forceFreeMigrationsLock), but not while a migration is really
 * running — a session holding knex's tables, running a statement on them, or changing the
 * schema — unless `force`: freeing it then lets a second run start on top of the first.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   const { wasLocked } = await unlockMigrations({ db, project });
 * } finally {
 *   await db.close();
 * }
 */
export async function unlockMigrations(ctx: Pick<HistoryContext, 'db' | 'project'>, options: { force?: boolean } = {}): Promise<UnlockResult> {
  const before = await readLockState(ctx.db.knex, ctx.project.migrations);
  if (!before.exists) return { wasLocked: false };
  // An embedded database has one session: ours.
  const running = ctx.db.kind === 'server' ? runningMigrationSessions(await readMigrationActivity(ctx.db.knex, ctx.project.migrations)) : [];
  if (running.length > 0 && !options.force) {
    throw new KnexsafeError(
      'MIGRATION_RUNNING',
      `A migration is running on ${ctx.db.description}, so the lock was left alone: ${running.map(describeSession).join('; ')}. Freeing knex's lock now would let a second run start on top of it.`,
      {
        exitCode: 1,
        hint: 'Wait for it to finish (`knexsafe doctor` shows it), or stop it first (SELECT pg_cancel_backend(<pid>)); `knexsafe unlock --force` frees the lock anyway (and waits for a running batch transaction to release the lock row).',
        details: { sessions: running },
      },
    );
  }
  const files = listMigrationFiles(ctx.project.migrations);
  const source = new KnexsafeMigrationSource(files);
  await ctx.db.knex.migrate.forceFreeMigrationsLock(migratorConfig(ctx.project, source));
  return { wasLocked: before.isLocked, ...(running.length ? { forcedPast: running } : {}) };
}

/** Turns knex's migrator errors into one clear paragraph, keeping the driver error as the cause. */
export async function explainMigratorError(error: unknown, ctx: HistoryContext, runs: MigrationRun[]): Promise<KnexsafeError> {
  if (error instanceof KnexsafeError) return error;
  const message = errorMessage(error);
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'LockError' || /Migration table is already locked/i.test(message)) {
    return new KnexsafeError('MIGRATION_LOCKED', `Another migration holds knex's lock (${ctx.project.migrations.tableName}_lock.is_locked = 1), so nothing was run.`, {
      exitCode: 1,
      cause: error,
      hint: 'If a migration is running elsewhere, wait for it. If a previous run crashed, `knexsafe doctor` shows whether anyone still holds it and `knexsafe unlock` frees it.',
    });
  }
  const corrupt = /The migration directory is corrupt, the following files are missing: (.*)/.exec(message);
  if (corrupt) {
    return new KnexsafeError('MISSING_MIGRATION_FILES', `The database has applied migrations whose files are missing: ${corrupt[1]}. knex refuses to run until they are back.`, {
      exitCode: 1,
      cause: error,
      hint: 'Restore the files (git checkout), check that the .ts/.js extension matches what was applied, or run `knexsafe doctor` for the fix.',
    });
  }
  if (/must have both an up and down function/.test(message)) {
    // A failure of the migration, as check and verify report it (exit 1): knex ran nothing of the batch.
    return new KnexsafeError('INVALID_MIGRATION', `${message.replace(/\.?$/, '')}: knex refused to run it, so nothing of this batch was applied.`, {
      exitCode: 1,
      cause: error,
      hint: 'knex requires every migration to export both up and down functions; a down with nothing to undo can be an empty async function (knexsafe check then reports down-missing).',
    });
  }
  const state = sqlState(error);
  const failed = (error as { knexsafeMigration?: string } | undefined)?.knexsafeMigration;
  const failedFile = (error as { knexsafeFile?: string } | undefined)?.knexsafeFile;
  const direction = (error as { knexsafeDirection?: Direction } | undefined)?.knexsafeDirection ?? 'up';
  const failedKnex = (error as { knexsafeKnex?: Knex } | undefined)?.knexsafeKnex;
  // knex runs a batch in one transaction unless a migration opts out or transactions are disabled:
  // the runs that shared the failing migration's transaction were rolled back with it.
  const sharedTransaction = (r: MigrationRun) => Boolean(failedKnex?.isTransaction) && runTransactions.get(r) === failedKnex;
  const rolledBack = runs.filter(sharedTransaction).map((r) => r.name);
  const kept = runs.filter((r) => !sharedTransaction(r)).map((r) => r.name);
  const done = kept;
  const parts: string[] = [];
  if (kept.length) parts.push(`Still applied (${direction}) from this run: ${kept.join(', ')}.`);
  if (rolledBack.length) parts.push(`Rolled back with it (same transaction): ${rolledBack.join(', ')}.`);
  if (failed && !failedKnex?.isTransaction) parts.push(`${failed} ran without a transaction, so the statements before the failing one stay applied: check the schema before re-running.`);
  if (!parts.length) parts.push('Nothing from this run was applied.');
  const outcome = parts.join(' ');
  // The seed's troubleshooting row for this SQLSTATE, and the line of the migration that sent the statement.
  const { sql: statement, message: driverMessage } = splitKnexMessage(message);
  const fields = (error ?? {}) as { detail?: string; hint?: string; table?: string; column?: string; constraint?: string; dataType?: string };
  let files: MigrationFile[] = [];
  try {
    files = listMigrationFiles(ctx.project.migrations);
  } catch {
    // The explanation only uses them to say which file creates a missing table.
  }
  const relations = statement !== undefined ? (await namesInStatement(statement)).relations : [];
  const explanation = state
    ? explainFailure({
        relations,
        sqlState: state,
        message: driverMessage,
        ...(statement !== undefined ? { sql: statement } : {}),
        ...(typeof fields.detail === 'string' ? { detail: fields.detail } : {}),
        ...(typeof fields.hint === 'string' ? { hint: fields.hint } : {}),
        ...(typeof fields.table === 'string' ? { table: fields.table } : {}),
        ...(typeof fields.column === 'string' ? { column: fields.column } : {}),
        ...(typeof fields.constraint === 'string' ? { constraint: fields.constraint } : {}),
        ...(failed !== undefined ? { migration: failed } : {}),
        ...(failedFile !== undefined ? { file: failedFile } : {}),
        direction,
        transactional: Boolean(failedKnex?.isTransaction),
        files,
      })
    : undefined;
  const location =
    failedFile !== undefined
      ? await locateStatement({
          file: failedFile,
          direction,
          ...(statement !== undefined ? { sql: statement } : {}),
          objects: explanation?.objects ?? [],
          ...(explanation?.subject ? { subject: explanation.subject } : {}),
          tables: [...relations, ...(explanation?.table ? [explanation.table] : [])],
        })
      : undefined;
  const shown = (file: string) => displayPath(file, ctx.project.baseDir);
  const where = location ? ` at ${shown(location.file)}:${location.line}` : failedFile ? ` in ${shown(failedFile)}` : '';
  const condition = explanation ? ` (${explanation.condition})` : '';
  const shownStatement = statement !== undefined ? ` Statement: ${statement.length > 300 ? `${statement.slice(0, 300)}…` : statement}.` : '';
  const cause = explanation ? ` Cause: ${explanation.cause}` : '';
  return new KnexsafeError(
    'MIGRATION_FAILED',
    `${failed ? `Migration ${failed} (${direction})` : 'A migration'} failed${where}${state ? ` with SQLSTATE ${state}${condition}` : ''}: ${driverMessage.replace(/\.?$/, '.')}${shownStatement}${cause} ${outcome}`,
    {
      exitCode: 1,
      cause: error,
      ...(explanation ? { hint: `Fix: ${explanation.fix}` } : {}),
      details: {
        sqlState: state,
        migration: failed,
        direction,
        completedBeforeFailure: done,
        ...(failedFile !== undefined ? { file: shown(failedFile) } : {}),
        ...(location ? { line: location.line, code: location.text } : {}),
        ...(statement !== undefined ? { statement } : {}),
        ...(explanation ? { condition: explanation.condition, problem: explanation.problem, cause: explanation.cause, fix: explanation.fix } : {}),
      },
    },
  );
}
