import type { Extension, PGlite, PGliteOptions } from '@electric-sql/pglite';
import fs from 'node:fs';
import { onInterrupt } from '../shadow/interrupt.js';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { KnexsafeError } from '../errors.js';
import { makeDirectory } from '../util/make-dir.js';

/**
 * Embedded PostgreSQL (PGlite, PostgreSQL compiled to WASM). Each contrib extension PGlite ships
 * must be registered when the instance starts; registering all of them costs ~0.5 s, so callers
 * name the ones their migrations mention and we add the rest only when asked.
 */

/**
 * SQL extension name → PGlite contrib module name. auto_explain and pg_stat_statements are left
 * out on purpose: registering them writes shared_preload_libraries into the data directory, which
 * then cannot be opened without them — and migrations never need them.
 */
export const EMBEDDED_EXTENSIONS: Record<string, string> = {
  amcheck: 'amcheck',
  bloom: 'bloom',
  btree_gin: 'btree_gin',
  btree_gist: 'btree_gist',
  citext: 'citext',
  cube: 'cube',
  dict_int: 'dict_int',
  dict_xsyn: 'dict_xsyn',
  earthdistance: 'earthdistance',
  file_fdw: 'file_fdw',
  fuzzystrmatch: 'fuzzystrmatch',
  hstore: 'hstore',
  intarray: 'intarray',
  isn: 'isn',
  lo: 'lo',
  ltree: 'ltree',
  moddatetime: 'moddatetime',
  pageinspect: 'pageinspect',
  pg_buffercache: 'pg_buffercache',
  pg_freespacemap: 'pg_freespacemap',
  pg_surgery: 'pg_surgery',
  pg_trgm: 'pg_trgm',
  pg_visibility: 'pg_visibility',
  pg_walinspect: 'pg_walinspect',
  pgcrypto: 'pgcrypto',
  seg: 'seg',
  tablefunc: 'tablefunc',
  tcn: 'tcn',
  tsm_system_rows: 'tsm_system_rows',
  tsm_system_time: 'tsm_system_time',
  unaccent: 'unaccent',
  'uuid-ossp': 'uuid_ossp',
};

/** Extensions built into PGlite's core (no bundle needed). */
const BUILTIN_EXTENSIONS = new Set(['plpgsql']);

/** What reports call the embedded shadow (also when every result came from the warm cache and none was opened). */
export const EMBEDDED_SHADOW_DESCRIPTION = 'embedded shadow PostgreSQL';

export type ExtensionRequest = readonly string[] | 'all';

/** Loaded on first use: a run against a server shadow never needs the WASM build. */
function loadPglite(): Promise<typeof import('@electric-sql/pglite')> {
  return import('@electric-sql/pglite');
}

type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;
// The project's TypeScript libraries do not declare WebAssembly (no DOM); Node has it.
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly;

let compiledPglite: Promise<WasmModule | undefined> | undefined;

/**
 * PGlite's WebAssembly module (9 MB), compiled once per process. Started before the data folder is
 * copied, so that V8 compiles it on its own threads while this one copies: PGlite would only read
 * and compile it once constructed, after the copy (~0.1 s of every embedded run in sequence).
 * Undefined when it cannot be found: PGlite then loads it itself.
 */
function compilePglite(): Promise<WasmModule | undefined> {
  compiledPglite ??= (async () => {
    try {
      const require = createRequire(import.meta.url);
      const file = path.join(path.dirname(require.resolve('@electric-sql/pglite')), 'pglite.wasm');
      return await wasm.compile(await fs.promises.readFile(file));
    } catch {
      return undefined;
    }
  })();
  return compiledPglite;
}

/**
 * For a caller that knows an embedded shadow is coming (the warm cache, once it knows what is not
 * cached): PGlite's WebAssembly compiles on V8's threads and its module loads while the caller
 * goes on, instead of after the data folder is copied.
 */
export function preparePglite(): void {
  void compilePglite();
  loadPglite().catch(() => undefined);
}

async function loadExtensionModules(request: ExtensionRequest): Promise<Record<string, Extension>> {
  const names = request === 'all' ? Object.keys(EMBEDDED_EXTENSIONS) : request;
  const out: Record<string, Extension> = {};
  for (const name of new Set(names)) {
    const moduleName = EMBEDDED_EXTENSIONS[name];
    if (!moduleName || BUILTIN_EXTENSIONS.has(name)) continue;
    const mod = (await import(`@electric-sql/pglite/contrib/${moduleName}`)) as Record<string, Extension>;
    const ext = mod[moduleName];
    if (ext) out[moduleName] = ext;
  }
  return out;
}

/**
 * Which extensions a body of source text mentions. A cheap over-approximation is fine: it only
 * decides which bundles to register; a missed one is retried with all of them.
 */
export function mentionedExtensions(sources: Iterable<string>): string[] {
  const found = new Set<string>();
  for (const text of sources) {
    if (!/extension/i.test(text)) continue;
    const lower = text.toLowerCase();
    for (const name of Object.keys(EMBEDDED_EXTENSIONS)) {
      if (lower.includes(name)) found.add(name);
    }
  }
  return [...found].sort();
}

export interface EmbeddedOpenOptions {
  /** A directory to keep the database in; omitted = a throwaway copy removed on close. */
  dataDir?: string;
  extensions?: ExtensionRequest;
  /**
   * For a throwaway copy: fills the empty data folder with a stored state before PGlite opens it
   * (the warm cache, src/cache/; the template is currentTemplate()). False when it could not: the
   * folder is emptied and gets the template.
   */
  seed?: (dataDir: string) => boolean;
}

export interface EmbeddedDatabase {
  pglite: PGlite;
  dataDir: string;
  persistent: boolean;
  close(): Promise<void>;
}

let knownVersion: string | undefined;

/** PGlite's version (read once per process: the warm cache's keys and the template's folders ask for it). */
export function pgliteVersion(): string {
  knownVersion ??= readPgliteVersion();
  return knownVersion;
}

function readPgliteVersion(): string {
  try {
    // The package's exports do not include package.json: find it next to the resolved entry.
    const require = createRequire(import.meta.url);
    let dir = path.dirname(require.resolve('@electric-sql/pglite'));
    while (dir !== path.dirname(dir)) {
      const pkg = path.join(dir, 'package.json');
      if (fs.existsSync(pkg)) {
        const parsed = JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
        if (parsed.name === '@electric-sql/pglite' && parsed.version) return parsed.version;
      }
      dir = path.dirname(dir);
    }
  } catch {
    // fall through
  }
  return 'unknown';
}

/**
 * How the template is initialised; part of its folder's name and of the warm cache's keys (a
 * stored state is a difference from the template, so another template invalidates it).
 * - 1 MB WAL segments instead of 16 MB: the segment in use is copied into every shadow and into
 *   every stored state (it was 16 of a state's 23 MB), and a small min_wal_size keeps
 *   checkpoints from keeping old segments around for reuse.
 */
const TEMPLATE_INITDB = ['--wal-segsize=1', '-c', 'min_wal_size=2MB'];
export const TEMPLATE_FORMAT = 'wal1';

/**
 * Start parameters of a throwaway shadow, PGlite's own first. PGlite allocates shared_buffers (the
 * template says 128 MB) inside the WebAssembly memory and touches all of it at start: it was the
 * largest part of an embedded check's peak memory (315 MB). A shadow's catalog and a chain's few
 * rows fit in 8 MB; evicted pages go to the data folder, which is in RAM (scratchRoot). An embedded
 * database the user keeps (--db embedded:…) keeps the template's 128 MB.
 */
async function shadowStartParams(): Promise<string[]> {
  const { PGlite } = await loadPglite();
  return [...PGlite.defaultStartParams, '-c', 'shared_buffers=8MB'];
}

export function cacheDir(): string {
  const base = process.env.KNEXSAFE_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'knexsafe');
  return path.join(base, `pglite-${pgliteVersion()}`);
}

/**
 * An initialised PGlite data directory kept in the cache. Starting from a copy of it takes about a
 * third of a cold `initdb`. Built in a private folder and renamed into place so that parallel
 * processes never see a half-written template.
 */
let lastTemplate: string | undefined;

export async function ensureTemplate(): Promise<string> {
  lastTemplate = await findTemplate();
  return lastTemplate;
}

async function findTemplate(): Promise<string> {
  const disk = await ensureDiskTemplate();
  // A RAM copy of the template next to the scratch directories: cloning tmpfs → tmpfs is ~5× faster.
  const root = scratchRoot();
  const ram = path.join(root, `template-${pgliteVersion()}-${TEMPLATE_FORMAT}`);
  if (fs.existsSync(path.join(ram, MANIFEST))) return ram;
  try {
    fs.mkdirSync(root, { recursive: true });
    const building = fs.mkdtempSync(path.join(root, `building-${process.pid}-`));
    const listed = walkTemplate(disk);
    // Whole seconds: a copy made with the same times (copyTemplate) then has exactly the
    // template's mtime, by which the warm cache tells the files PostgreSQL never wrote
    // (src/cache/store.ts); a time with nanoseconds does not survive utimes.
    const time = Math.floor(Date.now() / 1000);
    const manifest: TemplateManifest = { dirs: listed.dirs, files: listed.files.map((rel) => ({ rel, time })) };
    copyListed(disk, building, manifest);
    fs.writeFileSync(path.join(building, MANIFEST), JSON.stringify(manifest));
    try {
      fs.renameSync(building, ram);
    } catch {
      fs.rmSync(building, { recursive: true, force: true });
    }
    return fs.existsSync(path.join(ram, MANIFEST)) ? ram : disk;
  } catch {
    return disk;
  }
}

/** The RAM template's list of what it holds (not itself part of a data directory). */
const MANIFEST = 'knexsafe-template.json';

export interface TemplateManifest {
  /** Folders, parents first, relative to the template. */
  dirs: string[];
  /** Files, relative, with the time (seconds) a copy gets as atime and mtime; none: a fresh time. */
  files: { rel: string; time?: number }[];
}

const manifests = new Map<string, TemplateManifest>();

/**
 * What a template holds: its manifest, read once per process (the RAM template), else a walk
 * (the disk template, when /dev/shm could not take a copy).
 */
export function templateManifest(template: string): TemplateManifest {
  let manifest = manifests.get(template);
  if (!manifest) {
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(template, MANIFEST), 'utf8')) as TemplateManifest;
    } catch {
      const listed = walkTemplate(template);
      manifest = { dirs: listed.dirs, files: listed.files.map((rel) => ({ rel })) };
    }
    manifests.set(template, manifest);
  }
  return manifest;
}

function walkTemplate(root: string, rel = '', into: { dirs: string[]; files: string[] } = { dirs: [], files: [] }): { dirs: string[]; files: string[] } {
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      into.dirs.push(name);
      walkTemplate(root, name, into);
    } else if (entry.isFile() && name !== MANIFEST) into.files.push(name);
  }
  return into;
}

function copyListed(from: string, to: string, manifest: TemplateManifest, skip?: ReadonlySet<string>): void {
  fs.mkdirSync(to, { recursive: true });
  for (const dir of manifest.dirs) fs.mkdirSync(path.join(to, dir), { recursive: true });
  for (const { rel, time } of manifest.files) {
    if (skip?.has(rel)) continue;
    const target = path.join(to, rel);
    fs.copyFileSync(path.join(from, rel), target);
    if (time !== undefined) fs.utimesSync(target, time, time);
  }
}

/**
 * Copies the template into `dataDir` (made if missing), leaving out the files in `skip`. A plain
 * loop over the manifest: fs.cpSync stats, checks and chmods every one of the ~1,000 files and
 * took ~40 % longer.
 */
export function copyTemplate(template: string, dataDir: string, skip?: ReadonlySet<string>): void {
  copyListed(template, dataDir, templateManifest(template), skip);
}

/** The template the last ensureTemplate() of this process returned (for a seed, which is synchronous). */
export function currentTemplate(): string | undefined {
  return lastTemplate;
}

async function ensureDiskTemplate(): Promise<string> {
  const dir = cacheDir();
  const template = path.join(dir, `template-${TEMPLATE_FORMAT}`);
  if (fs.existsSync(path.join(template, 'PG_VERSION'))) return template;
  fs.mkdirSync(dir, { recursive: true });
  removeOrphans(dir);
  const building = fs.mkdtempSync(path.join(dir, `building-${process.pid}-`));
  const { PGlite } = await loadPglite();
  // The module openEmbedded is compiling for the shadow: a first run does not compile it twice.
  const pgliteWasmModule = await compilePglite();
  const db = new PGlite(building, { initDbStartParams: TEMPLATE_INITDB, startParams: await shadowStartParams(), ...(pgliteWasmModule ? { pgliteWasmModule } : {}) });
  await db.waitReady;
  await db.query('CHECKPOINT');
  const current = (await db.query<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS name')).rows[0]?.name;
  await db.close();
  if (current) pruneFutureWal(building, current);
  try {
    fs.renameSync(building, template);
  } catch {
    // Another process won the race; its template is as good as ours.
    fs.rmSync(building, { recursive: true, force: true });
  }
  return template;
}

/**
 * initdb leaves WAL segments renamed ahead for reuse (6 of the template's 7); every shadow would
 * copy them. Kept: the segment in use at the last checkpoint and the next one, in case the
 * shutdown checkpoint's record crossed into it. PostgreSQL creates later segments when it needs them.
 */
function pruneFutureWal(dataDir: string, current: string): void {
  const walDir = path.join(dataDir, 'pg_wal');
  const ahead = fs
    .readdirSync(walDir)
    .filter((name) => /^[0-9A-F]{24}$/.test(name) && name > current)
    .sort();
  for (const name of ahead.slice(1)) fs.rmSync(path.join(walDir, name));
}

/**
 * Where throwaway data directories live: RAM (/dev/shm) when the machine has it, else the temp
 * directory. KNEXSAFE_SCRATCH_DIR overrides.
 */
export function scratchRoot(): string {
  if (process.env.KNEXSAFE_SCRATCH_DIR) return process.env.KNEXSAFE_SCRATCH_DIR;
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm/knexsafe';
  } catch {
    return path.join(os.tmpdir(), 'knexsafe');
  }
}

function makeTempDir(): string {
  const root = scratchRoot();
  fs.mkdirSync(root, { recursive: true });
  removeOrphans(root);
  return fs.mkdtempSync(path.join(root, `pglite-${process.pid}-`));
}

/**
 * Shadows (and half-copied templates) of processes that were killed (SIGKILL skips cleanup) would
 * hold RAM until reboot.
 */
function removeOrphans(root: string): void {
  for (const name of fs.readdirSync(root)) {
    const pid = Number(/^(?:pglite|building)-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }
}

/** Throwaway folders being removed in the background; what is left of them goes at exit. */
const removing = new Set<string>();
let removingAtExit = false;

/**
 * Removes a closed shadow's folder (~1,000 files) on libuv's threads while the command reports
 * what it found: unlinking them took a warm run's last 0.1–0.4 s. Finished synchronously at exit
 * if still under way, so no run leaves RAM behind in /dev/shm.
 */
function removeSoon(dir: string): void {
  if (!removingAtExit) {
    removingAtExit = true;
    process.on('exit', removeLeftovers);
  }
  removing.add(dir);
  fs.promises.rm(dir, { recursive: true, force: true }).then(
    () => removing.delete(dir),
    () => undefined,
  );
}

function removeLeftovers(): void {
  for (const dir of removing) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // The next run removes it as an orphan (removeOrphans).
    }
  }
}

export async function openEmbedded(options: EmbeddedOpenOptions = {}): Promise<EmbeddedDatabase> {
  const compiling = compilePglite();
  const persistent = options.dataDir !== undefined;
  let dataDir: string;
  let disarm = () => {};
  if (options.dataDir !== undefined) {
    dataDir = path.resolve(options.dataDir);
    const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
    if (!initialised) {
      makeDirectory(dataDir, 'the embedded database folder');
      // PostgreSQL would initialise a cluster among whatever is there (a migrations folder, say).
      if (fs.readdirSync(dataDir).length > 0) {
        throw new KnexsafeError('EMBEDDED_DIR_NOT_EMPTY', `${dataDir} holds other files and no embedded database, so knexsafe will not create one among them.`, {
          hint: 'Give an empty or new folder (e.g. --db embedded:.knexsafe/dev), or the folder of an existing embedded database.',
          details: { dataDir },
        });
      }
      copyTemplate(await ensureTemplate(), dataDir);
    }
  } else {
    dataDir = makeTempDir();
    // On Ctrl-C the folder goes at once, without waiting for PGlite (which cannot stop a statement).
    const dir = dataDir;
    disarm = onInterrupt(async () => fs.rmSync(dir, { recursive: true, force: true }), 'removing the embedded shadow database', { atOnce: true });
    const template = await ensureTemplate();
    // A seed fills the empty folder itself: a stored state copies only the template files it does
    // not replace. Times kept: the warm cache (src/cache/store.ts) tells the files PostgreSQL
    // wrote by them.
    if (!options.seed?.(dataDir)) {
      if (options.seed) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        fs.mkdirSync(dataDir);
      }
      copyTemplate(template, dataDir);
    }
  }
  const extensions = await loadExtensionModules(options.extensions ?? []);
  const { PGlite } = await loadPglite();
  const pgliteWasmModule = await compiling;
  const pglite = new PGlite(dataDir, { extensions, ...(pgliteWasmModule ? { pgliteWasmModule } : {}), ...(persistent ? {} : { startParams: await shadowStartParams() }) });
  try {
    await pglite.waitReady;
  } catch (error) {
    disarm();
    if (!persistent) fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  let closed = false;
  return {
    pglite,
    dataDir,
    persistent,
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (!pglite.closed) await pglite.close();
      } finally {
        disarm();
        if (!persistent) removeSoon(dataDir);
      }
    },
  };
}
