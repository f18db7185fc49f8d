import type { ProjectConfig } from '../config/resolve.js';
import type { Database } from '../db/connect.js';
import { KnexsafeError } from '../errors.js';
import { readAppliedMigrations } from './applied.js';
import { checksumTableName, compareChecksums, ensureChecksumTable, gitOrigins, readChecksums, writeChecksums, type ChecksumState } from './checksums.js';
import { resolveMigrationName } from './history.js';
import { listMigrationFiles } from './source.js';

export interface RehashEntry {
  name: string;
  /** What status said before: `changed` and `unknown` are the ones rehash settles. */
  was: ChecksumState;
  sha256: string;
  /** The git commit the file is recorded as applied from (tracked and clean now). */
  commit: string | null;
}

export interface RehashResult {
  database: string;
  table: string;
  /** Rows written: every applied migration that was changed or unknown (or all named ones). */
  recorded: RehashEntry[];
  /** Applied migrations already matching their checksum, left alone. */
  unchanged: string[];
  /** Applied migrations with no readable file (missing, or a custom source): nothing to hash. */
  skipped: string[];
}

/**
 * `knexsafe history rehash [names…]`: accepts the current files of applied migrations as what was
 * applied, after a review — the files of migrations applied by plain knex (no checksum yet) and
 * edits that change nothing that ran. Writes only knexsafe's own table, in one transaction.
 */
export async function rehashMigrations(ctx: { db: Database; project: ProjectConfig }, names: string[] = []): Promise<RehashResult> {
  const { db, project } = ctx;
  const files = listMigrationFiles(project.migrations);
  const applied = await readAppliedMigrations(db.knex, project.migrations);
  if (!applied) {
    throw new KnexsafeError('NO_HISTORY', `${db.description} has no knex history (${project.migrations.tableName} does not exist): there is nothing applied to hash.`, {
      hint: 'Check --env / the connection; `knexsafe latest` applies the migrations and records their checksums.',
    });
  }
  const wanted = new Set(names.map((n) => resolveMigrationName(project, n)));
  for (const n of wanted) {
    if (!applied.some((a) => a.name === n)) {
      throw new KnexsafeError('NOT_APPLIED', `${n} is not applied on ${db.description}, so it has no checksum to accept.`, { hint: 'Run `knexsafe status` to see what is applied.' });
    }
  }
  await ensureChecksumTable(db.knex, project.migrations);
  const report = compareChecksums(files, applied, await readChecksums(db.knex, project.migrations), project.migrations);
  const byId = new Map(applied.map((a) => [a.name, a.id ?? null]));
  const chosen = report.verdicts.filter((v) => (wanted.size ? wanted.has(v.name) : v.state === 'changed' || v.state === 'unknown') && v.current);
  const origins = gitOrigins(chosen.map((v) => v.file));
  const entries = chosen.map((v) => ({ name: v.name, sha256: v.current!, knexId: byId.get(v.name) ?? null, git: origins.get(v.file) }));
  await db.knex.transaction((trx) => writeChecksums(trx, project.migrations, entries, 'rehash'));
  return {
    database: db.description,
    table: checksumTableName(project.migrations),
    recorded: chosen.map((v, i) => ({ name: v.name, was: v.state, sha256: entries[i]!.sha256, commit: entries[i]!.git?.commit ?? null })),
    unchanged: report.verdicts.filter((v) => v.state === 'ok' && !chosen.includes(v)).map((v) => v.name),
    skipped: [...report.verdicts.filter((v) => !v.current).map((v) => v.name), ...applied.filter((a) => !files.some((f) => f.name === a.name)).map((a) => a.name)],
  };
}
