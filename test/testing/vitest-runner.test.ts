import { describe, expect, it } from 'vitest';
import { expectSampleOutcome, NPX, runRunner, SAMPLE, type RunnerJson } from './sample.js';

describe('knexsafe/testing under vitest (examples/testing-sample)', () => {
  it('the passing example passes; the failing one fails listing the finding (rule, file:line, message)', async () => {
    const r = await runRunner(NPX, ['vitest', 'run', '--root', SAMPLE, '--reporter=json']);
    expect(r.code, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as RunnerJson;
    expectSampleOutcome(json);
  }, 170_000);
});
