import { resolveProject, type ProjectConfig, type ProjectOptions } from '../config/resolve.js';
import { openTarget } from '../db/connect.js';
import { readAppliedMigrations, readLockState } from '../migrations/applied.js';
import { listMigrationFiles } from '../migrations/source.js';
import { checkFiles, checkLock, checkOrder, checkTimestamps } from './history-checks.js';
import { checkChecksums } from './checksum-checks.js';
import { readChecksumsOrWarn } from '../migrations/checksums.js';
import { runSchemaChecks } from './schema-checks.js';
import type { DoctorCheck, DoctorFinding, DoctorReport } from './types.js';

export interface DoctorOptions extends ProjectOptions {
  shadowUrl?: string;
  /** Skip the checks that need a shadow database (partial runs, drift). */
  noShadow?: boolean;
  /** Do not copy the target's schema with pg_dump. */
  noDump?: boolean;
  progress?(message: string): void;
  /** A project already resolved (a fleet target: its own connection, schema): not read again. */
  project?: ProjectConfig;
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

/**
 * `knexsafe doctor`: diagnoses knex's lock, the history against the files, ordering, partial runs
 * and schema drift, and says the fix for each. Read-only on the target: it reads knex's tables,
 * pg_locks, pg_stat_activity and the catalogs, and copies the schema with pg_dump; everything that
 * runs a migration runs on a shadow.
 * @example
 * const report = await runDoctor({ cwd: '/srv/app' });
 * for (const f of report.findings) console.log(f.severity, f.message);
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const started = performance.now();
  const project = options.project ?? (await resolveProject(options));
  const files = listMigrationFiles(project.migrations);
  const db = await openTarget(project);
  const findings: DoctorFinding[] = [];
  const checks: DoctorCheck[] = [];
  const status = (found: DoctorFinding[]): DoctorCheck['status'] => (found.some((f) => f.severity !== 'info') ? 'problem' : 'ok');
  let shadow: string | undefined;
  let clone: string | undefined;
  let appliedCount = 0;
  let pendingCount = 0;
  try {
    options.progress?.(`Reading knex's history on ${db.description}`);
    const history = await readAppliedMigrations(db.knex, project.migrations);
    const applied = history ?? [];
    const lock = await readLockState(db.knex, project.migrations);

    const lockResult = await checkLock(db, project, lock, applied);
    findings.push(...lockResult.findings);
    checks.push({ name: 'lock', status: status(lockResult.findings), ...(lock.exists ? {} : { note: 'no lock table yet' }) });

    const fileResult = checkFiles(project, files, applied);
    findings.push(...fileResult.findings);
    checks.push({ name: 'files', status: status(fileResult.findings) });

    if (applied.length) {
      let unreadable: string | undefined;
      const rows = await readChecksumsOrWarn(db.knex, project.migrations, (m) => (unreadable = m));
      if (unreadable) checks.push({ name: 'checksums', status: 'skipped', note: unreadable });
      else {
        const sums = checkChecksums(project, files, applied, rows);
        findings.push(...sums);
        checks.push({ name: 'checksums', status: status(sums), ...(rows ? {} : { note: 'no checksum table: nothing was applied with knexsafe' }) });
      }
    }

    const order = checkOrder(files, applied, fileResult.aliases, fileResult.twins);
    findings.push(...order);
    checks.push({ name: 'order', status: status(order) });

    const timestamps = checkTimestamps(files, applied);
    findings.push(...timestamps);
    checks.push({ name: 'timestamps', status: status(timestamps) });

    const appliedFiles = new Set([...applied.map((a) => a.name), ...[...fileResult.aliases.values()].map((f) => f.name), ...fileResult.twins]);
    const pending = files.filter((f) => !appliedFiles.has(f.name));
    appliedCount = applied.length;
    pendingCount = pending.length;

    if (history === undefined) {
      const tables = (
        (await db.knex.raw(
          `select n.nspname || '.' || c.relname as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' order by 1`,
        )) as { rows: { name: string }[] }
      ).rows.map((r) => r.name);
      findings.push({
        id: 'no-history',
        severity: tables.length ? 'warning' : 'info',
        title: tables.length
          ? `${project.migrations.tableName} does not exist, but the database has ${tables.length} table(s): it was not built by these migrations`
          : `Nothing has been migrated here yet (${project.migrations.tableName} does not exist)`,
        evidence: tables.length ? [`tables: ${tables.slice(0, 10).join(', ')}${tables.length > 10 ? ', …' : ''}`] : [`${files.length} migration file(s) pending`],
        fix: tables.length
          ? 'Check that this is the right database and environment (--env, DATABASE_URL). `knexsafe latest` would try to create everything again on top of it.'
          : 'Run `knexsafe latest` to apply the migrations.',
        commands: tables.length ? [] : ['knexsafe latest'],
      });
      checks.push({ name: 'partial', status: 'skipped', note: 'no history' }, { name: 'drift', status: 'skipped', note: 'no history' });
    } else if (options.noShadow) {
      checks.push({ name: 'partial', status: 'skipped', note: '--no-shadow' }, { name: 'drift', status: 'skipped', note: '--no-shadow' });
      if (pending.length) {
        findings.push({
          id: 'pending',
          severity: 'info',
          title: `${pending.length} pending migration${pending.length === 1 ? '' : 's'}: \`knexsafe latest\` applies ${pending.length === 1 ? 'it' : 'them'}`,
          evidence: pending.map((f) => `${f.name}: pending`),
          fix: 'Review them with `knexsafe check --pending`, then run `knexsafe latest`.',
          commands: ['knexsafe check --pending', 'knexsafe latest'],
        });
      }
    } else {
      const shadowUrl = options.shadowUrl ?? project.knexsafe.shadowUrl;
      const schema = await runSchemaChecks({
        project,
        target: db,
        files,
        applied,
        aliases: fileResult.aliases,
        unresolved: fileResult.unresolved,
        twins: fileResult.twins,
        ...(shadowUrl ? { shadowUrl } : {}),
        ...(options.noDump ? { useDump: false } : {}),
        ...(options.progress ? { progress: options.progress } : {}),
      });
      findings.push(...schema.findings);
      checks.push(...schema.checks);
      shadow = schema.shadow;
      clone = schema.clone;
    }
  } finally {
    await db.close();
  }
  const ordered = findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map(({ f }) => f);
  return {
    database: db.description,
    ...(shadow ? { shadow } : {}),
    ...(clone ? { clone } : {}),
    ok: !ordered.some((f) => f.severity !== 'info'),
    findings: ordered,
    checks,
    applied: appliedCount,
    pending: pendingCount,
    durationMs: performance.now() - started,
  };
}
