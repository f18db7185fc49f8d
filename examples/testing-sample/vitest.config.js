// Only the vitest examples: the jest and node:test ones live next to them. One file at a time:
// each check or verify runs its own embedded PostgreSQL.
module.exports = { test: { include: ['tests/vitest/**/*.test.mjs'], fileParallelism: false, testTimeout: 120_000 } };
