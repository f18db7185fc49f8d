import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProjectConfig } from '../config/resolve.js';
import type { MigrationFile } from '../migrations/source.js';
import { shadowSessionOf } from '../shadow/session-settings.js';
import { knexsafeVersion } from '../util/package-version.js';

/**
 * Cache keys (issue 21 point 3). A shadow state after migration i is determined by: knexsafe (its
 * version and its build: a rebuilt dist must not reuse what an older build concluded), PostgreSQL
 * (PGlite's version), the knexfile options that reach the shadow (functions by their source text),
 * the command's mode, the project's other source files (migrations may import helpers), and the
 * name, path and content of migrations 1..i. Each prefix key chains the previous one, so changing
 * one byte of migration 10 changes the keys of 10 and every later one, and only those.
 */

const FORMAT = 1;

/** JSON with sorted keys; functions and classes as their source text; cycles cut. */
export function stableText(value: unknown): string {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'function') return `fn:${v.toString()}`;
    if (typeof v === 'bigint') return `bigint:${v.toString()}`;
    if (typeof v === 'symbol' || v === undefined) return null;
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof RegExp) return `re:${String(v)}`;
    if (v instanceof Date) return `date:${v.toISOString()}`;
    if (seen.has(v)) return '[cycle]';
    seen.add(v);
    if (Array.isArray(v)) return v.map(walk);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) out[key] = walk((v as Record<string, unknown>)[key]);
    // A class instance's behaviour lives on its prototype.
    const proto = Object.getPrototypeOf(v) as { constructor?: unknown } | null;
    if (proto && proto !== Object.prototype && typeof proto.constructor === 'function') out['[class]'] = `fn:${String(proto.constructor)}`;
    return out;
  };
  return JSON.stringify(walk(value));
}

export function hashText(...parts: string[]): string {
  const hash = crypto.createHash('sha256');
  for (const p of parts) hash.update(p).update('\0');
  return hash.digest('hex').slice(0, 40);
}

let buildPrint: string | undefined;

/**
 * knexsafe's version plus the names, sizes and times of the files it runs from: any rebuild is
 * another knexsafe. Only the tree this module was loaded from (dist/ when built, src/ under a test
 * runner) and only code: the other tree and the type declarations and source maps beside the
 * code do not change what a run concludes, and stating them was half of a warm run's ~1,200 stats.
 */
export function knexsafeFingerprint(): string {
  if (buildPrint !== undefined) return buildPrint;
  const parts = [knexsafeVersion()];
  let dir = path.dirname(fileURLToPath(import.meta.url));
  // The package root (dist/… or src/… below it), and which of the two this module is in.
  let tree = '';
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) {
    tree = path.basename(dir);
    dir = path.dirname(dir);
  }
  for (const sub of tree === 'dist' || tree === 'src' ? [tree] : ['dist', 'src']) {
    const root = path.join(dir, sub);
    if (!fs.existsSync(root)) continue;
    const stack = [root];
    while (stack.length) {
      const current = stack.pop()!;
      for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
        const full = path.join(current, entry.name);
        if (entry.isDirectory()) stack.push(full);
        else if (entry.isFile() && isCode(entry.name)) {
          const stat = fs.statSync(full);
          parts.push(`${path.relative(dir, full)}:${stat.size}:${stat.mtimeMs}`);
        }
      }
    }
  }
  return (buildPrint = hashText(...parts.sort()));
}

function isCode(name: string): boolean {
  return !name.endsWith('.map') && !/\.d\.[cm]?ts$/.test(name);
}

const SOURCE_EXTENSIONS = new Set(['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts', '.jsx', '.tsx', '.json', '.sql']);
/** Past this many files, the project is not one we can fingerprint cheaply: no cache. */
const MAX_PROJECT_FILES = 20_000;

/**
 * The project's source files other than the migrations (helpers a migration imports, the knexfile,
 * package.json and the lock file), outside node_modules and hidden folders: any change to one of
 * them invalidates every cached state. Undefined when the project is too big to read cheaply.
 */
export function projectFingerprint(baseDir: string, migrations: ReadonlySet<string>): string | undefined {
  const hash = crypto.createHash('sha256');
  const stack = [baseDir];
  let count = 0;
  const files: string[] = [];
  while (stack.length) {
    const dir = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (++count > MAX_PROJECT_FILES) return undefined;
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.isFile() && SOURCE_EXTENSIONS.has(path.extname(entry.name)) && !migrations.has(full)) files.push(full);
    }
  }
  for (const file of files.sort()) {
    hash.update(path.relative(baseDir, file)).update('\0');
    try {
      hash.update(fs.readFileSync(file));
    } catch {
      hash.update('unreadable');
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * The key of the empty prefix: everything but the migrations. Undefined when the project cannot be
 * cached exactly (a custom migrationSource: its migrations' contents are not files we can read).
 */
export function baseKey(project: ProjectConfig, files: readonly MigrationFile[], mode: string, pgVersion: string): string | undefined {
  if (project.migrations.custom) return undefined;
  const env = projectFingerprint(project.baseDir, new Set(files.map((f) => path.resolve(f.file))));
  if (env === undefined) return undefined;
  const { connection: _connection, ...knexOptions } = project.knexOptions;
  void _connection;
  return hashText(
    `format ${FORMAT}`,
    knexsafeFingerprint(),
    pgVersion,
    mode,
    project.baseDir,
    stableText({ migrations: project.migrations, searchPath: project.searchPath ?? null, knexOptions, session: shadowSessionOf(project), userClient: project.userClient ?? null }),
    env,
  );
}

/** Key of each prefix 1..n: the previous key chained with the migration's name, path and content. */
export function prefixKeys(base: string, files: readonly MigrationFile[]): string[] {
  const keys: string[] = [];
  let key = base;
  for (const f of files) {
    let content: Buffer | string;
    try {
      content = fs.readFileSync(f.file);
    } catch {
      content = `unreadable ${Math.random()}`;
    }
    key = hashText(key, f.name, path.resolve(f.file), crypto.createHash('sha256').update(content).digest('hex'));
    keys.push(key);
  }
  return keys;
}
