import { describe, expect, it } from 'vitest';
import { CHECK_MESSAGE, NPX, runRunner, SAMPLE } from './sample.js';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

describe('knexsafe/testing under vitest (examples/testing-sample)', () => {
  it('the passing example passes; the failing one fails listing the finding (rule, file:line, message)', async () => {
    const r = await runRunner(NPX, ['vitest', 'run', '--root', SAMPLE, '--reporter=json']);
    expect(r.code, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as VitestJson;
    const results = Object.fromEntries(json.testResults.flatMap((f) => f.assertionResults.map((a) => [a.title, a])));
    expect(Object.keys(results).sort()).toEqual(['FAILS ON PURPOSE: an unsafe migration is caught', 'the migrations are safe to deploy and reversible']);
    const passing = results['the migrations are safe to deploy and reversible'];
    expect(passing?.status, passing?.failureMessages.join('\n')).toBe('passed');
    const failed = results['FAILS ON PURPOSE: an unsafe migration is caught'];
    expect(failed?.status).toBe('failed');
    expect(failed?.failureMessages.join('\n')).toContain('knexsafe found 1 finding of severity error:');
    expect(failed?.failureMessages.join('\n')).toContain(CHECK_MESSAGE);
  }, 170_000);
});
