import fs from 'node:fs';
import path from 'node:path';
import { CachePlan } from '../cache/plan.js';
import type { RunOutcome } from '../capture/session.js';
import { CaptureSession } from '../capture/session.js';
import type { CallSite } from '../capture/types.js';
import { DEFAULT_PG_VERSION, sortFindings } from '../check/run.js';
import { knexfileNotFound, resolveProject, type ProjectConfig, type ProjectOptions } from '../config/resolve.js';
import { errorMessage } from '../errors.js';
import { listMigrationFiles, type MigrationFile } from '../migrations/source.js';
import { analyzeTrace } from '../rules/analyze.js';
import { runRules } from '../rules/engine.js';
import { ALL_RULES } from '../rules/registry.js';
import { DEFAULT_THRESHOLDS } from '../rules/thresholds.js';
import type { Finding } from '../rules/types.js';
import { snapshotSchema, type SchemaSnapshot } from '../schema/index.js';
import { ensureParser } from '../sql/parse.js';
import { verifyOne, type MigrationVerdict } from '../verify/verify.js';

/**
 * One migration judged as `check --all` judges it, from the text of an editor's buffer: the chain
 * before it comes from the warm cache's stored states (the ones `check` stores too; the state just
 * before the file is stored for the next save), the buffer runs from a scratch copy of the
 * migrations folder, then down and up again as `verify` does. Only embedded shadows: the target
 * database is never opened.
 */

export interface AnalyserOptions extends ProjectOptions {
  pgVersion?: number;
  timeoutMs?: number;
  /** The warm cache (default on, unless the config or KNEXSAFE_NO_CACHE turns it off). */
  cache?: boolean;
  /** Prove up → down → up (default true). */
  reversibility?: boolean;
  /** Open the next shadow while the editor is idle (default true). */
  standby?: boolean;
}

export interface FileAnalysis {
  /** The user's file (findings' `file` is it, not the scratch copy). */
  file: string;
  migration: string;
  findings: Finding[];
  /** The migration does not load or its up fails on the shadow (site: where in the file, when known). */
  failure?: { message: string; sqlState?: string; site?: CallSite };
  /** An earlier migration failed while the shadow was brought to this one: nothing judged. */
  earlierFailure?: { migration: string; message: string };
  verdict?: MigrationVerdict;
  /** Earlier migrations taken from a stored state, and run on the shadow. */
  fromCache: number;
  ran: number;
  durationMs: number;
  /** The shadow was opened ahead, while the editor was idle. */
  standby: boolean;
  /** Where the time went (ms): waiting for and checking the shadow opened ahead, opening one now: at the state before the file (scratch copy included); the earlier migrations, up and the rules, down and up again. */
  timings: { standby: number; shadow: number; earlier: number; check: number; reversibility: number };
}

/** What a resumed check run needs (the shape `check` stores with its states). */
interface CheckResume {
  runRelations: number[];
  warnings: string[];
}

const CACHE_MODE = 'check --all';
const STANDBY_DELAY_MS = 100;

export class MigrationAnalyser {
  private projectReady: Promise<ProjectConfig> | undefined;

  constructor(private readonly options: AnalyserOptions) {}

  /** The project, read once; `forget` after the knexfile changes. */
  project(): Promise<ProjectConfig> {
    this.projectReady ??= resolveProject(this.options);
    const ready = this.projectReady;
    ready.catch(() => {
      if (this.projectReady === ready) this.projectReady = undefined;
    });
    return ready;
  }

  forget(): void {
    this.projectReady = undefined;
  }

  /** The project's migration at `file`, if it is one (listed as knex lists them, now). */
  async migrationAt(file: string): Promise<Found | undefined> {
    const project = await this.project();
    // No knexfile: not a knex project (a migrations folder alone is one with --migrations-dir).
    if (!project.knexfile && this.options.migrationsDir === undefined) throw knexfileNotFound(path.resolve(this.options.cwd ?? process.cwd()));
    if (project.migrations.custom) return undefined;
    const files = listMigrationFiles(project.migrations);
    const wanted = path.resolve(file);
    const index = files.findIndex((f) => path.resolve(f.file) === wanted);
    return index < 0 ? undefined : { project, files, index };
  }

  /**
   * A shadow opened ahead for the next analysis of the file just analysed (opening one is most of a
   * save's cost): at the state before the file, its schema read, waiting for the buffer.
   */
  private standby: Promise<Prepared | undefined> | undefined;

  /**
   * Judges the migration at `file` as `text` says it is; undefined when it is not one of the
   * project's migrations. `checked`: called with check's findings before the reversibility proof
   * (most of a save's time), for the editor to show them at once.
   */
  async analyse(file: string, text: string, checked?: (partial: FileAnalysis) => Promise<void>): Promise<FileAnalysis | undefined> {
    const started = performance.now();
    const found = await this.migrationAt(file);
    if (!found) {
      await this.dropStandby();
      return undefined;
    }
    const { project, files, index } = found;
    const target = files[index]!;
    const pgVersion = this.options.pgVersion ?? project.knexsafe.pgVersion ?? DEFAULT_PG_VERSION;
    const result: FileAnalysis = { file: target.file, migration: target.name, findings: [], fromCache: 0, ran: 0, durationMs: 0, standby: false, timings: { standby: 0, shadow: 0, earlier: 0, check: 0, reversibility: 0 } };
    let lap = performance.now();
    const timed = (what: keyof FileAnalysis['timings']) => {
      const now = performance.now();
      result.timings[what] += now - lap;
      lap = now;
    };

    let prepared: Prepared | undefined;
    let again = false;
    try {
      prepared = await this.takeStandby(found);
      result.standby = prepared !== undefined;
      timed('standby');
      prepared ??= await this.prepare(found, false);
      timed('shadow');
      const { session, scratch, sessionFiles, start } = prepared;
      const scratchFile = sessionFiles[index]!;
      fs.writeFileSync(scratchFile.file, text);
      result.fromCache = start;
      const earlier = sessionFiles.slice(start, index);
      if (earlier.length) {
        const applied = await session.applyUp(earlier);
        result.ran = applied.ran.length;
        if (applied.error) {
          result.earlierFailure = { migration: applied.error.migration ?? '?', message: applied.error.message };
          return result;
        }
      }
      if (prepared.plan?.wantsState(index)) {
        const resume: CheckResume = { runRelations: session.recorder.runStartRelations() ?? [], warnings: prepared.resumed?.warnings ?? [] };
        await prepared.plan.saveState(index, await session.checkpoint(), resume);
        prepared.plan.finish();
      }
      timed('earlier');
      // The chain before the file runs: worth a shadow opened ahead for the next save.
      again = true;

      const snapshot = () => snapshotSchema(session.knex, { excludeTables: knexTablesOf(project) });
      const before = prepared.before ?? (await snapshot());
      const up = await session.up(target.name);
      const trace = up.traces.find((t) => t.direction === 'up' && t.name === target.name);
      const after = up.error ? undefined : await snapshot();
      if (trace) {
        const loaded = await session.migration(scratchFile).catch(() => undefined);
        const unit = analyzeTrace(trace, { pgVersion, source: text, hasDown: loaded?.down !== undefined, schemaBefore: before, ...(after ? { schemaAfter: after } : {}), earlierMigrations: 'existing' });
        result.findings = runRules(ALL_RULES, [unit], {
          pgVersion,
          pgVersionKnown: this.options.pgVersion !== undefined || project.knexsafe.pgVersion !== undefined,
          thresholds: { ...DEFAULT_THRESHOLDS, ...(project.knexsafe.thresholds ?? {}) },
          ...(project.knexsafe.rules ? { severities: project.knexsafe.rules } : {}),
          tableAge: (u, table) => (u.schemaBefore?.tables[table] ? 'existing' : 'new'),
        });
      }
      timed('check');
      if (up.error) {
        result.failure = { message: up.error.message, ...(up.error.sqlState ? { sqlState: up.error.sqlState } : {}), ...siteOf(up) };
      } else if (this.options.reversibility !== false) {
        if (checked) await checked({ ...result, findings: sortFindings(result.findings.map((f) => (f.file.startsWith(`${scratch}${path.sep}`) ? { ...f, file: target.file } : f))) });
        lap = performance.now();
        const verified = await verifyOne(session, scratchFile, before, snapshot, true, [], async () => [], up);
        result.verdict = verified.verdict;
        timed('reversibility');
      }
      const scratchPrefix = `${scratch}${path.sep}`;
      result.findings = sortFindings(result.findings.map((f) => (f.file.startsWith(scratchPrefix) ? { ...f, file: target.file } : f)));
    } catch (error) {
      // Whatever went wrong is the file's diagnostic, never the server's end.
      result.failure = { message: errorMessage(error) };
    } finally {
      // Closed while the diagnostics go out: a PGlite shutdown takes a while.
      if (prepared) this.track(release(prepared));
    }
    result.durationMs = performance.now() - started;
    if (again && this.options.standby !== false) {
      // Started once the diagnostics are on their way (the scratch copy and the cache keys are
      // synchronous work).
      this.standby = new Promise((resolve) => setTimeout(resolve, STANDBY_DELAY_MS)).then(() => this.prepare(found, true).catch(() => undefined));
    }
    return result;
  }

  /** Shadows being closed in the background. */
  private readonly closing = new Set<Promise<void>>();

  private track(closing: Promise<void>): void {
    const settled = closing.catch(() => undefined).finally(() => this.closing.delete(settled));
    this.closing.add(settled);
  }

  /** Everything closed and removed: the shadow opened ahead, those still closing. */
  async close(): Promise<void> {
    await this.dropStandby();
    await Promise.all([...this.closing]);
  }

  /** Closes the shadow opened ahead, if any (the server is going, or another file is being edited). */
  async dropStandby(): Promise<void> {
    const waiting = this.standby;
    this.standby = undefined;
    const prepared = await waiting;
    if (prepared) await release(prepared);
  }

  /** The shadow opened ahead, when it is still right for `found`: same folder, same state before the file. */
  private async takeStandby(found: Found): Promise<Prepared | undefined> {
    const waiting = this.standby;
    this.standby = undefined;
    const prepared = await waiting;
    if (!prepared) return undefined;
    const { project, files, index } = found;
    const plan = CachePlan.before(project, files, CACHE_MODE, index + 1, this.options.cache);
    const same =
      prepared.target === files[index]!.file &&
      prepared.names === files.map((f) => f.file).join('\n') &&
      prepared.start === (plan?.start ?? 0) &&
      prepared.plan?.startKey === plan?.startKey;
    if (same) return prepared;
    await release(prepared);
    return undefined;
  }

  /**
   * A scratch copy of the file's folder beside it (relative imports and package.json resolve the
   * same; the leading dot keeps it out of the cache's project fingerprint), new each time: Node
   * keeps modules by path. Then a shadow from the longest stored state before the file.
   */
  private async prepare(found: Found, ahead: boolean): Promise<Prepared> {
    const { project, files, index } = found;
    const target = files[index]!;
    const directory = target.directory;
    const scratch = fs.mkdtempSync(path.join(path.dirname(directory), `.${path.basename(directory)}.knexsafe-lsp-`));
    try {
      fs.cpSync(directory, scratch, { recursive: true });
      const sessionFiles = files.map((f) => (f.directory === directory ? { ...f, file: path.join(scratch, f.name), directory: scratch } : f));
      const plan = CachePlan.before(project, files, CACHE_MODE, index + 1, this.options.cache);
      // Opened ahead only from a state right before the file: a standby that must still run
      // migrations is no faster than opening one on save.
      if (ahead && (plan?.start ?? 0) !== index) throw new Error('no stored state right before the file');
      const seed = plan?.seed();
      const session = await CaptureSession.open({
        project,
        files: sessionFiles,
        preload: sessionFiles.slice(plan?.start ?? 0, ahead ? index : index + 1),
        ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
        ...(seed ? { seed } : {}),
      });
      try {
        plan?.settle();
        const resumed = plan?.meta?.resume as CheckResume | undefined;
        if (resumed) session.restoreRunStart(resumed.runRelations);
        else await session.markRunStart();
        const prepared: Prepared = { target: target.file, names: files.map((f) => f.file).join('\n'), scratch, sessionFiles, session, plan, start: plan?.start ?? 0, ...(resumed ? { resumed } : {}) };
        await ensureParser();
        if (ahead) {
          if (prepared.start !== index) throw new Error('the stored state could not be used');
          prepared.before = await snapshotSchema(session.knex, { excludeTables: knexTablesOf(project) });
        }
        return prepared;
      } catch (error) {
        await session.close().catch(() => undefined);
        throw error;
      }
    } catch (error) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw error;
    }
  }
}

interface Found {
  project: ProjectConfig;
  files: MigrationFile[];
  index: number;
}

/** A shadow at the state before a migration, and the scratch folder it runs the buffer from. */
interface Prepared {
  /** The user's file it is for, and the folder's listing when it was made. */
  target: string;
  names: string;
  scratch: string;
  sessionFiles: MigrationFile[];
  session: CaptureSession;
  plan: CachePlan | undefined;
  /** Earlier migrations in the shadow from the stored state. */
  start: number;
  resumed?: CheckResume;
  /** The schema before the file, read while waiting. */
  before?: SchemaSnapshot;
}

async function release(prepared: Prepared): Promise<void> {
  try {
    await prepared.session.close();
  } finally {
    fs.rmSync(prepared.scratch, { recursive: true, force: true });
  }
}

function knexTablesOf(project: ProjectConfig): string[] {
  return [project.migrations.tableName, `${project.migrations.tableName}_lock`];
}

/** Where the failure points: a statement that failed (its knex call), else the error's own stack. */
function siteOf(outcome: RunOutcome): { site?: CallSite } {
  for (const t of outcome.traces) {
    const failed = t.statements.find((s) => s.error);
    if (failed?.site) return { site: failed.site };
  }
  return outcome.error?.site ? { site: outcome.error.site } : {};
}
