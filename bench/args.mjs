// What the bench scripts share: the repository root, `--name value` flags, and the built CLI.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `--name value` from the command line, or `fallback`. */
export function flag(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
}

/** dist/cli/main.js; exits 2 when it is not built. */
export function builtCli() {
  const cli = path.join(root, 'dist/cli/main.js');
  if (!fs.existsSync(cli)) {
    console.error('dist/cli/main.js is missing: run npm run build first');
    process.exit(2);
  }
  return cli;
}
