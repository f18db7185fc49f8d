import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let version: string | undefined;
let root: string | undefined;

/**
 * knexsafe's version, from its own package.json, looked for upwards from this file: the CLI is
 * bundled (dist/cli/chunks/…), the library is not (dist/util/…), so no fixed relative path fits both.
 */
export function knexsafeVersion(): string {
  if (version !== undefined) return version;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (json.name === 'knexsafe' && json.version) {
        root = dir;
        return (version = json.version);
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return (version = 'unknown');
    dir = parent;
  }
}

/** The folder of knexsafe's own package.json (where docs/ ships), when it is found. */
export function knexsafeRoot(): string | undefined {
  knexsafeVersion();
  return root;
}
