import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectSampleOutcome, NPX, runRunner, SAMPLE, type RunnerJson } from './sample.js';

describe('knexsafe/testing under jest (examples/testing-sample)', () => {
  it('the passing example passes; the failing one fails listing the finding (rule, file:line, message)', async () => {
    // ES module tests under jest need Node's VM modules (jest's documented way).
    const r = await runRunner(NPX, ['jest', '--config', path.join(SAMPLE, 'jest.config.cjs'), '--rootDir', SAMPLE, '--runInBand', '--json'], { NODE_OPTIONS: '--experimental-vm-modules' });
    expect(r.code, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout) as RunnerJson;
    expectSampleOutcome(json);
  }, 170_000);
});
