import { confirmedNote, runUnderProjectKnex, type ProjectKnexRun } from '../check/project-knex.js';
import { knexVersionNote } from '../config/knex-version.js';
import type { ProjectConfig } from '../config/resolve.js';
import { CaptureSession, type RunOutcome } from '../capture/session.js';
import type { CapturedStatement, MigrationTrace, SchemaFootprint, StatementError } from '../capture/types.js';
import { EMBEDDED_SHADOW_DESCRIPTION } from '../db/embedded.js';
import type { ShadowDatabaseReservation } from '../shadow/server-database.js';
import { KnexsafeError } from '../errors.js';
import { refusedMigration, type MigrationFile } from '../migrations/source.js';
import { diffSchemas, snapshotSchema, type SchemaChange, type SchemaSnapshot } from '../schema/index.js';
import { IncrementalSnapshots, type SavedSnapshots } from '../schema/incremental.js';
import { compareProbeRows, fillProbeRows, refreshProbeRows, removeProbeRows, type DataLoss, type ProbeRead } from './probe.js';

export type VerifyRuleId = 'down-missing' | 'down-not-inverse' | 'down-destroys-data' | 'down-failed' | 'up-failed' | 'up-not-rerunnable';

export interface VerifyFinding {
  rule: VerifyRuleId;
  message: string;
  changes?: SchemaChange[];
  dataLoss?: DataLoss[];
  error?: StatementError & { sql?: string; site?: CapturedStatement['site'] };
  /** up or down failed, and the project's knex is another major than knexsafe's: it may not fail under npx knex. */
  knexVersionNote?: string;
  /** On a server shadow, for up-failed: what the project's own knex made of the chain up to it. */
  underProjectKnex?: ProjectKnexRun;
}

export interface MigrationVerdict {
  name: string;
  file: string;
  /** reversible: down restored schema and data and up re-ran cleanly. */
  status: 'reversible' | 'not-reversible' | 'failed';
  findings: VerifyFinding[];
  /** S0 vs S2: what down failed to restore. */
  diff: SchemaChange[];
  notes: string[];
  dataLoss: DataLoss[];
  /** Whether up changed the schema at all (S0 ≠ S1). */
  changedSchema: boolean;
  timings: { upMs: number; downMs: number; reUpMs: number };
}

export interface VerifyEvents {
  migrationVerified?(verdict: MigrationVerdict, index: number, total: number): void;
  progress?(message: string): void;
}

export interface VerifyOptions {
  project: ProjectConfig;
  /** Which files to verify, in order. */
  selection: MigrationFile[];
  /** Applied to the shadow first, without verifying: the starting point. */
  replay: MigrationFile[];
  /** Every migration file of the project, in knex order. */
  files: MigrationFile[];
  shadowUrl?: string;
  /** The database of `shadowUrl`, being created already: the first shadow opened takes it (its caller releases it). */
  shadowReservation?: ShadowDatabaseReservation;
  /** Longest a migration (and on a server shadow, a statement) may run on the shadow. */
  timeoutMs?: number;
  events?: VerifyEvents;
  /** Skip the data probe (faster; schema only). */
  noData?: boolean;
  /**
   * Use the warm cache of shadow states (src/cache/) when every migration is verified on the
   * embedded shadow, unless the config or KNEXSAFE_NO_CACHE turns it off.
   */
  cache?: boolean;
  /**
   * false: read the schema and the probe rows whole every time, as before incremental reads (for
   * tests that prove both give the same verdicts).
   */
  incremental?: boolean;
  /** Filled in as the run goes (for tests and benchmarks): how many snapshots were read whole and how many incrementally. */
  snapshotCounts?: { full: number; incremental: number };
}

/** One migration's result in the warm cache, with what the report says after it (a run with every result cached opens no shadow). */
interface CachedVerdict {
  verdict: MigrationVerdict;
  probe: VerifyReport['probe'];
  /** The project's warnings once the shadow was open (opening it may add notes). */
  warnings: string[];
  /** The columns this migration added, when it proved reversible (see AddedColumns). */
  added?: [string, string[]][];
}

/**
 * The columns (per table key) a migration just verified as reversible added: its down drops them,
 * so values the next migration writes into them are undone by rolling back the two.
 */
interface AddedColumns {
  name: string;
  columns: Map<string, string[]>;
}

/** The probe rows last read (or known unchanged since), and the tables whose rows may have changed since: undefined when any may have. */
interface ProbeRowsKnown {
  read: ProbeRead;
  touched?: ReadonlySet<string>;
}

/** What a run resumed from a stored state needs to go on as the run that stored it did: the probe's bookkeeping. */
interface VerifyResume {
  filled: string[];
  unfilled: [string, string][];
  /** Rows inserted per table, as JSON with tagged dates, buffers and bigints (see encodeRows). */
  inserted: string;
  /** The project's warnings once the shadow was open. */
  warnings: string[];
  /** The schema after the state's last migration, as the snapshots knew it (see IncrementalSnapshots.save). */
  schema?: SavedSnapshots;
  /** The probe rows known then (ProbeRowsKnown; JSON as PostgreSQL printed them): the next migration reads only the rest, as in the run that stored it. */
  rowsKnown?: { rows: [string, Record<string, unknown>[]][]; settings: string; touched: string[] | null };
}

export interface VerifyReport {
  shadow: string;
  shadowReadyMs: number;
  verdicts: MigrationVerdict[];
  probe: { filled: string[]; unfilled: { table: string; reason: string }[] };
  /** Selected migrations after one whose up failed: knex stops there, so they were not run. */
  notReached: string[];
  durationMs: number;
  ok: boolean;
}

/**
 * For each migration: S0 → up → S1 → down → S2 → up → S3 on a shadow database. down must bring
 * the schema back to S0 and keep the data that was there; up must run again after it.
 */
export async function verifyMigrations(options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const { files, selection } = options;
  if (selection.length === 0) {
    return { shadow: 'none', shadowReadyMs: 0, verdicts: [], probe: { filled: [], unfilled: [] }, notReached: [], durationMs: 0, ok: true };
  }
  // The reservation is one database: for the first shadow only (a rebuilt one gets its own).
  let reservation = options.shadowUrl && options.shadowReservation?.serverUrl === options.shadowUrl ? options.shadowReservation : undefined;
  const openSession = (seed?: (dataDir: string) => boolean) =>
    CaptureSession.open({
      project: options.project,
      files,
      observeEffects: false,
      footprintAtEnd: options.incremental !== false,
      ...(options.shadowUrl ? { shadowUrl: options.shadowUrl } : {}),
      ...(reservation ? { shadowReservation: reservation } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(seed ? { seed } : {}),
    });
  // The warm cache: the whole chain, from the first migration, on the embedded shadow. The probe
  // rows change the state, so --no-data is another mode.
  const plan =
    options.cache && !options.shadowUrl && options.replay.length === 0 && selection.length === files.length && selection.every((f, i) => files[i] === f)
      ? (await import('../cache/plan.js')).CachePlan.create(options.project, files, `verify${options.noData ? ' --no-data' : ''}`, { timeoutMs: options.timeoutMs ?? null }, true)
      : undefined;
  const cachedResult = (at: number): CachedVerdict => {
    const cached = plan!.result<CachedVerdict>(at + 1);
    // Read a moment ago; gone now (evicted by another run): the run cannot be exact, so it fails loudly.
    if (!cached) throw new KnexsafeError('CACHE_ENTRY_GONE', `The warm cache lost the result of ${files[at]!.name} while this run read it; run again (or with --no-cache).`);
    return cached;
  };
  if (plan?.complete) {
    // Nothing changed since a run that stored every result: no shadow to open.
    plan.settle();
    const verdicts: MigrationVerdict[] = [];
    let last: CachedVerdict | undefined;
    for (let at = 0; at < files.length; at++) {
      last = cachedResult(at);
      verdicts.push(last.verdict);
      options.events?.migrationVerified?.(last.verdict, at, selection.length);
    }
    for (const w of last?.warnings ?? []) if (!options.project.warnings.includes(w)) options.project.warnings.push(w);
    return {
      shadow: EMBEDDED_SHADOW_DESCRIPTION,
      shadowReadyMs: 0,
      verdicts,
      probe: last?.probe ?? { filled: [], unfilled: [] },
      notReached: [],
      durationMs: performance.now() - started,
      ok: verdicts.every((v) => v.status === 'reversible'),
    };
  }
  const seed = plan?.seed();
  let session: CaptureSession;
  try {
    session = await openSession(seed);
  } finally {
    reservation = undefined;
  }
  plan?.settle();
  const resumed = plan?.meta?.resume as VerifyResume | undefined;
  const shadowInfo = { description: session.shadow.description, readyMs: session.shadow.readyMs };
  const knexTables = [options.project.migrations.tableName, `${options.project.migrations.tableName}_lock`];
  // Each snapshot after the first re-reads only what changed since the last (four per migration:
  // whole reads were most of verify's cost). A rebuilt shadow is another database: a fresh start.
  const newSnapshots = () => new IncrementalSnapshots({ excludeTables: knexTables });
  let snapshots = newSnapshots();
  let counted = { ...snapshots.counts };
  // The read after a migration that ran in a transaction goes in the round trip of its COMMIT, as
  // check's does (src/check/pipeline.ts): three round trips fewer per run on a server shadow (a
  // read of its own took BEGIN, the read, ROLLBACK). Taken for the first run since the last
  // snapshot only, and used only when that run is all that ran since and it succeeded: the read
  // re-reads what that one run changed.
  let ride: Promise<SchemaSnapshot> | undefined;
  let runsSinceSnapshot = 0;
  const rideCommits = (on: CaptureSession) => {
    if (options.incremental === false) return;
    on.onBoundary = async (knex, moment) => {
      if (on !== session) return;
      if (moment === 'before') {
        runsSinceSnapshot++;
        return;
      }
      if (runsSinceSnapshot !== 1 || ride || !knex.isTransaction) return;
      let queued!: () => void;
      const waiting = new Promise<void>((resolve) => (queued = resolve));
      const reading = snapshots.take(knex, on.recorder.lastFootprint(), undefined, { queued, root: on.knex });
      // A failed ride is never the migration's failure: the snapshot is then read as before.
      const settled = reading.catch(() => undefined);
      ride = reading;
      await Promise.race([waiting, settled]);
    };
  };
  const snapshot = async (footprint?: SchemaFootprint, runs?: readonly RunOutcome[]) => {
    if (options.incremental === false) return snapshotSchema(session.knex, { excludeTables: knexTables });
    const ridden = ride;
    const usable = ridden !== undefined && runsSinceSnapshot === 1 && runs?.length === 1 && !runs[0]!.error;
    ride = undefined;
    runsSinceSnapshot = 0;
    // Whatever a ride read (the first of several runs) is kept in `snapshots`: a read of the
    // owners (or of what changed) replaces what it knew of them, so the read below is still right.
    const fromRide = ridden && (await ridden.then((s) => (usable ? s : undefined)).catch(() => undefined));
    const taken = fromRide ?? (await snapshots.take(session.knex, footprint));
    if (options.snapshotCounts) {
      // A ride counts once it came back, before this call: counted by what was added already.
      options.snapshotCounts.full += snapshots.counts.full - counted.full;
      options.snapshotCounts.incremental += snapshots.counts.incremental - counted.incremental;
      counted = { ...snapshots.counts };
    }
    return taken;
  };
  const probe = { filled: new Set<string>(), unfilled: new Map<string, string>(), inserted: new Map<string, Record<string, unknown>[]>() };
  // The probe rows after the last migration verified, for the next one to start from.
  let rowsKnown: ProbeRowsKnown | undefined;
  const fill = async (schema: SchemaSnapshot) => {
    if (options.noData) return;
    const todo = Object.keys(schema.tables).filter((t) => !probe.filled.has(t));
    if (todo.length === 0) return;
    const result = await fillProbeRows(session.knex, schema, todo);
    // Its inserts may fire triggers that write elsewhere: no table's rows are known any more.
    if (result.inserted.size > 0) rowsKnown = undefined;
    for (const t of result.filled) {
      probe.filled.add(t);
      probe.unfilled.delete(t);
    }
    for (const u of result.unfilled) probe.unfilled.set(u.table, u.reason);
    for (const [t, rows] of result.inserted) probe.inserted.set(t, [...(probe.inserted.get(t) ?? []), ...rows]);
  };
  const dropProbe = async (schema: SchemaSnapshot) => {
    const removed = await removeProbeRows(session.knex, schema, probe.inserted);
    for (const t of removed) {
      probe.inserted.delete(t);
      probe.filled.delete(t);
    }
    return removed;
  };

  const probeReport = (): VerifyReport['probe'] => ({
    filled: [...probe.filled].sort(),
    unfilled: [...probe.unfilled].map(([table, reason]) => ({ table, reason })).sort((a, b) => a.table.localeCompare(b.table)),
  });

  const verdicts: MigrationVerdict[] = [];
  const notReached: string[] = [];
  try {
    if (options.replay.length > 0) {
      options.events?.progress?.(`Replaying ${options.replay.length} earlier migration(s) on the shadow`);
      const replay = await session.replay(options.replay);
      if (replay.error) throw replayFailed(replay);
    }
    await session.markRunStart();
    // Resumed: the schema as the run that stored the state knew it, without reading it whole.
    let s0 = resumed?.schema && options.incremental !== false ? snapshots.restore(resumed.schema) : await snapshot();
    rideCommits(session);
    if (plan && resumed) {
      // The stored state is as the cold run left it after its probe fill: restore the bookkeeping, fill nothing.
      for (const t of resumed.filled) probe.filled.add(t);
      for (const [t, reason] of resumed.unfilled) probe.unfilled.set(t, reason);
      for (const [t, rows] of decodeRows(resumed.inserted)) probe.inserted.set(t, rows);
      // Notes opening the shadow made in the cold run (the restored state gives no reason to make them again).
      for (const w of resumed.warnings) if (!options.project.warnings.includes(w)) options.project.warnings.push(w);
      const known = options.incremental !== false && resumed.schema ? resumed.rowsKnown : undefined;
      if (known) rowsKnown = { read: { rows: new Map(known.rows), settings: known.settings }, ...(known.touched ? { touched: new Set(known.touched) } : {}) };
    } else await fill(s0);

    // Migrations between the selected ones are applied (not verified): later ones may need them.
    const selectedNames = new Set(selection.map((f) => f.name));
    const first = files.findIndex((f) => selectedNames.has(f.name));
    const last = files.reduce((at, f, i) => (selectedNames.has(f.name) ? i : at), -1);
    const replayed = new Set(options.replay.map((f) => f.name));
    let index = 0;
    const start = plan?.start ?? 0;
    let previous: AddedColumns | undefined;
    for (let at = 0; at < start; at++) {
      const { verdict: cached, added } = cachedResult(at);
      verdicts.push(cached);
      previous = added ? { name: cached.name, columns: new Map(added) } : undefined;
      options.events?.migrationVerified?.(cached, index++, selection.length);
    }
    for (let at = Math.max(first, start); at <= last; at++) {
      const file = files[at]!;
      if (!selectedNames.has(file.name)) {
        if (replayed.has(file.name)) continue;
        const applied = await session.up(file.name);
        if (applied.error) throw replayFailed(applied);
        s0 = await snapshot(footprintOf(applied), [applied]);
        rowsKnown = undefined;
        await fill(s0);
        previous = undefined;
        continue;
      }
      const verdict = await verifyOne(session, file, s0, snapshot, options.noData === true, [...probe.filled], (schema) => dropProbe(schema ?? s0), undefined, previous, rowsKnown);
      s0 = verdict.next;
      if (options.incremental !== false) rowsKnown = verdict.rowsAfter;
      previous = verdict.added ? { name: file.name, columns: verdict.added } : undefined;
      // Tables that lost their probe rows (re-created empty) get new ones.
      for (const t of verdict.emptied) probe.filled.delete(t);
      if (verdict.diverged && at < last) {
        // down and the second up (or a down that stopped half-way) left the shadow in a state no
        // database that ran the chain forward is in: later migrations would fail for that reason
        // alone. Give them what production has. Costs nothing while migrations are reversible.
        options.events?.progress?.(`Rebuilding the shadow after ${file.name}`);
        const chain = files.slice(first, at + 1).filter((f) => !replayed.has(f.name));
        let fresh: CaptureSession | undefined;
        try {
          fresh = await rebuildShadow(() => openSession(), options.replay, chain);
        } catch (error) {
          verdict.verdict.notes.push(
            `verifying this migration left the shadow unlike a database that ran the chain up to here, and it could not be rebuilt (${(error as Error).message}); the later migrations were verified on the shadow as this migration left it`,
          );
        }
        if (fresh) {
          const stale = session;
          session = fresh;
          snapshots = newSnapshots();
          counted = { ...snapshots.counts };
          rowsKnown = undefined;
          await stale.close();
          probe.filled.clear();
          probe.unfilled.clear();
          probe.inserted.clear();
          s0 = await snapshot();
          rideCommits(session);
          verdict.verdict.notes.push(
            'verifying this migration left the shadow unlike a database that ran the chain up to here, so the later migrations were verified on a rebuilt shadow (the chain applied again up to this migration, up only)',
          );
        }
      }
      for (const f of verdict.verdict.findings) {
        if (f.rule !== 'up-failed' && f.rule !== 'down-failed') continue;
        const note = knexVersionNote(options.project.baseDir);
        if (!note) continue;
        f.knexVersionNote = note;
        // On a server shadow the project's own knex runs the chain up to this migration (up only).
        if (f.rule !== 'up-failed' || !options.shadowUrl) continue;
        options.events?.progress?.(`Running the migrations up to ${file.name} with the project's own knex`);
        try {
          const run = await runUnderProjectKnex(options.project, files.slice(0, at + 1), options.shadowUrl);
          if (run) Object.assign(f, { knexVersionNote: confirmedNote(run), underProjectKnex: run });
        } catch (error) {
          verdict.verdict.notes.push(`could not run it with the project's own knex to compare (${(error as Error).message})`);
        }
      }
      verdicts.push(verdict.verdict);
      options.events?.migrationVerified?.(verdict.verdict, index++, selection.length);
      const refused = refusedMigration(verdict.verdict.findings[0]?.error?.message ?? '') !== undefined;
      if (verdict.verdict.status === 'failed' && !refused) {
        // knex stops at a failing up: later migrations never run, and verifying them on a schema
        // without this one would report its consequences as their own failures. (A migration knex
        // refuses to load ran nothing: the others are still worth proving.)
        notReached.push(
          ...files
            .slice(at + 1, last + 1)
            .filter((f) => selectedNames.has(f.name))
            .map((f) => f.name),
        );
        break;
      }
      await fill(s0);
      if (plan && verdict.verdict.status !== 'failed') {
        plan.saveResult(at + 1, {
          verdict: verdict.verdict,
          probe: probeReport(),
          warnings: [...options.project.warnings],
          ...(verdict.added ? { added: [...verdict.added] } : {}),
        } satisfies CachedVerdict);
        if (plan.wantsState(at + 1)) {
          const schema = options.incremental !== false ? snapshots.save(s0) : undefined;
          const known = schema && rowsKnown ? { rows: [...rowsKnown.read.rows], settings: rowsKnown.read.settings, touched: rowsKnown.touched ? [...rowsKnown.touched] : null } : undefined;
          const resume: VerifyResume = {
            filled: [...probe.filled],
            unfilled: [...probe.unfilled],
            inserted: encodeRows(probe.inserted),
            warnings: [...options.project.warnings],
            ...(schema ? { schema } : {}),
            ...(known ? { rowsKnown: known } : {}),
          };
          await plan.saveState(at + 1, await session.checkpoint(), resume);
        }
      }
    }
    plan?.finish();
  } finally {
    await session.close();
  }
  return {
    shadow: shadowInfo.description,
    shadowReadyMs: shadowInfo.readyMs,
    verdicts,
    probe: probeReport(),
    notReached,
    durationMs: performance.now() - started,
    ok: verdicts.every((v) => v.status === 'reversible'),
  };
}

/** A new shadow with `replay` applied as verify's start does, then the up of each of `chain`. */
async function rebuildShadow(open: () => Promise<CaptureSession>, replay: MigrationFile[], chain: MigrationFile[]): Promise<CaptureSession> {
  const fresh = await open();
  try {
    if (replay.length > 0) {
      const replayed = await fresh.replay(replay);
      if (replayed.error) throw new Error(whatFailed(replayed));
    }
    await fresh.markRunStart();
    const applied = await fresh.applyUp(chain);
    if (applied.error) throw new Error(whatFailed(applied));
    return fresh;
  } catch (error) {
    await fresh.close().catch(() => undefined);
    throw error;
  }
}

function whatFailed(outcome: RunOutcome): string {
  return `${outcome.error?.migration ? `migration ${outcome.error.migration}` : 'a migration'} failed${outcome.error?.sqlState ? ` (SQLSTATE ${outcome.error.sqlState})` : ''}: ${outcome.error?.message ?? ''}`;
}

function replayFailed(outcome: RunOutcome): KnexsafeError {
  return new KnexsafeError('REPLAY_FAILED', `Could not bring the shadow to the starting point: ${whatFailed(outcome)}`, {
    exitCode: 1,
    hint: 'Fix that migration first, or verify from an earlier one with --from.',
  });
}

function failedStatement(traces: MigrationTrace[]): CapturedStatement | undefined {
  for (const t of traces) {
    const s = t.statements.find((st) => st.error);
    if (s) return s;
  }
  return undefined;
}

function errorFinding(rule: VerifyRuleId, what: string, outcome: RunOutcome): VerifyFinding {
  const statement = failedStatement(outcome.traces);
  const e = outcome.error ?? { message: 'unknown error' };
  return {
    rule,
    message: `${what} failed${e.sqlState ? ` with SQLSTATE ${e.sqlState}` : ''}: ${e.message}`,
    error: { ...e, ...(statement ? { sql: statement.sql, ...(statement.site ? { site: statement.site } : {}) } : {}) },
  };
}

function duration(outcome: RunOutcome): number {
  return outcome.traces.reduce((sum, t) => sum + t.durationMs, 0);
}

/**
 * S0 → up → S1 → down → S2 → up → S3 for one migration on `session`. `ranUp`: up already ran from
 * S0 (the language server captured it for check's rules), this is its outcome. `previous`: the
 * columns the migration verified just before added (a backfill split from the migration that adds
 * the column writes into them; that one's down drops them).
 */
export async function verifyOne(
  session: CaptureSession,
  file: MigrationFile,
  s0: SchemaSnapshot,
  /** The schema now; `footprint`: what ran since the last call could have changed (see IncrementalSnapshots). */
  snapshot: (footprint?: SchemaFootprint, runs?: readonly RunOutcome[]) => Promise<SchemaSnapshot>,
  noData: boolean,
  probed: string[],
  dropProbe: (schema?: SchemaSnapshot) => Promise<string[]>,
  ranUp?: RunOutcome,
  previous?: AddedColumns,
  /** The probe rows now, as far as known (see ProbeRowsKnown): only the rest is read. */
  rowsBefore?: ProbeRowsKnown,
): Promise<{ verdict: MigrationVerdict; next: SchemaSnapshot; emptied: string[]; diverged: boolean; added?: Map<string, string[]>; rowsAfter?: ProbeRowsKnown }> {
  const verdict: MigrationVerdict = {
    name: file.name,
    file: file.file,
    status: 'reversible',
    findings: [],
    diff: [],
    notes: [],
    dataLoss: [],
    changedSchema: false,
    timings: { upMs: 0, downMs: 0, reUpMs: 0 },
  };
  const d0Read = noData ? undefined : await refreshProbeRows(session.knex, s0, probed, rowsBefore?.read, rowsBefore?.touched);
  const d0 = d0Read?.rows;
  // Emptying tables for a retry may cascade anywhere: the probe rows after are read whole.
  let emptiedForRetry = false;
  /**
   * Removes the probe rows and runs `direction` again (added to `ran`). When it passes, the rows
   * read before in the emptied tables are gone on purpose (compared no more); `shown` names those tables.
   */
  const retryEmptied = async (direction: 'up' | 'down', ran: RunOutcome[], schema?: SchemaSnapshot): Promise<{ outcome: RunOutcome; shown: string } | undefined> => {
    emptiedForRetry = true;
    const removed = await dropProbe(schema);
    const outcome = await session.runMigration(file.name, direction);
    ran.push(outcome);
    if (outcome.error) return undefined;
    for (const t of removed) d0?.delete(t);
    return { outcome, shown: emptiedTables(removed) };
  };
  const probeRead = new Date();

  let up = ranUp ?? (await session.up(file.name));
  // Every run since the last snapshot, for the footprint of the next one.
  const ranUps = [up];
  const rolledBack = up.traces.every((t) => t.transactional);
  // A migration without a transaction (a batched backfill) that failed having changed only rows
  // left the schema as it was: emptying the probed tables undoes what its batches did to them.
  const onlyRowsChanged = up.traces.every((t) => t.transactional || t.statements.every((st) => st.control || /^\s*(select|show|set|update|insert|delete|with)\b/i.test(st.sql)));
  if (up.error && d0 && (rolledBack || onlyRowsChanged) && probed.length > 0) {
    // Data migrations may expect real rows (an e-mail domain, a JSON shape): the probe's generated
    // rows are not that. Say so, and verify on empty tables instead — what `knex migrate:latest` on a
    // fresh database does.
    const first = up.error;
    const retried = await retryEmptied('up', ranUps);
    if (retried) {
      verdict.notes.push(
        `up fails when ${retried.shown} hold rows (${first.sqlState ? `SQLSTATE ${first.sqlState}: ` : ''}${first.message}); verified with them empty. Check this migration against production-like data.`,
      );
      up = retried.outcome;
    }
  }
  verdict.timings.upMs = duration(up);
  if (up.error) {
    verdict.status = 'failed';
    verdict.findings.push(errorFinding('up-failed', 'up', up));
    // A database running the chain stops here too: there is no "after this migration" to rebuild.
    return { verdict, next: await snapshot(footprintOf(...ranUps), ranUps), emptied: [], diverged: false };
  }
  const s1 = await snapshot(footprintOf(...ranUps), ranUps);
  verdict.changedSchema = !diffSchemas(s0, s1).equal;
  // Guarded migrations (hasTable/hasColumn, feature flags) may do nothing on a fresh chain: say so,
  // rather than let "reversible" read as proven.
  if (up.traces.every((t) => t.statements.every((st) => st.control || /^\s*(select|show)\b/i.test(st.sql)))) {
    verdict.notes.push('up ran no statement that changes anything on this shadow (a guard such as hasTable or a flag skipped it?): reversible only in the sense that there was nothing to undo');
  }

  // The module the session ran (loading it again would run its top-level code again).
  const hasDown = (await session.migration(file)).down !== undefined;
  let down = await session.down(file.name);
  const ranDowns = [down];
  if (down.error && d0 && probed.length > 0 && down.traces.every((t) => t.transactional)) {
    // A down that adds back a NOT NULL column or a constraint fails on any table holding rows:
    // a rollback in production would fail the same way. Say that precisely, and go on verifying
    // with the tables empty, so the rest of the chain is still checked.
    const first = errorFinding('down-failed', 'down', down);
    const retried = await retryEmptied('down', ranDowns, s1);
    if (retried) {
      verdict.status = 'not-reversible';
      verdict.findings.push({ ...first, message: `${first.message} — down fails whenever ${retried.shown} hold rows (it runs on empty tables), so a rollback in production would fail` });
      down = retried.outcome;
    }
  }
  verdict.timings.downMs = duration(down);
  if (down.error) {
    verdict.status = 'not-reversible';
    verdict.findings.push(errorFinding('down-failed', 'down', down));
    // A down that ran in a transaction rolled back to S1; one without may have stopped half-way.
    const after = await snapshot(footprintOf(...ranDowns), ranDowns);
    return { verdict, next: after, emptied: [], diverged: !diffSchemas(s1, after).equal };
  }
  const s2 = await snapshot(footprintOf(...ranDowns), ranDowns);
  const diff = diffSchemas(s0, s2);
  verdict.diff = diff.changes;
  verdict.notes.push(...diff.notes);
  const downStatements = down.traces.flatMap((t) => t.statements).filter((s) => !s.control);
  if (!diff.equal) {
    verdict.status = 'not-reversible';
    if ((!hasDown || downStatements.length === 0) && verdict.changedSchema) {
      verdict.findings.push({
        rule: 'down-missing',
        message: hasDown ? 'down runs no SQL, but up changed the schema' : 'there is no down, but up changed the schema',
        changes: diff.changes,
      });
    } else {
      verdict.findings.push({
        rule: 'down-not-inverse',
        message: `after down, the schema differs from before up (${diff.changes.length} difference${diff.changes.length === 1 ? '' : 's'})`,
        changes: diff.changes,
      });
    }
  }

  const emptied: string[] = [];
  let rowsAfterDown: ProbeRead | undefined;
  if (d0) {
    rowsAfterDown = await refreshProbeRows(session.knex, s2, probed, { rows: d0, settings: d0Read!.settings }, emptiedForRetry ? undefined : rowsTouched(footprintOf(...ranUps, ...ranDowns), s0, s2));
    const d2 = rowsAfterDown.rows;
    const losses = compareProbeRows(d0, d2, s0, s2, { stampedSince: probeRead, notes: verdict.notes }).filter((loss) => {
      const added = previous?.columns.get(loss.table);
      if (!previous || !added || loss.missingRows > 0 || !loss.columns.every((c) => added.includes(c))) return true;
      verdict.notes.push(
        `${loss.message.replace(/^public\./, '')}: ${loss.columns.length === 1 ? 'a column' : 'columns'} ${previous.name} adds, whose down drops ${loss.columns.length === 1 ? 'it' : 'them'}: rolling back the two undoes this one (not counted as data loss)`,
      );
      return false;
    });
    if (losses.length) {
      verdict.status = 'not-reversible';
      verdict.dataLoss = losses;
      verdict.findings.push({
        rule: 'down-destroys-data',
        message: `after up and down, data that existed before is gone: ${losses.map((l) => `${l.message}${whereLost(l, s0, s1)}`).join('; ')}`,
        dataLoss: losses,
      });
      emptied.push(...losses.filter((l) => l.missingRows > 0).map((l) => l.table));
    }
  }

  const reUp = await session.up(file.name);
  verdict.timings.reUpMs = duration(reUp);
  if (reUp.error) {
    verdict.status = 'not-reversible';
    verdict.findings.push({ ...errorFinding('up-not-rerunnable', 'up after down', reUp), message: `up cannot run again after down: ${reUp.error.message}` });
    // A transactional up rolled back to S2; when down changed nothing (an empty down, wiki.js has 12),
    // that is S1, where the chain stands anyway: no rebuild needed.
    const rolledBack = reUp.traces.length > 0 && reUp.traces.every((t) => t.transactional);
    return { verdict, next: s2, emptied, diverged: !(rolledBack && diffSchemas(s1, s2).equal) };
  }
  const s3 = await snapshot(footprintOf(reUp), [reUp]);
  const rerun = diffSchemas(s1, s3);
  if (!rerun.equal) {
    verdict.status = 'not-reversible';
    verdict.findings.push({ rule: 'up-not-rerunnable', message: 'up gives a different schema when run again after down', changes: rerun.changes });
  }
  return {
    verdict,
    next: s3,
    emptied,
    diverged: !rerun.equal,
    ...(verdict.status === 'reversible' ? { added: addedColumns(s0, s3) } : {}),
    ...(rowsAfterDown ? { rowsAfter: { read: rowsAfterDown, ...withTouched(rowsTouched(footprintOf(reUp), s2, s3)) } } : {}),
  };
}

/**
 * What `outcomes` (the runs since the last snapshot) could have changed: their footprints
 * together, complete only when each migration's is and none failed.
 */
function footprintOf(...outcomes: RunOutcome[]): SchemaFootprint {
  const traces = outcomes.flatMap((o) => o.traces);
  const complete = traces.length > 0 && outcomes.every((o) => !o.error) && traces.every((t) => t.footprint?.complete === true);
  return {
    relations: [...new Set(traces.flatMap((t) => t.footprint?.relations ?? []))],
    complete,
    ...(complete && traces.every((t) => t.footprint?.names) ? { names: [...new Set(traces.flatMap((t) => t.footprint!.names!))] } : {}),
  };
}

/**
 * The tables (keys) whose probe rows the runs of `footprint` may have changed, or undefined when
 * any may have: those locked, and the partitioned or inheritance parents of those (their rows are
 * read with their children's). `schemas`: the schemas before and after.
 */
function rowsTouched(footprint: SchemaFootprint, ...schemas: SchemaSnapshot[]): Set<string> | undefined {
  if (!footprint.complete || !footprint.names) return undefined;
  const touched = new Set(footprint.names);
  for (const table of touched) {
    for (const schema of schemas) {
      const info = schema.tables[table];
      for (const parent of [...(info?.partitionOf ? [info.partitionOf.parent] : []), ...(info?.inherits ?? [])]) touched.add(parent);
    }
  }
  return touched;
}

function withTouched(touched: Set<string> | undefined): { touched?: Set<string> } {
  return touched ? { touched } : {};
}

/** The columns of `after` (per table key) that `before` does not have. */
function addedColumns(before: SchemaSnapshot, after: SchemaSnapshot): Map<string, string[]> {
  const added = new Map<string, string[]>();
  for (const [key, table] of Object.entries(after.tables)) {
    const columns = Object.keys(table.columns).filter((c) => !before.tables[key]?.columns[c]);
    if (columns.length) added.set(key, columns);
  }
  return added;
}

/** Says which direction lost the data, from the schema after up: up dropped it, or down did. */
function whereLost(loss: DataLoss, s0: SchemaSnapshot, s1: SchemaSnapshot): string {
  const after = s1.tables[loss.table];
  if (!after) return ' (up drops the table; down re-creates it empty)';
  const dropped = loss.columns.filter((c) => s0.tables[loss.table]?.columns[c] && !after.columns[c]);
  if (dropped.length) return ` (up drops ${dropped.join(', ')}; down re-creates ${dropped.length === 1 ? 'it' : 'them'} empty)`;
  return '';
}

/** Probe rows as JSON that gives back dates, buffers and bigints as they were (their keys delete them again). */
function encodeRows(inserted: Map<string, Record<string, unknown>[]>): string {
  return JSON.stringify([...inserted], function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (raw instanceof Date) return { $date: raw.toISOString() };
    if (Buffer.isBuffer(raw)) return { $hex: raw.toString('hex') };
    if (typeof raw === 'bigint') return { $bigint: raw.toString() };
    return value;
  });
}

function decodeRows(text: string): [string, Record<string, unknown>[]][] {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      const keys = Object.keys(v);
      if (keys.length === 1) {
        if (typeof v.$date === 'string') return new Date(v.$date);
        if (typeof v.$hex === 'string') return Buffer.from(v.$hex, 'hex');
        if (typeof v.$bigint === 'string') return BigInt(v.$bigint);
      }
    }
    return value;
  }) as [string, Record<string, unknown>[]][];
}

/** The tables the probe emptied to let a migration through, named for a note (three at most). */
function emptiedTables(removed: readonly string[]): string {
  const names = removed.map((t) => t.replace(/^public\./, ''));
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more tables` : names.join(', ');
}
