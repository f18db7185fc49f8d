// vitest sets NODE_ENV=test; knexsafe, like knex, reads it to pick the knexfile environment.
// The tests want knex's default ("development") unless they say otherwise.
delete process.env.NODE_ENV;

// The warm cache of shadow states stays out of the user's cache folder: one of its own for the tests
// (shared by the test files, bounded like any other), unless a test names another.
import os from 'node:os';
import path from 'node:path';
process.env.KNEXSAFE_STATE_CACHE_DIR ??= path.join(os.tmpdir(), 'knexsafe-test-state-cache');
