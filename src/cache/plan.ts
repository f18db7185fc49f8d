import type { ProjectConfig } from '../config/resolve.js';
import { currentTemplate, ensureTemplate, pgliteVersion, preparePglite, TEMPLATE_FORMAT } from '../db/embedded.js';
import type { MigrationFile } from '../migrations/source.js';
import { baseKey, hashText, prefixKeys, stableText } from './keys.js';
import { cacheSettings, ShadowCache, type StateMeta } from './store.js';

/**
 * How a run uses the warm cache: which migrations' conclusions it takes from it, from which stored
 * state the shadow starts, and after which migrations it stores the state for the next run.
 */
export class CachePlan {
  /** Migrations (a prefix of `files`) whose results come from the cache. */
  start = 0;
  /** Every migration's result is cached: the run needs no shadow at all. */
  complete = false;
  /** The stored state's meta once the shadow started from it. */
  meta: StateMeta | undefined;
  private readonly savePoints = new Set<number>();
  /** Results of the first migrations, read when the plan was made. */
  private readonly results: unknown[] = [];

  private constructor(
    readonly cache: ShadowCache,
    /** Key of the state after migrations 1..i, at i - 1. */
    private readonly keys: string[],
    /** Key of migration i's result, at i - 1: its prefix key and what judges it. */
    private readonly resultKeys: string[],
  ) {}

  /**
   * Undefined when the cache is off or the run cannot be cached exactly. `mode` names the command
   * and how it runs the chain; `judgedBy` is whatever else decides a migration's result (rule
   * severities, the PostgreSQL version the advice is for, verify's --no-data, …).
   */
  static create(project: ProjectConfig, files: readonly MigrationFile[], mode: string, judgedBy: unknown, enabled: boolean | undefined): CachePlan | undefined {
    const settings = cacheSettings(project.knexsafe.cache, enabled === true ? undefined : false, project.baseDir);
    if (!settings.enabled || files.length === 0) return undefined;
    const base = baseKey(project, files, mode, `pglite ${pgliteVersion()} template ${TEMPLATE_FORMAT}`);
    if (!base) return undefined;
    const keys = prefixKeys(base, files);
    const judged = stableText(judgedBy);
    const plan = new CachePlan(
      new ShadowCache(settings),
      keys,
      keys.map((k) => hashText(k, judged)),
    );
    // Read now, not when needed: an entry another run evicts meanwhile cannot fail this one.
    let results = 0;
    for (; results < files.length; results++) {
      const value = plan.cache.readResult<unknown>(plan.resultKeys[results]!);
      if (value === undefined) break;
      plan.results.push(value);
    }
    plan.complete = results === files.length;
    // A shadow will open: PGlite compiles while the rest of the run gets ready.
    if (!plan.complete) preparePglite();
    for (let s = results; s > 0; s--) {
      if (plan.cache.hasState(keys[s - 1]!)) {
        plan.start = s;
        break;
      }
    }
    // States kept: after the last migration and at doubling distances before it (1, 2, 4, 8…):
    // editing the k-th newest migration re-runs at most 2k of them, with log2(n) states stored.
    // The state after the last migration only on a cold run: a warm one that ran just the newest
    // migration would spend more storing it than the next run saves (a run with nothing changed
    // needs no state at all; an edit of the newest starts from the one before it).
    const n = files.length;
    if (plan.start === 0) plan.savePoints.add(n);
    for (let back = 1; back < n; back *= 2) plan.savePoints.add(n - back);
    return plan;
  }

  /**
   * For one migration judged alone (the language server): the longest stored state of the chain up
   * to the one before `position` (1-based), keyed as `mode` keys its states over the whole `files`,
   * so states another command stored are used; the state just before `position` is the one saved.
   * No results are read or written.
   */
  static before(project: ProjectConfig, files: readonly MigrationFile[], mode: string, position: number, enabled: boolean | undefined): CachePlan | undefined {
    const settings = cacheSettings(project.knexsafe.cache, enabled === true ? undefined : false, project.baseDir);
    if (!settings.enabled || position < 1 || position > files.length) return undefined;
    const base = baseKey(project, files, mode, `pglite ${pgliteVersion()} template ${TEMPLATE_FORMAT}`);
    if (!base) return undefined;
    // Keys of the prefixes before it only: the migration itself (the unsaved buffer) is not hashed.
    const keys = prefixKeys(base, files.slice(0, position - 1));
    const plan = new CachePlan(new ShadowCache(settings), keys, []);
    for (let s = position - 1; s > 0; s--) {
      if (plan.cache.hasState(keys[s - 1]!)) {
        plan.start = s;
        break;
      }
    }
    if (position > 1) plan.savePoints.add(position - 1);
    return plan;
  }

  /** The key of the stored state the shadow starts from (undefined: from the template). */
  get startKey(): string | undefined {
    return this.start > 0 ? this.keys[this.start - 1] : undefined;
  }

  /** For the shadow's `seed`: the stored state at `start`, from the template the shadow opened with. */
  seed(): ((dataDir: string) => boolean) | undefined {
    if (this.start === 0) return undefined;
    return (dataDir) => {
      const template = currentTemplate();
      this.meta = template ? this.cache.restoreState(this.keys[this.start - 1]!, dataDir, template) : undefined;
      return this.meta !== undefined;
    };
  }

  /** After the shadow opened: when the stored state could not be used, the run is cold. */
  settle(): void {
    if (this.complete) this.start = this.keys.length;
    else if (this.start > 0 && !this.meta) this.start = 0;
    // For tests and for people wondering whether the cache works: KNEXSAFE_CACHE_TRACE=1.
    if (process.env.KNEXSAFE_CACHE_TRACE === '1') process.stderr.write(`knexsafe cache: ${this.start} of ${this.keys.length} migrations from the cache\n`);
  }

  result<T>(position: number): T | undefined {
    return this.results[position - 1] as T | undefined;
  }

  saveResult(position: number, value: unknown): void {
    this.cache.writeResult(this.resultKeys[position - 1]!, value);
  }

  /** Whether the state after `position` migrations should be stored now. */
  wantsState(position: number): boolean {
    return position > this.start && this.savePoints.has(position) && !this.cache.hasState(this.keys[position - 1]!);
  }

  /** Stores the checkpointed data directory as the state after `position` migrations. */
  async saveState(position: number, dataDir: string | undefined, resume: unknown): Promise<void> {
    if (!dataDir) return;
    this.cache.saveState(this.keys[position - 1]!, dataDir, await ensureTemplate(), resume);
  }

  finish(): void {
    this.cache.evict();
  }
}
