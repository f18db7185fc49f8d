import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

describe('knexsafe/testing entry point', () => {
  it('resolves through package.json "exports" (as a project imports it) with its functions and matchers', () => {
    const script = `import('knexsafe/testing').then((m) => console.log(JSON.stringify({ keys: Object.keys(m).sort(), matchers: Object.keys(m.knexsafeMatchers).sort() })))`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      keys: ['KnexsafeAssertionError', 'assertReversible', 'assertSafe', 'checkMigrations', 'knexsafeMatchers', 'verifyMigrations'],
      matchers: ['toBeReversible', 'toHaveNoFindings'],
    });
  });

  it('assertions refuse the other kind of result with a clear TypeError', async () => {
    const { assertReversible } = await import('../../src/testing/index.js');
    expect(() => assertReversible({ kind: 'check' } as never)).toThrow('assertReversible expects the result of verifyMigrations(), got the result of checkMigrations().');
  });
});
