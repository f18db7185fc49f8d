import fs from 'node:fs';
import path from 'node:path';
import { KnexsafeError } from '../errors.js';
import { makeDirectory } from '../util/make-dir.js';
import { knexTimestamp } from '../util/timestamp.js';

/** Checks a migration or seed name the way a reviewer would: snake_case, no path, no extension. */
export function validateFileStem(name: string, what: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw new KnexsafeError('BAD_NAME', `A ${what} needs a name.`, { hint: `e.g. knexsafe make add_email_to_users` });
  if (/[\\/]/.test(trimmed)) throw new KnexsafeError('BAD_NAME', `The ${what} name "${trimmed}" contains a path separator.`, { hint: 'Give only the name; the folder comes from the knexfile.' });
  return trimmed.replace(/\.(js|ts|mjs|cjs)$/, '');
}

/**
 * Picks `YYYYMMDDHHMMSS_<name>.<ext>` in `directory`, never colliding with an existing prefix:
 * two files with the same timestamp run in name order, which is rarely what the author meant.
 */
export function timestampedPath(directory: string, stem: string, extension: string, now: Date = new Date()): string {
  const existingPrefixes = new Set(
    fs.existsSync(directory)
      ? fs
          .readdirSync(directory)
          .map((f) => /^(\d{14})_/.exec(f)?.[1])
          .filter((p): p is string => p !== undefined)
      : [],
  );
  let when = now.getTime();
  let prefix = knexTimestamp(new Date(when));
  while (existingPrefixes.has(prefix)) {
    when += 1000;
    prefix = knexTimestamp(new Date(when));
  }
  return path.join(directory, `${prefix}_${stem}.${extension}`);
}

/**
 * Paths for files that must run in this order: consecutive knex timestamps (one second apart),
 * none already used in any of `directories`, and all after the newest existing migration, so that
 * a clock behind the history (or a teammate's future-dated file) cannot slot them in before it.
 */
export function consecutivePaths(directory: string, directories: string[], stems: string[], extension: string, now: Date = new Date()): string[] {
  const used = new Set<string>();
  for (const dir of new Set([directory, ...directories])) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      const prefix = /^(\d{14})_/.exec(f)?.[1];
      if (prefix) used.add(prefix);
    }
  }
  const newest = [...used].sort().pop();
  let when = Math.floor(now.getTime() / 1000) * 1000;
  if (newest !== undefined && knexTimestamp(new Date(when)) <= newest) when = timestampToMs(newest) + 1000;
  const paths: string[] = [];
  for (const stem of stems) {
    while (used.has(knexTimestamp(new Date(when)))) when += 1000;
    const prefix = knexTimestamp(new Date(when));
    used.add(prefix);
    paths.push(path.join(directory, `${prefix}_${stem}.${extension}`));
    when += 1000;
  }
  return paths;
}

function timestampToMs(prefix: string): number {
  const n = (from: number, to: number) => Number(prefix.slice(from, to));
  return Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14));
}

export function writeNewFile(file: string, content: string): void {
  makeDirectory(path.dirname(file), 'the folder');
  // 'wx' refuses to overwrite: a name collision must never destroy an existing migration.
  fs.writeFileSync(file, content, { flag: 'wx' });
}
