import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Database } from '../db/connect.js';
import { KnexsafeError, errorMessage } from '../errors.js';
import { openCopyChannel, type CopyChannel } from './channel.js';
import type { BackupTarget } from './targets.js';
import { libpqEnvironment } from '../db/libpq-env.js';
import { findPgDump } from '../doctor/clone.js';
import { makeDirectory } from '../util/make-dir.js';
import { redactSecrets } from '../util/redact.js';

const runFile = promisify(execFile);

export const BACKUP_FORMAT = 'knexsafe-backup/1';

export interface BackupColumn {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
  identity: 'always' | 'by default' | null;
  /** A sequence owned by this column that its default draws from (serial / increments). */
  sequence: string | null;
}

export interface BackupEntry {
  /** `table`: every row; `columns`: the primary key plus the columns about to go. */
  kind: 'table' | 'columns';
  schema: string;
  name: string;
  /** The columns in the file, in order. */
  columns: BackupColumn[];
  /** Primary key columns (empty when the table has none). */
  key: string[];
  /** Columns the migration drops or rewrites (kind `columns`). */
  targetColumns: string[];
  file: string;
  rows: number;
  reasons: string[];
  migrations: string[];
  /** For a whole table: the statements that re-create it (sequences, table, constraints, indexes). */
  create?: string[];
  after?: string[];
  /** pg_dump custom-format archive of the table, when pg_dump was available. */
  pgDump?: string;
  note?: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  database: string;
  /** What the backup was taken for (`latest`, `backup`). */
  purpose: string;
  entries: BackupEntry[];
  /** Why whole tables have no pg_dump archive next to their CSV (pg_dump missing, too old, failed). */
  pgDumpSkipped?: string;
  /** Targets that had nothing on the database to copy (created later in the same batch). */
  skipped: { table: string; reason: string }[];
  restore: { command: string; psql: string };
}

export interface BackupResult {
  dir: string;
  manifest: BackupManifest;
  durationMs: number;
}

export interface BackupOptions {
  /** Folder that gets a `<timestamp>/` subfolder; default `<project>/.knexsafe/backups`. */
  root: string;
  purpose: string;
  /** Write a pg_dump archive of whole tables too when pg_dump is on PATH (server targets). Default true. */
  pgDump?: boolean;
  lockTimeoutMs?: number;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const qualified = (schema: string, name: string) => `${q(schema)}.${q(name)}`;
const lit = (text: string) => `'${text.replace(/'/g, "''")}'`;
const CSV = 'FORMAT csv, HEADER true';

export function backupTimestamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Copies what `targets` name from the target database into `<root>/<timestamp>/`: one CSV file per
 * table (COPY through the driver, in one REPEATABLE READ snapshot), `manifest.json`, and
 * `restore.sql` (psql). `knexsafe backup restore <dir>` puts the data back.
 */
export async function backupTargets(db: Database, targets: BackupTarget[], options: BackupOptions): Promise<BackupResult> {
  const started = performance.now();
  let dir = path.join(options.root, backupTimestamp());
  for (let i = 2; fs.existsSync(dir); i++) dir = path.join(options.root, `${backupTimestamp()}-${i}`);
  // Backups hold production data: readable by the owner only, and never committed by accident.
  makeDirectory(dir, 'the backup folder', 0o700);
  const ignore = path.join(options.root, '.gitignore');
  if (!fs.existsSync(ignore)) fs.writeFileSync(ignore, '# knexsafe backups hold copies of database rows: keep them out of git.\n*\n');
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    createdAt: new Date().toISOString(),
    database: db.description,
    purpose: options.purpose,
    entries: [],
    skipped: [],
    restore: { command: `knexsafe backup restore ${dir}`, psql: `psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ${path.join(dir, 'restore.sql')}` },
  };
  const channel = await openCopyChannel(db);
  try {
    await channel.query('begin isolation level repeatable read read only');
    if (options.lockTimeoutMs !== undefined) await channel.query(`select pg_catalog.set_config('lock_timeout', $1, true)`, [`${options.lockTimeoutMs}ms`]);
    for (const target of targets) {
      const entry = await backupOne(channel, target, dir, manifest);
      if (entry) manifest.entries.push(entry);
    }
    await channel.query('commit');
  } catch (error) {
    await channel.query('rollback').catch(() => undefined);
    throw new KnexsafeError('BACKUP_FAILED', `Backing up before the destructive change failed, so nothing was run: ${errorMessage(error)}`, {
      exitCode: 1,
      cause: error,
      hint: 'Fix the cause (disk space, permissions, a lock held on the table) and run again, or pass --no-backup to go ahead without one.',
    });
  } finally {
    await channel.release();
  }
  if (options.pgDump !== false && db.kind === 'server') await writePgDumps(db, manifest, dir);
  fs.writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'restore.sql'), restoreScript(manifest, dir), { mode: 0o600 });
  return { dir, manifest, durationMs: performance.now() - started };
}

interface Relation {
  oid: number;
  schema: string;
  name: string;
}

async function resolveRelation(channel: CopyChannel, target: BackupTarget): Promise<Relation | undefined> {
  const text = target.table.schema ? qualified(target.table.schema, target.table.name) : q(target.table.name);
  const rows = await channel.query(
    `select c.oid::int8 as oid, n.nspname as schema, c.relname as name from pg_catalog.pg_class c
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = pg_catalog.to_regclass($1) and c.relkind in ('r', 'p', 'm')`,
    [text],
  );
  const row = rows[0];
  return row ? { oid: Number(row.oid), schema: String(row.schema), name: String(row.name) } : undefined;
}

async function readColumns(channel: CopyChannel, oid: number): Promise<BackupColumn[]> {
  const rows = await channel.query(
    `select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable,
            pg_catalog.pg_get_expr(d.adbin, d.adrelid) as "default", a.attidentity as identity,
            (select s.oid::regclass::text from pg_catalog.pg_depend dep join pg_catalog.pg_class s on s.oid = dep.objid
              where dep.refobjid = a.attrelid and dep.refobjsubid = a.attnum and dep.classid = 'pg_catalog.pg_class'::regclass
                and s.relkind = 'S' and dep.deptype = 'a' limit 1) as sequence
       from pg_catalog.pg_attribute a left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      order by a.attnum`,
    [oid],
  );
  return rows.map((r) => ({
    name: String(r.name),
    type: String(r.type),
    nullable: Boolean(r.nullable),
    default: r.default === null || r.default === undefined ? null : String(r.default),
    identity: r.identity === 'a' ? 'always' : r.identity === 'd' ? 'by default' : null,
    sequence: r.sequence === null || r.sequence === undefined ? null : String(r.sequence),
  }));
}

async function readPrimaryKey(channel: CopyChannel, oid: number): Promise<string[]> {
  const rows = await channel.query(
    `select a.attname as name from pg_catalog.pg_index i
       cross join lateral unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
       join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indrelid = $1 and i.indisprimary order by k.ord`,
    [oid],
  );
  return rows.map((r) => String(r.name));
}

async function tableDefinition(channel: CopyChannel, rel: Relation, columns: BackupColumn[]): Promise<{ create: string[]; after: string[] }> {
  const create: string[] = [];
  const after: string[] = [];
  for (const c of columns) if (c.sequence && !c.identity) create.push(`CREATE SEQUENCE IF NOT EXISTS ${c.sequence}`);
  const defs = columns.map((c) => {
    const identity = c.identity ? ` GENERATED ${c.identity === 'always' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY` : '';
    const dflt = c.default !== null && !c.identity ? ` DEFAULT ${c.default}` : '';
    return `  ${q(c.name)} ${c.type}${dflt}${identity}${c.nullable ? '' : ' NOT NULL'}`;
  });
  create.push(`CREATE TABLE IF NOT EXISTS ${qualified(rel.schema, rel.name)} (\n${defs.join(',\n')}\n)`);
  for (const c of columns) {
    if (c.sequence && !c.identity) {
      after.push(`ALTER SEQUENCE ${c.sequence} OWNED BY ${qualified(rel.schema, rel.name)}.${q(c.name)}`);
      after.push(`SELECT pg_catalog.setval(${lit(c.sequence)}, coalesce(max(${q(c.name)}), 0) + 1, false) FROM ${qualified(rel.schema, rel.name)}`);
    }
    if (c.identity) {
      after.push(
        `SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(${lit(qualified(rel.schema, rel.name))}, ${lit(c.name)}), coalesce(max(${q(c.name)}), 0) + 1, false) FROM ${qualified(rel.schema, rel.name)}`,
      );
    }
  }
  const constraints = await channel.query(
    `select conname, contype, pg_catalog.pg_get_constraintdef(oid) as def from pg_catalog.pg_constraint
      where conrelid = $1 and contype in ('p', 'u', 'c', 'x', 'f') order by contype = 'f', conname`,
    [rel.oid],
  );
  for (const c of constraints) {
    after.push(`ALTER TABLE ${qualified(rel.schema, rel.name)} ADD CONSTRAINT ${q(String(c.conname))} ${String(c.def)}${c.contype === 'f' ? ' NOT VALID' : ''}`);
  }
  const indexes = await channel.query(
    `select pg_catalog.pg_get_indexdef(i.indexrelid) as def from pg_catalog.pg_index i
      where i.indrelid = $1 and not exists (select 1 from pg_catalog.pg_constraint c where c.conindid = i.indexrelid and c.conrelid = i.indrelid)`,
    [rel.oid],
  );
  for (const i of indexes) after.push(String(i.def));
  return { create, after };
}

async function backupOne(channel: CopyChannel, target: BackupTarget, dir: string, manifest: BackupManifest): Promise<BackupEntry | undefined> {
  const shown = target.table.schema ? `${target.table.schema}.${target.table.name}` : target.table.name;
  const rel = await resolveRelation(channel, target);
  if (!rel) {
    manifest.skipped.push({ table: shown, reason: 'not on the database yet (created by an earlier migration of the same run): no data to lose' });
    return undefined;
  }
  const all = await readColumns(channel, rel.oid);
  const key = await readPrimaryKey(channel, rel.oid);
  const wanted = target.columns?.filter((c) => all.some((a) => a.name === c));
  if (target.columns && wanted?.length === 0) {
    manifest.skipped.push({ table: shown, reason: `columns ${target.columns.join(', ')} are not on the database yet: no data to lose` });
    return undefined;
  }
  const base = `${rel.schema}.${rel.name}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  const columnsOnly = wanted !== undefined && key.length > 0;
  const columns = columnsOnly ? all.filter((c) => key.includes(c.name) || wanted.includes(c.name)) : all;
  const file = `${base}${columnsOnly ? `.${wanted.join('+')}` : ''}.csv`.replace(/[^A-Za-z0-9_.+-]/g, '_');
  const list = columns.map((c) => q(c.name)).join(', ');
  const order = key.length ? ` order by ${key.map(q).join(', ')}` : '';
  const rows = await channel.copyOut(`(select ${list} from ${qualified(rel.schema, rel.name)}${order})`, CSV, path.join(dir, file));
  const entry: BackupEntry = {
    kind: columnsOnly ? 'columns' : 'table',
    schema: rel.schema,
    name: rel.name,
    columns,
    key,
    targetColumns: wanted ?? [],
    file,
    rows,
    reasons: target.reasons,
    migrations: target.migrations,
  };
  if (!columnsOnly) Object.assign(entry, await tableDefinition(channel, rel, columns));
  if (wanted !== undefined && key.length === 0) {
    entry.note = `${rel.schema}.${rel.name} has no primary key, so whole rows were saved; restore loads them into ${rel.name}_knexsafe_restore for you to merge.`;
  }
  return entry;
}

/**
 * A pg_dump custom-format archive of each whole table next to its CSV. pg_dump gets the connection
 * through its environment only (argv is readable by every local user); each archive is created
 * 0600 before pg_dump writes into it. When there is none, the manifest says why.
 */
async function writePgDumps(db: Database, manifest: BackupManifest, dir: string): Promise<void> {
  const whole = manifest.entries.filter((e) => e.kind === 'table');
  if (!whole.length) return;
  const settings = (db.knex.client as { connectionSettings?: unknown }).connectionSettings;
  const connection = await libpqEnvironment(settings);
  if (!connection.ok) {
    manifest.pgDumpSkipped = connection.reason;
    return;
  }
  const serverMajor = Math.floor(Number((await db.knex.raw(`select pg_catalog.current_setting('server_version_num') as v`)).rows[0]?.v) / 10000);
  const tool = await findPgDump(serverMajor);
  if (!('path' in tool)) {
    manifest.pgDumpSkipped = tool.reason;
    return;
  }
  for (const entry of whole) {
    const file = entry.file.replace(/\.csv$/, '.pgdump');
    const full = path.join(dir, file);
    fs.writeFileSync(full, '', { mode: 0o600 });
    try {
      await runFile(tool.path, ['--format=custom', `--table=${qualified(entry.schema, entry.name)}`, `--file=${full}`], {
        env: { PGCONNECT_TIMEOUT: '10', ...connection.env },
        timeout: 10 * 60_000,
      });
      entry.pgDump = file;
    } catch (error) {
      fs.rmSync(full, { force: true });
      const stderr = (error as { stderr?: string }).stderr?.trim();
      manifest.pgDumpSkipped = `pg_dump failed: ${redactSecrets((stderr || errorMessage(error)).split('\n')[0] ?? '')}`;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Restore

/**
 * One step of a restore: SQL, or a COPY of a backup file into a table. `counts` marks the
 * statement whose affected rows are the rows restored (when absent, the COPY's rows are).
 */
type RestoreStep = { sql: string; counts?: true } | { copy: { into: string; file: string } };

function tempName(i: number): string {
  return `knexsafe_restore_${i}`;
}

/** The steps that put one entry back, given what the database looks like now. */
function restoreSteps(entry: BackupEntry, index: number, state: { tableExists: boolean; columnTypes: Map<string, string> }): RestoreStep[] {
  const table = qualified(entry.schema, entry.name);
  const list = entry.columns.map((c) => q(c.name)).join(', ');
  const tempColumns = entry.columns.map((c) => `${q(c.name)} ${c.type}`).join(', ');
  const temp = tempName(index);
  if (entry.kind === 'columns') {
    const steps: RestoreStep[] = [{ sql: `CREATE TEMP TABLE ${temp} (${tempColumns}) ON COMMIT DROP` }, { copy: { into: `${temp} (${list})`, file: entry.file } }];
    for (const name of entry.targetColumns) {
      const c = entry.columns.find((x) => x.name === name)!;
      steps.push({ sql: `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${q(c.name)} ${c.type}` });
    }
    const value = (name: string) => {
      const current = state.columnTypes.get(name);
      const original = entry.columns.find((x) => x.name === name)?.type;
      return `r.${q(name)}${current && current !== original ? `::${current}` : ''}`;
    };
    const sets = entry.targetColumns.map((name) => `${q(name)} = ${value(name)}`);
    const match = entry.key.map((k) => `t.${q(k)} = r.${q(k)}`).join(' AND ');
    // Rows already holding the backed-up values are left alone, so the count is what changed.
    const differs = entry.targetColumns.map((name) => `t.${q(name)} IS DISTINCT FROM ${value(name)}`).join(' OR ');
    steps.push({ sql: `UPDATE ${table} AS t SET ${sets.join(', ')} FROM ${temp} AS r WHERE ${match} AND (${differs})`, counts: true });
    for (const name of entry.targetColumns) {
      const c = entry.columns.find((x) => x.name === name)!;
      if (c.default !== null) steps.push({ sql: `ALTER TABLE ${table} ALTER COLUMN ${q(c.name)} SET DEFAULT ${c.default}` });
      if (!c.nullable) steps.push({ sql: `ALTER TABLE ${table} ALTER COLUMN ${q(c.name)} SET NOT NULL` });
    }
    return steps;
  }
  if (entry.note) {
    // Whole rows of a table without a primary key, saved for dropped columns: a side table to merge from.
    const side = qualified(entry.schema, `${entry.name}_knexsafe_restore`);
    return [{ sql: `CREATE TABLE ${side} (${tempColumns})` }, { copy: { into: `${side} (${list})`, file: entry.file } }];
  }
  if (!state.tableExists) {
    return [...(entry.create ?? []).map((sql) => ({ sql })), { copy: { into: `${table} (${list})`, file: entry.file } }, ...(entry.after ?? []).map((sql) => ({ sql }))];
  }
  return [
    { sql: `CREATE TEMP TABLE ${temp} (${tempColumns}) ON COMMIT DROP` },
    { copy: { into: `${temp} (${list})`, file: entry.file } },
    { sql: `INSERT INTO ${table} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM ${temp} ON CONFLICT DO NOTHING`, counts: true },
  ];
}

/** restore.sql for psql, written for the state right after the migration (table or columns gone). */
function restoreScript(manifest: BackupManifest, dir: string): string {
  const lines = [
    `-- knexsafe backup of ${manifest.database}, ${manifest.createdAt} (${manifest.purpose})`,
    `-- Restore: knexsafe backup restore ${dir}`,
    `--      or: psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ${path.join(dir, 'restore.sql')}`,
    '\\set ON_ERROR_STOP on',
    'BEGIN;',
  ];
  manifest.entries.forEach((entry, i) => {
    lines.push('', `-- ${entry.schema}.${entry.name}: ${entry.reasons.join('; ')} — ${entry.rows} rows`);
    const steps = restoreSteps(entry, i, { tableExists: false, columnTypes: new Map() });
    for (const step of steps) {
      if ('sql' in step) lines.push(`${step.sql};`);
      else lines.push(`\\copy ${step.copy.into} FROM ${lit(path.join(dir, step.copy.file))} WITH (${CSV})`);
    }
  });
  lines.push('', 'COMMIT;', '');
  return lines.join('\n');
}

export function readManifest(dir: string): BackupManifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) {
    throw new KnexsafeError('BACKUP_NOT_FOUND', `${dir} is not a knexsafe backup: it has no manifest.json.`, {
      hint: 'Backups are in .knexsafe/backups/<timestamp>/ of the project; `knexsafe backup list` shows them.',
    });
  }
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as BackupManifest;
  } catch (error) {
    throw new KnexsafeError('BACKUP_MANIFEST_DAMAGED', `${file} is damaged, so knexsafe cannot tell what the backup holds: ${errorMessage(error)}.`, {
      exitCode: 1,
      hint: `The data is still in the CSV files next to it; restore.sql puts it back with psql (psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ${path.join(dir, 'restore.sql')}).`,
      cause: error,
    });
  }
  if (!manifest || typeof manifest !== 'object' || (manifest.format === BACKUP_FORMAT && !Array.isArray(manifest.entries))) {
    throw new KnexsafeError('BACKUP_MANIFEST_DAMAGED', `${file} is damaged: it does not list the backup's tables.`, {
      exitCode: 1,
      hint: `The data is still in the CSV files next to it; restore.sql puts it back with psql (psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ${path.join(dir, 'restore.sql')}).`,
    });
  }
  if (manifest.format !== BACKUP_FORMAT) {
    throw new KnexsafeError('BACKUP_FORMAT', `${file} has format ${String(manifest.format)}, which this knexsafe does not read (${BACKUP_FORMAT}).`);
  }
  return manifest;
}

export interface RestoreResult {
  dir: string;
  /**
   * Per entry: `rows` were inserted or changed, of the `inBackup` rows the backup holds; the others
   * were already there (same key, or the same values), e.g. when a backup is restored twice.
   */
  restored: { table: string; kind: BackupEntry['kind']; columns: string[]; rows: number; inBackup: number; into: string }[];
}

/**
 * Puts a backup's data back, in one transaction: re-creates dropped tables and columns as needed.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   await restoreBackup(db, listBackups('/srv/app/.knexsafe/backups')[0]!.dir);
 * } finally {
 *   await db.close();
 * }
 */
export async function restoreBackup(db: Database, dir: string, options: { tables?: string[] } = {}): Promise<RestoreResult> {
  const manifest = readManifest(dir);
  const entries = manifest.entries.filter((e) => !options.tables?.length || options.tables.includes(`${e.schema}.${e.name}`) || options.tables.includes(e.name));
  const channel = await openCopyChannel(db);
  const restored: RestoreResult['restored'] = [];
  try {
    await channel.query('begin');
    for (const [i, entry] of entries.entries()) {
      const table = qualified(entry.schema, entry.name);
      const exists = (await channel.query('select pg_catalog.to_regclass($1) is not null as e', [table]))[0]?.e === true;
      const columnTypes = new Map<string, string>();
      if (exists) {
        const rows = await channel.query(
          `select attname, pg_catalog.format_type(atttypid, atttypmod) as type from pg_catalog.pg_attribute where attrelid = pg_catalog.to_regclass($1) and attnum > 0 and not attisdropped`,
          [table],
        );
        for (const r of rows) columnTypes.set(String(r.attname), String(r.type));
      }
      let inBackup = 0;
      let changed: number | undefined;
      for (const step of restoreSteps(entry, i, { tableExists: exists, columnTypes })) {
        if ('sql' in step) {
          if (step.counts) changed = await channel.execute(step.sql);
          else await channel.query(step.sql);
        } else inBackup = await channel.copyIn(step.copy.into, CSV, path.join(dir, step.copy.file));
      }
      restored.push({
        table: `${entry.schema}.${entry.name}`,
        kind: entry.kind,
        columns: entry.targetColumns,
        rows: changed ?? inBackup,
        inBackup,
        into: entry.note ? `${entry.schema}.${entry.name}_knexsafe_restore` : `${entry.schema}.${entry.name}`,
      });
    }
    await channel.query('commit');
  } catch (error) {
    await channel.query('rollback').catch(() => undefined);
    throw new KnexsafeError('RESTORE_FAILED', `Restoring ${dir} failed, so nothing was changed: ${errorMessage(error)}`, { exitCode: 1, cause: error });
  } finally {
    await channel.release();
  }
  return { dir, restored };
}

/**
 * Backups under `root`, newest first.
 * @example
 * for (const { dir, manifest } of listBackups('/srv/app/.knexsafe/backups')) console.log(dir, manifest.createdAt);
 */
export function listBackups(root: string): { dir: string; manifest: BackupManifest }[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((name) => path.join(root, name))
    .filter((dir) => fs.existsSync(path.join(dir, 'manifest.json')))
    .sort()
    .reverse()
    .map((dir) => ({ dir, manifest: readManifest(dir) }));
}
