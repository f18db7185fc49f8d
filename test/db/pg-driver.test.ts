import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

// In a fresh process: the module cache of the test runner already holds pg.
function loadIn(script: string): { undici: boolean; navigator: boolean; client: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { undici: boolean; navigator: boolean; client: string };
}

const report = `console.log(JSON.stringify({ undici: process.moduleLoadList.some((m) => m.includes('undici')), navigator: 'navigator' in globalThis, client: typeof pg.Client }))`;

it('loads pg without loading undici, and leaves no navigator behind', () => {
  const loaded = loadIn(`import { loadPg } from './dist/db/pg-driver.js'; const pg = loadPg(); ${report}`);
  expect(loaded.client).toBe('function');
  expect(loaded.undici).toBe(false);
  // Node 21+ has its own navigator; on 20 the one defined while pg loads is gone.
  expect(loaded.navigator).toBe(Number(process.versions.node.split('.')[0]) >= 21);
});

it('is what knex gets as its driver', () => {
  const loaded = loadIn(`import { KnexsafePgClient } from './dist/db/dialects.js'; const pg = KnexsafePgClient.prototype._driver(); ${report}`);
  expect(loaded.client).toBe('function');
  expect(loaded.undici).toBe(false);
});
