import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Embedded PostgreSQL (WASM) instances are memory-hungry: keep parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
    // Test files share a worker's module cache: PGlite's and libpg-query's WebAssembly and the
    // source modules load once per worker instead of once per file (the suite ran 6.5 → 4.7 min
    // here). Tests keep no global state between files: each opens and closes its own databases.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/setup.ts'],
  },
});
