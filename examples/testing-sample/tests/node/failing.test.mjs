import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertReversible, verifyMigrations } from '../../../../dist/testing/index.js';

const cwd = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Intentionally failing: the down of unsafe-migrations/20240102000000_add_accounts_plan.js does nothing.
test('FAILS ON PURPOSE: a migration whose down does not undo its up is caught', async () => {
  assertReversible(await verifyMigrations({ cwd, migrationsDir: 'unsafe-migrations' }));
});
