import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copyTemplate, templateManifest } from '../db/embedded.js';

/**
 * The warm cache (issue 21): shadow states after migration prefixes, and what a run concluded about
 * each migration, under keys that hash everything that determines them (src/cache/keys.ts).
 *
 * Layout under the root (default: the OS cache folder, `~/.cache/knexsafe/states-v1`):
 * - `states/<key>/` — an embedded shadow's data directory after a prefix, stored as the files that
 *   differ from PGlite's initdb template (`files/`) plus `meta.json` (files removed, what the run
 *   needs to resume from it). Written under a temporary name and renamed into place, so a reader
 *   never sees half an entry; removed by renaming away first, so a reader copying it either gets
 *   all of it or an error (and then starts cold).
 * - `results/<key>.json` — one migration's findings or verdict, same discipline.
 * Least recently used entries go first once the total passes the size limit.
 */

export const DEFAULT_CACHE_MAX_BYTES = 1024 * 1024 * 1024;

export interface CacheSettings {
  /** Off with --no-cache, KNEXSAFE_NO_CACHE=1 or `knexsafe: { cache: false }`. */
  enabled: boolean;
  dir: string;
  maxBytes: number;
}

/** The base folder knexsafe caches in (also holds PGlite's template; see src/db/embedded.ts). */
export function cacheBase(): string {
  return process.env.KNEXSAFE_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'knexsafe');
}

export function cacheSettings(config: boolean | { enabled?: boolean; dir?: string; maxSizeMb?: number } | undefined, flag: boolean | undefined, baseDir = process.cwd()): CacheSettings {
  const object = typeof config === 'object' ? config : {};
  const envOff = /^(1|true|yes)$/i.test(process.env.KNEXSAFE_NO_CACHE ?? '');
  const enabled = flag !== false && !envOff && config !== false && object.enabled !== false;
  const envMb = Number(process.env.KNEXSAFE_CACHE_MAX_MB);
  const mb = Number.isFinite(envMb) && envMb > 0 ? envMb : object.maxSizeMb;
  return {
    enabled,
    dir: process.env.KNEXSAFE_STATE_CACHE_DIR ? path.resolve(process.env.KNEXSAFE_STATE_CACHE_DIR) : object.dir ? path.resolve(baseDir, object.dir) : path.join(cacheBase(), 'states-v1'),
    maxBytes: mb !== undefined && mb > 0 ? Math.round(mb * 1024 * 1024) : DEFAULT_CACHE_MAX_BYTES,
  };
}

function tempName(dir: string, prefix: string): string {
  return path.join(dir, `${prefix}-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
}

function walkFiles(root: string, into: string[] = [], rel = ''): string[] {
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) walkFiles(root, into, name);
    else if (entry.isFile()) into.push(name);
  }
  return into;
}

function sameFile(a: string, b: string, stat: fs.Stats): boolean {
  try {
    const other = fs.statSync(b);
    if (other.size !== stat.size) return false;
    // The shadow is a copy of the template with its times kept (src/db/embedded.ts): a file
    // PostgreSQL never wrote still has the template's time; any write sets it to now.
    if (other.mtimeMs === stat.mtimeMs) return true;
    return fs.readFileSync(a).equals(fs.readFileSync(b));
  } catch {
    return false;
  }
}

export interface StateMeta {
  /** Template files the state no longer has. */
  removed: string[];
  /** Directories the state has that the template lacks (possibly empty ones). */
  dirs: string[];
  bytes: number;
  /** Whatever the command needs to resume from this state as the run that saved it went on. */
  resume: unknown;
}

export class ShadowCache {
  private wrote = false;
  constructor(readonly settings: CacheSettings) {}

  private get statesDir(): string {
    return path.join(this.settings.dir, 'states');
  }

  private get resultsDir(): string {
    return path.join(this.settings.dir, 'results');
  }

  hasState(key: string): boolean {
    return fs.existsSync(path.join(this.statesDir, key, 'meta.json'));
  }

  hasResult(key: string): boolean {
    return fs.existsSync(path.join(this.resultsDir, `${key}.json`));
  }

  readResult<T>(key: string): T | undefined {
    const file = path.join(this.resultsDir, `${key}.json`);
    try {
      const value = JSON.parse(fs.readFileSync(file, 'utf8')) as T;
      touch(file);
      return value;
    } catch {
      return undefined;
    }
  }

  writeResult(key: string, value: unknown): void {
    try {
      fs.mkdirSync(this.resultsDir, { recursive: true });
      const file = path.join(this.resultsDir, `${key}.json`);
      const temp = tempName(this.resultsDir, '.tmp');
      fs.writeFileSync(temp, JSON.stringify(value));
      fs.renameSync(temp, file);
      this.wrote = true;
    } catch {
      // A cache that cannot be written only costs speed.
    }
  }

  /**
   * Stores `dataDir` (a PGlite data directory, checkpointed so that its files hold everything) as
   * its difference from `template`. False when it could not (disk full, …): the run goes on.
   */
  saveState(key: string, dataDir: string, template: string, resume: unknown): boolean {
    if (this.hasState(key)) return true;
    let building: string | undefined;
    try {
      fs.mkdirSync(this.statesDir, { recursive: true });
      building = tempName(this.statesDir, '.tmp');
      const filesDir = path.join(building, 'files');
      fs.mkdirSync(filesDir, { recursive: true });
      const templateFiles = new Set(templateManifest(template).files.map((f) => f.rel));
      const dirs = new Set<string>();
      let bytes = 0;
      for (const rel of walkFiles(dataDir)) {
        const from = path.join(dataDir, rel);
        const stat = fs.statSync(from);
        if (templateFiles.has(rel) && sameFile(from, path.join(template, rel), stat)) continue;
        const to = path.join(filesDir, rel);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(from, to);
        bytes += stat.size;
      }
      for (const rel of walkDirs(dataDir)) if (!fs.existsSync(path.join(template, rel))) dirs.add(rel);
      const removed = [...templateFiles].filter((rel) => !fs.existsSync(path.join(dataDir, rel)));
      // `bytes` first: eviction reads only the head of the file (a resume may hold a schema of 100s of KB).
      const meta: StateMeta = { bytes, removed, dirs: [...dirs], resume };
      fs.writeFileSync(path.join(building, 'meta.json'), JSON.stringify(meta));
      try {
        fs.renameSync(building, path.join(this.statesDir, key));
      } catch {
        // Another run stored the same state first: it is as good as ours.
        fs.rmSync(building, { recursive: true, force: true });
      }
      building = undefined;
      this.wrote = true;
      return true;
    } catch {
      if (building) fs.rmSync(building, { recursive: true, force: true });
      return false;
    }
  }

  /**
   * Fills `dataDir`, an empty folder, with the stored state: the template's files it does not
   * replace or remove, then its own (each byte copied once). Undefined when the entry is gone or
   * could not be read whole (evicted meanwhile): `dataDir` is then unusable and the caller starts
   * again from the template.
   */
  restoreState(key: string, dataDir: string, template: string): StateMeta | undefined {
    const entry = path.join(this.statesDir, key);
    try {
      const metaFile = path.join(entry, 'meta.json');
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as StateMeta;
      const filesDir = path.join(entry, 'files');
      const stored = walkFiles(filesDir);
      copyTemplate(template, dataDir, new Set([...meta.removed, ...stored]));
      const made = new Set<string>();
      for (const rel of [...meta.dirs, ...stored.map((f) => path.dirname(f))]) {
        if (made.has(rel)) continue;
        made.add(rel);
        fs.mkdirSync(path.join(dataDir, rel), { recursive: true });
      }
      for (const rel of stored) fs.copyFileSync(path.join(filesDir, rel), path.join(dataDir, rel));
      // Renamed away during the copy (eviction): what was copied may be partial.
      if (!fs.existsSync(metaFile)) return undefined;
      touch(metaFile);
      return meta;
    } catch {
      return undefined;
    }
  }

  /** Least recently used entries go until the cache fits its limit (only after this run wrote). */
  evict(): void {
    if (!this.wrote) return;
    try {
      const items: { path: string; bytes: number; used: number; dir: boolean }[] = [];
      for (const name of safeReaddir(this.statesDir)) {
        const dir = path.join(this.statesDir, name);
        if (name.startsWith('.')) {
          removeStale(dir);
          continue;
        }
        try {
          const metaFile = path.join(dir, 'meta.json');
          items.push({ path: dir, bytes: stateBytes(metaFile) + 4096, used: fs.statSync(metaFile).mtimeMs, dir: true });
        } catch {
          // Not ours or being removed.
        }
      }
      for (const name of safeReaddir(this.resultsDir)) {
        const file = path.join(this.resultsDir, name);
        if (name.startsWith('.')) {
          removeStale(file);
          continue;
        }
        try {
          const stat = fs.statSync(file);
          items.push({ path: file, bytes: stat.size, used: stat.mtimeMs, dir: false });
        } catch {
          // Removed meanwhile.
        }
      }
      let total = items.reduce((sum, i) => sum + i.bytes, 0);
      items.sort((a, b) => a.used - b.used);
      for (const item of items) {
        if (total <= this.settings.maxBytes) break;
        total -= item.bytes;
        // Renamed away first: a reader sees the whole entry or none of it.
        const trash = tempName(path.dirname(item.path), '.trash');
        try {
          fs.renameSync(item.path, trash);
          fs.rmSync(trash, { recursive: true, force: true });
        } catch {
          // Another run evicted it.
        }
      }
    } catch {
      // Eviction is housekeeping: never fails a run.
    }
  }
}

function walkDirs(root: string, into: string[] = [], rel = ''): string[] {
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    into.push(name);
    walkDirs(root, into, name);
  }
  return into;
}

/** A stored state's size from its meta.json: from the head of it when `bytes` comes first (as saveState writes it). */
function stateBytes(metaFile: string): number {
  const fd = fs.openSync(metaFile, 'r');
  let head: string;
  try {
    const buffer = Buffer.alloc(64);
    head = buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, 64, 0));
  } finally {
    fs.closeSync(fd);
  }
  const match = /^\{"bytes":(\d+),/.exec(head);
  return match ? Number(match[1]) : (JSON.parse(fs.readFileSync(metaFile, 'utf8')) as StateMeta).bytes;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function touch(file: string): void {
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // Only the eviction order suffers.
  }
}

/** Temporary entries of runs that were killed: removed once their process is gone. */
function removeStale(file: string): void {
  const pid = Number(/^\.(?:tmp|trash)-(\d+)-/.exec(path.basename(file))?.[1]);
  if (!pid || pid === process.pid) return;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(file, { recursive: true, force: true });
  }
}
