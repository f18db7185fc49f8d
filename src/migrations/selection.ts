import path from 'node:path';
import type { ProjectConfig } from '../config/resolve.js';
import { KnexsafeError } from '../errors.js';
import { readAppliedMigrations } from './applied.js';
import { listMigrationFiles, type MigrationFile } from './source.js';

export interface SelectionOptions {
  /** Only migrations not yet applied to the target. */
  pending?: boolean;
  /** Every migration file (the default when there is no target). */
  all?: boolean;
  from?: string;
  to?: string;
  /** Explicit migration names (with or without extension). */
  names?: string[];
}

export interface Selection {
  files: MigrationFile[];
  selected: MigrationFile[];
  /** Names the target has applied; undefined when no target was read. */
  applied?: string[];
  /** Why this selection: for the report header. */
  reason: string;
}

function findFile(files: MigrationFile[], given: string, flag: string): number {
  const base = path.basename(given);
  const stem = (n: string) => n.slice(0, n.length - path.extname(n).length);
  const index = files.findIndex((f) => f.name === base || stem(f.name) === base);
  if (index === -1) {
    const close = files.filter((f) => f.name.includes(base)).map((f) => f.name);
    throw new KnexsafeError('UNKNOWN_MIGRATION', `${flag} ${given}: no such migration.${close.length ? ` Did you mean ${close.slice(0, 3).join(', ')}?` : ''}`, {
      hint: 'Run `knexsafe list` to see the names.',
    });
  }
  return index;
}

/**
 * Picks the migrations an analysis command works on. Reading the target (for --pending) is
 * read-only: knex's history table is read, never created.
 */
export async function selectMigrations(project: ProjectConfig, options: SelectionOptions, defaultMode: 'all' | 'pending-if-target'): Promise<Selection> {
  const files = listMigrationFiles(project.migrations);
  if (options.names?.length) {
    const selected = options.names.map((n) => files[findFile(files, n, 'migration')]!).sort((a, b) => files.indexOf(a) - files.indexOf(b));
    return { files, selected, reason: `${selected.length} named migration(s)` };
  }
  if (options.from !== undefined || options.to !== undefined) {
    const from = options.from !== undefined ? findFile(files, options.from, '--from') : 0;
    const to = options.to !== undefined ? findFile(files, options.to, '--to') : files.length - 1;
    if (from > to) throw new KnexsafeError('BAD_RANGE', `--from ${options.from} comes after --to ${options.to}.`);
    return { files, selected: files.slice(from, to + 1), reason: `migrations ${files[from]?.name} to ${files[to]?.name}` };
  }
  const wantPending = options.pending === true || (options.all !== true && defaultMode === 'pending-if-target' && project.target.kind !== 'none');
  if (!wantPending) return { files, selected: files, reason: 'all migrations' };
  if (project.target.kind === 'none') {
    throw new KnexsafeError('NO_CONNECTION', '--pending needs a database to compare with, and none is configured.', {
      hint: 'Add a connection to the knexfile, set DATABASE_URL, pass --connection, or drop --pending to check all migrations.',
    });
  }
  // knex and pg load only when there is a target to read.
  const { openTarget } = await import('../db/connect.js');
  const db = await openTarget(project);
  let applied: string[];
  try {
    applied = ((await readAppliedMigrations(db.knex, project.migrations)) ?? []).map((a) => a.name);
  } finally {
    await db.close();
  }
  const appliedSet = new Set(applied);
  const selected = files.filter((f) => !appliedSet.has(f.name));
  return { files, selected, applied, reason: `${selected.length} pending migration(s) on ${db.description}` };
}

/** The files to replay before the selection: the applied ones (in knex order), else everything before the first selected. */
export function replayBefore(selection: Selection): MigrationFile[] {
  const first = selection.selected[0];
  if (!first) return [];
  if (selection.applied) {
    const applied = new Set(selection.applied);
    return selection.files.filter((f) => applied.has(f.name));
  }
  return selection.files.slice(0, selection.files.indexOf(first));
}
