import path from 'node:path';
import type { Knex } from 'knex';
import { check, type CheckReport } from '../check/run.js';
import { statementShape } from '../capture/transaction-block.js';
import { resolveProject, type ProjectConfig, type ProjectOptions } from '../config/resolve.js';
import { openTarget, type Database } from '../db/connect.js';
import { KnexsafeError, errorMessage, sqlState } from '../errors.js';
import { readAppliedMigrations, readLockState, type AppliedMigration } from '../migrations/applied.js';
import { migrateLatest, migrateUp, resolveMigrationName, type HistoryEvents, type MigrationRun } from '../migrations/history.js';
import { listMigrationFiles, loadMigration, type MigrationFile, type MigrationWrapper } from '../migrations/source.js';
import type { Finding, Severity } from '../rules/types.js';
import { ensureParser, parseSqlSync } from '../sql/parse.js';
import { ChecksumRecorder, compareChecksums, readChecksumsOrWarn, type ChecksumVerdict } from '../migrations/checksums.js';
import { backupTargets, type BackupResult } from '../backup/backup.js';
import { destructiveTargets, existingTargets, type BackupTarget } from '../backup/targets.js';
import { describeBlocker, type BlockingSession } from './blockers.js';
import { ControlSession, type LockHolder } from './control.js';
import { humanDuration } from '../util/duration.js';
import { isIdempotentSql } from './idempotent.js';
import { GuardObserver, type ActiveMigration } from './session.js';
import { onInterrupt } from '../shadow/interrupt.js';
import { MigrationEnded, migrationEndedError, watchMigration } from './watch.js';
import { resolveGuardSettings, retryDelay, type GuardSettingOptions, type GuardSettings } from './settings.js';

export type GuardedCommand = 'latest' | 'up';

export interface GuardEvents extends HistoryEvents {
  /** Steps for people at a terminal (checking, backing up, waiting to retry). */
  progress?(message: string): void;
  /** The pre-check finished; `plan.blocking` are the findings that stop the run unless --unsafe. */
  checked?(report: CheckReport, plan: RunPlan): void;
  backedUp?(backup: BackupResult): void;
  /** A statement hit lock_timeout (or a deadlock) and the run will be tried again after `retryInMs`. */
  retrying?(attempt: AttemptRecord): void;
  /** Something about the project to know before anything runs (also in the result's warnings). */
  warning?(message: string): void;
}

export interface GuardedRunOptions extends ProjectOptions, GuardSettingOptions {
  /** `up` only: the migration to run (default: the next pending one). */
  name?: string;
  /** Run `check` on the pending migrations first (default true; `--no-check` skips it). */
  check?: boolean;
  /** Run even when the check reports errors (`--unsafe`). */
  unsafe?: boolean;
  /** Run even when an applied migration's file changed since it was applied (`--allow-changed`). */
  allowChanged?: boolean;
  /** Print the plan, change nothing. */
  dryRun?: boolean;
  /** Back up what destructive migrations drop or rewrite (default: the `backup` config key, else on). */
  backup?: boolean;
  /** Where backups go (default `<project>/.knexsafe/backups`). */
  backupDir?: string;
  shadowUrl?: string;
  disableTransactions?: boolean;
  events?: GuardEvents;
  /** A project already resolved (a fleet target: its own connection, schema): not read again. */
  project?: ProjectConfig;
  /**
   * A check report made on another database at the same applied state (fleet: one check per
   * state). Used when it covers every migration pending here; otherwise this run checks itself.
   */
  checkReport?: CheckReport;
}

export type TransactionMode = 'batch' | 'own' | 'none';

export interface PlanFinding {
  rule: string;
  severity: Severity;
  migration: string;
  message: string;
  line?: number;
  suppressed?: string;
}

export interface PlannedMigration {
  name: string;
  file: string;
  /** `batch`: knex's one transaction around the whole batch; `own`: a transaction of its own; `none`: no transaction. */
  transaction: TransactionMode;
  /** The SQL it sent on the shadow (null when the check was skipped). */
  statements: string[] | null;
  findings: PlanFinding[];
  backups: BackupTarget[];
}

export interface RunPlan {
  command: GuardedCommand;
  database: string;
  pending: PlannedMigration[];
  /** One sentence on how knex will group the migrations into transactions. */
  layout: string;
  settings: GuardSettings;
  check: { errors: number; warnings: number; info: number; suppressed: number; durationMs: number; shadow: string | null } | null;
  /** Why the check was skipped, when it was. */
  checkSkipped?: string;
  blocking: PlanFinding[];
  backupTargets: BackupTarget[];
  /** Whether backups will be taken for backupTargets. */
  backup: boolean;
}

export interface AttemptRecord {
  attempt: number;
  of: number;
  migration?: string;
  sqlState: string;
  message: string;
  transactional: boolean;
  blockers: BlockingSession[];
  retryInMs?: number;
}

export interface GuardedRunResult {
  command: GuardedCommand;
  database: string;
  dryRun: boolean;
  plan: RunPlan;
  /** The batch the (last) applied migrations went into; 0 when nothing ran. */
  batch: number;
  batches: number[];
  migrations: MigrationRun[];
  attempts: AttemptRecord[];
  backup?: BackupResult;
  warnings: string[];
}

/**
 * `knexsafe latest`, guarded: check gate, timeouts, retries, backups, run lock.
 * @example
 * const result = await guardedLatest({ cwd: '/srv/app', lockTimeout: '2s', retries: 10 });
 * console.log(`batch ${result.batch}: ${result.migrations.join(', ')}`);
 */
export function guardedLatest(options: GuardedRunOptions = {}): Promise<GuardedRunResult> {
  return runGuarded('latest', options);
}

/**
 * `knexsafe up [name]`, guarded like latest.
 * @example
 * await guardedUp({ cwd: '/srv/app', name: '20240102000000_add_email.js' });
 */
export function guardedUp(options: GuardedRunOptions = {}): Promise<GuardedRunResult> {
  return runGuarded('up', options);
}

function projectOptionsOf(options: ProjectOptions): ProjectOptions {
  const keys: (keyof ProjectOptions)[] = ['cwd', 'knexfile', 'env', 'migrationsDir', 'client', 'connection', 'db'];
  const out: ProjectOptions = {};
  for (const k of keys) if (options[k] !== undefined) out[k] = options[k];
  return out;
}

async function runGuarded(command: GuardedCommand, options: GuardedRunOptions): Promise<GuardedRunResult> {
  const events = options.events ?? {};
  const project = options.project ?? (await resolveProject(options));
  const settings = resolveGuardSettings(options, project.knexsafe);
  await ensureParser();
  const warnings: string[] = [...project.warnings];
  // Said before anything runs: if a migration then fails, this may be why.
  for (const w of project.warnings) events.warning?.(w);

  let control: ControlSession | undefined;
  if (!options.dryRun) {
    control = await ControlSession.open(project, `${settings.applicationName}:${command}`);
    if (control && !(await control.tryLock())) {
      const holders = await control.holders().catch(() => [] as LockHolder[]);
      await control.close();
      throw runLockedError(command, project, holders);
    }
  }
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const observer = new GuardObserver(
    { lockTimeoutMs: settings.lockTimeoutMs, applicationName: settings.applicationName, ...pick(settings) },
    control ? (sql, params) => control!.query(sql, params) : undefined,
  );
  let db: Database | undefined;
  try {
    db = await openTarget(project, { observer });
    const files = listMigrationFiles(project.migrations);
    const appliedRows = (await readAppliedMigrations(db.knex, project.migrations)) ?? [];
    const appliedBefore = appliedRows.map((a) => a.name);
    // An applied migration edited since: what this database ran is no longer what the file says.
    const sums = await readChecksumsOrWarn(db.knex, project.migrations, (message) => {
      warnings.push(message);
      events.warning?.(message);
    });
    const changed = compareChecksums(files, appliedRows, sums, project.migrations).changed;
    if (changed.length && !options.allowChanged) throw changedMigrationsError(command, changed, project);
    if (changed.length) {
      const message = `--allow-changed: ${changed.map((c) => c.name).join(', ')} changed since ${changed.length === 1 ? 'it was' : 'they were'} applied; running anyway (\`knexsafe history rehash\` accepts the edits).`;
      warnings.push(message);
      events.warning?.(message);
    }
    const pending = await selectPending(command, project, files, appliedBefore, options.name);
    const modes = await transactionModes(command, pending, options.disableTransactions ?? project.migrations.disableTransactions);

    let report: CheckReport | undefined;
    let checkSkipped: string | undefined;
    const known = new Set(files.map((f) => f.name));
    const missing = appliedBefore.filter((name) => !known.has(name));
    if (pending.length === 0) checkSkipped = 'nothing is pending';
    else if (options.check === false) checkSkipped = '--no-check';
    // knex refuses to run with applied migrations missing their files; let its error (explained) come through.
    else if (missing.length && !project.migrations.disableMigrationsListValidation) checkSkipped = `applied migrations are missing their files (${missing.join(', ')})`;
    else if (options.checkReport && coversPending(options.checkReport, pending)) report = options.checkReport;
    else {
      events.progress?.(`Checking ${pending.length} pending migration${pending.length === 1 ? '' : 's'} on a shadow database`);
      if (db.kind === 'embedded') {
        // One PGlite data directory, one opener at a time: check reads the target itself.
        await db.close();
        db = undefined;
      }
      report = await check({
        ...projectOptionsOf(options),
        ...(options.project ? { project: options.project } : {}),
        pending: true,
        ...(options.shadowUrl ? { shadowUrl: options.shadowUrl } : {}),
        ...(events.progress ? { progress: events.progress } : {}),
      });
      db ??= await openTarget(project, { observer });
    }

    const backupWanted = options.backup ?? project.knexsafe.backup ?? true;
    const plan = buildPlan(command, db.description, pending, modes, report, settings, backupWanted);
    const knex = db.knex;
    plan.backupTargets = await existingTargets(plan.backupTargets, knex);
    for (const p of plan.pending) p.backups = plan.backupTargets.filter((t) => t.migrations.includes(p.name));
    if (checkSkipped) plan.checkSkipped = checkSkipped;
    if (report) events.checked?.(report, plan);
    if (checkSkipped === '--no-check' && options.backup === true) warnings.push('--backup with --no-check: without the check knexsafe cannot tell what the migrations drop, so nothing was backed up.');
    const base = { command, database: db.description, plan, warnings };
    // A dry run shows the plan, blocking findings included (the CLI then exits 1, as check does).
    if (options.dryRun) return { ...base, dryRun: true, batch: 0, batches: [], migrations: [], attempts: [] };
    if (plan.blocking.length && !options.unsafe) throw checkBlockedError(command, plan);
    if (plan.blocking.length) warnings.push(`--unsafe: running despite ${plan.blocking.length} blocking finding${plan.blocking.length === 1 ? '' : 's'}.`);

    let backup: BackupResult | undefined;
    if (plan.backup && plan.backupTargets.length) {
      events.progress?.(`Backing up what the migrations drop or rewrite: ${plan.backupTargets.map(targetText).join(', ')}`);
      backup = await backupTargets(db, plan.backupTargets, {
        root: options.backupDir ? path.resolve(options.cwd ?? process.cwd(), options.backupDir) : path.join(project.baseDir, '.knexsafe', 'backups'),
        purpose: `${command} of ${plan.pending.map((p) => p.name).join(', ')}`,
        lockTimeoutMs: settings.lockTimeoutMs,
      });
      events.backedUp?.(backup);
    }

    // Ctrl-C while migrating: the running migration is ended (its statement cancelled) so that
    // knex rolls back and frees its lock before the process goes, instead of leaving it set.
    let running: Promise<unknown> | undefined;
    const disarm = onInterrupt(
      async () => {
        await observer.onInterrupt?.();
        await running?.catch(() => undefined);
        // The connections close too, so the report of what was applied gets printed before the exit.
        await closed;
      },
      () => (observer.active ? `ending migration ${observer.active.name} and releasing knex's lock` : "releasing knex's lock"),
    );
    let run: RunOutcome;
    try {
      const recorder = new ChecksumRecorder(project.migrations, command, (message) => {
        warnings.push(message);
        events.warning?.(message);
      });
      running = runWithRetries(
        command,
        db,
        project,
        observer,
        settings,
        options,
        events,
        pending.map((p) => p.name),
        recorder,
      );
      run = (await running) as RunOutcome;
    } finally {
      disarm();
    }
    // What this run applied is what knex recorded for it under its lock, never the difference
    // with the history read before: another process (a plain `knex migrate:latest`) may have
    // applied the same migrations meanwhile, while knex, once it had the lock, ran nothing.
    const added = run.recorded;
    if (pending.length) {
      const ours = new Set(added.map((a) => a.name));
      const appliedAfter = (await readAppliedMigrations(db.knex, project.migrations)) ?? [];
      const byOthers = appliedAfter.filter((a) => !ours.has(a.name) && pending.some((p) => p.name === a.name));
      if (byOthers.length && !added.length) throw appliedElsewhereError(command, byOthers, project);
      if (byOthers.length) {
        const message = `${byOthers.length} of the ${pending.length} pending migrations ${byOthers.length === 1 ? 'was' : 'were'} applied by another process meanwhile (${byOthers.map((a) => a.name).join(', ')}); this run applied the rest.`;
        warnings.push(message);
        events.warning?.(message);
      }
    }
    const migrations = added.map((a) => ({ name: a.name, direction: 'up' as const, durationMs: run.durations.get(a.name) ?? 0 }));
    const batches = [...new Set(added.map((a) => a.batch))];
    return {
      ...base,
      database: db.description,
      dryRun: false,
      batch: batches.length ? Math.max(...batches) : 0,
      batches,
      migrations,
      attempts: run.attempts,
      ...(backup ? { backup } : {}),
    };
  } finally {
    // The migrations are over (or failed) here: the connections and the run lock can go together.
    await Promise.all([db?.close(), control?.close()]).finally(markClosed);
  }
}

/** A shared report stands for this run only when it checked exactly the migrations pending here. */
function coversPending(report: CheckReport, pending: MigrationFile[]): boolean {
  const checked = new Set([...report.migrations.map((m) => m.name), ...(report.notReached ?? [])]);
  return checked.size === pending.length && pending.every((p) => checked.has(p.name));
}

function pick(settings: GuardSettings): { statementTimeoutMs?: number; idleInTransactionTimeoutMs?: number } {
  return {
    ...(settings.statementTimeoutMs !== undefined ? { statementTimeoutMs: settings.statementTimeoutMs } : {}),
    ...(settings.idleInTransactionTimeoutMs !== undefined ? { idleInTransactionTimeoutMs: settings.idleInTransactionTimeoutMs } : {}),
  };
}

async function selectPending(command: GuardedCommand, project: ProjectConfig, files: MigrationFile[], applied: string[], name: string | undefined): Promise<MigrationFile[]> {
  const done = new Set(applied);
  const pending = files.filter((f) => !done.has(f.name));
  if (command === 'latest') return pending;
  if (name === undefined) return pending.slice(0, 1);
  const resolved = resolveMigrationName(project, name);
  return pending.filter((f) => f.name === resolved);
}

/** How knex's Migrator will wrap each migration in transactions (same rules as Migrator.latest / up). */
async function transactionModes(command: GuardedCommand, pending: MigrationFile[], disableTransactions: boolean): Promise<Map<string, TransactionMode>> {
  const own = new Map<string, boolean | undefined>();
  for (const f of pending) own.set(f.name, (await loadMigration(f)).transaction);
  const modes = new Map<string, TransactionMode>();
  const forAll = command === 'latest' && !disableTransactions && [...own.values()].every((t) => t !== false);
  for (const f of pending) {
    const t = own.get(f.name);
    modes.set(f.name, forAll ? 'batch' : (t ?? !disableTransactions) ? 'own' : 'none');
  }
  return modes;
}

function layoutText(pending: PlannedMigration[]): string {
  if (pending.length === 0) return 'nothing to run';
  if (pending.every((p) => p.transaction === 'batch')) {
    return pending.length === 1 ? 'one transaction' : `one transaction around all ${pending.length} migrations (knex's batch transaction): locks taken by the first are held until the last commits`;
  }
  const none = pending.filter((p) => p.transaction === 'none').length;
  return `each migration on its own: ${pending.length - none} in a transaction of its own, ${none} without a transaction (exports.config.transaction = false or --disable-transactions)`;
}

const RULES_BLOCKING_SEVERITY: Severity = 'error';

/** Findings about what the guarded runner itself does (it sets lock_timeout on every statement). */
export const COVERED_BY_GUARD: ReadonlySet<string> = new Set(['missing-lock-timeout']);

function buildPlan(
  command: GuardedCommand,
  database: string,
  pending: MigrationFile[],
  modes: Map<string, TransactionMode>,
  report: CheckReport | undefined,
  settings: GuardSettings,
  backup: boolean,
): RunPlan {
  const names = new Set(pending.map((p) => p.name));
  const findings = (report?.findings ?? []).filter((f) => names.has(f.migration) && !COVERED_BY_GUARD.has(f.rule)).map(planFinding);
  const units = (report?.units ?? []).filter((u) => names.has(u.name));
  const targets = destructiveTargets(units);
  const planned: PlannedMigration[] = pending.map((f) => {
    const unit = units.find((u) => u.name === f.name);
    return {
      name: f.name,
      file: f.file,
      transaction: modes.get(f.name) ?? 'own',
      statements: report ? (unit?.statements.map((s) => s.sql) ?? []) : null,
      findings: findings.filter((x) => x.migration === f.name),
      backups: targets.filter((t) => t.migrations.includes(f.name)),
    };
  });
  const blocking = findings.filter((f) => !f.suppressed && f.severity === RULES_BLOCKING_SEVERITY);
  for (const m of report?.migrations ?? []) {
    if (m.failed && names.has(m.name))
      blocking.push({
        rule: 'fails-on-shadow',
        severity: 'error',
        migration: m.name,
        message: `fails on the shadow database${m.failed.sqlState ? ` (SQLSTATE ${m.failed.sqlState})` : ''}: ${m.failed.message}${m.failed.knexVersionNote ? ` (note: ${m.failed.knexVersionNote})` : ''}`,
      });
  }
  const active = findings.filter((f) => !f.suppressed);
  return {
    command,
    database,
    pending: planned,
    layout: layoutText(planned),
    settings,
    check: report
      ? {
          errors: active.filter((f) => f.severity === 'error').length,
          warnings: active.filter((f) => f.severity === 'warning').length,
          info: active.filter((f) => f.severity === 'info').length,
          suppressed: findings.length - active.length,
          durationMs: Math.round(report.durationMs),
          shadow: report.shadow ?? null,
        }
      : null,
    blocking,
    backupTargets: targets,
    backup,
  };
}

function planFinding(f: Finding): PlanFinding {
  return {
    rule: f.rule,
    severity: f.severity,
    migration: f.migration,
    message: f.message,
    ...(f.line !== undefined ? { line: f.line } : {}),
    ...(f.suppressed ? { suppressed: f.suppressed.reason } : {}),
  };
}

export function targetText(t: BackupTarget): string {
  const table = t.table.schema ? `${t.table.schema}.${t.table.name}` : t.table.name;
  return t.columns ? `${table} (${t.columns.join(', ')})` : table;
}

// ------------------------------------------------------------------------------------------------

interface RunOutcome {
  attempts: AttemptRecord[];
  durations: Map<string, number>;
  /** knex's history rows for the migrations this run applied, read under knex's lock. */
  recorded: AppliedMigration[];
}

const RETRYABLE = new Set(['55P03', '40P01']);

async function runWithRetries(
  command: GuardedCommand,
  db: Database,
  project: ProjectConfig,
  observer: GuardObserver,
  settings: GuardSettings,
  options: GuardedRunOptions,
  events: GuardEvents,
  pending: string[],
  checksums: ChecksumRecorder,
): Promise<RunOutcome> {
  let last: ActiveMigration | undefined;
  // knexsafe ended a migration: knex's ROLLBACK on a killed session may be the error it reports.
  let endedBy: MigrationEnded | undefined;
  const durations = new Map<string, number>();
  const wrapper: MigrationWrapper = {
    wrap: (migration, direction, run) => async (knex: Knex) => {
      // knex holds its lock here. Without a batch transaction it does not look at the history
      // again once it has the lock, so a migration another process applied after knex listed the
      // pending ones would run a second time.
      if (direction === 'up') {
        const done = ((await readAppliedMigrations(knex, project.migrations)) ?? []).filter((a) => a.name === migration.name);
        if (done.length) throw appliedElsewhereError(command, done, project);
      }
      last = observer.enter(migration, Boolean(knex.isTransaction));
      const started = performance.now();
      const watch = watchMigration(observer, migration.name, { timeoutMs: settings.migrationTimeoutMs, idleMs: settings.idleTimeoutMs });
      try {
        watch.ended.catch((e: MigrationEnded) => (endedBy = e));
        const result = await Promise.race([run(knex), watch.ended]);
        durations.set(migration.name, performance.now() - started);
        return result;
      } finally {
        watch.stop();
        observer.leave();
      }
    },
  };
  const ctx = { db, project, events, wrapper, checksums };
  const runOptions = options.disableTransactions ? { disableTransactions: true } : {};
  const attempts: AttemptRecord[] = [];
  const total = settings.retries + 1;
  for (let attempt = 1; ; attempt++) {
    last = undefined;
    endedBy = undefined;
    try {
      const result = command === 'latest' ? await migrateLatest(ctx, runOptions) : await migrateUp(ctx, { ...runOptions, ...(options.name !== undefined ? { name: options.name } : {}) });
      return { attempts, durations, recorded: result.recorded ?? [] };
    } catch (error) {
      const cause = (error instanceof KnexsafeError ? error.cause : error) ?? error;
      const ended = cause instanceof MigrationEnded ? cause : (endedBy as MigrationEnded | undefined);
      if (ended) {
        const ending = last as ActiveMigration | undefined;
        throw await endedError(ended, db, project, pending, Boolean(ending?.transactional), ending);
      }
      if ((cause as { name?: string }).name === 'MigrationLocked' || (error as KnexsafeError).code === 'MIGRATION_LOCKED') {
        throw knexLockError(error, project, db);
      }
      if (!last && createdConcurrently(cause, project)) throw knexLockError(error, project, db, 'created');
      const state = sqlState(cause);
      if (!state || !RETRYABLE.has(state)) throw error;
      const active = last as ActiveMigration | undefined;
      const transactional = Boolean((cause as { knexsafeKnex?: Knex }).knexsafeKnex?.isTransaction) || Boolean(active?.transactional);
      const record: AttemptRecord = {
        attempt,
        of: total,
        ...(active ? { migration: active.name } : {}),
        sqlState: state,
        message: errorMessage(cause).replace(/^.* - /s, ''),
        transactional,
        blockers: active?.failed?.blockers ?? (cause as { knexsafeBlockers?: BlockingSession[] }).knexsafeBlockers ?? [],
      };
      attempts.push(record);
      const refusal = transactional || !active ? undefined : await notRetryable(active, db);
      if (refusal) throw notRetryableError(error, record, refusal);
      if (attempt >= total) throw gaveUpError(command, record, attempts, settings, db);
      record.retryInMs = retryDelay(settings, attempt);
      events.retrying?.(record);
      await new Promise((r) => setTimeout(r, record.retryInMs));
    }
  }
}

/** Says what a migration knexsafe ended left behind: read back from knex's history and lock, not assumed. */
async function endedError(ended: MigrationEnded, db: Database, project: ProjectConfig, pending: string[], transactional: boolean, active: ActiveMigration | undefined): Promise<KnexsafeError> {
  const parts: string[] = [];
  let lockText = '';
  try {
    const applied = new Map(((await readAppliedMigrations(db.knex, project.migrations)) ?? []).map((a) => [a.name, a]));
    const done = pending.filter((n) => applied.has(n));
    const notDone = pending.filter((n) => !applied.has(n));
    parts.push(done.length ? `Applied (in ${project.migrations.tableName}): ${done.join(', ')}.` : 'None of the pending migrations is applied.');
    if (notDone.length) parts.push(`Not applied: ${notDone.join(', ')}.`);
    if (!transactional) {
      const kept = active?.completed.length ?? 0;
      parts.push(
        `${ended.migration} ran without a transaction: ${kept ? `the ${kept} statement${kept === 1 ? '' : 's'} it finished before it was ended stay${kept === 1 ? 's' : ''} applied — check the schema before running it again` : 'it had finished no statement'}.`,
      );
    } else {
      parts.push(`Its transaction was rolled back${active?.completed.length ? ` (${active.completed.length} statement${active.completed.length === 1 ? '' : 's'} undone)` : ''}.`);
    }
    const lock = await readLockState(db.knex, project.migrations);
    lockText = lock.isLocked
      ? ` knex's lock (${project.migrations.tableName}_lock) is still set: \`knexsafe doctor\` shows whether anyone holds it, \`knexsafe unlock\` frees it.`
      : ` knex's lock is released.`;
  } catch (error) {
    parts.push(`What is applied now could not be read back (${errorMessage(error)}): run \`knexsafe status\`.`);
  }
  const hint =
    ended.reason === 'timeout'
      ? 'Find out why it takes so long (`knexsafe check` shows its statements and locks); raise --timeout if it is expected to.'
      : ended.reason === 'interrupted'
        ? 'Run `knexsafe status` (or `knexsafe doctor`) to see where it stopped, then `knexsafe latest` to go on.'
        : ended.reason === 'idle' || sqlState(ended.sessionError) === '25P03'
          ? 'Make sure the migration awaits or returns every promise it starts and that each one settles; raise --idle-timeout if it is expected to wait between statements.'
          : 'Someone or something ended the session (pg_terminate_backend, idle_in_transaction_session_timeout, a server restart or a proxy): find out who, then run again.';
  return migrationEndedError(ended, `${parts.join(' ')}${lockText}`, hint);
}

/** Why re-running a failed migration that had no transaction is not safe, or undefined when it is. */
async function notRetryable(active: ActiveMigration, db: Database): Promise<string | undefined> {
  const failed = active.failed;
  if (failed && !statementShape(failed.sql).allowedInTransactionBlock) {
    const index = concurrentIndexName(failed.sql);
    if (!index) return `its failing statement (${short(failed.sql)}) cannot run in a transaction and may have left work half-done`;
    const rows = (await db.knex.raw('select 1 from pg_catalog.pg_index where indexrelid = pg_catalog.to_regclass(?)', [index])) as { rows: unknown[] };
    if (rows.rows.length) return `CREATE INDEX CONCURRENTLY left the index ${index} behind (INVALID); drop it with DROP INDEX CONCURRENTLY IF EXISTS ${index} before running again`;
  }
  // Statements inside a transaction the failure rolled back left nothing behind.
  const kept = active.completed.filter((s) => !(s.txId !== undefined && failed?.txId === s.txId));
  const unsafe = kept.filter((s) => !isIdempotentSql(s.sql));
  if (unsafe.length) {
    return `it runs without a transaction and had already applied ${unsafe.length} statement${unsafe.length === 1 ? '' : 's'} that cannot safely run twice (first: ${short(unsafe[0]!.sql)}); make them idempotent (IF NOT EXISTS / IF EXISTS) or give the migration a transaction`;
  }
  return undefined;
}

function concurrentIndexName(sql: string): string | undefined {
  try {
    const ast = parseSqlSync(sql)[0]?.ast as { IndexStmt?: { idxname?: string; concurrent?: boolean; relation?: { schemaname?: string } } } | undefined;
    const stmt = ast?.IndexStmt;
    if (!stmt?.concurrent || !stmt.idxname) return undefined;
    return stmt.relation?.schemaname ? `"${stmt.relation.schemaname}"."${stmt.idxname}"` : `"${stmt.idxname}"`;
  } catch {
    return undefined;
  }
}

function short(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 97)}…` : flat;
}

function blockersText(blockers: BlockingSession[], db: Database): string {
  if (blockers.length) return `Blocking session${blockers.length === 1 ? '' : 's'}: ${blockers.map(describeBlocker).join('; ')}.`;
  return db.kind === 'embedded'
    ? 'An embedded database has a single session, so there is no other session to name.'
    : 'The blocking sessions could not be read in time (pg_stat_activity needs the pg_read_all_stats role to show other users’ sessions).';
}

function gaveUpError(command: GuardedCommand, record: AttemptRecord, attempts: AttemptRecord[], settings: GuardSettings, db: Database): KnexsafeError {
  const what = record.sqlState === '40P01' ? 'deadlocked' : `could not get a lock within lock_timeout ${humanDuration(settings.lockTimeoutMs)}`;
  const outcome = record.transactional ? 'Its transaction was rolled back each time, so nothing from it is applied.' : 'Migrations that finished before it stay applied (see `knexsafe status`).';
  const pids = [...new Set(attempts.flatMap((a) => a.blockers.map((b) => b.pid)))];
  return new KnexsafeError(
    'LOCK_TIMEOUT',
    `${command}: migration ${record.migration ?? '(knex bookkeeping)'} ${what} on all ${attempts.length} attempt${attempts.length === 1 ? '' : 's'}, so knexsafe gave up. ${outcome} ${blockersText(record.blockers, db)}`,
    {
      exitCode: 1,
      hint: `Each attempt waited at most ${humanDuration(settings.lockTimeoutMs)}, so other queries never queued behind it for longer. Find out why ${pids.length ? `pid ${pids.join(', ')} hold${pids.length === 1 ? 's' : ''}` : 'a session holds'} the lock (a long or idle-in-transaction session), end it (SELECT pg_terminate_backend(pid)) or wait, then run again; --retries and --lock-timeout tune the waiting.`,
      details: { attempts, blockers: record.blockers, migration: record.migration },
    },
  );
}

function notRetryableError(error: unknown, record: AttemptRecord, reason: string): KnexsafeError {
  const base = error instanceof KnexsafeError ? error.message : errorMessage(error);
  return new KnexsafeError('LOCK_TIMEOUT', `${base} knexsafe did not retry: ${reason}. ${record.blockers.length ? `Blocking: ${record.blockers.map(describeBlocker).join('; ')}.` : ''}`.trim(), {
    exitCode: 1,
    cause: error,
    hint: 'Check the schema (`knexsafe doctor`), finish or undo the half-applied statements by hand, then run again.',
    details: { attempts: [record], blockers: record.blockers, migration: record.migration, retried: false },
  });
}

function runLockedError(command: GuardedCommand, project: ProjectConfig, holders: LockHolder[]): KnexsafeError {
  const who = holders.length
    ? holders
        .map(
          (h) =>
            `pid ${h.pid} (application ${h.application ? `"${h.application}"` : '(none)'}${h.clientAddress ? `, from ${h.clientAddress}` : ''}${h.backendStart ? `, connected ${h.backendStart}` : ''})`,
        )
        .join('; ')
    : 'a session that has just ended';
  return new KnexsafeError('MIGRATION_LOCKED', `Another knexsafe run is migrating this database (${project.migrations.tableName}): ${who}. This ${command} ran nothing.`, {
    exitCode: 1,
    hint: 'Wait for it to finish and run again (it will find nothing or only what is still pending). The run lock is a session advisory lock: it disappears by itself if that process dies.',
    details: { holders },
  });
}

/**
 * knex creates its two tables when they are missing, without a lock: two runs starting together
 * on a fresh database both try, and the second fails with 42P07 (or 23505 on pg_type's unique
 * index when both CREATE at the same instant).
 */
function createdConcurrently(error: unknown, project: ProjectConfig): boolean {
  const state = sqlState(error);
  if (state !== '42P07' && state !== '23505') return false;
  const message = errorMessage(error);
  const table = project.migrations.tableName;
  return (
    message.includes(`create table "${table}`) ||
    message.includes(`"${table}_lock"`) ||
    new RegExp(`relation "${table}(_lock)?" already exists|Key \\(typname, typnamespace\\)=\\(${table}`).test(message)
  );
}

function knexLockError(error: unknown, project: ProjectConfig, db: Database, how: 'held' | 'created' = 'held'): KnexsafeError {
  const lockTable = `${project.migrations.tableName}_lock`;
  const why =
    how === 'created'
      ? `it created knex's tables (${project.migrations.tableName}, ${lockTable}) at the same moment as this run`
      : `${lockTable} is held (is_locked = 1, or its row is locked by a batch transaction that is still running)`;
  return new KnexsafeError('MIGRATION_LOCKED', `another process is migrating: ${why} on ${db.description} — probably a plain \`knex migrate:latest\` — so this run applied nothing.`, {
    exitCode: 1,
    cause: error,
    hint: 'Wait for it to finish, then run again: it finds nothing or only what is still pending. `knexsafe doctor` shows the session; if no process is migrating, the lock was left by a crash and `knexsafe unlock` frees it.',
  });
}

function appliedElsewhereError(command: GuardedCommand, rows: AppliedMigration[], project: ProjectConfig): KnexsafeError {
  const batches = [...new Set(rows.map((r) => r.batch))];
  return new KnexsafeError(
    'APPLIED_ELSEWHERE',
    `nothing to apply: ${rows.length} migration${rows.length === 1 ? ' was' : 's were'} applied by another process meanwhile (${project.migrations.tableName} batch ${batches.join(', ')}: ${rows.map((r) => r.name).join(', ')}). This ${command} applied nothing.`,
    {
      exitCode: 1,
      hint: 'Another `knex migrate:latest` or deploy ran at the same time. `knexsafe status` shows the history; run migrations from one place only.',
      details: { appliedByOthers: rows.map((r) => ({ name: r.name, batch: r.batch, appliedAt: r.appliedAt?.toISOString() ?? null })) },
    },
  );
}

function changedMigrationsError(command: GuardedCommand, changed: ChecksumVerdict[], project: ProjectConfig): KnexsafeError {
  const list = changed
    .map(
      (c) =>
        `${c.name} (applied${
          c.recorded?.recordedAt
            ? ` ${c.recorded.recordedAt
                .toISOString()
                .replace('T', ' ')
                .replace(/\.\d+Z$/, 'Z')}`
            : ''
        }${c.recorded?.git ? ` from commit ${c.recorded.git.commit.slice(0, 12)}` : ''}, sha256 ${c.recorded?.sha256.slice(0, 12)} then, ${c.current?.slice(0, 12)} now)`,
    )
    .join('; ');
  return new KnexsafeError(
    'MIGRATION_CHANGED',
    `${command} stopped before changing anything: ${changed.length === 1 ? 'an applied migration was' : `${changed.length} applied migrations were`} edited after ${changed.length === 1 ? 'it was' : 'they were'} applied — ${list}. This database ran the old version${changed.length === 1 ? '' : 's'}; other environments that apply the new one will end up with a different schema.`,
    {
      exitCode: 1,
      hint: `\`knexsafe status\` shows the diff against the applied version when git has it. Undo the edit and put the change in a new migration (\`knexsafe make\`); or, if the edit changes nothing that ran (a comment, formatting), accept it with \`knexsafe history rehash\`; or run once with --allow-changed.`,
      details: { changed: changed.map((c) => ({ name: c.name, file: c.file, recorded: c.recorded?.sha256, current: c.current, git: c.recorded?.git ?? null })), table: project.migrations.tableName },
    },
  );
}

function checkBlockedError(command: GuardedCommand, plan: RunPlan): KnexsafeError {
  const list = plan.blocking.map((f) => `${f.migration}${f.line ? `:${f.line}` : ''} ${f.rule}: ${f.message}`).join('; ');
  return new KnexsafeError(
    'CHECK_FAILED',
    `${command} stopped before changing anything: the check found ${plan.blocking.length} error${plan.blocking.length === 1 ? '' : 's'} in the pending migrations — ${list}.`,
    {
      exitCode: 1,
      hint: 'Fix the migration (each finding has a fix; `knexsafe check` prints them), or suppress one with `// knexsafe-ignore <rule>: <reason>` above the call, or run with --unsafe to go ahead anyway.',
      details: { blocking: plan.blocking },
    },
  );
}
