// Bundles the CLI: dist/cli/main.js and every module of dist/ it imports become one entry file and
// a few chunks (dist/cli/chunks/, loaded as the commands need them) instead of ~150 files for Node
// to find, read and link at every start (0.1 s of each command on a two-core machine). Packages
// stay external, resolved from node_modules as before. The library (dist/index.js and what it
// imports) stays as tsc wrote it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/cli');
fs.rmSync(path.join(cli, 'chunks'), { recursive: true, force: true });
await build({
  entryPoints: [path.join(cli, 'main.js')],
  outdir: cli,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
fs.chmodSync(path.join(cli, 'main.js'), 0o755);
