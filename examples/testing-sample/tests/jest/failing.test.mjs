import { expect, test } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkMigrations, knexsafeMatchers } from '../../../../dist/testing/index.js';

expect.extend(knexsafeMatchers);
const cwd = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Intentionally failing: unsafe-migrations/ adds a NOT NULL column without a default.
test('FAILS ON PURPOSE: an unsafe migration is caught', async () => {
  expect(await checkMigrations({ cwd, migrationsDir: 'unsafe-migrations' })).toHaveNoFindings({ severity: 'error' });
});
