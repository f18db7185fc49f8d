import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toStatementError } from '../capture/recorder.js';
import { CaptureSession } from '../capture/session.js';
import type { StatementError } from '../capture/types.js';
import { resolveProject, type ProjectConfig, type ProjectOptions } from '../config/resolve.js';
import { KnexsafeError, type ErrorCode } from '../errors.js';
import { isFileExtension, moduleStyle, type FileExtension, type ModuleStyle } from '../make/module-style.js';
import { migratorConfig } from '../migrations/history.js';
import { KnexsafeMigrationSource, listMigrationFiles, type MigrationFile } from '../migrations/source.js';
import { diffSchemas, snapshotSchema, type SchemaChange, type SchemaSnapshot } from '../schema/index.js';
import { displayPath } from '../util/paths.js';
import { knexTimestamp } from '../util/timestamp.js';
import { verifyMigrations, type VerifyFinding } from '../verify/verify.js';
import { baselineFileName, renderBaseline } from './baseline-file.js';
import { readCatalog, readCatalogAndSnapshot, withCanonicalSession } from './catalog.js';
import type { CatalogModel } from '../schema/catalog-model.js';
import { dataFingerprint, diffFingerprints, readBaselineData, type DataFingerprint, type TableRows } from './data.js';
import { generateDdl } from './ddl.js';
import { dumpDdl, findPgDump } from './pg-dump.js';
import { MANIFEST_FILE, ARCHIVE_FOLDER, type SquashManifest } from './manifest.js';

export type DdlSource = 'auto' | 'catalog' | 'pg_dump';

export interface SquashOptions extends ProjectOptions {
  /** The last migration to squash (name with or without extension). */
  to: string;
  shadowUrl?: string;
  /** Prove and report, write nothing. */
  dryRun?: boolean;
  /** Baseline file extension; default: the project's. */
  extension?: string;
  /** Baseline file name without extension; default `<prefix of the last squashed>_baseline`. */
  name?: string;
  /** Where the squashed files go; default `<migrations dir>/_squashed/<timestamp>/`. */
  archiveDir?: string;
  ddl?: DdlSource;
  /** Recreate rows the chain left in its tables (default true). */
  data?: boolean;
  maxRows?: number;
  /** Run up → down → up on the baseline (default true). */
  verify?: boolean;
  /** The command line, for the baseline's header. */
  command?: string;
  events?: { progress?(message: string): void };
  /** For tests: the time used for the archive folder name. */
  now?: Date;
}

export interface SquashProof {
  /** Snapshot of the chain's schema == snapshot of the baseline's. */
  schemaEqual: boolean;
  schemaChanges: SchemaChange[];
  schemaNotes: string[];
  /** Rows of every table and every sequence's value equal. */
  dataEqual: boolean;
  dataDifferences: string[];
  /** Migrations kept after the baseline, replayed on both: final schemas equal (null when none are kept or they fail on the chain too). */
  keptEqual: boolean | null;
  keptChanges: SchemaChange[];
  keptNote?: string;
  /** Up → down → up on the baseline. */
  verify: { status: 'reversible' | 'not-reversible' | 'failed' | 'skipped'; findings: VerifyFinding[] };
  /** The baseline failed to run on a fresh shadow. */
  baselineError?: string;
}

export interface SquashResult {
  ok: boolean;
  dryRun: boolean;
  written: boolean;
  squashed: string[];
  kept: string[];
  baseline: { name: string; file: string; extension: FileExtension; bytes: number; upStatements: number; downStatements: number; content: string };
  archive: string;
  manifest: string;
  ddlSource: 'catalog' | 'pg_dump';
  shadow: string;
  serverVersion: string;
  data: { included: boolean; tables: TableRows[]; rows: number };
  proof: SquashProof;
  warnings: string[];
  timings: { chainMs: number; generateMs: number; proofMs: number; verifyMs: number; totalMs: number };
}

const DEFAULT_MAX_ROWS = 10_000;

/**
 * `knexsafe squash --to <name>`: replays the chain up to <name> on a shadow, generates one
 * baseline migration for the schema (and rows) it built, proves on a fresh shadow that the
 * baseline builds the same, verifies the baseline's down, and only then archives the squashed
 * files and writes the baseline. Nothing is written when any proof fails, or with dryRun.
 * @example
 * const result = await squash({ cwd: '/srv/app', to: '20240601000000_last_of_2024h1.js', dryRun: true });
 * console.log(result.ok, result.squashed.length);
 */
export async function squash(options: SquashOptions): Promise<SquashResult> {
  const started = performance.now();
  const progress = (m: string) => options.events?.progress?.(m);
  const project = await resolveProject(options);
  const files = listMigrationFiles(project.migrations);
  const toIndex = findMigration(files, options.to, project);
  const squashed = files.slice(0, toIndex + 1);
  const kept = files.slice(toIndex + 1);
  const last = squashed[squashed.length - 1]!;

  if (project.migrations.custom && !options.dryRun) {
    throw new KnexsafeError(
      'SQUASH_CUSTOM_SOURCE',
      'The knexfile lists migrations with its own migrationSource, so knexsafe cannot know how that source would name, find and order a baseline file; it will not move files it did not list.',
      { hint: 'Run with --dry-run --print to get the proven baseline, then add it the way your migrationSource expects.' },
    );
  }
  const extension = resolveExtension(options.extension, project);
  // A custom source orders migrations its own way (wiki.js: semver): name order means nothing there,
  // and the baseline is only printed (see above), so there is no order to protect.
  const name = baselineFileName(last.name, project.migrations.custom ? [] : kept.map((k) => k.name), extension, options.name);
  // A custom migrationSource may list names without a known file (dry runs only, see above).
  const directory = last.directory || project.migrations.directories[0] || project.baseDir;
  const baselinePath = path.join(directory, name);
  if (fs.existsSync(baselinePath) && !squashed.some((s) => s.file === baselinePath)) {
    throw new KnexsafeError('SQUASH_EXISTS', `${displayPath(baselinePath)} already exists.`, { hint: 'Pass --name to choose another name.' });
  }
  const archive = path.resolve(options.archiveDir ?? path.join(directory, ARCHIVE_FOLDER, knexTimestamp(options.now)));
  checkArchiveLocation(archive, project);

  const shadowUrl = options.shadowUrl ?? project.knexsafe.shadowUrl;
  const knexTables = [project.migrations.tableName, `${project.migrations.tableName}_lock`, `${project.migrations.tableName}_knexsafe`];
  const includeData = options.data !== false;
  const warnings: string[] = [];

  // 1. The chain, on a shadow.
  progress(`Replaying ${squashed.length} migration(s) up to ${last.name} on a shadow database`);
  const chainStarted = performance.now();
  const chain = await CaptureSession.open({ project, files, ...(shadowUrl ? { shadowUrl } : {}) });
  let model: CatalogModel;
  let chainSnapshot: SchemaSnapshot;
  let chainData: DataFingerprint;
  let up: string;
  let down: string;
  let ddlSource: 'catalog' | 'pg_dump';
  let dataTables: TableRows[];
  let dataRows: number;
  let keptSnapshot: SchemaSnapshot | undefined;
  let keptNote: string | undefined;
  let serverVersion: string;
  let generateMs: number;
  let chainMs = 0;
  let statementCounts = { up: 0, down: 0 };
  const shadowDescription = chain.shadow.description;
  try {
    const fresh = await readCatalog(chain.knex, { excludeTables: knexTables });
    serverVersion = await versionOf(chain);
    const replay = await replayFiles(chain, squashed);
    if (replay.error) throw chainFailed(replay, 'SQUASH_CHAIN_FAILED', 'The chain itself fails on a fresh shadow database');
    chainMs = performance.now() - chainStarted;
    const generateStarted = performance.now();
    progress('Reading the schema and generating the baseline');
    ({ model, snapshot: chainSnapshot } = await readCatalogAndSnapshot(chain.knex, { excludeTables: knexTables }));
    chainData = await dataFingerprint(chain.knex, model);
    const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
    const data = await readBaselineData(chain.knex, model, { maxRows, includeRows: includeData });
    dataTables = data.tables;
    dataRows = data.totalRows;
    if (!includeData && data.tables.length) {
      warnings.push(`The squashed migrations leave rows that the baseline does not recreate (--no-data): ${data.tables.map((t) => `${t.table} (${t.rows})`).join(', ')}.`);
    }
    ddlSource = await pickDdlSource(options.ddl ?? 'auto', chain, shadowUrl, serverVersion);
    const ddl = generateDdl(model, fresh);
    let preData = ddl.preData;
    let postData = ddl.postData;
    let uncheckedBodies = ddl.needsUncheckedFunctionBodies;
    if (ddlSource === 'pg_dump') {
      const binary = (await findPgDump(majorOf(serverVersion)))!;
      const excluded = await knexRelations(chain, knexTables);
      const dumped = await dumpDdl(binary, shadowDatabaseUrl(shadowUrl!, chain.shadow.databaseName!), excluded);
      preData = dumped.preData;
      postData = dumped.postData;
      // pg_dump's script turns body checks off (SET check_function_bodies = false): keep that, transaction-local.
      uncheckedBodies = model.functions.some((f) => f.language === 'sql');
    } else if (model.unsupported.length) {
      throw new KnexsafeError('SQUASH_UNSUPPORTED', `The squashed schema has objects the baseline generator does not rebuild: ${model.unsupported.map((u) => `${u.kind} ${u.name}`).join(', ')}.`, {
        exitCode: 1,
        hint: 'Use a server shadow with pg_dump (--shadow-url postgres://… --ddl pg_dump), or squash up to a migration before these objects appear.',
      });
    }
    if (model.privileges.length) {
      warnings.push(`GRANTs on ${model.privileges.join(', ')} are not part of the baseline (as with pg_dump --no-privileges): keep them in a migration after it if you need them.`);
    }
    const invalid = model.indexes.filter((i) => !i.valid && i.definition);
    if (invalid.length) warnings.push(`Invalid indexes in the chain's result (a failed CREATE INDEX CONCURRENTLY?): ${invalid.map((i) => i.ident).join(', ')}.`);
    const upStatements = [
      ...(uncheckedBodies ? ['SET LOCAL check_function_bodies = false'] : []),
      ...preData,
      ...(uncheckedBodies ? ['SET LOCAL check_function_bodies TO DEFAULT'] : []),
      ...data.statements,
      ...postData,
    ];
    statementCounts = { up: upStatements.length, down: ddl.down.length };
    up = upStatements.map((s) => `${s};`).join('\n\n');
    down = ddl.down.map((s) => `${s};`).join('\n\n');
    generateMs = performance.now() - generateStarted;

    if (kept.length) {
      progress(`Replaying the ${kept.length} kept migration(s) on the chain`);
      const rest = await replayFiles(chain, files);
      if (rest.error) keptNote = `The kept migrations fail on the original chain too (${rest.error.migration ?? '?'}: ${rest.error.message}); they were not compared.`;
      else keptSnapshot = await snapshotSchema(chain.knex, { excludeTables: knexTables });
    }
  } finally {
    await chain.close();
  }

  // 2. The baseline file, in the project's style; a temporary copy is what the proof runs.
  const style = projectStyle(extension, directory, files);
  const content = renderBaseline(
    style,
    {
      command: options.command ?? `knexsafe squash --to ${last.name}`,
      replaced: squashed.map((s) => s.name),
      archive: displayPath(archive, project.baseDir),
      ddlSource: ddlSource === 'pg_dump' ? "the server's pg_dump" : 'the catalogs',
      dataTables,
      dataIncluded: includeData,
    },
    up,
    down,
  );
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'knexsafe-squash-'));
  const proofStarted = performance.now();
  let proof: SquashProof;
  let verifyMs = 0;
  try {
    if (extension === 'js') fs.writeFileSync(path.join(temp, 'package.json'), JSON.stringify({ type: style === 'esm' ? 'module' : 'commonjs' }));
    const tempFile: MigrationFile = { name, file: path.join(temp, name), directory: temp };
    fs.writeFileSync(tempFile.file, content);

    // 3. The proof: the baseline on a fresh shadow builds the chain's schema, rows and sequences.
    progress('Proving the baseline on a fresh shadow database');
    proof = await proveBaseline(project, tempFile, kept, model, chainSnapshot, includeData ? chainData : undefined, keptSnapshot, shadowUrl, knexTables);
    if (keptNote) proof.keptNote = keptNote;

    // 4. Up → down → up on the baseline.
    const verifyStarted = performance.now();
    if (options.verify !== false && !proof.baselineError) {
      progress('Verifying the baseline: up → down → up');
      const report = await verifyMigrations({ project, files: [tempFile], selection: [tempFile], replay: [], ...(shadowUrl ? { shadowUrl } : {}), noData: true });
      const verdict = report.verdicts[0];
      proof.verify = { status: verdict?.status ?? 'failed', findings: verdict?.findings ?? [] };
    }
    verifyMs = performance.now() - verifyStarted;
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  const proofMs = performance.now() - proofStarted - verifyMs;

  const ok = proof.schemaEqual && proof.dataEqual && proof.keptEqual !== false && !proof.baselineError && (proof.verify.status === 'reversible' || proof.verify.status === 'skipped');

  const manifestPath = path.join(archive, MANIFEST_FILE);
  let written = false;
  if (ok && !options.dryRun) {
    writeSquash({
      project,
      squashed,
      archive,
      baselinePath,
      content,
      manifestPath,
      manifest: {
        knexsafe: 'squash',
        version: 1,
        createdAt: (options.now ?? new Date()).toISOString(),
        baseline: name,
        replaces: squashed.map((s) => s.name),
        tableName: project.migrations.tableName,
        ...(project.migrations.schemaName ? { schemaName: project.migrations.schemaName } : {}),
        ddlSource,
        shadow: `${shadowDescription} (PostgreSQL ${serverVersion})`,
        proof: { schemaEqual: proof.schemaEqual, dataEqual: proof.dataEqual, keptEqual: proof.keptEqual, verify: proof.verify.status },
        data: { included: includeData, tables: dataTables },
        files: squashed.map((s) => ({ name: s.name, from: path.relative(project.baseDir, s.file), to: path.relative(project.baseDir, path.join(archive, s.name)) })),
      },
    });
    written = true;
  }

  return {
    ok,
    dryRun: options.dryRun === true,
    written,
    squashed: squashed.map((s) => s.name),
    kept: kept.map((k) => k.name),
    baseline: {
      name,
      file: baselinePath,
      extension,
      bytes: Buffer.byteLength(content),
      upStatements: statementCounts.up,
      downStatements: statementCounts.down,
      content,
    },
    archive,
    manifest: manifestPath,
    ddlSource,
    shadow: shadowDescription,
    serverVersion,
    data: { included: includeData, tables: dataTables, rows: dataRows },
    proof,
    warnings,
    timings: { chainMs, generateMs, proofMs, verifyMs, totalMs: performance.now() - started },
  };
}

async function proveBaseline(
  project: ProjectConfig,
  baseline: MigrationFile,
  kept: MigrationFile[],
  model: CatalogModel,
  chainSnapshot: SchemaSnapshot,
  /** Undefined with --no-data: rows are not compared. */
  chainData: DataFingerprint | undefined,
  keptSnapshot: SchemaSnapshot | undefined,
  shadowUrl: string | undefined,
  knexTables: string[],
): Promise<SquashProof> {
  const proof: SquashProof = {
    schemaEqual: false,
    schemaChanges: [],
    schemaNotes: [],
    dataEqual: false,
    dataDifferences: [],
    keptEqual: null,
    keptChanges: [],
    verify: { status: 'skipped', findings: [] },
  };
  const session = await CaptureSession.open({ project, files: [baseline, ...kept], ...(shadowUrl ? { shadowUrl } : {}) });
  try {
    const run = await replayFiles(session, [baseline]);
    if (run.error) {
      proof.baselineError = `${run.error.message}${run.error.sqlState ? ` (SQLSTATE ${run.error.sqlState})` : ''}`;
      return proof;
    }
    const snapshot = await snapshotSchema(session.knex, { excludeTables: knexTables });
    const diff = diffSchemas(chainSnapshot, snapshot);
    proof.schemaEqual = diff.equal;
    proof.schemaChanges = diff.changes;
    proof.schemaNotes = diff.notes;
    proof.dataDifferences = chainData ? diffFingerprints(chainData, await dataFingerprint(session.knex, model)) : [];
    proof.dataEqual = proof.dataDifferences.length === 0;
    if (keptSnapshot && kept.length) {
      const rest = await replayFiles(session, [baseline, ...kept]);
      if (rest.error) {
        proof.keptEqual = false;
        proof.keptNote = `Kept migration ${rest.error.migration ?? '?'} fails after the baseline (it runs after the chain): ${rest.error.message}`;
      } else {
        const keptDiff = diffSchemas(keptSnapshot, await snapshotSchema(session.knex, { excludeTables: knexTables }));
        proof.keptEqual = keptDiff.equal;
        proof.keptChanges = keptDiff.changes;
      }
    }
  } finally {
    await session.close();
  }
  return proof;
}

function findMigration(files: MigrationFile[], given: string, project: ProjectConfig): number {
  if (files.length === 0) {
    throw new KnexsafeError('NO_MIGRATIONS', `There are no migrations in ${project.migrations.directories.map((d) => displayPath(d)).join(', ')} to squash.`);
  }
  const base = path.basename(given);
  const stem = (n: string) => n.slice(0, n.length - path.extname(n).length);
  const index = files.findIndex((f) => f.name === base || stem(f.name) === base);
  if (index !== -1) return index;
  const close = files.filter((f) => f.name.includes(base)).map((f) => f.name);
  throw new KnexsafeError('UNKNOWN_MIGRATION', `--to ${given}: no such migration.${close.length ? ` Did you mean ${close.slice(0, 3).join(', ')}?` : ''}`, {
    hint: 'Give a migration name with or without its extension; `knexsafe list` shows them.',
  });
}

/**
 * The module style of the baseline: what the project's own migration files of that extension use
 * (a `.js` file can be either, and jiti loads both), else what the folder's package.json implies.
 */
function projectStyle(extension: FileExtension, directory: string, files: MigrationFile[]): ModuleStyle {
  const fallback = moduleStyle(extension, directory);
  if (extension !== 'js') return fallback;
  let esm = 0;
  let cjs = 0;
  for (const f of files.filter((x) => x.name.endsWith('.js')).slice(-20)) {
    let text: string;
    try {
      text = fs.readFileSync(f.file, 'utf8');
    } catch {
      continue;
    }
    if (/^\s*export\s+(async\s+)?(function|const|let)\s+(up|down)\b/m.test(text) || /^\s*export\s+default\b/m.test(text)) esm++;
    else if (/\b(exports\.(up|down)|module\.exports)\b/.test(text)) cjs++;
  }
  if (esm === cjs) return fallback;
  return esm > cjs ? 'esm' : 'cjs';
}

function resolveExtension(given: string | undefined, project: ProjectConfig): FileExtension {
  const ext = (given ?? project.defaultExtension).replace(/^\./, '');
  if (!isFileExtension(ext)) throw new KnexsafeError('BAD_EXTENSION', `-x ${given}: use js, ts, mjs or cjs.`);
  if (!project.migrations.loadExtensions.includes(`.${ext}`)) {
    throw new KnexsafeError('BAD_EXTENSION', `knex would not load a .${ext} baseline: the knexfile's migrations.loadExtensions is ${project.migrations.loadExtensions.join(', ')}.`, {
      hint: `Pass -x with one of those extensions.`,
    });
  }
  return ext;
}

/** The archive must not be a place knex loads migrations from. */
function checkArchiveLocation(archive: string, project: ProjectConfig): void {
  for (const dir of project.migrations.directories) {
    const rel = path.relative(dir, archive);
    if (rel === '') throw new KnexsafeError('SQUASH_BAD_ARCHIVE', `The archive folder cannot be the migrations folder ${displayPath(dir)} itself.`);
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    // knex lists only the top level of a migrations folder and keeps the names whose extension is
    // in loadExtensions: the archive's top-level entry must not look like a migration.
    const top = rel.split(path.sep)[0]!;
    if (project.migrations.loadExtensions.includes(path.extname(top))) {
      throw new KnexsafeError('SQUASH_BAD_ARCHIVE', `knex would try to load ${displayPath(path.join(dir, top))} as a migration (its extension is in loadExtensions).`, {
        hint: 'Choose an --archive-dir whose name has no such extension.',
      });
    }
  }
}

async function versionOf(session: CaptureSession): Promise<string> {
  const rows = ((await session.knex.raw(`select current_setting('server_version') as v`)) as { rows: { v: string }[] }).rows;
  return rows[0]?.v ?? '?';
}

function majorOf(version: string): number {
  return Number(/^(\d+)/.exec(version)?.[1] ?? 0);
}

async function pickDdlSource(wanted: DdlSource, chain: CaptureSession, shadowUrl: string | undefined, serverVersion: string): Promise<'catalog' | 'pg_dump'> {
  if (wanted === 'catalog') return 'catalog';
  const server = Boolean(shadowUrl && chain.shadow.databaseName);
  const binary = server ? await findPgDump(majorOf(serverVersion)) : undefined;
  if (wanted === 'pg_dump') {
    if (!server) {
      throw new KnexsafeError('SQUASH_NEEDS_SERVER', '--ddl pg_dump needs a server shadow: pg_dump cannot read the embedded PostgreSQL.', {
        hint: 'Pass --shadow-url postgres://user@host/postgres (a server where the user may create databases), or use --ddl catalog.',
      });
    }
    if (!binary) {
      throw new KnexsafeError('SQUASH_NO_PG_DUMP', `No pg_dump of version ${majorOf(serverVersion)} or newer was found (looked in $KNEXSAFE_PG_DUMP, /usr/lib/postgresql/*/bin and PATH).`, {
        hint: 'Install the PostgreSQL client tools of the server version, set KNEXSAFE_PG_DUMP, or use --ddl catalog.',
      });
    }
    return 'pg_dump';
  }
  return binary ? 'pg_dump' : 'catalog';
}

/** knex's history tables and the sequences they own, as pg_dump exclusion patterns. */
async function knexRelations(chain: CaptureSession, knexTables: string[]): Promise<string[]> {
  return withCanonicalSession(chain.knex, async (trx) => {
    const rows = (
      (await trx.raw(
        `select c.oid::regclass::text as name from pg_catalog.pg_class c where c.relkind = 'r' and c.relname = any(?)
       union
       select s.oid::regclass::text from pg_catalog.pg_depend d join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
       join pg_catalog.pg_class t on t.oid = d.refobjid
       where d.classid = 'pg_catalog.pg_class'::regclass and d.refclassid = 'pg_catalog.pg_class'::regclass and d.deptype in ('a','i') and t.relname = any(?)`,
        [knexTables, knexTables],
      )) as { rows: { name: string }[] }
    ).rows;
    return rows.map((r) => r.name);
  });
}

function shadowDatabaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

interface ReplayOutcome {
  error?: StatementError & { migration?: string };
}

/**
 * knex `latest` over `files` on a shadow, unrecorded (CaptureSession.replay without the recorder's
 * cost), remembering which migration was running when it failed.
 */
async function replayFiles(session: CaptureSession, files: MigrationFile[]): Promise<ReplayOutcome> {
  let running: string | undefined;
  const source = new KnexsafeMigrationSource(
    files,
    {
      wrap: (migration, _direction, run) => (knex) => {
        running = migration.name;
        return run(knex);
      },
    },
    { noopMissingDown: true },
  );
  try {
    await session.knex.migrate.latest(migratorConfig(session.project, source));
    return {};
  } catch (error) {
    return { error: { ...toStatementError(error), ...(running ? { migration: running } : {}) } };
  }
}

function chainFailed(outcome: ReplayOutcome, code: ErrorCode, what: string): KnexsafeError {
  const e = outcome.error;
  return new KnexsafeError(code, `${what}: migration ${e?.migration ?? '?'} failed${e?.sqlState ? ` (SQLSTATE ${e.sqlState})` : ''}: ${e?.message ?? 'unknown error'}`, {
    exitCode: 1,
    hint: 'A baseline can only be proven against a chain that runs. Fix that migration (`knexsafe verify` shows the details) or squash up to a migration before it.',
  });
}

interface WriteOptions {
  project: ProjectConfig;
  squashed: MigrationFile[];
  archive: string;
  baselinePath: string;
  content: string;
  manifestPath: string;
  manifest: SquashManifest;
}

/**
 * Moves the squashed files into the archive, writes the manifest and the baseline. Renames are
 * undone if a later step fails, so the folder is never left half squashed.
 */
function writeSquash(w: WriteOptions): void {
  fs.mkdirSync(w.archive, { recursive: true });
  const moved: { from: string; to: string }[] = [];
  try {
    for (const s of w.squashed) {
      const to = path.join(w.archive, s.name);
      if (fs.existsSync(to)) throw new KnexsafeError('SQUASH_ARCHIVE_EXISTS', `${displayPath(to)} already exists in the archive folder.`, { hint: 'Pass another --archive-dir.' });
      fs.renameSync(s.file, to);
      moved.push({ from: s.file, to });
    }
    fs.writeFileSync(w.manifestPath, `${JSON.stringify(w.manifest, null, 2)}\n`, { flag: 'wx' });
    fs.writeFileSync(w.baselinePath, w.content, { flag: 'wx' });
  } catch (error) {
    for (const m of moved.reverse()) {
      try {
        fs.renameSync(m.to, m.from);
      } catch {
        // Reported below: the error names the archive folder.
      }
    }
    fs.rmSync(w.manifestPath, { force: true });
    throw error instanceof KnexsafeError
      ? error
      : new KnexsafeError('SQUASH_WRITE_FAILED', `Writing the squash failed (${(error as Error).message}); the moved files were put back.`, { exitCode: 1, cause: error });
  }
}
