import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { ProjectConfig } from '../config/resolve.js';
import type { Database } from '../db/connect.js';
import type { AppliedMigration, LockState } from '../migrations/applied.js';
import type { MigrationFile } from '../migrations/source.js';
import { displayPath } from '../util/paths.js';
import { knexTimestamp } from '../util/timestamp.js';
import { describeSession, readMigrationActivity, runningMigrationSessions, type MigrationActivity } from '../migrations/sessions.js';
import type { DoctorFinding } from './types.js';

const stem = (name: string) => name.slice(0, name.length - path.extname(name).length);

function appliedLine(a: AppliedMigration): string {
  return `${a.name}: batch ${a.batch}${
    a.appliedAt
      ? `, applied ${a.appliedAt
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, 'Z')}`
      : ''
  }`;
}

/** Idle-in-transaction this long while holding knex's tables means the migration is stuck, not slow. */
const STUCK_SECONDS = 300;

/** knex's lock: held by a running migration (say who), or left behind by a crashed one (say so, and the fix). */
export async function checkLock(db: Database, project: ProjectConfig, lock: LockState, applied: AppliedMigration[]): Promise<{ findings: DoctorFinding[]; activity?: MigrationActivity }> {
  if (!lock.exists) return { findings: [] };
  const lockTable = `${project.migrations.schemaName ? `${project.migrations.schemaName}.` : ''}${project.migrations.tableName}_lock`;
  const activity = db.kind === 'server' ? await readMigrationActivity(db.knex, project.migrations) : undefined;
  const running = activity ? runningMigrationSessions(activity) : [];
  const last = applied[applied.length - 1];
  const hidden = activity?.queriesHidden ? ["pg_stat_activity hides other users' statements from this user; `GRANT pg_read_all_stats TO <user>` lets doctor see them"] : [];

  if (running.length > 0) {
    const stuck = running.filter((s) => s.state?.startsWith('idle in transaction') && (s.transactionSeconds ?? 0) > STUCK_SECONDS);
    return {
      activity,
      findings: [
        {
          id: 'migration-running',
          severity: stuck.length ? 'warning' : 'info',
          title: stuck.length
            ? `A migration session holds knex's tables but has been idle in its transaction for ${Math.max(...stuck.map((s) => s.transactionSeconds ?? 0))} s`
            : `A migration is running now (pid ${running.map((s) => s.pid).join(', ')})`,
          evidence: [
            lock.isLocked ? `${lockTable}.is_locked = 1` : `${lockTable}.is_locked reads 0: the running batch set it to 1 inside its own, not yet committed, transaction`,
            ...running.map(describeSession),
            ...hidden,
          ],
          fix: stuck.length
            ? 'Its process is probably gone or hung: stop the session (its transaction rolls back, which also frees the lock), then run `knexsafe doctor` again.'
            : 'Wait for it to finish; do not start another migration or unlock meanwhile (`knexsafe unlock` refuses while it runs).',
          commands: stuck.map((s) => `SELECT pg_terminate_backend(${s.pid});`),
          data: { sessions: running, isLocked: lock.isLocked },
        },
      ],
    };
  }
  if (!lock.isLocked) return { findings: [], ...(activity ? { activity } : {}) };

  const busy = activity?.busy ?? [];
  return {
    ...(activity ? { activity } : {}),
    findings: [
      {
        id: 'stale-lock',
        severity: 'error',
        title: "knex's migration lock is set, but no migration is running",
        evidence: [
          `${lockTable}.is_locked = 1: \`knexsafe latest\` and \`npx knex migrate:latest\` stop with "Migration table is already locked"`,
          db.kind === 'server'
            ? `no session holds a lock on ${project.migrations.tableName} or ${project.migrations.tableName}_lock, runs a statement on them, or is changing the schema (pg_locks, pg_stat_activity)`
            : 'the embedded database has no other session',
          last ? `last recorded migration: ${appliedLine(last)}` : 'no migration is recorded yet',
          'cause: the previous migration crashed — a run without a wrapping transaction (a migration with `config = { transaction: false }`, or --disable-transactions) commits the lock first and never got to free it',
          ...busy.map(
            (s) =>
              `still busy on this database: ${describeSession(s)}${
                s.state !== 'active'
                  ? ''
                  : s.migration
                    ? ` — nobody holds knexsafe's run lock any more, so its run is gone and this statement runs on without its client`
                    : " — if this is the crashed run's last statement, it runs on without its client"
              }`,
          ),
          ...hidden,
        ],
        fix:
          (busy.some((s) => s.state === 'active') ? "If a busy session above is the crashed run's statement, stop it first (pg_terminate_backend). " : '') +
          "Free the lock with `knexsafe unlock` (what `npx knex migrate:unlock` does; the seed's manual fix is `DELETE FROM knex_migrations_lock WHERE is_locked = 1;`), then run `knexsafe doctor` again: the crashed run may have left a migration half applied.",
        commands: [...busy.filter((s) => s.state === 'active').map((s) => `SELECT pg_terminate_backend(${s.pid});`), 'knexsafe unlock', 'knexsafe doctor'],
        data: { busy },
      },
    ],
  };
}

/** The commit that deleted a file, when the project is a git checkout. */
function deletedIn(file: string): { commit: string; subject: string; path: string } | undefined {
  const dir = path.dirname(file);
  try {
    const root = execFileSync('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    const rel = path.relative(root, file);
    const out = execFileSync('git', ['-C', root, 'log', '--diff-filter=D', '-n', '1', '--format=%h%x09%s', '--', rel], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
    if (!out) return undefined;
    const [commit, subject] = out.split('\t');
    return commit ? { commit, subject: subject ?? '', path: rel } : undefined;
  } catch {
    return undefined;
  }
}

function inGitRepo(dir: string): boolean {
  try {
    execFileSync('git', ['-C', dir, 'rev-parse', '--is-inside-work-tree'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

function moveCommand(from: string, to: string): string {
  const q = (p: string) => (/^[\w./@:+-]+$/.test(p) ? p : `'${p.replace(/'/g, "'\\''")}'`);
  return `${inGitRepo(path.dirname(from)) ? 'git mv' : 'mv'} ${q(displayPath(from))} ${q(displayPath(to))}`;
}

/** A new name for a file with a fresh timestamp, keeping the rest of its name. */
function renamedWithTimestamp(file: MigrationFile, offsetSeconds: number): string {
  const rest = file.name.replace(/^\d+_?/, '');
  return path.join(file.directory, `${knexTimestamp(new Date(Date.now() + offsetSeconds * 1000))}_${rest}`);
}

export interface FileCheckResult {
  findings: DoctorFinding[];
  /** Applied name → the file that stands for it (same migration, other extension). */
  aliases: Map<string, MigrationFile>;
  /** Applied names with no file at all. */
  unresolved: string[];
  /** Pending files that are another form of an applied one (x.js next to applied x.ts): not new migrations. */
  twins: Set<string>;
}

/** Applied rows without a file, and the .ts/.js identity: what knex calls "the migration directory is corrupt". */
export function checkFiles(project: ProjectConfig, files: MigrationFile[], applied: AppliedMigration[]): FileCheckResult {
  const findings: DoctorFinding[] = [];
  const aliases = new Map<string, MigrationFile>();
  const unresolved: string[] = [];
  const twins = new Set<string>();
  const fileNames = new Set(files.map((f) => f.name));
  const appliedNames = new Set(applied.map((a) => a.name));
  const table = project.migrations.tableName;
  const directory = project.migrations.directories[0] ?? project.baseDir;

  for (const a of applied) {
    if (fileNames.has(a.name)) continue;
    const twin = files.find((f) => stem(f.name) === stem(a.name) && !appliedNames.has(f.name));
    if (twin) {
      aliases.set(a.name, twin);
      findings.push({
        id: 'extension-changed',
        severity: 'error',
        title: `${a.name} was applied, but the migrations folder now has ${twin.name}`,
        evidence: [
          `${table} row: ${appliedLine(a)}`,
          `${displayPath(twin.file)} exists; ${a.name} does not`,
          `knex identifies a migration by its file name with the extension: to knex, ${a.name} is missing (it refuses to run: "The migration directory is corrupt") and ${twin.name} is a new migration it would run again`,
        ],
        fix: `If the compiled ${path.extname(twin.name)} files are what you run from now on, rename the history row (the old row is backed up first). If not, point knexsafe/knex at the ${path.extname(a.name)} sources again (--migrations-dir, or the knexfile's migrations.directory / loadExtensions).`,
        commands: [`knexsafe history rename ${a.name} ${twin.name}`],
        migration: a.name,
        file: twin.file,
        data: { applied: a.name, file: twin.name, batch: a.batch },
      });
      continue;
    }
    unresolved.push(a.name);
    const expectedPath = path.join(directory, a.name);
    const deleted = deletedIn(expectedPath);
    const restore = deleted ? `git checkout ${deleted.commit}^ -- ${deleted.path}` : undefined;
    findings.push({
      id: 'missing-file',
      severity: 'error',
      title: `${a.name} is recorded as applied, but its file is missing`,
      evidence: [
        `${table} row: ${appliedLine(a)}`,
        `no ${a.name} in ${project.migrations.directories.map((d) => displayPath(d)).join(', ')}`,
        ...(deleted ? [`deleted in commit ${deleted.commit} ("${deleted.subject}")`] : []),
        'knex refuses latest, rollback and up until it is back: "The migration directory is corrupt, the following files are missing"',
      ],
      fix: `Restore the file${deleted ? ` from the commit before ${deleted.commit}` : ' from version control or the deployed release'}. Only if it was removed on purpose and its changes are gone from the schema too, forget its history row instead (backed up first).`,
      commands: [restore ?? `git log --all --diff-filter=D --format='%h %s' -- ${displayPath(expectedPath)}`, `knexsafe history forget ${a.name}`],
      migration: a.name,
      data: { applied: a.name, batch: a.batch, ...(deleted ? { deletedIn: deleted.commit } : {}) },
    });
  }

  // The same migration twice: source and compiled output in one folder.
  const byStem = new Map<string, MigrationFile[]>();
  for (const f of files) byStem.set(stem(f.name), [...(byStem.get(stem(f.name)) ?? []), f]);
  for (const group of byStem.values()) {
    if (group.length < 2) continue;
    const appliedOnes = group.filter((f) => appliedNames.has(f.name));
    const extras = appliedOnes.length ? group.filter((f) => !appliedNames.has(f.name)) : group.filter((f) => path.extname(f.name) === '.js').slice(0, 1);
    if (!extras.length) continue;
    if (appliedOnes.length) for (const f of extras) twins.add(f.name);
    findings.push({
      id: 'duplicate-identity',
      severity: 'error',
      title: `${group.map((f) => f.name).join(' and ')} are one migration in two forms`,
      evidence: [
        ...group.map((f) => `${displayPath(f.file)}: ${appliedNames.has(f.name) ? 'applied' : 'pending'}`),
        'knex treats each file name as its own migration: it would run the same change twice, and the second run fails (relation already exists) or, worse, repeats a data change',
      ],
      fix: "Keep one form in the migrations folder: compile TypeScript migrations to a separate output folder, or limit the knexfile's migrations.loadExtensions to one extension.",
      commands: extras.map((f) => `rm ${displayPath(f.file)}`),
      migration: extras[0]!.name,
      file: extras[0]!.file,
      data: { files: group.map((f) => f.name) },
    });
  }
  return { findings, aliases, unresolved, twins };
}

/** Pending files older than the last applied one: knex has no order check and runs them anyway. */
export function checkOrder(files: MigrationFile[], applied: AppliedMigration[], aliases: Map<string, MigrationFile>, twins: Set<string> = new Set()): DoctorFinding[] {
  const appliedNames = new Set([...applied.map((a) => a.name), ...[...aliases.values()].map((f) => f.name)]);
  const isNew = (f: MigrationFile) => !appliedNames.has(f.name) && !twins.has(f.name);
  const lastIndex = files.reduce((at, f, i) => (appliedNames.has(f.name) ? i : at), -1);
  if (lastIndex === -1) return [];
  const last = files[lastIndex]!;
  const lastRow = applied.find((a) => a.name === last.name) ?? applied.find((a) => aliases.get(a.name)?.name === last.name);
  const late = files.slice(0, lastIndex).filter(isNew);
  return late.map((f, i) => ({
    id: 'out-of-order' as const,
    severity: 'warning' as const,
    title: `${f.name} is pending but older than ${last.name}, which is already applied`,
    evidence: [
      `${f.name}: pending`,
      `${last.name}: ${lastRow ? appliedLine(lastRow) : 'applied'}; it sorts after ${f.name}`,
      `what knex will do: it has no order check, so the next \`latest\` runs ${f.name} after ${last.name}, on a schema its timestamp says it never expected (a migration merged from an older branch, usually)`,
    ],
    fix: `If it does not depend on the order, keep it: check it against the current schema (\`knexsafe check --pending\`) and run \`knexsafe latest\`. If it came from an old branch and no other environment has applied it, give it a new timestamp so the order is honest.`,
    commands: [moveCommand(f.file, renamedWithTimestamp(f, i)), 'knexsafe check --pending'],
    migration: f.name,
    file: f.file,
    data: { pending: f.name, lastApplied: last.name },
  }));
}

/** Files sharing one timestamp: knex orders them by the rest of the name, not by when they were written. */
export function checkTimestamps(files: MigrationFile[], applied: AppliedMigration[]): DoctorFinding[] {
  const appliedNames = new Set(applied.map((a) => a.name));
  const groups = new Map<string, MigrationFile[]>();
  for (const f of files) {
    const ts = /^(\d{8,})(?=[_-]|\D)/.exec(f.name)?.[1];
    if (!ts) continue;
    groups.set(ts, [...(groups.get(ts) ?? []), f]);
  }
  const findings: DoctorFinding[] = [];
  for (const [ts, group] of groups) {
    const distinct = new Set(group.map((f) => stem(f.name)));
    if (distinct.size < 2) continue; // x.ts + x.js is the identity check's business
    const pending = group.filter((f) => !appliedNames.has(f.name));
    findings.push({
      id: 'duplicate-timestamp',
      severity: pending.length ? 'warning' : 'info',
      title: `${group.length} migrations share the timestamp ${ts}`,
      evidence: [
        ...group.map((f) => `${f.name}: ${appliedNames.has(f.name) ? 'applied' : 'pending'}`),
        `knex runs them in name order (${group.map((f) => f.name).join(' → ')}), which may not be the order they were written in`,
      ],
      fix: pending.length
        ? 'Give the pending one(s) a new timestamp so the order is explicit.'
        : 'Nothing to do: they already ran in this order. Use `knexsafe make` for new files (it never reuses a timestamp).',
      commands: pending.map((f, i) => moveCommand(f.file, renamedWithTimestamp(f, i))),
      data: { timestamp: ts, files: group.map((f) => f.name) },
    });
  }
  return findings;
}
