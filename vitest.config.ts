import os from 'node:os';
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
    // The projects tests write under the temp folder (ks-* folders) load as Node loads them, as in
    // the CLI: Vite's transform would rewrite a migration's module (and what knexsafe reads of it)
    // in-process only. Only those: a checkout of this repository may itself sit in the temp folder.
    server: { deps: { external: [new RegExp(`^${os.tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/ks-`)] } },
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/setup.ts'],
  },
});
