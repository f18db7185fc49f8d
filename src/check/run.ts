import { knexVersionNote } from '../config/knex-version.js';
import { confirmedNote, runUnderProjectKnex } from './project-knex.js';
import { resolveProject, type ProjectConfig } from '../config/resolve.js';
import { KnexsafeError, errorMessage } from '../errors.js';
import { listMigrationFiles, type MigrationFile } from '../migrations/source.js';
import type { EngineOptions } from '../rules/engine.js';
import { DEFAULT_THRESHOLDS } from '../rules/thresholds.js';
import type { Finding, MigrationUnit, TableStats } from '../rules/types.js';
import { selectMigrations } from '../migrations/selection.js';
import { ShadowDatabaseReservation } from '../shadow/server-database.js';
import { EMBEDDED_SHADOW_DESCRIPTION } from '../db/embedded.js';
import { checkSqlFiles, DEFAULT_PG_VERSION, loadJudge, sortFindings } from './sql-files.js';
import type { DataCheckResult } from './data-checks.js';
import { readTargetInfo, readTargetVersion, type TargetInfo } from './target-info.js';
import { describeConnection } from '../util/redact.js';
import type { CachedCheckResult, CheckResume, Judged, Runner } from './pipeline.js';
import type { CachePlan } from '../cache/plan.js';

export type { CheckedMigration, CheckOptions, CheckReport, PgVersionSource } from './types.js';
import type { CheckOptions, CheckReport, CheckedMigration, PgVersionSource } from './types.js';

/**
 * `knexsafe check`: runs the selected migrations on a shadow, watches them, and applies the rules.
 * @example
 * const report = await check({ cwd: '/srv/app', all: true });
 * for (const f of report.findings) console.log(`${f.file}: ${f.severity} ${f.rule}: ${f.message}`);
 */
export async function check(options: CheckOptions): Promise<CheckReport> {
  const started = performance.now();
  if (options.sqlFiles?.length) return checkSqlFiles(options, started);

  const explicit = Boolean(options.names?.length || options.from || options.to);
  // A server given on the command line, and migrations chosen without asking the target (--all,
  // names): its database is created while the project is read.
  const early = options.shadowUrl && (options.all || explicit) ? new ShadowDatabaseReservation(options.shadowUrl) : undefined;
  void early?.start();
  let project: ProjectConfig;
  try {
    project = options.project ?? (await resolveProject(options));
  } catch (error) {
    await early?.release();
    throw error;
  }
  const readsTarget = project.target.kind !== 'none' && !options.all && !explicit;
  const shadowUrl = options.shadowUrl ?? project.knexsafe.shadowUrl;
  const shadowDatabase = early ?? (shadowUrl ? new ShadowDatabaseReservation(shadowUrl) : undefined);
  // Without a target to ask what is pending, there is work for the shadow: its database is created
  // while the engine loads. With one, once there turn out to be pending migrations.
  if (!readsTarget) void shadowDatabase?.start();
  const runnerReady = import('./pipeline.js').then((pipeline) => pipeline.loadRunner());
  // Settled in checkMigrations; never left to reject unobserved.
  runnerReady.catch(() => undefined);
  try {
    return await checkMigrations(options, project, { started, explicit, readsTarget, runnerReady, shadowDatabase });
  } finally {
    await shadowDatabase?.release();
  }
}

interface CheckContext {
  started: number;
  explicit: boolean;
  readsTarget: boolean;
  runnerReady: Promise<Runner>;
  shadowDatabase: ShadowDatabaseReservation | undefined;
}

/**
 * select → shadow → capture → judge → report. Capture and judge overlap (src/check/pipeline.ts);
 * the shadow's database is created and the runner and judge load while earlier steps run.
 */
async function checkMigrations(options: CheckOptions, project: ProjectConfig, { started, explicit, readsTarget, runnerReady, shadowDatabase }: CheckContext): Promise<CheckReport> {
  const warnings: string[] = [...project.warnings];
  // select
  const work = await selectWork(options, project, { explicit, readsTarget }, warnings);
  const { target, files, selected } = work;
  if (selected.length > 0) void shadowDatabase?.start();
  const { pgVersion, pgVersionSource } = await adviceVersion(options, project, work, warnings);
  const engineOptions = engineOptionsFor(project, pgVersion, pgVersionSource, work);
  // Made while the runner loads: a plan that needs a shadow starts PGlite compiling meanwhile.
  const plan = await warmCachePlan(options, project, { work, explicit, shadowDatabase, engineOptions, pgVersionSource });
  const runner = await runnerReady;

  // shadow → capture → judge
  const judged: Judged = { units: [], migrations: [], findings: [] };
  let shadowDescription: string | undefined;
  if (plan?.complete) {
    // Nothing changed since a run that stored every result: no shadow to open.
    plan.settle();
    takeCached(plan, selected, files.length, judged, warnings);
    shadowDescription = EMBEDDED_SHADOW_DESCRIPTION;
  } else if (selected.length > 0) {
    shadowDescription = await runOnShadow(options, project, { work, runner, plan, shadowDatabase, pgVersion, engineOptions, judged, warnings });
  }
  const { units, migrations, findings } = judged;

  const dataChecks = options.dataChecks ? await checkData(options, project, target, units, findings, warnings) : undefined;

  // report
  await noteKnexVersion(options, project, files, migrations, shadowDatabase, warnings);
  const ran = new Set(migrations.map((m) => m.name));
  const notReached = migrations.some((m) => m.failed) ? selected.filter((f) => !ran.has(f.name)).map((f) => f.name) : [];

  return {
    findings: sortFindings(findings),
    migrations,
    ...(dataChecks ? { dataChecks } : {}),
    scope: work.scope,
    ...(notReached.length ? { notReached } : {}),
    ...(target ? { target: target.description } : {}),
    ...(shadowDescription ? { shadow: shadowDescription } : {}),
    pgVersion,
    pgVersionSource,
    durationMs: performance.now() - started,
    warnings,
    units,
  };
}

/** The migrations to check, and the state of the target when it was asked which are pending. */
interface Work {
  target: TargetInfo | undefined;
  files: MigrationFile[];
  selected: MigrationFile[];
  /** Run first, unwatched: the migrations before the selected ones. */
  replay: MigrationFile[];
  scope: string;
  /** The target's pending migrations, run as knex will run them: one batch. */
  batchMode: boolean;
  /** The target's version, read while the engine loads (--all and named migrations). */
  versionRead: Promise<{ v: number } | { error: unknown }> | undefined;
}

async function selectWork(options: CheckOptions, project: ProjectConfig, { explicit, readsTarget }: { explicit: boolean; readsTarget: boolean }, warnings: string[]): Promise<Work> {
  let target: TargetInfo | undefined;
  if (readsTarget) {
    try {
      target = await readTargetInfo(project);
    } catch (error) {
      if (options.pending) throw error;
      warnings.push(`Could not read the target database (${errorMessage(error)}); checking every migration against an empty shadow instead.`);
    }
  }
  // --all and named migrations do not ask the target what is pending; its version still decides
  // what the advice says (CONCURRENTLY on 14+, defaults without rewrite, ...). Read while the
  // engine loads; an unreachable target only costs the default.
  const versionKnown = options.pgVersion !== undefined || project.knexsafe.pgVersion !== undefined;
  const versionRead =
    !readsTarget && !versionKnown && project.target.kind === 'server'
      ? readTargetVersion(project).then(
          (v) => ({ v }),
          (error: unknown) => ({ error }),
        )
      : undefined;
  if (target) {
    const files = listMigrationFiles(project.migrations);
    const applied = new Set(target.applied);
    const selected = files.filter((f) => !applied.has(f.name));
    const replay = files.filter((f) => applied.has(f.name));
    const scope = `${selected.length} pending migration${selected.length === 1 ? '' : 's'} of ${target.description}, run as knex will run them (one batch)`;
    return { target, files, selected, replay, scope, batchMode: true, versionRead };
  }
  const selection = await selectMigrations(project, { ...options, all: options.all ?? !explicit }, 'all');
  const { files, selected } = selection;
  const replay = files.slice(0, files.indexOf(selected[0] ?? files[0]!));
  const scope = explicit ? selection.reason : `all ${selected.length} migrations, each against the schema the earlier ones left`;
  return { target, files, selected, replay, scope, batchMode: false, versionRead };
}

/** The PostgreSQL version the advice is for, and where it comes from. */
async function adviceVersion(options: CheckOptions, project: ProjectConfig, { target, versionRead }: Work, warnings: string[]): Promise<{ pgVersion: number; pgVersionSource: PgVersionSource }> {
  const read = await versionRead;
  if (read && 'error' in read) {
    warnings.push(`Could not read the target's PostgreSQL version (${errorMessage(read.error).replace(/\.$/, '')}); advice is for PostgreSQL ${DEFAULT_PG_VERSION}, pass --pg-version to choose.`);
  }
  const targetVersion = target?.pgVersion ?? (read && 'v' in read ? read.v : undefined);
  const pgVersion = options.pgVersion ?? project.knexsafe.pgVersion ?? targetVersion ?? DEFAULT_PG_VERSION;
  const pgVersionSource: PgVersionSource =
    options.pgVersion !== undefined
      ? { from: 'option' }
      : project.knexsafe.pgVersion !== undefined
        ? { from: 'config' }
        : targetVersion !== undefined
          ? { from: 'target', database: target?.description ?? describeTarget(project) }
          : { from: 'default', reason: project.target.kind === 'none' ? 'no-target' : project.target.kind === 'server' ? 'target-unreachable' : 'target-not-read' };
  return { pgVersion, pgVersionSource };
}

/** Cached results of the first `upTo` migrations, as the cold run concluded them. */
function takeCached(plan: CachePlan, selected: MigrationFile[], upTo: number, judged: Judged, warnings: string[]): void {
  for (let at = 0; at < upTo; at++) {
    const cached = plan.result<CachedCheckResult>(at + 1);
    // Read a moment ago; gone now (evicted by another run): the run cannot be exact, so it fails loudly.
    if (!cached) throw new KnexsafeError('CACHE_ENTRY_GONE', `The warm cache lost the result of ${selected[at]!.name} while this run read it; run again (or with --no-cache).`);
    judged.migrations.push(...cached.migrations);
    judged.findings.push(...cached.findings);
    for (const w of cached.warnings) if (!warnings.includes(w)) warnings.push(w);
  }
}

/**
 * Opens the shadow at the state the selected migrations start from (replaying earlier ones, or
 * from the warm cache), then captures and judges them into `judged`. Returns the shadow's description.
 */
async function runOnShadow(
  options: CheckOptions,
  project: ProjectConfig,
  {
    work,
    runner,
    plan,
    shadowDatabase,
    pgVersion,
    engineOptions,
    judged,
    warnings,
  }: {
    work: Work;
    runner: Runner;
    plan: CachePlan | undefined;
    shadowDatabase: ShadowDatabaseReservation | undefined;
    pgVersion: number;
    engineOptions: Omit<EngineOptions, 'batches'>;
    judged: Judged;
    warnings: string[];
  },
): Promise<string> {
  const { files, selected, replay, batchMode } = work;
  const seed = plan?.seed();
  const session = await runner.CaptureSession.open({
    project,
    files,
    ...(shadowDatabase ? { shadowUrl: shadowDatabase.serverUrl, shadowReservation: shadowDatabase } : {}),
    ...(batchMode ? {} : { preload: selected.slice(plan?.start ?? 0) }),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(seed ? { seed } : {}),
  });
  plan?.settle();
  // Opening the shadow may have noted what it had to assume about the target (its schemas).
  for (const w of project.warnings) if (!warnings.includes(w)) warnings.push(w);
  // Loads while the first migrations wait on the shadow.
  const judgeReady = loadJudge();
  judgeReady.catch(() => undefined);
  try {
    if (replay.length) {
      options.progress?.(`Replaying ${replay.length} earlier migration(s) on the shadow`);
      const r = await session.replay(replay);
      if (r.error) {
        throw new KnexsafeError('REPLAY_FAILED', `Replaying ${r.error.migration ? `the earlier migration ${r.error.migration}` : 'the earlier migrations'} on the shadow failed: ${r.error.message}`, {
          exitCode: 1,
          hint: 'The migrations before the ones checked no longer run from scratch (check them with `knexsafe check --all`); when a target has applied them, `knexsafe doctor` compares it with them.',
        });
      }
    }
    const resumed = plan?.meta?.resume as CheckResume | undefined;
    if (plan && resumed) {
      session.restoreRunStart(resumed.runRelations);
      for (const w of resumed.warnings) if (!warnings.includes(w)) warnings.push(w);
    } else await session.markRunStart();
    // The notes opening the shadow made in the cold run (this one, resumed, may not make them again).
    const openNotes = [...(resumed?.warnings ?? []), ...project.warnings.filter((w) => !resumed?.warnings.includes(w))];
    const resume: CheckResume = { runRelations: session.recorder.runStartRelations() ?? [], warnings: openNotes };
    if (plan && !batchMode) takeCached(plan, selected, plan.start, judged, warnings);
    const fresh = await runner.captureAndJudge({
      session,
      project,
      files,
      selected,
      batchMode,
      pgVersion,
      engineOptions,
      judgeReady,
      plan,
      resume,
      resumedSchema: resumed?.schema,
      progress: options.progress,
    });
    judged.units.push(...fresh.units);
    judged.migrations.push(...fresh.migrations);
    judged.findings.push(...fresh.findings);
    return session.shadow.description;
  } finally {
    await session.close();
  }
}

/** --data-checks: rows on the target (or a replica) the pending migrations could fail on. */
async function checkData(
  options: CheckOptions,
  project: ProjectConfig,
  target: TargetInfo | undefined,
  units: MigrationUnit[],
  findings: Finding[],
  warnings: string[],
): Promise<DataCheckResult[] | undefined> {
  if (!target) {
    warnings.push('--data-checks needs the target database (the knexfile’s connection, checking its pending migrations): skipped.');
    return undefined;
  }
  if (units.length === 0) return undefined;
  const settings = typeof options.dataChecks === 'object' ? options.dataChecks : {};
  options.progress?.(`Counting rows the pending migrations could fail on (${settings.url ? 'replica' : 'target'}, read-only)`);
  const { runDataChecks, dataCheckFindings } = await import('./data-checks.js');
  const { openServer, openTarget } = await import('../db/connect.js');
  const db = settings.url ? await openServer(settings.url) : await openTarget(project);
  let dataChecks: DataCheckResult[];
  try {
    const stats = target.stats;
    dataChecks = await runDataChecks(db.knex, units, { existing: (t) => stats.has(t), ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}) });
  } finally {
    await db.close();
  }
  findings.push(...dataCheckFindings(dataChecks, settings.url ? `the replica ${db.description}` : target.description));
  for (const r of dataChecks.filter((x) => x.status === 'unknown')) {
    warnings.push(`data check not done for ${r.migration} (${r.what} in ${r.table}): ${r.detail ?? 'unknown error'}`);
  }
  return dataChecks;
}

/** How the rules judge: the advice's PostgreSQL version, the project's thresholds and severities, the target's tables. */
function engineOptionsFor(project: ProjectConfig, pgVersion: number, pgVersionSource: PgVersionSource, { target, batchMode }: Work): Omit<EngineOptions, 'batches'> {
  return {
    pgVersion,
    pgVersionKnown: pgVersionSource.from !== 'default',
    thresholds: { ...DEFAULT_THRESHOLDS, ...(project.knexsafe.thresholds ?? {}) },
    ...(project.knexsafe.rules ? { severities: project.knexsafe.rules } : {}),
    ...(target ? { stats: target.stats } : {}),
    tableAge: (unit, table) => {
      if (!unit.schemaBefore?.tables[table]) return 'new';
      if (batchMode && target && !target.stats.has(table)) return 'new-in-batch';
      return 'existing';
    },
  };
}

/**
 * The warm cache: every migration from the first, each judged alone, on the embedded shadow.
 * (A batch is judged as a whole, so pending runs are not cached; nor are server shadows yet.)
 */
async function warmCachePlan(
  options: CheckOptions,
  project: ProjectConfig,
  {
    work,
    explicit,
    shadowDatabase,
    engineOptions,
    pgVersionSource,
  }: { work: Work; explicit: boolean; shadowDatabase: ShadowDatabaseReservation | undefined; engineOptions: Omit<EngineOptions, 'batches'>; pgVersionSource: PgVersionSource },
): Promise<CachePlan | undefined> {
  const { files, selected, replay, batchMode } = work;
  if (!options.cache || batchMode || explicit || shadowDatabase || replay.length !== 0 || selected.length !== files.length) return undefined;
  // What decides a migration's findings besides the shadow's state: the advice's PostgreSQL version,
  // severities and thresholds, --timeout (a shorter one may fail what passed), the proof mode.
  const engineFingerprint = {
    pgVersion: engineOptions.pgVersion,
    pgVersionSource,
    thresholds: engineOptions.thresholds,
    severities: engineOptions.severities ?? null,
    timeoutMs: options.timeoutMs ?? null,
    incrementalProof: process.env.KNEXSAFE_CHECK_INCREMENTAL ?? null,
  };
  return (await import('../cache/plan.js')).CachePlan.create(project, files, 'check --all', engineFingerprint, true);
}

/**
 * A failure under knexsafe's knex may not be one under the project's own (another major): noted
 * on each failed migration, and on a server shadow the project's own knex runs the chain up to the
 * failure to tell which it is.
 */
async function noteKnexVersion(
  options: CheckOptions,
  project: ProjectConfig,
  files: MigrationFile[],
  migrations: CheckedMigration[],
  shadowDatabase: ShadowDatabaseReservation | undefined,
  warnings: string[],
): Promise<void> {
  const note = migrations.some((m) => m.failed) ? knexVersionNote(project.baseDir) : undefined;
  if (!note) return;
  for (const m of migrations) if (m.failed) m.failed.knexVersionNote = note;
  if (!shadowDatabase) return;
  for (const m of migrations) {
    const at = files.findIndex((f) => f.name === m.name);
    if (!m.failed || at < 0) continue;
    options.progress?.(`Running the migrations up to ${m.name} with the project's own knex`);
    try {
      const run = await runUnderProjectKnex(project, files.slice(0, at + 1), shadowDatabase.serverUrl);
      if (run) m.failed = { ...m.failed, knexVersionNote: confirmedNote(run), underProjectKnex: run };
    } catch (error) {
      warnings.push(`Could not run ${m.name} with the project's own knex to compare (${errorMessage(error)}).`);
    }
  }
}

export type { TableStats };
export { DEFAULT_PG_VERSION, sortFindings } from './sql-files.js';

/** The configured server target, for messages (never with its password). */
function describeTarget(project: ProjectConfig): string {
  return project.target.kind === 'server' ? describeConnection(project.target.connection) : 'the target';
}
