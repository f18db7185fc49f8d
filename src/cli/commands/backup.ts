import path from 'node:path';
import type { Command } from 'commander';
import { displayPath } from '../../util/paths.js';
import { globalOptions, makeOutput, projectOptions, withTarget } from '../context.js';

// Loaded on use, so `--help` and other commands do not pay for these modules.
const backupModule = () => import('../../backup/backup.js');
const pending = () => import('../../backup/pending.js');
const config = () => import('../../config/resolve.js');
const guardFormat = () => import('../../guard/format.js');
const guard = () => import('../../guard/run.js');

export function registerBackupCommand(program: Command): void {
  const backup = program
    .command('backup [migrations...]')
    .description('Copy what the pending (or named) migrations would drop or rewrite, without running them')
    .option('--dir <dir>', 'backup folder (default .knexsafe/backups)')
    .addHelpText(
      'after',
      `
The migrations run on a shadow database first, to see exactly which tables and columns they drop,
truncate or change the type of; those are copied from the target with COPY (one CSV per table,
manifest.json, restore.sql). \`latest\` does the same by itself before a destructive migration.

Examples:
  $ knexsafe backup                                 before the pending migrations
  $ knexsafe backup 20240301_drop_legacy_status     before one migration
  $ knexsafe backup list
  $ knexsafe backup restore .knexsafe/backups/20240301T120000Z
  $ psql "$DATABASE_URL" -f .knexsafe/backups/20240301T120000Z/restore.sql`,
    )
    .action(async (names: string[], opts: { dir?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const result = await (await pending()).backupPending({
        ...projectOptions(g),
        ...(names.length ? { names } : {}),
        ...(opts.dir ? { dir: opts.dir } : {}),
        ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
        progress: (m) => out.progress(out.c.dim(m)),
      });
      const b = result.backup;
      out.result({
        migrations: result.migrations,
        dir: b?.dir ?? null,
        entries: (b?.manifest.entries ?? []).map((e) => ({ table: `${e.schema}.${e.name}`, kind: e.kind, columns: e.targetColumns, rows: e.rows, file: e.file })),
        skipped: b?.manifest.skipped ?? [],
        restore: b?.manifest.restore ?? null,
      });
      if (!b) {
        out.line(`Nothing to back up: ${result.migrations.length ? `${result.migrations.join(', ')} drop${result.migrations.length === 1 ? 's' : ''} no existing data` : 'no pending migrations'}.`);
        return;
      }
      const [{ formatBackup }, { targetText }] = await Promise.all([guardFormat(), guard()]);
      out.line(`${out.c.green('✓')} ${formatBackup(b)}`);
      for (const t of result.targets) out.line(out.c.dim(`  ${targetText(t)}: ${t.reasons.join('; ')}`));
      out.line(out.c.dim(`  or: ${b.manifest.restore.psql}`));
    });

  backup
    .command('restore <dir>')
    .description('Put a backup’s data back (re-creates dropped tables and columns), in one transaction')
    .option('--table <name...>', 'restore only these tables')
    .action(async (dir: string, opts: { table?: string[] }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const full = path.resolve(g.cwd ?? process.cwd(), dir);
      // A damaged or missing manifest is reported before connecting: no database is needed to see it.
      (await backupModule()).readManifest(full);
      const result = await withTarget(g, async (db) => (await backupModule()).restoreBackup(db, full, { ...(opts.table ? { tables: opts.table } : {}) }).then((r) => ({ r, db: db.description })));
      out.result({ database: result.db, ...result.r });
      for (const r of result.r.restored) out.line(restoredLine(r, result.db, out.c.green('✓')));
    });

  backup
    .command('list')
    .description('List the backups of this project, newest first')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const [{ resolveProject }, { listBackups }, { defaultBackupRoot }] = await Promise.all([config(), backupModule(), pending()]);
      const project = await resolveProject(projectOptions(g));
      const backups = listBackups(defaultBackupRoot(project.baseDir));
      out.result({ backups: backups.map((b) => ({ dir: b.dir, createdAt: b.manifest.createdAt, purpose: b.manifest.purpose, tables: b.manifest.entries.map((e) => `${e.schema}.${e.name}`) })) });
      if (!backups.length) out.line('No backups yet.');
      for (const b of backups) {
        out.line(`${displayPath(b.dir)}  ${b.manifest.createdAt}  ${b.manifest.entries.map((e) => `${e.schema}.${e.name} (${e.rows} rows)`).join(', ')}  ${out.c.dim(b.manifest.purpose)}`);
      }
    });
}

/** What a restore did to one table, in numbers that match the database: a second restore inserts nothing. */
function restoredLine(r: { table: string; kind: 'table' | 'columns'; columns: string[]; rows: number; inBackup: number; into: string }, db: string, tick: string): string {
  const what = `${r.table}${r.kind === 'columns' ? ` (${r.columns.join(', ')})` : ''}`;
  const into = r.into !== r.table ? ` into ${r.into}` : '';
  const plural = (n: number) => `${n} row${n === 1 ? '' : 's'}`;
  if (r.rows === r.inBackup) return `${tick} Restored ${what}: ${plural(r.rows)}${into} on ${db}`;
  const already = r.inBackup - r.rows;
  const there = r.kind === 'columns' ? 'already held the backed-up values' : 'were already there (a row with the same key exists)';
  if (r.rows === 0) return `${tick} Nothing to restore in ${what} on ${db}: all ${plural(r.inBackup)} of the backup ${there}; nothing was changed.`;
  return `${tick} Restored ${what}: ${plural(r.rows)} of ${r.inBackup}${into} on ${db}; the other ${plural(already)} ${there} and were left as they are.`;
}
