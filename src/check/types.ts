// The shapes of check's options and report, apart from run.ts so that sql-files.ts (the static
// .sql check, loaded without the shadow's modules) can use them without importing run.ts back.
import type { ProjectConfig, ProjectOptions } from '../config/resolve.js';
import type { SelectionOptions } from '../migrations/selection.js';
import type { Finding, MigrationUnit } from '../rules/types.js';
import type { DataCheckResult } from './data-checks.js';
import type { ProjectKnexRun } from './project-knex.js';

/**
 * Where the advice's PostgreSQL version came from: --pg-version, the knexsafe config's pgVersion,
 * the target server (`database`: its description), or the default (`reason`: why nothing better).
 */
export type PgVersionSource = { from: 'option' } | { from: 'config' } | { from: 'target'; database: string } | { from: 'default'; reason: 'no-target' | 'target-unreachable' | 'target-not-read' };

export interface CheckOptions extends ProjectOptions, SelectionOptions {
  shadowUrl?: string;
  pgVersion?: number;
  /** .sql files (or '-' for stdin text passed as `stdin`) to check statically instead of migrations. */
  sqlFiles?: string[];
  stdin?: string;
  progress?: (message: string) => void;
  /**
   * Count, on the target (read-only), the rows that would make a pending migration fail: duplicates
   * for a unique key, NULLs for SET NOT NULL, orphans for a foreign key, CHECK violations, values a
   * type change cannot convert. `url`: a replica of the target to count on instead.
   */
  dataChecks?: boolean | { url?: string; timeoutMs?: number };
  /** Longest a migration (and on a server shadow, a statement) may run on the shadow. */
  timeoutMs?: number;
  /**
   * Use the warm cache of shadow states (src/cache/) for `--all` on the embedded shadow, unless the
   * config or KNEXSAFE_NO_CACHE turns it off. Migrations taken from the cache have no `units`.
   */
  cache?: boolean;
  /** A project already resolved (a fleet target: its own connection, schema): not read again. */
  project?: ProjectConfig;
}

export interface CheckedMigration {
  name: string;
  file: string;
  statements: number;
  transactional: boolean;
  failed?: { message: string; sqlState?: string; knexVersionNote?: string; underProjectKnex?: ProjectKnexRun };
}

export interface CheckReport {
  findings: Finding[];
  migrations: CheckedMigration[];
  /** What was checked against what, in one sentence. */
  scope: string;
  /** Selected migrations after a failing one: knex stops there, so they were not run (nor checked). */
  notReached?: string[];
  target?: string;
  shadow?: string;
  pgVersion: number;
  /** Where pgVersion came from: what the summary line says next to it. */
  pgVersionSource: PgVersionSource;
  durationMs: number;
  warnings: string[];
  /** The analysed migrations (statements with facts and SQL): what `latest --dry-run` and backups read. */
  units?: MigrationUnit[];
  /** With `dataChecks`: every counting query run on the target and what it found. */
  dataChecks?: DataCheckResult[];
}
