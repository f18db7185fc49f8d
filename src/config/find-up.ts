import fs from 'node:fs';
import path from 'node:path';

export const KNEXFILE_NAMES = ['knexfile.js', 'knexfile.cjs', 'knexfile.mjs', 'knexfile.ts', 'knexfile.mts', 'knexfile.cts'];

/** Walks up from `start` like knex does; returns the first match and every directory it looked in. */
export function findUp(start: string, names: readonly string[]): { found?: string; searched: string[] } {
  const searched: string[] = [];
  let dir = path.resolve(start);
  for (;;) {
    searched.push(dir);
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return { found: candidate, searched };
    }
    const parent = path.dirname(dir);
    if (parent === dir) return { searched };
    dir = parent;
  }
}
