import fs from 'node:fs';
import type { Knex } from 'knex';
import type { CaptureSession, RunOutcome } from '../capture/session.js';
import type { MigrationTrace } from '../capture/types.js';
import { knexVersionNote } from '../config/knex-version.js';
import { confirmedNote, runUnderProjectKnex, } from './project-knex.js';
import { resolveProject, type ProjectConfig, } from '../config/resolve.js';
import { KnexsafeError, errorMessage } from '../errors.js';
import { listMigrationFiles, type MigrationFile } from '../migrations/source.js';
import type { SchemaSnapshot } from '../schema/index.js';
import type { EngineOptions } from '../rules/engine.js';
import { DEFAULT_THRESHOLDS } from '../rules/thresholds.js';
import type { Finding, MigrationUnit, TableStats } from '../rules/types.js';
import { selectMigrations, } from '../migrations/selection.js';
import { ShadowDatabaseReservation } from '../shadow/server-database.js';
import { EMBEDDED_SHADOW_DESCRIPTION } from '../db/embedded.js';
import { checkSqlFiles, DEFAULT_PG_VERSION, loadJudge, sortFindings } from './sql-files.js';
import type { DataCheckResult } from './data-checks.js';
import { readTargetInfo, readTargetVersion, type TargetInfo } from './target-info.js';
import { describeConnection } from '../util/redact.js';


export type { CheckedMigration, CheckOptions, CheckReport, PgVersionSource } from './types.js';
import type { CheckOptions, CheckReport, CheckedMigration, PgVersionSource } from './types.js';

/**
 * What runs migrations on the shadow and watches them: knex, the capture engine, the SQL parser.
 * It loads (~0.25 s) after the project is read, while a server shadow's database is being created
 * and the target read, instead of before anything else.
 */
async function loadRunner() {
  const [session, incremental, parse] = await Promise.all([import('../capture/session.js'), import('../schema/incremental.js'), import('../sql/parse.js')]);
  await parse.ensureParser();
  return { CaptureSession: session.CaptureSession, IncrementalSnapshots: incremental.IncrementalSnapshots };
}
type Runner = Awaited<ReturnType<typeof loadRunner>>;

type Judge = Awaited<ReturnType<typeof loadJudge>>;

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
  const runnerReady = loadRunner();
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

async function checkMigrations(options: CheckOptions, project: ProjectConfig, { started, explicit, readsTarget, runnerReady, shadowDatabase }: CheckContext): Promise<CheckReport> {
  const warnings: string[] = [...project.warnings];
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
  const versionRead = !readsTarget && !versionKnown && project.target.kind === 'server'
    ? readTargetVersion(project).then((v) => ({ v }), (error: unknown) => ({ error }))
    : undefined;

  let files: MigrationFile[];
  let selected: MigrationFile[];
  let replay: MigrationFile[];
  let scope: string;
  let batchMode: boolean;
  if (target) {
    files = listMigrationFiles(project.migrations);
    const applied = new Set(target.applied);
    selected = files.filter((f) => !applied.has(f.name));
    replay = files.filter((f) => applied.has(f.name));
    scope = `${selected.length} pending migration${selected.length === 1 ? '' : 's'} of ${target.description}, run as knex will run them (one batch)`;
    batchMode = true;
  } else {
    const selection = await selectMigrations(project, { ...options, all: options.all ?? !explicit }, 'all');
    files = selection.files;
    selected = selection.selected;
    replay = files.slice(0, files.indexOf(selected[0] ?? files[0]!));
    scope = explicit ? selection.reason : `all ${selected.length} migrations, each against the schema the earlier ones left`;
    batchMode = false;
  }

  if (selected.length > 0) void shadowDatabase?.start();
  const { CaptureSession, IncrementalSnapshots } = await runnerReady;
  const read = await versionRead;
  if (read && 'error' in read) {
    warnings.push(`Could not read the target's PostgreSQL version (${errorMessage(read.error).replace(/\.$/, '')}); advice is for PostgreSQL ${DEFAULT_PG_VERSION}, pass --pg-version to choose.`);
  }
  const targetVersion = target?.pgVersion ?? (read && 'v' in read ? read.v : undefined);
  const pgVersion = options.pgVersion ?? project.knexsafe.pgVersion ?? targetVersion ?? DEFAULT_PG_VERSION;
  const pgVersionSource: PgVersionSource =
    options.pgVersion !== undefined ? { from: 'option' }
    : project.knexsafe.pgVersion !== undefined ? { from: 'config' }
    : targetVersion !== undefined ? { from: 'target', database: target?.description ?? describeTarget(project) }
    : { from: 'default', reason: project.target.kind === 'none' ? 'no-target' : project.target.kind === 'server' ? 'target-unreachable' : 'target-not-read' };
  const units: MigrationUnit[] = [];
  const migrations: CheckedMigration[] = [];
  const findings: Finding[] = [];
  const engineOptions: Omit<EngineOptions, 'batches'> = {
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
  let shadowDescription: string | undefined;
  // The warm cache: every migration from the first, each judged alone, on the embedded shadow.
  // (A batch is judged as a whole, so pending runs are not cached; nor are server shadows yet.)
  // What decides a migration's findings besides the shadow's state: the advice's PostgreSQL version,
  // severities and thresholds, --timeout (a shorter one may fail what passed), the proof mode.
  const engineFingerprint = {
    pgVersion,
    pgVersionSource,
    thresholds: engineOptions.thresholds,
    severities: engineOptions.severities ?? null,
    timeoutMs: options.timeoutMs ?? null,
    incrementalProof: process.env.KNEXSAFE_CHECK_INCREMENTAL ?? null,
  };
  const plan =
    options.cache && !batchMode && !explicit && !shadowDatabase && replay.length === 0 && selected.length === files.length
      ? (await import('../cache/plan.js')).CachePlan.create(project, files, 'check --all', engineFingerprint, true)
      : undefined;
  // Cached results of the first `upTo` migrations, as the cold run concluded them.
  const takeCached = (upTo: number) => {
    for (let at = 0; at < upTo; at++) {
      const cached = plan!.result<CachedCheckResult>(at + 1);
      // Read a moment ago; gone now (evicted by another run): the run cannot be exact, so it fails loudly.
      if (!cached) throw new KnexsafeError('CACHE_ENTRY_GONE', `The warm cache lost the result of ${selected[at]!.name} while this run read it; run again (or with --no-cache).`);
      migrations.push(...cached.migrations);
      findings.push(...cached.findings);
      for (const w of cached.warnings) if (!warnings.includes(w)) warnings.push(w);
    }
  };
  if (plan?.complete) {
    // Nothing changed since a run that stored every result: no shadow to open.
    plan.settle();
    takeCached(files.length);
    shadowDescription = EMBEDDED_SHADOW_DESCRIPTION;
  } else if (selected.length > 0) {
    const seed = plan?.seed();
    const session = await CaptureSession.open({
      project,
      files,
      ...(shadowDatabase ? { shadowUrl: shadowDatabase.serverUrl, shadowReservation: shadowDatabase } : {}),
      ...(batchMode ? {} : { preload: selected.slice(plan?.start ?? 0) }),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(seed ? { seed } : {}),
    });
    plan?.settle();
    shadowDescription = session.shadow.description;
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
      // Migrations run but not judged yet: started by judgeWaiting.
      const waiting: (() => void)[] = [];
      const judgeWaiting = () => {
        for (const start of waiting.splice(0)) start();
      };
      const schemas = trackSchemas(session, project, IncrementalSnapshots, { whileReading: judgeWaiting, rideCommit: !batchMode });
      const analyzeOutcome = async (outcome: RunOutcome): Promise<Analyzed> => {
        const { analyzeTrace } = await judgeReady;
        const analyzed: Analyzed = { units: [], migrations: [] };
        const traced = new Set(outcome.traces.map((t) => t.name));
        // A migration that failed before running any SQL (it does not load, a require is missing…)
        // has no trace; it must still fail the check, never read as all clear.
        if (outcome.error && (!outcome.error.migration || !traced.has(outcome.error.migration))) {
          const file = outcome.error.migration ? files.find((f) => f.name === outcome.error?.migration) : undefined;
          analyzed.migrations.push({
            name: outcome.error.migration ?? '(batch)',
            file: file?.file ?? '',
            statements: 0,
            transactional: false,
            failed: { message: outcome.error.message, ...(outcome.error.sqlState ? { sqlState: outcome.error.sqlState } : {}) },
          });
        }
        for (const trace of outcome.traces) {
          if (trace.direction !== 'up') continue;
          analyzed.units.push(await unitOf(session, trace, files, schemas, { pgVersion, batchMode, analyzeTrace }));
          // Its statements ran, yet the run failed there (e.g. reading the schema after it): still a failure.
          const error = trace.error ?? (outcome.error?.migration === trace.name ? outcome.error : undefined);
          analyzed.migrations.push({
            name: trace.name,
            file: trace.file,
            statements: trace.statements.filter((s) => !s.control).length,
            transactional: trace.transactional,
            ...(error ? { failed: { message: error.message, ...(error.sqlState ? { sqlState: error.sqlState } : {}) } } : {}),
          });
        }
        return analyzed;
      };
      if (batchMode) {
        options.progress?.(`Running ${selected.length} pending migration(s) on the shadow`);
        const analyzed = await analyzeOutcome(await session.latest(files));
        const { runRules, rules } = await judgeReady;
        units.push(...analyzed.units);
        migrations.push(...analyzed.migrations);
        findings.push(...runRules(rules, analyzed.units, { ...engineOptions, batches: groupBatches(analyzed.units) }));
      } else {
        // Each migration is judged alone, while PostgreSQL reads the catalog after the next one
        // (judgeWaiting runs from trackSchemas): the main thread would only wait there.
        const pending: Promise<{ analyzed: Analyzed; findings: Finding[] } | { error: unknown }>[] = [];
        const start = plan?.start ?? 0;
        takeCached(start);
        for (const f of selected.slice(start)) {
          options.progress?.(`Running ${f.name}`);
          const ran = await session.up(f.name);
          // Read with its COMMIT, so in by now; should it need a whole read after all, that comes
          // first. A read that failed fails the migration's check, as it did when read before COMMIT.
          const unread = await schemas.after.get(f.name)?.then(
            () => undefined,
            (error: unknown) => error,
          );
          const outcome: RunOutcome =
            unread === undefined || ran.error ? ran : { ...ran, error: { message: `reading the schema after it failed: ${errorMessage(unread)}`, migration: f.name, direction: 'up' } };
          pending.push(
            new Promise<void>((resolve) => waiting.push(resolve))
              .then(async () => {
                const [analyzed, { runRules, rules }] = await Promise.all([analyzeOutcome(outcome), judgeReady]);
                return { analyzed, findings: runRules(rules, analyzed.units, { ...engineOptions, batches: analyzed.units.map((u) => [u]) }) };
              })
              .catch((error: unknown) => ({ error })),
          );
          if (outcome.error) break;
          const position = files.indexOf(f) + 1;
          // Between migrations no transaction is open: the data directory, checkpointed, is the state.
          if (plan?.wantsState(position)) await plan.saveState(position, await session.checkpoint(), resume);
        }
        judgeWaiting();
        for (const [i, done] of (await Promise.all(pending)).entries()) {
          if ('error' in done) throw done.error;
          units.push(...done.analyzed.units);
          migrations.push(...done.analyzed.migrations);
          findings.push(...done.findings);
          // Only what a migration that ran to the end concluded: a failure is always run again.
          if (plan && done.analyzed.migrations.every((m) => !m.failed)) {
            plan.saveResult(start + i + 1, { migrations: done.analyzed.migrations, findings: done.findings, warnings: resume.warnings } satisfies CachedCheckResult);
          }
        }
        plan?.finish();
      }
    } finally {
      await session.close();
    }
  }

  let dataChecks: DataCheckResult[] | undefined;
  if (options.dataChecks) {
    if (!target) {
      warnings.push('--data-checks needs the target database (the knexfile’s connection, checking its pending migrations): skipped.');
    } else if (units.length > 0) {
      const settings = typeof options.dataChecks === 'object' ? options.dataChecks : {};
      options.progress?.(`Counting rows the pending migrations could fail on (${settings.url ? 'replica' : 'target'}, read-only)`);
      const { runDataChecks, dataCheckFindings } = await import('./data-checks.js');
      const { openServer, openTarget } = await import('../db/connect.js');
      const db = settings.url ? await openServer(settings.url) : await openTarget(project);
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
    }
  }

  // A failure under knexsafe's knex may not be one under the project's own (another major).
  const note = migrations.some((m) => m.failed) ? knexVersionNote(project.baseDir) : undefined;
  if (note) for (const m of migrations) if (m.failed) m.failed.knexVersionNote = note;
  // On a server shadow, the project's own knex runs the chain up to the failure to tell which it is.
  if (note && shadowDatabase) {
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

  const ran = new Set(migrations.map((m) => m.name));
  const notReached = migrations.some((m) => m.failed) ? selected.filter((f) => !ran.has(f.name)).map((f) => f.name) : [];

  return {
    findings: sortFindings(findings),
    migrations,
    ...(dataChecks ? { dataChecks } : {}),
    scope,
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

/** What a run resumed from a stored state needs to go on as the run that stored it did. */
interface CheckResume {
  /** Oids of the relations that existed when that run started (they count as the target's tables). */
  runRelations: number[];
  /** Notes opening its shadow added (the state it resumes from already has what they were about). */
  warnings: string[];
}

/** One migration's result in the warm cache. */
interface CachedCheckResult {
  migrations: CheckedMigration[];
  findings: Finding[];
  /** Notes opening the shadow added (a run with every result cached opens none). */
  warnings: string[];
}

interface Analyzed {
  units: MigrationUnit[];
  migrations: CheckedMigration[];
}

interface SchemaTracker {
  /** Read, or being read (a read after a migration goes with its COMMIT). */
  before: Map<string, Promise<SchemaSnapshot>>;
  after: Map<string, Promise<SchemaSnapshot>>;
}

/**
 * Snapshots the schema around each migration, inside its transaction (so batch runs see each
 * step). With `rideCommit` (one migration per transaction), the read after a migration goes in the
 * round trip of the migration's COMMIT: the hook returns once it waits for it.
 */
function trackSchemas(session: CaptureSession, project: ProjectConfig, IncrementalSnapshots: Runner['IncrementalSnapshots'], { whileReading, rideCommit }: { whileReading?: () => void; rideCommit: boolean }): SchemaTracker {
  const tracker: SchemaTracker = { before: new Map(), after: new Map() };
  const exclude = [project.migrations.tableName, `${project.migrations.tableName}_lock`, `${project.migrations.tableName}_knexsafe`];
  // A snapshot after a migration re-reads only what it changed (the relations it locked, or the
  // catalog rows written or deleted since): whole snapshots were most of check's cost.
  const snapshots = new IncrementalSnapshots({ excludeTables: exclude });
  // Between one migration's end and the next one's start knex only writes its own bookkeeping rows:
  // the schema after one is the schema before the next.
  let lastAfter: Promise<SchemaSnapshot> | undefined;
  session.onBoundary = async (knex: Knex, moment, migration, direction) => {
    if (direction !== 'up') return;
    if (moment === 'before' && lastAfter) {
      tracker.before.set(migration.name, lastAfter);
      lastAfter = undefined;
      return;
    }
    // After a migration, the relation list the next one starts with rides in the snapshot's round trip.
    const relationsQuery = moment === 'after' ? session.recorder.relationsQuery() : undefined;
    let queued!: () => void;
    const waiting = new Promise<void>((resolve) => (queued = resolve));
    const reading = snapshots.take(
      knex,
      moment === 'after' ? session.recorder.lastFootprint() : undefined,
      relationsQuery ? { sql: relationsQuery, receive: (rows) => session.recorder.primeRelations(rows) } : undefined,
      moment === 'after' && rideCommit && knex.isTransaction ? { queued, root: session.knex } : undefined,
    );
    // Settled by whoever reads it (unitOf); the hook only waits until it is sent or read.
    reading.catch(() => undefined);
    (moment === 'before' ? tracker.before : tracker.after).set(migration.name, reading);
    lastAfter = moment === 'after' ? reading : undefined;
    // After the pending microtasks, the catalog query is on its way: the main thread is free.
    if (whileReading) setImmediate(whileReading);
    await Promise.race([waiting, reading]);
  };
  return tracker;
}

async function unitOf(
  session: CaptureSession,
  trace: MigrationTrace,
  files: MigrationFile[],
  schemas: SchemaTracker,
  { pgVersion, batchMode, analyzeTrace }: { pgVersion: number; batchMode: boolean; analyzeTrace: Judge['analyzeTrace'] },
): Promise<MigrationUnit> {
  const file = files.find((f) => f.name === trace.name);
  // A custom migrationSource may not say where its files are: no source text then (no suppressions).
  const source = file && fs.existsSync(file.file) ? fs.readFileSync(file.file, 'utf8') : '';
  const loaded = file ? await session.migration(file).catch(() => undefined) : undefined;
  const before = await schemas.before.get(trace.name);
  // A failed read after it is the migration's failure (see the loop), not the judge's.
  const after = await schemas.after.get(trace.name)?.catch(() => undefined);
  return analyzeTrace(trace, {
    pgVersion,
    source,
    hasDown: loaded?.down !== undefined,
    ...(before ? { schemaBefore: before } : {}),
    ...(after ? { schemaAfter: after } : {}),
    earlierMigrations: batchMode ? 'new-in-batch' : 'existing',
  });
}

function groupBatches(units: MigrationUnit[]): MigrationUnit[][] {
  const groups: MigrationUnit[][] = [];
  for (const u of units) {
    const last = groups[groups.length - 1];
    if (last && u.batchTransactionId && last[0]?.batchTransactionId === u.batchTransactionId) last.push(u);
    else groups.push([u]);
  }
  return groups;
}

export type { TableStats };
export { DEFAULT_PG_VERSION, sortFindings } from './sql-files.js';

/** The configured server target, for messages (never with its password). */
function describeTarget(project: ProjectConfig): string {
  return project.target.kind === 'server' ? describeConnection(project.target.connection) : 'the target';
}
