import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { createTwoFilesPatch } from 'diff';
import { sqlQualified } from '../codegen/sql.js';
import type { MigrationSettings } from '../config/resolve.js';
import { asKnexsafe } from '../db/internal-queries.js';
import { KnexsafeError, errorMessage, sqlState } from '../errors.js';
import { tableExists, type AppliedMigration } from './applied.js';
import type { MigrationFile } from './source.js';

/**
 * Checksums of applied migrations. knex keeps none, so a migration edited after it ran goes
 * unnoticed. knexsafe keeps them in a table of its own next to knex's (`<tableName>_knexsafe`,
 * same schema), one row per migration name, and never touches knex's tables: plain knex keeps
 * working, and a database migrated by plain knex simply has no checksum for its rows ("unknown").
 */

type Settings = Pick<MigrationSettings, 'tableName' | 'schemaName'>;

export function checksumTableName(settings: Pick<MigrationSettings, 'tableName'>): string {
  return `${settings.tableName}_knexsafe`;
}

function checksumTableRef(settings: Settings): string {
  return sqlQualified(settings.schemaName, checksumTableName(settings));
}

/** sha256 of the text with CRLF as LF: a checkout on Windows (autocrlf) is not an edit. */
export function hashMigrationContent(content: string | Buffer): string {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

/** The hash of the file knex loads under this migration's name; undefined when there is no such file (custom sources). */
export function hashMigrationFile(file: MigrationFile): string | undefined {
  try {
    return hashMigrationContent(fs.readFileSync(file.file));
  } catch {
    return undefined;
  }
}

/** Where git has the exact content that was applied: only when the file is tracked and clean. */
export interface GitOrigin {
  commit: string;
  blob: string;
  /** The path inside the repository. */
  path: string;
}

export interface ChecksumRow {
  name: string;
  sha256: string;
  /** The id of knex's history row this hash belongs to (knex gives a new id when a migration is applied again). */
  knexId: number | null;
  git: GitOrigin | null;
  recordedAt: Date | null;
  /** `latest`, `up`, `rehash` or `history rename` (a rename to another extension takes the new file's hash). */
  recordedBy: string;
}

function git(cwd: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return undefined;
  }
}

/** Git origins of files (three git calls for all of them): HEAD, and the blob of each tracked file with no change staged or not. */
export function gitOrigins(files: string[]): Map<string, GitOrigin> {
  const out = new Map<string, GitOrigin>();
  const existing = files.filter((f) => fs.existsSync(f));
  if (!existing.length) return out;
  const root = git(path.dirname(existing[0]!), ['rev-parse', '--show-toplevel'])?.trim();
  if (!root) return out;
  const commit = git(root, ['rev-parse', 'HEAD'])?.trim();
  if (!commit) return out;
  const real = (f: string) => {
    try {
      return fs.realpathSync(f);
    } catch {
      return f;
    }
  };
  const realRoot = real(root);
  const rel = new Map(existing.map((f) => [f, path.relative(realRoot, real(f)).split(path.sep).join('/')]));
  const inside = [...rel.entries()].filter(([, r]) => !r.startsWith('..'));
  if (!inside.length) return out;
  const paths = inside.map(([, r]) => r);
  const dirty = new Set<string>();
  const status = git(root, ['status', '--porcelain', '-z', '--untracked-files=all', '--', ...paths]);
  if (status === undefined) return out;
  for (const entry of status.split('\0')) if (entry.length > 3) dirty.add(entry.slice(3));
  const blobs = new Map<string, string>();
  for (const line of (git(root, ['ls-files', '-s', '-z', '--', ...paths]) ?? '').split('\0')) {
    const m = /^\d+ ([0-9a-f]+) \d+\t(.*)$/s.exec(line);
    if (m) blobs.set(m[2]!, m[1]!);
  }
  for (const [file, r] of inside) {
    const blob = blobs.get(r);
    if (blob && !dirty.has(r)) out.set(file, { commit, blob, path: r });
  }
  return out;
}

/** The text of the applied version from git, when git still has it (a shallow clone may not). */
export function appliedVersionFromGit(file: string, origin: GitOrigin): string | undefined {
  const root = git(path.dirname(file), ['rev-parse', '--show-toplevel'])?.trim();
  if (!root) return undefined;
  return git(root, ['cat-file', 'blob', origin.blob]) ?? git(root, ['show', `${origin.commit}:${origin.path}`]);
}

/** A unified diff from the applied version to the file as it is now (line endings normalised). */
export function diffSinceApplied(file: string, origin: GitOrigin | null): string | undefined {
  if (!origin) return undefined;
  const before = appliedVersionFromGit(file, origin);
  if (before === undefined) return undefined;
  let now: string;
  try {
    now = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lf = (s: string) => s.replace(/\r\n/g, '\n');
  return createTwoFilesPatch(`${origin.path} (applied, ${origin.commit.slice(0, 12)})`, `${origin.path} (now)`, lf(before), lf(now), undefined, undefined, { context: 3 });
}

/** Creates knexsafe's checksum table when it is missing. Two runs creating it at once is fine. */
export function ensureChecksumTable(knex: Knex, settings: Settings): Promise<void> {
  return asKnexsafe(async () => {
    if (await tableExists(knex, checksumTableName(settings), settings.schemaName)) return;
    try {
      await knex.raw(
        `create table if not exists ${checksumTableRef(settings)} (
          name varchar(255) primary key,
          sha256 char(64) not null,
          knex_id integer,
          git_commit text,
          git_blob text,
          git_path text,
          recorded_at timestamptz not null default now(),
          recorded_by text not null
        )`,
      );
    } catch (error) {
      // Created by another run between the look and the create (pg_type's unique index).
      if ((sqlState(error) === '23505' || sqlState(error) === '42P07') && (await tableExists(knex, checksumTableName(settings), settings.schemaName))) return;
      throw error;
    }
  });
}

interface RawRow {
  name: string;
  sha256: string;
  knex_id: number | null;
  git_commit: string | null;
  git_blob: string | null;
  git_path: string | null;
  recorded_at: Date | string | null;
  recorded_by: string;
}

/** The recorded checksums by name; undefined when the table does not exist (knexsafe never applied anything here). */
export function readChecksums(knex: Knex, settings: Settings): Promise<Map<string, ChecksumRow> | undefined> {
  return asKnexsafe(async () => {
    if (!(await tableExists(knex, checksumTableName(settings), settings.schemaName))) return undefined;
    let rows: RawRow[];
    try {
      rows = ((await knex.raw(`select name, sha256, knex_id, git_commit, git_blob, git_path, recorded_at, recorded_by from ${checksumTableRef(settings)}`)) as { rows: RawRow[] }).rows;
    } catch (error) {
      throw new KnexsafeError(
        'CHECKSUMS_UNREADABLE',
        `${checksumTableName(settings)} exists but is not knexsafe's checksum table (${errorMessage(error).replace(/^.* - /s, '')}), so applied migrations cannot be compared with their files.`,
        {
          exitCode: 1,
          cause: error,
          hint: `If another tool owns a table of that name, rename it; knexsafe creates its own when the name is free. \`knexsafe history rehash\` then records the current files.`,
        },
      );
    }
    return new Map(
      rows.map((r) => [
        r.name,
        {
          name: r.name,
          sha256: r.sha256.trim(),
          knexId: r.knex_id === null ? null : Number(r.knex_id),
          git: r.git_commit && r.git_blob && r.git_path ? { commit: r.git_commit, blob: r.git_blob, path: r.git_path } : null,
          recordedAt: r.recorded_at === null ? null : new Date(r.recorded_at),
          recordedBy: r.recorded_by,
        },
      ]),
    );
  });
}

export interface ChecksumEntry {
  name: string;
  sha256: string;
  knexId: number | null;
  git?: GitOrigin | undefined;
}

/** readChecksums, or undefined with `warn` told why when the table cannot be read: reports go on without checksums. */
export async function readChecksumsOrWarn(knex: Knex, settings: Settings, warn: (message: string) => void): Promise<Map<string, ChecksumRow> | undefined> {
  try {
    return await readChecksums(knex, settings);
  } catch (error) {
    warn(errorMessage(error));
    return undefined;
  }
}

/** Writes (or replaces) the rows for these migrations, on `knex` (a transaction when there is one). */
export function writeChecksums(knex: Knex, settings: Settings, entries: ChecksumEntry[], recordedBy: string): Promise<void> {
  if (!entries.length) return Promise.resolve();
  return asKnexsafe(async () => {
    const values = entries.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
    const params = entries.flatMap((e) => [e.name, e.sha256, e.knexId, e.git?.commit ?? null, e.git?.blob ?? null, e.git?.path ?? null, recordedBy]);
    await knex.raw(
      `insert into ${checksumTableRef(settings)} (name, sha256, knex_id, git_commit, git_blob, git_path, recorded_by) values ${values}
        on conflict (name) do update set sha256 = excluded.sha256, knex_id = excluded.knex_id, git_commit = excluded.git_commit,
          git_blob = excluded.git_blob, git_path = excluded.git_path, recorded_at = now(), recorded_by = excluded.recorded_by`,
      params,
    );
  });
}

/**
 * Renames (history rename) or deletes (history forget) a checksum row along with knex's row; nothing
 * when the table is missing. A rename to another extension (the applied .ts now compiled to .js) is
 * the same migration in another form: its row takes the hash of `renamedFile`, the file now there.
 */
export function followHistoryEdit(knex: Knex, settings: Settings, from: string, to: string | null, renamedFile?: MigrationFile): Promise<void> {
  return asKnexsafe(async () => {
    if (!(await tableExists(knex, checksumTableName(settings), settings.schemaName))) return;
    if (to === null) await knex.raw(`delete from ${checksumTableRef(settings)} where name = ?`, [from]);
    else {
      await knex.raw(`delete from ${checksumTableRef(settings)} where name = ?`, [to]);
      const moved = (await knex.raw(`update ${checksumTableRef(settings)} set name = ? where name = ?`, [to, from])) as { rowCount?: number };
      const sha256 = renamedFile && path.extname(from) !== path.extname(to) ? hashMigrationFile(renamedFile) : undefined;
      if (moved.rowCount && sha256) {
        await knex.raw(`update ${checksumTableRef(settings)} set sha256 = ?, git_commit = null, git_blob = null, git_path = null, recorded_at = now(), recorded_by = ? where name = ?`, [
          sha256,
          'history rename',
          to,
        ]);
      }
    }
  });
}

export type ChecksumState = 'ok' | 'changed' | 'unknown' | 'unreadable';

export interface ChecksumVerdict {
  name: string;
  file: string;
  state: ChecksumState;
  /** What was recorded when it was applied. */
  recorded?: ChecksumRow;
  /** The file's hash now. */
  current?: string;
  /** Why it is unknown: never recorded (plain knex), or recorded for an earlier application of the same name. */
  reason?: 'no-checksum' | 'applied-again' | 'no-table';
}

export interface RenamedMigration {
  /** The applied name whose file is gone. */
  from: string;
  /** The file now carrying the same content. */
  to: string;
  file: string;
}

export interface ChecksumReport {
  /** Whether knexsafe's checksum table exists on the target. */
  table: boolean;
  tableName: string;
  verdicts: ChecksumVerdict[];
  changed: ChecksumVerdict[];
  unknown: ChecksumVerdict[];
  renamed: RenamedMigration[];
}

/**
 * Compares each applied migration's file with its recorded hash. A row recorded for another
 * application of the same name (knex's row id differs: rolled back and applied again by plain
 * knex) says nothing about the file now, so that migration is unknown too.
 */
export function compareChecksums(files: MigrationFile[], applied: AppliedMigration[], rows: Map<string, ChecksumRow> | undefined, settings: Pick<MigrationSettings, 'tableName'>): ChecksumReport {
  const byName = new Map(files.map((f) => [f.name, f]));
  const verdicts: ChecksumVerdict[] = [];
  const hashes = new Map<string, string | undefined>();
  const hashOf = (f: MigrationFile) => {
    if (!hashes.has(f.name)) hashes.set(f.name, hashMigrationFile(f));
    return hashes.get(f.name);
  };
  for (const a of applied) {
    const file = byName.get(a.name);
    if (!file) continue;
    const current = hashOf(file);
    const row = rows?.get(a.name);
    const base = { name: a.name, file: file.file, ...(current ? { current } : {}) };
    if (current === undefined) verdicts.push({ ...base, state: 'unreadable', ...(row ? { recorded: row } : {}) });
    else if (!row) verdicts.push({ ...base, state: 'unknown', reason: rows ? 'no-checksum' : 'no-table' });
    else if (row.knexId !== null && a.id !== undefined && row.knexId !== a.id) verdicts.push({ ...base, state: 'unknown', reason: 'applied-again', recorded: row });
    else verdicts.push({ ...base, state: row.sha256 === current ? 'ok' : 'changed', recorded: row });
  }
  const renamed: RenamedMigration[] = [];
  const appliedNames = new Set(applied.map((a) => a.name));
  const pending = files.filter((f) => !appliedNames.has(f.name));
  for (const a of applied) {
    if (byName.has(a.name)) continue;
    const row = rows?.get(a.name);
    if (!row) continue;
    const twin = pending.find((f) => hashOf(f) === row.sha256);
    if (twin) renamed.push({ from: a.name, to: twin.name, file: twin.file });
  }
  return {
    table: rows !== undefined,
    tableName: checksumTableName(settings),
    verdicts,
    changed: verdicts.filter((v) => v.state === 'changed'),
    unknown: verdicts.filter((v) => v.state === 'unknown'),
    renamed,
  };
}

/**
 * Records the hashes of the migrations a knexsafe run applies. The file is hashed when its
 * migration starts (what ran is what was read then); the rows are written once knex has written
 * its own (knex's afterAll: inside the batch transaction when there is one, else right after the
 * batch, still under knex's lock), and for the migrations that stayed applied when a later one
 * failed. A failure to record never undoes a migration: it is a warning naming what is unrecorded.
 */
export class ChecksumRecorder {
  private readonly hashes = new Map<string, { sha256: string; file: string }>();
  private readonly recorded = new Set<string>();
  /** Set when the table could not be created: nothing is recorded, and the run says why once. */
  private unavailable: string | undefined;

  constructor(
    private readonly settings: Settings,
    private readonly recordedBy: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** Before knex runs anything: the table must exist outside the migrations' transactions. */
  async prepare(knex: Knex): Promise<void> {
    try {
      await ensureChecksumTable(knex, this.settings);
    } catch (error) {
      this.unavailable = errorMessage(error);
      this.warn(
        `Checksums are not recorded for this run: knexsafe could not create its table ${checksumTableName(this.settings)} (${this.unavailable}). \`knexsafe status\` will report the migrations it applies as unknown; \`knexsafe history rehash\` records them once the table can be created.`,
      );
    }
  }

  /** A migration's up starts: hash the file it was loaded from. */
  starting(migration: { name: string; file: string }): void {
    try {
      this.hashes.set(migration.name, { sha256: hashMigrationContent(fs.readFileSync(migration.file)), file: migration.file });
    } catch {
      // A custom migration source with no file: nothing to hash, and status says "unreadable".
    }
  }

  /** Writes the rows for the names knex has recorded (readApplied reads knex's table on `knex`). */
  async record(knex: Knex, names: string[], readApplied: (knex: Knex) => Promise<AppliedMigration[] | undefined>): Promise<void> {
    if (this.unavailable) return;
    const todo = names.filter((n) => !this.recorded.has(n) && this.hashes.has(n));
    if (!todo.length) return;
    try {
      const ids = new Map(((await readApplied(knex)) ?? []).map((a) => [a.name, a.id ?? null]));
      const applied = todo.filter((n) => ids.has(n));
      const origins = gitOrigins(applied.map((n) => this.hashes.get(n)!.file));
      const entries = applied.map((n) => {
        const h = this.hashes.get(n)!;
        return { name: n, sha256: h.sha256, knexId: ids.get(n) ?? null, git: origins.get(h.file) };
      });
      // A savepoint inside knex's batch transaction: a failure here must not undo the migrations.
      if (knex.isTransaction) await knex.transaction((sp) => writeChecksums(sp, this.settings, entries, this.recordedBy));
      else await writeChecksums(knex, this.settings, entries, this.recordedBy);
      for (const n of applied) this.recorded.add(n);
    } catch (error) {
      this.warn(
        `The checksums of ${todo.join(', ')} could not be recorded in ${checksumTableName(this.settings)} (${errorMessage(error)}): the migrations are applied, but \`knexsafe status\` will call them unknown until \`knexsafe history rehash\` records them.`,
      );
    }
  }
}
