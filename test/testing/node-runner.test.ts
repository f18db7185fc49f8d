import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRunner, SAMPLE, VERIFY_MESSAGE } from './sample.js';

describe('knexsafe/testing under node:test (examples/testing-sample)', () => {
  it('the passing example passes; the failing one fails naming the migration that is not reversible and why', async () => {
    const r = await runRunner(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', path.join(SAMPLE, 'tests/node/')]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ok \d+ - the migrations are safe to deploy and reversible$/m);
    expect(r.stdout).toMatch(/^not ok \d+ - FAILS ON PURPOSE: a migration whose down does not undo its up is caught$/m);
    expect(r.stdout).toContain("name: 'KnexsafeAssertionError'");
    expect(r.stdout).toContain('knexsafe verify: 1 of 2 migrations is not reversible:');
    expect(r.stdout).toContain(VERIFY_MESSAGE);
    expect(r.stdout).toContain('down-missing: down runs no SQL, but up changed the schema');
    expect(r.stdout).toMatch(/^# pass 1$/m);
    expect(r.stdout).toMatch(/^# fail 1$/m);
  }, 170_000);
});
