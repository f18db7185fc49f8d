import fs from 'node:fs';
import path from 'node:path';
import { KnexsafeError } from '../errors.js';
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

export function writeNewFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // 'wx' refuses to overwrite: a name collision must never destroy an existing migration.
  fs.writeFileSync(file, content, { flag: 'wx' });
}
