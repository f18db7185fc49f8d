import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// In a project of your own: import { ... } from 'knexsafe/testing';
import { assertReversible, assertSafe, checkMigrations, verifyMigrations } from '../../../../dist/testing/index.js';

const cwd = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the migrations are safe to deploy and reversible', async () => {
  assertSafe(await checkMigrations({ cwd }), { severity: 'error' });
  assertReversible(await verifyMigrations({ cwd }));
});
