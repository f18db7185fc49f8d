import path from 'node:path';
import { check } from '../check/run.js';
import { resolveProject, type ProjectOptions } from '../config/resolve.js';
import { openTarget } from '../db/connect.js';
import { backupTargets, type BackupResult } from './backup.js';
import { destructiveTargets, existingTargets, type BackupTarget } from './targets.js';

export interface BackupPendingOptions extends ProjectOptions {
  /** Migrations to look at (default: the pending ones). */
  names?: string[];
  shadowUrl?: string;
  /** Backup root (default `<project>/.knexsafe/backups`). */
  dir?: string;
  progress?: (message: string) => void;
}

export interface BackupPendingResult {
  /** What the migrations drop or rewrite that exists on the database now. */
  targets: BackupTarget[];
  backup?: BackupResult;
  migrations: string[];
}

/** The project's default backup folder. */
export function defaultBackupRoot(baseDir: string): string {
  return path.join(baseDir, '.knexsafe', 'backups');
}

/**
 * `knexsafe backup`: runs the pending (or named) migrations on a shadow to see what they drop or
 * rewrite, then copies exactly that from the target — without running anything on it.
 * @example
 * const { backup, targets } = await backupPending({ cwd: '/srv/app' });
 * console.log(backup?.dir, targets.length);
 */
export async function backupPending(options: BackupPendingOptions): Promise<BackupPendingResult> {
  const project = await resolveProject(options);
  const report = await check({
    ...options,
    ...(options.names?.length ? { names: options.names } : { pending: true }),
    ...(options.shadowUrl ? { shadowUrl: options.shadowUrl } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
  });
  const migrations = report.migrations.map((m) => m.name);
  const db = await openTarget(project);
  try {
    const knex = db.knex;
    const targets = await existingTargets(destructiveTargets(report.units ?? []), knex);
    if (targets.length === 0) return { targets, migrations };
    options.progress?.(`Backing up ${targets.length} table${targets.length === 1 ? '' : 's'}`);
    const backup = await backupTargets(db, targets, {
      root: options.dir ? path.resolve(options.cwd ?? process.cwd(), options.dir) : defaultBackupRoot(project.baseDir),
      purpose: `backup before ${migrations.join(', ')}`,
    });
    return { targets, backup, migrations };
  } finally {
    await db.close();
  }
}
