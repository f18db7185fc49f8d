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
import { ShadowDatabaseReservation } from '../shadow/server-database.js';
import { ensureParser } from '../sql/parse.js';
import { verifyOne, type MigrationVerdict } from '../verify/verify.js';

/**
 * One migration judged as `check --all` judges it, from the text of an editor's buffer: the chain
 * before it comes from the warm cache's stored states (the ones `check` stores too; the state just
 * before the file is stored for the next save), the buffer runs from a scratch copy of the
 * migrations folder, then down and up again as `verify` does; when asked, the migrations after it
 * run too, each judged by check's rules. The shadow is embedded, or a database of its own on the
 * --shadow-url server (no stored states there: the chain before the file runs each time). The
 * target database is never opened.
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
  /** A PostgreSQL server for the shadow (a fresh database on it each time); default: the knexfile's knexsafe.shadowUrl, else embedded. */
  shadowUrl?: string;
}

/** What the migrations after the edited one are asked for (the editor's "check the following" setting or command). */
export interface FollowingRequest {
  /** The unsaved text of a later migration open in the editor; undefined: the file on disk. */
  textOf?: (file: string) => string | undefined;
  /** Called with the edited file's full analysis before the later ones run, for the editor to show it at once. */
  analysed?: (own: FileAnalysis) => Promise<void>;
}

/** A migration after the edited one, run on the same shadow after it and judged by check's rules (no reversibility proof). */
export interface FollowingAnalysis {
  file: string;
  migration: string;
  findings: Finding[];
  failure?: FileAnalysis['failure'];
  /** The edited migration or one between failed: this one did not run. */
  earlierFailure?: FileAnalysis['earlierFailure'];
  /** Not run for another reason (said as "Not checked: …"). */
  notRun?: string;
}

export interface FileAnalysis {
  /** The user's file (findings' `file` is it, not the scratch copy). */
  file: string;
  migration: string;
  findings: Finding[];
  /** The migration does not load or its up fails on the shadow (site: where in the file, when known). */
  failure?: { message: string; sqlState?: string; site?: CallSite };
  /** The shadow could not be opened (its server is unreachable…): nothing judged. */
  shadowFailure?: string;
  /** An earlier migration failed while the shadow was brought to this one: nothing judged. */
  earlierFailure?: { migration: string; message: string };
  verdict?: MigrationVerdict;
  /** Earlier migrations taken from a stored state, and run on the shadow. */
  fromCache: number;
  ran: number;
  durationMs: number;
  /** The shadow was opened ahead, while the editor was idle. */
  standby: boolean;
  /** Where the time went (ms): waiting for and checking the shadow opened ahead, opening one now: at the state before the file (scratch copy included); the earlier migrations, up and the rules, down and up again; the migrations after it, when asked. */
  timings: { standby: number; shadow: number; earlier: number; check: number; reversibility: number; following: number };
  /** The shadow it ran on (embedded, or the database on the --shadow-url server). */
  shadow?: string;
  /** How many migrations come after it in the chain. */
  after: number;
  /** The migrations after it, when asked for (in chain order; those after a failure did not run). */
  following?: FollowingAnalysis[];
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
    const wanted = path.resolve(file);
    const at = (files: MigrationFile[]) => files.findIndex((f) => f.directory !== '' && path.resolve(f.file) === wanted);
    let files = listMigrationFiles(project.migrations);
    let index = at(files);
    if (index < 0 && project.migrations.custom && files.some((f) => f.directory === path.dirname(wanted))) {
      // A knexfile's own migrationSource listed its migrations when the project was read: a file
      // written since beside them (the one just created) is asked for again, through a fresh read.
      this.forget();
      const again = await this.project();
      files = listMigrationFiles(again.migrations);
      index = at(files);
      return index < 0 ? undefined : { project: again, files, index };
    }
    return index < 0 ? undefined : { project, files, index };
  }

  /** The server the shadow runs on, if not embedded. */
  private shadowUrl(project: ProjectConfig): string | undefined {
    return this.options.shadowUrl ?? project.knexsafe.shadowUrl;
  }

  /** The warm cache's plan for the state before the file: none on a server shadow (stored states are embedded data directories). */
  private planFor({ project, files, index }: Found): CachePlan | undefined {
    if (this.shadowUrl(project)) return undefined;
    return CachePlan.before(project, files, CACHE_MODE, index + 1, this.options.cache);
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
  async analyse(file: string, text: string, checked?: (partial: FileAnalysis) => Promise<void>, following?: FollowingRequest): Promise<FileAnalysis | undefined> {
    const started = performance.now();
    const found = await this.migrationAt(file);
    if (!found) {
      await this.dropStandby();
      return undefined;
    }
    const { project, files, index } = found;
    const target = files[index]!;
    const pgVersion = this.options.pgVersion ?? project.knexsafe.pgVersion ?? DEFAULT_PG_VERSION;
    const result: FileAnalysis = {
      file: target.file,
      migration: target.name,
      after: files.length - index - 1,
      findings: [],
      fromCache: 0,
      ran: 0,
      durationMs: 0,
      standby: false,
      timings: { standby: 0, shadow: 0, earlier: 0, check: 0, reversibility: 0, following: 0 },
    };
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
      try {
        prepared ??= await this.prepare(found, false);
      } catch (error) {
        // Not the file's fault (a --shadow-url server that is down, a full disk): said as such.
        result.shadowFailure = errorMessage(error);
        result.durationMs = performance.now() - started;
        return result;
      }
      timed('shadow');
      const { session, scratch, sessionFiles, start } = prepared;
      const scratchFile = sessionFiles[index]!;
      fs.writeFileSync(scratchFile.file, text);
      result.fromCache = start;
      result.shadow = session.shadow.description;
      const earlier = sessionFiles.slice(start, index);
      if (earlier.length) {
        const applied = await session.applyUp(earlier);
        result.ran = applied.ran.length;
        if (applied.error) {
          result.earlierFailure = { migration: applied.error.migration ?? '?', message: applied.error.message };
          if (following) result.following = files.slice(index + 1).map((f) => ({ file: f.file, migration: f.name, findings: [], earlierFailure: result.earlierFailure! }));
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
      let after = up.error ? undefined : await snapshot();
      const judge = async (fileOf: MigrationFile, source: string, schemaBefore: SchemaSnapshot, schemaAfter: SchemaSnapshot | undefined, traced: typeof trace): Promise<Finding[]> => {
        if (!traced) return [];
        const loaded = await session.migration(fileOf).catch(() => undefined);
        const unit = analyzeTrace(traced, { pgVersion, source, hasDown: loaded?.down !== undefined, schemaBefore, ...(schemaAfter ? { schemaAfter } : {}), earlierMigrations: 'existing' });
        return runRules(ALL_RULES, [unit], {
          pgVersion,
          pgVersionKnown: this.options.pgVersion !== undefined || project.knexsafe.pgVersion !== undefined,
          thresholds: { ...DEFAULT_THRESHOLDS, ...(project.knexsafe.thresholds ?? {}) },
          ...(project.knexsafe.rules ? { severities: project.knexsafe.rules } : {}),
          tableAge: (u, table) => (u.schemaBefore?.tables[table] ? 'existing' : 'new'),
        });
      };
      result.findings = await judge(scratchFile, text, before, after, trace);
      timed('check');
      if (up.error) {
        result.failure = { message: up.error.message, ...(up.error.sqlState ? { sqlState: up.error.sqlState } : {}), ...siteOf(up) };
      } else if (this.options.reversibility !== false) {
        if (checked) await checked({ ...result, findings: sortFindings(result.findings.map((f) => (f.file.startsWith(`${scratch}${path.sep}`) ? { ...f, file: target.file } : f))) });
        lap = performance.now();
        const verified = await verifyOne(session, scratchFile, before, snapshot, true, [], async () => [], up);
        result.verdict = verified.verdict;
        // The later migrations run from where the proof left the shadow: after up again, unless it
        // could not get back there (then they are not run: their findings would be about another schema).
        after = verified.diverged ? undefined : verified.next;
        timed('reversibility');
      }
      const scratchPrefix = `${scratch}${path.sep}`;
      const ownFile = (f: Finding, user: string) => (f.file.startsWith(scratchPrefix) ? { ...f, file: user } : f);
      result.findings = sortFindings(result.findings.map((f) => ownFile(f, target.file)));
      if (following && index + 1 < files.length) {
        await following.analysed?.({ ...result, durationMs: performance.now() - started });
        lap = performance.now();
        result.following = [];
        // Run as knex runs the chain: one after the other on this shadow; after a failure, nothing.
        let stopped: FollowingAnalysis['earlierFailure'] = result.failure ? { migration: target.name, message: result.failure.message } : undefined;
        let schema = after;
        for (let at = index + 1; at < files.length; at++) {
          const user = files[at]!;
          const run = sessionFiles[at]!;
          const entry: FollowingAnalysis = { file: user.file, migration: user.name, findings: [] };
          result.following.push(entry);
          if (stopped) {
            entry.earlierFailure = stopped;
            continue;
          }
          if (!schema) {
            entry.notRun = `${target.name}'s up → down → up does not come back to the schema its up leaves, so the migrations after it were not run (its reversibility diagnostic says why).`;
            continue;
          }
          let source: string;
          try {
            // (One loaded through the knexfile's migrationSource runs from disk.)
            const open = run.file !== user.file ? following.textOf?.(user.file) : undefined;
            source = open ?? fs.readFileSync(user.file, 'utf8');
            // An unsaved buffer of a later migration runs as the editor shows it (a new module path: never loaded yet in this session).
            if (open !== undefined) fs.writeFileSync(run.file, open);
          } catch {
            source = '';
          }
          const ran = await session.up(user.name);
          const traced = ran.traces.find((t) => t.direction === 'up' && t.name === user.name);
          const next = ran.error ? undefined : await snapshot();
          entry.findings = sortFindings((await judge(run, source, schema, next, traced)).map((f) => ownFile(f, user.file)));
          if (ran.error) {
            entry.failure = { message: ran.error.message, ...(ran.error.sqlState ? { sqlState: ran.error.sqlState } : {}), ...siteOf(ran) };
            stopped = { migration: user.name, message: ran.error.message };
          }
          schema = next;
        }
        timed('following');
      }
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
    const { files, index } = found;
    const plan = this.planFor(found);
    const same =
      prepared.target === files[index]!.file && prepared.names === files.map((f) => f.file).join('\n') && prepared.start === (plan?.start ?? 0) && prepared.plan?.startKey === plan?.startKey;
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
      // A knexfile's own migrationSource loads the others; the buffer is the file itself, loaded as
      // knex's default source would (the source's wrapping of it, if any, is not applied).
      const copied = (f: MigrationFile, at: number) => f.directory === directory && (!f.custom || at === index);
      const sessionFiles = files.map((f, at): MigrationFile => {
        if (!copied(f, at)) return f;
        const { custom: _custom, ...plain } = f;
        void _custom;
        return { ...plain, file: path.join(scratch, path.relative(directory, f.file)), directory: scratch };
      });
      const plan = this.planFor(found);
      // Opened ahead only from a state right before the file: a standby that must still run
      // migrations is no faster than opening one on save.
      if (ahead && (plan?.start ?? 0) !== index) throw new Error('no stored state right before the file');
      const seed = plan?.seed();
      const shadowUrl = this.shadowUrl(project);
      const reservation = shadowUrl ? new ShadowDatabaseReservation(shadowUrl) : undefined;
      let session: CaptureSession;
      try {
        session = await CaptureSession.open({
          project,
          files: sessionFiles,
          // Not the file itself: its scratch copy gets the buffer once the shadow is open, and a
          // module is loaded once per session (preloaded, it would run as it is on disk).
          preload: sessionFiles.slice(plan?.start ?? 0, index),
          ...(reservation ? { shadowUrl: reservation.serverUrl, shadowReservation: reservation } : {}),
          ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
          ...(seed ? { seed } : {}),
        });
      } catch (error) {
        await reservation?.release();
        throw error;
      }
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
