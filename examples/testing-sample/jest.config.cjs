// ES module tests (.mjs) run under jest with NODE_OPTIONS=--experimental-vm-modules; no transform needed.
module.exports = {
  testMatch: ['<rootDir>/tests/jest/**/*.test.mjs'],
  transform: {},
  testEnvironment: 'node',
  testTimeout: 120_000,
  maxWorkers: 1,
};
