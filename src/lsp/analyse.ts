import fs from 'node:fs';
import path from 'node:path';
import { CachePlan } from '../cache/plan.js';
import type { RunOutcome } from '../capture/session.js';
import { CaptureSession } from '../capture/session.js';
import type { CallSite } from '../capture/types.js';
import { DEFAULT_PG_VERSION, sortFindings } from '../check/run.js';
import { resolveProject, type ProjectConfig, type ProjectOptions } from '../config/resolve.js';
import { errorMessage } from '../errors.js';
import { listMigrationFiles, type MigrationFile } from '../migrations/source.js';
import { analyzeTrace } from '../rules/analyze.js';
import { runRules } from '../rules/engine.js';
import { ALL_RULES } from '../rules/registry.js';
import { DEFAULT_THRESHOLDS } from '../rules/thresholds.js';
import type { Finding } from '../rules/types.js';
import { snapshotSchema } from '../schema/index.js';
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
}

/** What a resumed check run needs (the shape `check` stores with its states). */
interface CheckResume {
  runRelations: number[];
  warnings: string[];
}

const CACHE_MODE = 'check --all';

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
  async migrationAt(file: string): Promise<{ project: ProjectConfig; files: MigrationFile[]; index: number } | undefined> {
    const project = await this.project();
    if (project.migrations.custom) return undefined;
    const files = listMigrationFiles(project.migrations);
    const wanted = path.resolve(file);
    const index = files.findIndex((f) => path.resolve(f.file) === wanted);
    return index < 0 ? undefined : { project, files, index };
  }

  /** Judges the migration at `file` as `text` says it is; undefined when it is not one of the project's migrations. */
  async analyse(file: string, text: string): Promise<FileAnalysis | undefined> {
    const started = performance.now();
    const found = await this.migrationAt(file);
    if (!found) return undefined;
    const { project, files, index } = found;
    const target = files[index]!;
    const pgVersion = this.options.pgVersion ?? project.knexsafe.pgVersion ?? DEFAULT_PG_VERSION;
    const result: FileAnalysis = { file: target.file, migration: target.name, findings: [], fromCache: 0, ran: 0, durationMs: 0 };

    // A copy of the file's folder beside it (relative imports and package.json resolve the same;
    // the leading dot keeps it out of the cache's project fingerprint), new each time: Node keeps
    // modules by path.
    const directory = target.directory;
    const scratch = fs.mkdtempSync(path.join(path.dirname(directory), `.${path.basename(directory)}.knexsafe-lsp-`));
    try {
      fs.cpSync(directory, scratch, { recursive: true });
      fs.writeFileSync(path.join(scratch, target.name), text);
      const inScratch = (f: MigrationFile): MigrationFile => (f.directory === directory ? { ...f, file: path.join(scratch, f.name), directory: scratch } : f);
      const sessionFiles = files.map(inScratch);
      const scratchFile = sessionFiles[index]!;

      const plan = CachePlan.before(project, files, CACHE_MODE, index + 1, this.options.cache);
      const seed = plan?.seed();
      const session = await CaptureSession.open({
        project,
        files: sessionFiles,
        preload: sessionFiles.slice(plan?.start ?? 0, index + 1),
        ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
        ...(seed ? { seed } : {}),
      });
      try {
        plan?.settle();
        const start = plan?.start ?? 0;
        result.fromCache = start;
        const resumed = plan?.meta?.resume as CheckResume | undefined;
        if (resumed) session.restoreRunStart(resumed.runRelations);
        else await session.markRunStart();
        const earlier = sessionFiles.slice(start, index);
        if (earlier.length) {
          const applied = await session.applyUp(earlier);
          result.ran = applied.ran.length;
          if (applied.error) {
            result.earlierFailure = { migration: applied.error.migration ?? '?', message: applied.error.message };
            return result;
          }
        }
        if (plan?.wantsState(index)) {
          const resume: CheckResume = { runRelations: session.recorder.runStartRelations() ?? [], warnings: resumed?.warnings ?? [] };
          await plan.saveState(index, await session.checkpoint(), resume);
          plan.finish();
        }

        const knexTables = [project.migrations.tableName, `${project.migrations.tableName}_lock`];
        const snapshot = () => snapshotSchema(session.knex, { excludeTables: knexTables });
        await ensureParser();
        const before = await snapshot();
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
        if (up.error) {
          result.failure = { message: up.error.message, ...(up.error.sqlState ? { sqlState: up.error.sqlState } : {}), ...siteOf(up) };
        } else if (this.options.reversibility !== false) {
          const verified = await verifyOne(session, scratchFile, before, snapshot, true, [], async () => [], up);
          result.verdict = verified.verdict;
        }
      } finally {
        await session.close();
      }
    } catch (error) {
      // Whatever went wrong is the file's diagnostic, never the server's end.
      result.failure = { message: errorMessage(error) };
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    const scratchPrefix = `${scratch}${path.sep}`;
    result.findings = sortFindings(result.findings.map((f) => (f.file.startsWith(scratchPrefix) ? { ...f, file: target.file } : f)));
    result.durationMs = performance.now() - started;
    return result;
  }
}

/** Where the failure points: a statement that failed (its knex call), else the error's own stack. */
function siteOf(outcome: RunOutcome): { site?: CallSite } {
  for (const t of outcome.traces) {
    const failed = t.statements.find((s) => s.error);
    if (failed?.site) return { site: failed.site };
  }
  return outcome.error?.site ? { site: outcome.error.site } : {};
}
