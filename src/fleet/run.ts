import { createHash } from 'node:crypto';
import path from 'node:path';
import { resolveProject, type ProjectConfig, type ProjectOptions } from '../config/resolve.js';
import { KnexsafeError, errorMessage, isKnexsafeError } from '../errors.js';
import type { CheckReport } from '../check/run.js';
import type { Database } from '../db/connect.js';
import type { GuardSettingOptions } from '../guard/settings.js';
import { redactSecrets } from '../util/redact.js';
import { loadTargets, projectForTarget, type FleetTarget, type TargetSelection } from './targets.js';

export type FleetCommand = 'status' | 'latest' | 'rollback' | 'doctor' | 'check';

/** Where a target is while the fleet runs (what the live table shows). */
export type LiveState = 'waiting' | 'reading' | 'checking' | 'running' | 'done' | 'failed' | 'behind' | 'problem' | 'not started';

/** How a target ended: `ok`, `behind` (pending migrations), `problem` (doctor/check findings), `failed`, or never started. */
export type TargetResult = 'ok' | 'behind' | 'problem' | 'failed' | 'not started';

export interface TargetOutcome {
  target: string;
  database?: string;
  schema?: string;
  result: TargetResult;
  /** Migrations applied on it, and the last one (its version) after the command. */
  applied: number;
  pending: number;
  version: string | null;
  /** What this command ran on it (latest: up; rollback: down). */
  migrations: string[];
  durationMs: number;
  /** doctor: what is wrong with it. */
  problems?: ('stuck' | 'behind' | 'drifted' | 'history')[];
  notes?: string[];
  /** check: the findings of its state's check. */
  findings?: { errors: number; warnings: number };
  error?: { code: string; message: string; hint?: string };
}

export interface StateCheck {
  /** The last applied migration of the state (null: nothing applied). */
  state: string | null;
  targets: number;
  pending: number;
  errors: number;
  warnings: number;
  /** The target the shadow read the applied state from. */
  representative: string;
  durationMs: number;
  failed?: string;
}

export interface FleetReport {
  command: FleetCommand;
  concurrency: number;
  failFast: boolean;
  /** fail-fast stopped starting targets after the first failure. */
  stopped: boolean;
  targets: TargetOutcome[];
  /** One check per distinct applied state with pending migrations (latest, check). */
  checks: StateCheck[];
  /** How many targets are at each version after the command. */
  versions: { version: string | null; targets: number }[];
  ok: boolean;
  durationMs: number;
}

export interface FleetEvents {
  state?(target: string, state: LiveState, migration?: string): void;
  /** Fleet-wide steps (reading states, checks). */
  progress?(message: string): void;
}

export interface FleetOptions extends ProjectOptions, GuardSettingOptions, TargetSelection {
  command: FleetCommand;
  concurrency?: number;
  /** Stop starting targets at the first failure (default true). */
  failFast?: boolean;
  shadowUrl?: string;
  /** latest */
  check?: boolean;
  unsafe?: boolean;
  backup?: boolean;
  backupDir?: string;
  disableTransactions?: boolean;
  /** rollback */
  all?: boolean;
  events?: FleetEvents;
}

/** Runs one command across the fleet: `concurrency` targets at a time, each under knex's lock and knexsafe's run lock. */
export async function runFleet(options: FleetOptions): Promise<FleetReport> {
  const started = performance.now();
  const base = await resolveProject(options);
  const targets = await loadTargets(base, options);
  for (const t of targets) options.events?.state?.(t.name, 'waiting');

  const readers = new Readers(targets);
  try {
    return await fleetOn(options, base, targets, readers, started);
  } finally {
    await readers.close();
  }
}

async function fleetOn(options: FleetOptions, base: ProjectConfig, targets: FleetTarget[], readers: Readers, started: number): Promise<FleetReport> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const failFast = options.failFast ?? true;
  const events = options.events ?? {};
  const outcomes = new Map<string, TargetOutcome>();
  const checks: StateCheck[] = [];
  let stopped = false;

  // latest and check share one shadow check per distinct applied state.
  const reports = new Map<string, CheckReport | KnexsafeError>();
  // Target name → its applied state's key, for the run that follows the checks.
  const stateOf = new Map<string, string>();
  // What the read before the checks found, for targets that then never start.
  const seen = new Map<string, string[]>();
  if ((options.command === 'latest' && options.check !== false) || options.command === 'check') {
    events.progress?.(`Reading the applied migrations of ${targets.length} target${targets.length === 1 ? '' : 's'}`);
    const states = new Map<string, FleetTarget[]>();
    const applied = new Map<string, string[]>();
    await eachLimited(targets, concurrency, async (t) => {
      events.state?.(t.name, 'reading');
      try {
        const names = await readApplied(readers, projectForTarget(base, t));
        applied.set(t.name, names);
        seen.set(t.name, names);
        const key = stateKey(names);
        states.set(key, [...(states.get(key) ?? []), t]);
      } catch (error) {
        outcomes.set(t.name, failedOutcome(t, error, 0));
        events.state?.(t.name, 'failed');
      }
      return true;
    });
    const { listMigrationFiles } = await import('../migrations/source.js');
    const files = listMigrationFiles(base.migrations);
    for (const [key, group] of states) {
      const names = new Set(applied.get(group[0]!.name) ?? []);
      const pending = files.filter((f) => !names.has(f.name)).length;
      if (pending === 0) continue;
      const rep = group[0]!;
      const last = lastOf(applied.get(rep.name) ?? []);
      events.progress?.(`Checking ${pending} pending migration${pending === 1 ? '' : 's'} once for ${group.length} target${group.length === 1 ? '' : 's'} at ${last ?? '(nothing applied)'}`);
      for (const t of group) events.state?.(t.name, 'checking');
      const checkStarted = performance.now();
      const { check } = await import('../check/run.js');
      try {
        const report = await check({ project: projectForTarget(base, rep), pending: true, ...(options.shadowUrl ? { shadowUrl: options.shadowUrl } : {}) });
        reports.set(key, report);
        const active = report.findings.filter((f) => !f.suppressed);
        const failedOnShadow = report.migrations.find((m) => m.failed);
        checks.push({
          state: last,
          targets: group.length,
          pending,
          errors: active.filter((f) => f.severity === 'error').length + (failedOnShadow ? 1 : 0),
          warnings: active.filter((f) => f.severity === 'warning').length,
          representative: rep.name,
          durationMs: Math.round(performance.now() - checkStarted),
          ...(failedOnShadow ? { failed: `${failedOnShadow.name}: ${failedOnShadow.failed!.message}` } : {}),
        });
      } catch (error) {
        const failure = asError(error);
        reports.set(key, failure);
        checks.push({
          state: last,
          targets: group.length,
          pending,
          errors: 1,
          warnings: 0,
          representative: rep.name,
          durationMs: Math.round(performance.now() - checkStarted),
          failed: failure.message,
        });
      }
      for (const t of group) events.state?.(t.name, 'waiting');
    }
    if (options.command === 'check') {
      for (const [key, group] of states) {
        const report = reports.get(key);
        for (const t of group) {
          const names = applied.get(t.name) ?? [];
          const pending = files.length - names.length;
          const errorsWarnings = report && !(report instanceof KnexsafeError) ? countFindings(report) : { errors: report ? 1 : 0, warnings: 0 };
          const outcome: TargetOutcome = {
            ...identity(t),
            result: report instanceof KnexsafeError || errorsWarnings.errors > 0 ? 'problem' : 'ok',
            applied: names.length,
            pending: Math.max(0, pending),
            version: lastOf(names),
            migrations: [],
            durationMs: 0,
            findings: errorsWarnings,
            ...(report instanceof KnexsafeError ? { error: errorJson(report) } : {}),
          };
          outcomes.set(t.name, outcome);
          events.state?.(t.name, outcome.result === 'ok' ? 'done' : 'problem');
        }
      }
    }
    // Who is where is known now; the per-target runs below read it again under the locks.
    if (options.command === 'latest') {
      for (const [key, group] of states) for (const t of group) stateOf.set(t.name, key);
    }
  }

  if (options.command !== 'check') {
    // latest: a target the read found up to date is not connected to again (a re-run after a
    // failure only touches the targets still behind).
    if (options.command === 'latest' && seen.size) {
      const { listMigrationFiles } = await import('../migrations/source.js');
      const files = listMigrationFiles(base.migrations).map((f) => f.name);
      for (const t of targets) {
        const names = seen.get(t.name);
        if (!names || outcomes.has(t.name)) continue;
        const applied = new Set(names);
        if (files.some((f) => !applied.has(f))) continue;
        outcomes.set(t.name, { ...identity(t), result: 'ok', applied: names.length, pending: 0, version: lastOf(names), migrations: [], durationMs: 0 });
        events.state?.(t.name, 'done');
      }
    }
    const todo = targets.filter((t) => !outcomes.has(t.name));
    await eachLimited(todo, concurrency, async (t) => {
      if (stopped) return false;
      const outcome = await runOne(options, base, t, reports.get(stateOf.get(t.name) ?? ''), events, readers);
      outcomes.set(t.name, outcome);
      if (outcome.result === 'failed' && failFast) stopped = true;
      return !stopped;
    });
    if (options.command === 'doctor') await markDrift(base, targets, outcomes, concurrency, readers);
  }

  const fileCount = seen.size ? (await import('../migrations/source.js')).listMigrationFiles(base.migrations).length : 0;
  const list: TargetOutcome[] = targets.map((t) => {
    const o = outcomes.get(t.name);
    if (o) return o;
    events.state?.(t.name, 'not started');
    const names = seen.get(t.name) ?? [];
    return {
      ...identity(t),
      result: 'not started',
      applied: names.length,
      pending: seen.has(t.name) ? Math.max(0, fileCount - names.length) : 0,
      version: lastOf(names),
      migrations: [],
      durationMs: 0,
    };
  });
  const versions = new Map<string | null, number>();
  for (const o of list) if (o.result !== 'not started' && o.result !== 'failed') versions.set(o.version, (versions.get(o.version) ?? 0) + 1);
  return {
    command: options.command,
    concurrency,
    failFast,
    stopped,
    targets: list,
    checks,
    versions: [...versions].map(([version, n]) => ({ version, targets: n })).sort((a, b) => b.targets - a.targets),
    ok: list.every((o) => o.result === 'ok'),
    durationMs: Math.round(performance.now() - started),
  };
}

async function runOne(options: FleetOptions, base: ProjectConfig, t: FleetTarget, report: CheckReport | KnexsafeError | undefined, events: FleetEvents, readers: Readers): Promise<TargetOutcome> {
  const started = performance.now();
  const project = projectForTarget(base, t);
  events.state?.(t.name, options.command === 'latest' || options.command === 'rollback' ? 'running' : 'reading');
  try {
    if (report instanceof KnexsafeError) throw report;
    const ran: string[] = [];
    let problems: TargetOutcome['problems'];
    let notes: string[] | undefined;
    if (options.command === 'latest') {
      const { guardedLatest } = await import('../guard/run.js');
      const result = await guardedLatest({
        project,
        ...pickGuard(options),
        ...(report ? { checkReport: report } : {}),
        // Backups of concurrent targets go to folders of their own.
        backupDir: path.join(options.backupDir ?? path.join(base.baseDir, '.knexsafe', 'backups'), safeName(t.name)),
        events: { migrationStart: (name) => events.state?.(t.name, 'running', name) },
      });
      ran.push(...result.migrations.map((m) => m.name));
    } else if (options.command === 'rollback') {
      ran.push(...(await rollbackOne(project, options)));
    } else if (options.command === 'doctor') {
      const diagnosis = await doctorOne(project, options);
      problems = diagnosis.problems;
      notes = diagnosis.notes;
    }
    // After a latest that went through, every migration file is applied (knex's latest or an error): no need to read it back.
    const status = options.command === 'latest' ? await appliedAfterLatest(project) : await readStatus(readers, project);
    const result: TargetResult = problems?.length ? 'problem' : status.pending > 0 && options.command !== 'rollback' ? 'behind' : 'ok';
    events.state?.(t.name, result === 'ok' ? 'done' : result);
    return {
      ...identity(t),
      result,
      applied: status.applied,
      pending: status.pending,
      version: status.version,
      migrations: ran,
      durationMs: Math.round(performance.now() - started),
      ...(problems ? { problems } : {}),
      ...(notes?.length ? { notes } : {}),
    };
  } catch (error) {
    events.state?.(t.name, 'failed');
    const outcome = failedOutcome(t, error, performance.now() - started);
    // What it did before failing: its state now, read on a fresh connection.
    const status = await readStatus(readers, project).catch(() => undefined);
    if (status) Object.assign(outcome, { applied: status.applied, pending: status.pending, version: status.version });
    return outcome;
  }
}

function pickGuard(options: FleetOptions): Record<string, unknown> {
  const keys = ['lockTimeout', 'statementTimeout', 'idleTimeout', 'timeout', 'retries', 'retryDelay', 'check', 'unsafe', 'backup', 'disableTransactions', 'shadowUrl'] as const;
  const given = options as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (given[k] !== undefined) out[k] = given[k];
  return out;
}

async function rollbackOne(project: ProjectConfig, options: FleetOptions): Promise<string[]> {
  const [{ ControlSession }, { openTarget }, { migrateRollback }] = await Promise.all([import('../guard/control.js'), import('../db/connect.js'), import('../migrations/history.js')]);
  const control = await ControlSession.open(project, 'knexsafe:rollback');
  if (control && !(await control.tryLock())) {
    await control.close();
    throw new KnexsafeError('MIGRATION_LOCKED', `Another knexsafe run is migrating this database (${project.migrations.tableName}); this rollback ran nothing.`, { exitCode: 1 });
  }
  try {
    const db = await openTarget(project);
    try {
      const result = await migrateRollback({ db, project }, { ...(options.all ? { all: true } : {}), ...(options.disableTransactions ? { disableTransactions: true } : {}) });
      return result.migrations.map((m) => m.name);
    } finally {
      await db.close();
    }
  } finally {
    await control?.close();
  }
}

/** Stuck (knex's lock set or knexsafe's run lock held), behind, history problems; drift is compared across the fleet afterwards. */
async function doctorOne(project: ProjectConfig, options: FleetOptions): Promise<{ problems: NonNullable<TargetOutcome['problems']>; notes: string[] }> {
  const [{ runDoctor }, { LOCK_HOLDERS_SQL, advisoryLockName }, { openTarget }] = await Promise.all([import('../doctor/doctor.js'), import('../guard/control.js'), import('../db/connect.js')]);
  const report = await runDoctor({ project, noShadow: true, ...(options.shadowUrl ? { shadowUrl: options.shadowUrl } : {}) });
  const problems = new Set<NonNullable<TargetOutcome['problems']>[number]>();
  const notes: string[] = [];
  for (const f of report.findings) {
    if (f.id === 'stale-lock' || f.id === 'migration-running') problems.add('stuck');
    else if (f.id === 'pending') problems.add('behind');
    else if (f.id === 'no-history') {
      if (f.severity !== 'info') problems.add('history');
      else problems.add('behind');
    } else if (f.severity !== 'info') problems.add('history');
    if (f.id !== 'pending') notes.push(`${f.id}: ${f.title}`);
  }
  const db = await openTarget(project);
  try {
    const holders = ((await db.knex.raw(LOCK_HOLDERS_SQL.replace('$1', '?'), [advisoryLockName(project)])) as { rows: { pid: number; application_name: string | null }[] }).rows;
    if (holders.length) {
      problems.add('stuck');
      notes.push(`knexsafe's run lock is held by pid ${holders.map((h) => `${h.pid}${h.application_name ? ` (${h.application_name})` : ''}`).join(', ')}`);
    }
  } finally {
    await db.close();
  }
  return { problems: [...problems], notes };
}

/**
 * Drift across the fleet: targets at the same applied migrations should have the same schema. Each
 * target's schema is read (read-only) and the ones that differ from the most common schema of their
 * state are marked drifted. A state with one target has nothing to compare with.
 */
async function markDrift(base: ProjectConfig, targets: FleetTarget[], outcomes: Map<string, TargetOutcome>, concurrency: number, readers: Readers): Promise<void> {
  const { snapshotSchema } = await import('../schema/snapshot.js');
  const prints = new Map<string, string>();
  await eachLimited(targets, concurrency, async (t) => {
    const outcome = outcomes.get(t.name);
    if (!outcome || outcome.result === 'failed' || outcome.result === 'not started') return true;
    try {
      const snapshot = await readers.use(projectForTarget(base, t), (db) => snapshotSchema(db.knex, t.schema ? { schemas: [t.schema] } : {}));
      let text = JSON.stringify(snapshot);
      // Tenants' schemas differ by name only: compare them with the name taken out.
      if (t.schema) text = text.split(`${t.schema}.`).join('<tenant>.').split(`"${t.schema}"`).join('"<tenant>"');
      prints.set(t.name, createHash('sha1').update(text).digest('hex'));
    } catch (error) {
      outcome.notes = [...(outcome.notes ?? []), `schema not read: ${redactSecrets(errorMessage(error))}`];
    }
    return true;
  });
  const groups = new Map<string, TargetOutcome[]>();
  for (const o of outcomes.values()) if (prints.has(o.target)) groups.set(o.version ?? '', [...(groups.get(o.version ?? '') ?? []), o]);
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const counts = new Map<string, number>();
    for (const o of group) counts.set(prints.get(o.target)!, (counts.get(prints.get(o.target)!) ?? 0) + 1);
    const [common, commonCount] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    if (commonCount * 2 <= group.length) continue; // no majority: nothing to call the norm
    for (const o of group) {
      if (prints.get(o.target) === common) continue;
      o.problems = [...(o.problems ?? []), 'drifted'];
      o.notes = [...(o.notes ?? []), `drift: its schema differs from ${commonCount} of the ${group.length} targets at the same migrations (\`knexsafe doctor --connection …\` on it shows how)`];
      o.result = 'problem';
    }
  }
}

/**
 * Connections for the read-only steps (applied states, status). Targets that share a connection
 * (schemas of one database) share one pool: their reads name the schema, so the search_path does
 * not matter. A connection of a single target is opened and closed around each use, so that a
 * fleet of many databases does not keep one pool per database open.
 */
export class Readers {
  private readonly shared = new Map<string, Promise<Database>>();
  private readonly uses = new Map<string, number>();

  constructor(targets: FleetTarget[]) {
    for (const t of targets) this.uses.set(connectionKey(t.connection), (this.uses.get(connectionKey(t.connection)) ?? 0) + 1);
  }

  async use<T>(project: ProjectConfig, fn: (db: Database) => Promise<T>): Promise<T> {
    const { openTarget } = await import('../db/connect.js');
    const key = project.target.kind === 'server' ? connectionKey(project.target.connection) : '';
    if ((this.uses.get(key) ?? 0) < 2) {
      const db = await openTarget(project);
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    }
    let opened = this.shared.get(key);
    if (!opened) {
      opened = openTarget(project);
      this.shared.set(key, opened);
    }
    return fn(await opened);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.shared.values()].map((p) =>
        p.then(
          (db) => db.close(),
          () => undefined,
        ),
      ),
    );
    this.shared.clear();
  }
}

function connectionKey(connection: unknown): string {
  return typeof connection === 'string' ? connection : (JSON.stringify(connection) ?? '');
}

async function readApplied(readers: Readers, project: ProjectConfig): Promise<string[]> {
  const { readAppliedMigrations } = await import('../migrations/applied.js');
  return readers.use(project, async (db) => ((await readAppliedMigrations(db.knex, project.migrations)) ?? []).map((a) => a.name));
}

async function readStatus(readers: Readers, project: ProjectConfig): Promise<{ applied: number; pending: number; version: string | null }> {
  const { migrationStatus } = await import('../migrations/history.js');
  return readers.use(project, async (db) => {
    const status = await migrationStatus({ db, project });
    const applied = status.migrations.filter((m) => m.state !== 'pending').map((m) => m.name);
    return { applied: status.applied, pending: status.pending, version: lastOf(applied) };
  });
}

async function appliedAfterLatest(project: ProjectConfig): Promise<{ applied: number; pending: number; version: string | null }> {
  const { listMigrationFiles } = await import('../migrations/source.js');
  const files = listMigrationFiles(project.migrations).map((f) => f.name);
  return { applied: files.length, pending: 0, version: lastOf(files) };
}

function stateKey(applied: string[]): string {
  return [...applied].sort().join('\n');
}

function lastOf(names: string[]): string | null {
  return names.length ? [...names].sort()[names.length - 1]! : null;
}

function countFindings(report: CheckReport): { errors: number; warnings: number } {
  const active = report.findings.filter((f) => !f.suppressed);
  return { errors: active.filter((f) => f.severity === 'error').length + report.migrations.filter((m) => m.failed).length, warnings: active.filter((f) => f.severity === 'warning').length };
}

function identity(t: FleetTarget): Pick<TargetOutcome, 'target' | 'database' | 'schema'> {
  return { target: t.name, ...(t.database ? { database: t.database } : {}), ...(t.schema ? { schema: t.schema } : {}) };
}

function asError(error: unknown): KnexsafeError {
  if (isKnexsafeError(error)) return error;
  return new KnexsafeError('TARGET_FAILED', errorMessage(error), { exitCode: 1, cause: error });
}

function errorJson(error: KnexsafeError): NonNullable<TargetOutcome['error']> {
  return { code: error.code, message: redactSecrets(error.message), ...(error.hint ? { hint: redactSecrets(error.hint) } : {}) };
}

function failedOutcome(t: FleetTarget, error: unknown, ms: number): TargetOutcome {
  return { ...identity(t), result: 'failed', applied: 0, pending: 0, version: null, migrations: [], durationMs: Math.round(ms), error: errorJson(asError(error)) };
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Runs `fn` over `items`, `limit` at a time, in order; `fn` returning false stops new starts. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<boolean>): Promise<void> {
  let next = 0;
  let go = true;
  const worker = async () => {
    while (go && next < items.length) {
      const item = items[next++]!;
      if (!(await fn(item))) go = false;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
