import fs from 'node:fs';
import type { Knex } from 'knex';
import type { CachePlan } from '../cache/plan.js';
import { CaptureSession, type RunOutcome } from '../capture/session.js';
import type { MigrationTrace } from '../capture/types.js';
import type { ProjectConfig } from '../config/resolve.js';
import { errorMessage } from '../errors.js';
import type { MigrationFile } from '../migrations/source.js';
import type { EngineOptions } from '../rules/engine.js';
import type { Finding, MigrationUnit } from '../rules/types.js';
import { IncrementalSnapshots, type SavedSnapshots } from '../schema/incremental.js';
import type { SchemaSnapshot } from '../schema/types.js';
import { ensureParser } from '../sql/parse.js';
import type { loadJudge } from './sql-files.js';
import type { CheckedMigration } from './types.js';

/**
 * check's capture and judge steps, overlapped: where `check` pipelines its work, and nowhere else.
 *
 * - The schema read after a migration goes in the round trip of the migration's COMMIT (one
 *   migration per transaction; src/db/round-trip.ts sends it), with the relation list the next
 *   migration's lock reads start from; the boundary hook returns as soon as it is queued.
 * - While PostgreSQL reads the catalog after migration N+1, the main thread judges migration N
 *   (rules, facts, locks): `judgeWaiting` starts the judging queued so far once a read is on its way.
 * - The judge (rules, parser) loads while the first migrations run.
 *
 * A batch (`check` of a target's pending migrations: one knex `latest`) runs first and is judged
 * after, as a whole.
 */

/**
 * What runs migrations on the shadow and watches them: knex, the capture engine, the SQL parser.
 * `check` loads it (~0.25 s) after the project is read, while a server shadow's database is
 * being created and the target read, instead of before anything else.
 */
export async function loadRunner() {
  await ensureParser();
  return { CaptureSession, captureAndJudge };
}
export type Runner = Awaited<ReturnType<typeof loadRunner>>;

type Judge = Awaited<ReturnType<typeof loadJudge>>;

/** What a run resumed from a stored state needs to go on as the run that stored it did. */
export interface CheckResume {
  /** Oids of the relations that existed when that run started (they count as the target's tables). */
  runRelations: number[];
  /** Notes opening its shadow added (the state it resumes from already has what they were about). */
  warnings: string[];
  /** The schema as the snapshots knew it after the state's last migration (absent in states the language server stored). */
  schema?: SavedSnapshots;
}

/** One migration's result in the warm cache. */
export interface CachedCheckResult {
  migrations: CheckedMigration[];
  findings: Finding[];
  /** Notes opening the shadow added (a run with every result cached opens none). */
  warnings: string[];
}

export interface Judged {
  units: MigrationUnit[];
  migrations: CheckedMigration[];
  findings: Finding[];
}

export interface CaptureAndJudgeInput {
  /** The shadow, at the state the first migration to run starts from. */
  session: CaptureSession;
  project: ProjectConfig;
  files: MigrationFile[];
  /** The migrations to run (one by one), or the pending batch (`batchMode`). */
  selected: MigrationFile[];
  batchMode: boolean;
  pgVersion: number;
  engineOptions: Omit<EngineOptions, 'batches'>;
  judgeReady: Promise<Judge>;
  /** The warm cache: `selected` from `plan.start` on run; states and results are stored as they come. */
  plan: CachePlan | undefined;
  resume: CheckResume;
  /** The stored state's `resume.schema`, when the shadow starts from one: the schema before the first migration, known without a read. */
  resumedSchema?: SavedSnapshots | undefined;
  progress: ((message: string) => void) | undefined;
}

/** Runs `selected` on the shadow, watched, and judges each migration (or the batch). */
export async function captureAndJudge(input: CaptureAndJudgeInput): Promise<Judged> {
  const { session, project, files, selected, batchMode, pgVersion, engineOptions, judgeReady, plan, resume, resumedSchema, progress } = input;
  const judged: Judged = { units: [], migrations: [], findings: [] };
  // Migrations run but not judged yet: started by judgeWaiting.
  const waiting: (() => void)[] = [];
  const judgeWaiting = () => {
    for (const start of waiting.splice(0)) start();
  };
  const schemas = trackSchemas(session, project, { whileReading: judgeWaiting, rideCommit: !batchMode, resumed: resumedSchema });
  const analyze = (outcome: RunOutcome) => analyzeOutcome(outcome, { session, files, schemas, pgVersion, batchMode, judgeReady });

  if (batchMode) {
    progress?.(`Running ${selected.length} pending migration(s) on the shadow`);
    const analyzed = await analyze(await session.latest(files));
    const { runRules, rules } = await judgeReady;
    judged.units.push(...analyzed.units);
    judged.migrations.push(...analyzed.migrations);
    judged.findings.push(...runRules(rules, analyzed.units, { ...engineOptions, batches: groupBatches(analyzed.units) }));
    return judged;
  }

  // Each migration is judged alone, while PostgreSQL reads the catalog after the next one
  // (judgeWaiting runs from trackSchemas): the main thread would only wait there.
  const pending: Promise<{ analyzed: Analyzed; findings: Finding[] } | { error: unknown }>[] = [];
  const start = plan?.start ?? 0;
  for (const f of selected.slice(start)) {
    progress?.(`Running ${f.name}`);
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
          const [analyzed, { runRules, rules }] = await Promise.all([analyze(outcome), judgeReady]);
          return { analyzed, findings: runRules(rules, analyzed.units, { ...engineOptions, batches: analyzed.units.map((u) => [u]) }) };
        })
        .catch((error: unknown) => ({ error })),
    );
    if (outcome.error) break;
    const position = files.indexOf(f) + 1;
    // Between migrations no transaction is open: the data directory, checkpointed, is the state.
    if (plan?.wantsState(position)) await plan.saveState(position, await session.checkpoint(), { ...resume, schema: schemas.snapshots.save() } satisfies CheckResume);
  }
  judgeWaiting();
  for (const [i, done] of (await Promise.all(pending)).entries()) {
    if ('error' in done) throw done.error;
    judged.units.push(...done.analyzed.units);
    judged.migrations.push(...done.analyzed.migrations);
    judged.findings.push(...done.findings);
    // Only what a migration that ran to the end concluded: a failure is always run again.
    if (plan && done.analyzed.migrations.every((m) => !m.failed)) {
      plan.saveResult(start + i + 1, { migrations: done.analyzed.migrations, findings: done.findings, warnings: resume.warnings } satisfies CachedCheckResult);
    }
  }
  plan?.finish();
  return judged;
}

interface Analyzed {
  units: MigrationUnit[];
  migrations: CheckedMigration[];
}

interface SchemaTracker {
  /** Read, or being read (a read after a migration goes with its COMMIT). */
  before: Map<string, Promise<SchemaSnapshot>>;
  after: Map<string, Promise<SchemaSnapshot>>;
  snapshots: IncrementalSnapshots;
}

/**
 * Snapshots the schema around each migration, inside its transaction (so batch runs see each
 * step). With `rideCommit` (one migration per transaction), the read after a migration goes in the
 * round trip of the migration's COMMIT: the hook returns once it waits for it.
 */
function trackSchemas(
  session: CaptureSession,
  project: ProjectConfig,
  { whileReading, rideCommit, resumed }: { whileReading?: () => void; rideCommit: boolean; resumed?: SavedSnapshots | undefined },
): SchemaTracker {
  const exclude = [project.migrations.tableName, `${project.migrations.tableName}_lock`, `${project.migrations.tableName}_knexsafe`];
  // A snapshot after a migration re-reads only what it changed (the relations it locked, or the
  // catalog rows written or deleted since): whole snapshots were most of check's cost.
  const snapshots = new IncrementalSnapshots({ excludeTables: exclude });
  const tracker: SchemaTracker = { before: new Map(), after: new Map(), snapshots };
  // Between one migration's end and the next one's start knex only writes its own bookkeeping rows:
  // the schema after one is the schema before the next. Resumed from a stored state, the schema
  // after its last migration is known as the run that stored it knew it: the next read is the
  // same delta that run read, not the whole schema of a long chain.
  let lastAfter: Promise<SchemaSnapshot> | undefined = resumed ? Promise.resolve(snapshots.restore(resumed)) : undefined;
  session.onBoundary = async (knex: Knex, moment, migration, direction) => {
    if (direction !== 'up') return;
    if (moment === 'before' && lastAfter !== undefined) {
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

/** A run's traces as checked migrations and the units the rules judge. */
async function analyzeOutcome(
  outcome: RunOutcome,
  {
    session,
    files,
    schemas,
    pgVersion,
    batchMode,
    judgeReady,
  }: { session: CaptureSession; files: MigrationFile[]; schemas: SchemaTracker; pgVersion: number; batchMode: boolean; judgeReady: Promise<Judge> },
): Promise<Analyzed> {
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
