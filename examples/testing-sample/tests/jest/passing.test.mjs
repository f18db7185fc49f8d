import { expect, test } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// In a project of your own: import { ... } from 'knexsafe/testing';
import { checkMigrations, knexsafeMatchers, verifyMigrations } from '../../../../dist/testing/index.js';

expect.extend(knexsafeMatchers);
const cwd = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the migrations are safe to deploy and reversible', async () => {
  expect(await checkMigrations({ cwd })).toHaveNoFindings({ severity: 'error' });
  expect(await verifyMigrations({ cwd })).toBeReversible();
});
