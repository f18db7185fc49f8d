import type { Knex } from 'knex';
import type { ProjectConfig } from '../config/resolve.js';
import { extensionsMentionedBy } from '../db/connect.js';
import type { ExtensionRequest } from '../db/embedded.js';
import { migratorConfig, type Direction } from '../migrations/history.js';
import { KnexsafeMigrationSource, knexRefusal, listMigrationFiles, loadMigration, refusedMigration, type LoadedMigration, type MigrationFile, type MigrationWrapper } from '../migrations/source.js';
import { armExitTrap, trapped } from '../util/exit-trap.js';
import { createShadow, type Shadow } from '../shadow/shadow.js';
import { shadowSessionOf } from '../shadow/session-settings.js';
import { asKnexsafe } from '../db/internal-queries.js';
import { settleCommitRides } from '../db/round-trip.js';
import { explainScopeFailure, prepareScope } from '../shadow/scope.js';
import { KnexsafeError } from '../errors.js';
import { humanDuration } from '../util/duration.js';
import { ANALYSIS_TIMEOUT_MS, startWatchdog, type Watchdog } from '../shadow/watchdog.js';
import type { ShadowDatabaseReservation } from '../shadow/server-database.js';
import { ensureParser } from '../sql/parse.js';
import { Recorder, toStatementError } from './recorder.js';
import { errorSite } from './call-site.js';
import type { CallSite, MigrationTrace, StatementError } from './types.js';

export interface CaptureSessionOptions {
  project: ProjectConfig;
  /** Defaults to every migration file of the project. */
  files?: MigrationFile[];
  /** A server for the shadow; default embedded. */
  shadowUrl?: string;
  /** The shadow's database, already being created on `shadowUrl`. */
  shadowReservation?: ShadowDatabaseReservation;
  /** Extensions the embedded shadow must be able to create; default: those the project mentions. */
  extensions?: ExtensionRequest;
  /** Record locks and rewrites per statement (default true; verify does not need them). */
  observeEffects?: boolean;
  /** Without effects observed: a footprint per transactional migration all the same, read at its end (RecorderOptions.footprintAtEnd). */
  footprintAtEnd?: boolean;
  /** Migrations that will run one by one (`up` / `down`): loaded while the shadow is being created. */
  preload?: MigrationFile[];
  /** Longest a migration, and on a server shadow a statement, may run (default ANALYSIS_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Embedded shadow only: start from a stored state (src/cache/). */
  seed?: (dataDir: string) => boolean;
}

export interface RunOutcome {
  traces: MigrationTrace[];
  /** Names knex reported as run (for latest: the batch). */
  ran: string[];
  /** `site`: where in the migration's file an error thrown by its code (or its syntax) points, from the error's stack. */
  error?: StatementError & { migration?: string; direction?: Direction; site?: CallSite };
}

/**
 * A shadow database plus a recorder, driven through knex's own Migrator so that transaction
 * semantics are knex's: one transaction per `latest` batch unless a migration opts out.
 */
/** Called around each captured migration with the knex it runs with (the transaction, when it has one). */
export type BoundaryHook = (knex: Knex, moment: 'before' | 'after', migration: LoadedMigration, direction: Direction) => Promise<void>;

/** Migration modules by name, loaded once: jiti keeps no module cache, so a second load runs the file again. */
export class MigrationModules {
  // The loading itself is kept: a migration asked for while the background preload is loading it
  // must not be evaluated a second time. A failure stays the answer for that file.
  private readonly loaded = new Map<string, Promise<LoadedMigration>>();

  get(file: MigrationFile): Promise<LoadedMigration> {
    let loaded = this.loaded.get(file.name);
    if (!loaded) {
      // A module's top-level code is the migration's too: an exit there is its failure.
      loaded = trapped(file.name, () => loadMigration(file), { loading: true, file: file.file });
      this.loaded.set(file.name, loaded);
    }
    return loaded;
  }

  private stopped = false;

  /**
   * Loads `files` one at a time, each when the main thread would otherwise wait (setImmediate:
   * after the I/O that is ready has been handled), so that creating the shadow and running the
   * first migrations go on meanwhile. A file that fails to load is left out: running it reports
   * the error. One not loaded yet when its migration runs is loaded then.
   */
  async preload(files: readonly MigrationFile[]): Promise<void> {
    for (const file of files) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.stopped) return;
      await this.get(file).catch(() => undefined);
    }
  }

  stop(): void {
    this.stopped = true;
  }
}

function shadowTimeoutError(migration: string, timeoutMs: number, kind: string): KnexsafeError {
  return new KnexsafeError(
    'SHADOW_TIMEOUT',
    `${migration} ran longer than --timeout ${humanDuration(timeoutMs)} on the shadow database, so knexsafe stopped: a migration this slow on an empty shadow is waiting for something that never comes (a promise that never settles, a lock, pg_sleep).`,
    {
      exitCode: 1,
      hint: `Make the migration await or return every promise it starts, or raise --timeout if it really takes that long.${kind === 'embedded' ? '' : ' On this server shadow every statement is also limited by statement_timeout = --timeout.'}`,
      details: { migration, timeoutMs },
    },
  );
}

function abortedTransactionError(cause: StatementError): Error {
  const error = new Error(
    `the migration caught a failed statement and went on (${cause.sqlState ? `${cause.sqlState}: ` : ''}${cause.message}), but the failure had aborted its transaction: knex's COMMIT rolls everything back and knex then fails to record the migration (25P02). Rethrow the error, or run the statement in its own knex.transaction() so that only it is rolled back.`,
  ) as Error & { code: string };
  error.code = '25P02';
  return error;
}

export class CaptureSession {
  private capturing = true;
  /** Runs outside the recording, e.g. to snapshot the schema before and after each migration. */
  onBoundary: BoundaryHook | undefined;
  private readonly batchIds = new WeakMap<object, string>();
  private nextBatchId = 1;
  private constructor(
    readonly project: ProjectConfig,
    readonly files: MigrationFile[],
    readonly shadow: Shadow,
    readonly recorder: Recorder,
    private readonly modules: MigrationModules,
    /** Disarms the exit trap armed for this session's migrations (src/util/exit-trap.ts). */
    private readonly disarm: () => void,
    private readonly timeoutMs: number,
  ) {}

  /** The embedded shadow's last resort against a statement that never ends (src/shadow/watchdog.ts). */
  watchdog: Watchdog | undefined;

  static async open(options: CaptureSessionOptions): Promise<CaptureSession> {
    const files = options.files ?? listMigrationFiles(options.project.migrations);
    const m = options.project.migrations;
    const recorder = new Recorder({
      knexTables: [m.tableName, `${m.tableName}_lock`],
      migrationFiles: files.map((f) => f.file),
      migrationDirectories: m.directories,
      ...(options.observeEffects === false ? { observeEffects: false } : {}),
      ...(options.footprintAtEnd ? { footprintAtEnd: true } : {}),
    });
    // While the shadow is being created (a round trip to the server, or PGlite starting), the
    // parser compiles and the migration modules load.
    // From the first module loaded to close, a migration cannot end the process unreported.
    const disarm = armExitTrap();
    const modules = new MigrationModules();
    // Not waited for: what is not loaded when the shadow is ready loads while the first migrations wait on it.
    const preloading = modules.preload(options.preload ?? []);
    let shadow: Shadow;
    try {
      [shadow] = await Promise.all([
        createShadow({
          ...(options.shadowUrl ? { serverUrl: options.shadowUrl } : {}),
          ...(options.shadowReservation ? { reservation: options.shadowReservation } : {}),
          extensions: options.extensions ?? extensionsMentionedBy(options.project),
          observer: recorder,
          ...(options.project.searchPath !== undefined ? { searchPath: options.project.searchPath } : {}),
          session: shadowSessionOf(options.project),
          statementTimeoutMs: options.timeoutMs ?? ANALYSIS_TIMEOUT_MS,
          ...(options.seed && !options.shadowUrl ? { seed: options.seed } : {}),
        }),
        ensureParser(),
      ]);
    } catch (error) {
      modules.stop();
      await preloading;
      disarm();
      throw error;
    }
    try {
      for (const note of await prepareScope(shadow.knex, options.project)) {
        if (!options.project.warnings.includes(note)) options.project.warnings.push(note);
      }
    } catch (error) {
      modules.stop();
      await shadow.close().catch(() => undefined);
      disarm();
      throw error;
    }
    const timeoutMs = options.timeoutMs ?? ANALYSIS_TIMEOUT_MS;
    const session = new CaptureSession(options.project, files, shadow, recorder, modules, disarm, timeoutMs);
    if (shadow.kind === 'embedded' && timeoutMs > 0) {
      session.watchdog = startWatchdog({ timeoutMs, dataDir: shadow.embedded?.persistent ? undefined : shadow.embedded?.dataDir, names: files.map((f) => f.name) });
      const close = shadow.close;
      shadow.close = async () => {
        await session.watchdog?.stop();
        await close();
      };
    }
    return session;
  }

  /** The loaded migration module (loaded once per session). */
  migration(file: MigrationFile): Promise<LoadedMigration> {
    return this.modules.get(file);
  }

  get knex(): Knex {
    return this.shadow.knex;
  }

  /** From now on, relations in the shadow count as the target's existing tables. */
  async markRunStart(): Promise<void> {
    await asKnexsafe(() => this.recorder.markRunStart(async (sql) => ((await this.knex.raw(sql)) as { rows: Record<string, unknown>[] }).rows));
  }

  /** A run resumed from a stored state: the relations its cold run started with (oids survive the copy). */
  restoreRunStart(oids: readonly number[]): void {
    this.recorder.restoreRunStart(oids);
  }

  /**
   * Writes everything PGlite holds in memory to its data directory, so that a copy of the folder
   * is a whole database (PGlite recovers from that checkpoint when it opens the copy).
   */
  async checkpoint(): Promise<string | undefined> {
    const embedded = this.shadow.embedded;
    if (!embedded || embedded.persistent) return undefined;
    // Straight to PGlite, not through knex: the recorder must not count it as a statement.
    await embedded.pglite.exec('CHECKPOINT');
    return embedded.dataDir;
  }

  private wrapper(): MigrationWrapper {
    return {
      wrap: (migration: LoadedMigration, direction: Direction, run: (knex: Knex) => Promise<unknown>) => async (knex: Knex) => {
        if (!this.capturing) return run(knex);
        const transactional = Boolean(knex.isTransaction);
        await this.boundary(knex, 'before', migration, direction);
        this.recorder.beginMigration(migration.name, migration.file, direction, transactional, transactional ? this.batchId(knex) : undefined);
        let result: unknown;
        let timer: NodeJS.Timeout | undefined;
        this.watchdog?.arm(this.files.findIndex((f) => f.name === migration.name));
        try {
          result = await trapped(
            migration.name,
            () =>
              this.timeoutMs > 0
                ? Promise.race([
                    run(knex),
                    new Promise<never>((_, reject) => {
                      timer = setTimeout(() => reject(shadowTimeoutError(migration.name, this.timeoutMs, this.shadow.kind)), this.timeoutMs);
                    }),
                  ])
                : run(knex),
            { file: migration.file },
          );
          const aborted = this.recorder.abortedTransaction();
          if (aborted) throw abortedTransactionError(aborted);
          const trace = this.recorder.endMigration();
          // In the migration's transaction, before its COMMIT releases the locks.
          if (trace && transactional)
            await this.recorder.completeFootprint(trace, (sql) =>
              asKnexsafe(async () => {
                const response = (await knex.raw(sql)) as unknown;
                return (Array.isArray(response) ? response : [response]) as { rows?: Record<string, unknown>[] }[];
              }),
            );
        } catch (error) {
          this.recorder.endMigration(error);
          throw error;
        } finally {
          clearTimeout(timer);
          this.watchdog?.disarm();
        }
        await this.boundary(knex, 'after', migration, direction);
        return result;
      },
    };
  }

  /** Failures that come from the knexfile's scope (src/shadow/scope.ts), explained. */
  private explained(traces: MigrationTrace[]): MigrationTrace[] {
    return traces.map((t) => (t.error ? { ...t, error: explainScopeFailure(t.error, this.project) } : t));
  }

  /** The boundary hook is knexsafe's code: its queries go without the knexfile's hooks. */
  private async boundary(...args: Parameters<BoundaryHook>): Promise<void> {
    const hook = this.onBoundary;
    if (hook) await asKnexsafe(() => hook(...args));
  }

  private batchId(trx: object): string {
    let id = this.batchIds.get(trx);
    if (!id) {
      id = `tx${this.nextBatchId++}`;
      this.batchIds.set(trx, id);
    }
    return id;
  }

  private async run(
    files: MigrationFile[],
    action: (migrate: Knex.Migrator, config: Knex.MigratorConfig) => Promise<unknown>,
    options: { disableTransactions?: boolean; noopMissingDown?: boolean } = {},
  ): Promise<RunOutcome> {
    // knex validates every migration of a batch before running any: so does the shadow.
    const source = new KnexsafeMigrationSource(files, this.wrapper(), { noopMissingDown: options.noopMissingDown ?? false });
    const config = migratorConfig(this.project, source, options);
    const direction: Direction = 'up';
    try {
      const result = (await action(this.knex.migrate, config)) as [number, string[]] | undefined;
      return { traces: this.recorder.takeTraces(), ran: Array.isArray(result) ? result[1] : [] };
    } catch (error) {
      const traces = this.explained(this.recorder.takeTraces());
      const failed = traces.find((t) => t.error);
      const info = explainScopeFailure(toStatementError(error), this.project);
      const failedMigration = failed?.name ?? (error as { knexsafeMigration?: string }).knexsafeMigration ?? refusedMigration(info.message);
      return {
        traces,
        ran: [],
        error: { ...info, ...(failedMigration ? { migration: failedMigration } : {}), direction: failed?.direction ?? direction },
      };
    }
  }

  /** knex `latest` over `files` (the applied ones plus the pending ones). */
  latest(files: MigrationFile[] = this.files, options: { disableTransactions?: boolean } = {}): Promise<RunOutcome> {
    return this.run(files, (migrate, config) => migrate.latest(config), options);
  }

  /**
   * One migration in one direction, as knex's Migrator runs a single migration (`migrate.up` /
   * `migrate.down`): in its own transaction unless `config.transaction` is false or transactions
   * are disabled. The shadow's history table is left alone — this is what makes verify and check
   * cheap per migration (knex's Migrator re-reads information_schema and takes its lock per call).
   */
  async runMigration(name: string, direction: Direction): Promise<RunOutcome> {
    const file = this.files.find((f) => f.name === name);
    if (!file) throw new Error(`unknown migration ${name}`);
    let m: LoadedMigration;
    try {
      m = await this.migration(file);
    } catch (error) {
      const site = errorSite(error, new Set([file.file]));
      return { traces: [], ran: [], error: { ...toStatementError(error), migration: name, direction, ...(site ? { site } : {}) } };
    }
    // knex's migrate.up / migrate.down validate the migration they run, as latest does its batch.
    const refusal = knexRefusal(m);
    if (refusal) return { traces: [], ran: [], error: { message: refusal, migration: name, direction } };
    const body = direction === 'up' ? m.up : m.down;
    const run = async (knex: Knex) => (body ? await body(knex) : undefined);
    const wrapped = this.wrapper().wrap(m, direction, run);
    const useTransaction = m.transaction ?? !this.project.migrations.disableTransactions;
    try {
      if (useTransaction) await this.knex.transaction((trx) => wrapped(trx));
      else await wrapped(this.knex);
      return { traces: this.recorder.takeTraces(), ran: [name] };
    } catch (error) {
      const traces = this.explained(this.recorder.takeTraces());
      const site = errorSite(error, new Set([file.file]));
      return { traces, ran: [], error: { ...explainScopeFailure(toStatementError(error), this.project), migration: name, direction, ...(site ? { site } : {}) } };
    } finally {
      // A read meant to go with the COMMIT of a transaction that ended without one fails now, not never.
      settleCommitRides(this.knex);
    }
  }

  up(name: string): Promise<RunOutcome> {
    return this.runMigration(name, 'up');
  }

  down(name: string): Promise<RunOutcome> {
    return this.runMigration(name, 'down');
  }

  /** Applies `files` without recording: brings the shadow to a starting state. */
  async replay(files: MigrationFile[]): Promise<RunOutcome> {
    this.capturing = false;
    try {
      // Applied on the target already: knex validates only the migrations it is about to run.
      return await this.run(files, (migrate, config) => migrate.latest(config), { noopMissingDown: true });
    } finally {
      this.capturing = true;
    }
  }

  /**
   * Runs the up of each of `files`, one migration at a time as `up` does, without recording; stops
   * at the first failure. verify uses it to rebuild a shadow the same way its loop built it.
   */
  async applyUp(files: MigrationFile[]): Promise<RunOutcome> {
    this.capturing = false;
    const ran: string[] = [];
    try {
      for (const file of files) {
        const outcome = await this.runMigration(file.name, 'up');
        if (outcome.error) return { traces: [], ran, error: outcome.error };
        ran.push(file.name);
      }
      return { traces: [], ran };
    } finally {
      this.capturing = true;
    }
  }

  async close(): Promise<void> {
    this.modules.stop();
    try {
      await this.shadow.close();
    } finally {
      this.disarm();
    }
  }
}
