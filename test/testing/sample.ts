import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

/** The sample project whose tests use knexsafe/testing (built dist) under vitest, jest and node:test. */
export const SAMPLE = path.join(REPO_ROOT, 'examples/testing-sample');

/** Runs a test runner on the sample as a user's CI would, from the repository root, after `npm run build`. */
export function runRunner(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist/testing/index.js'))) throw new Error('dist/testing/index.js is missing: run npm run build (npm test does it)');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      // Not this test's own vitest worker settings: the runner is a fresh process, as in CI.
      // The three runners share a warm cache of their own (keyed by knexsafe's build, so never stale):
      // the same checks run under each, and only the first pays for a cold shadow.
      env: { ...cleanEnv(), NO_COLOR: '1', FORCE_COLOR: '0', CI: '1', KNEXSAFE_STATE_CACHE_DIR: path.join(os.tmpdir(), 'ks-testing-cache'), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end();
  });
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('VITEST') || k === 'NODE_OPTIONS' || k === 'TEST' || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  return env;
}

export const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** What the failing examples must say: the rule, where, and why (check), or which migration is not reversible and why (verify). */
export const UNSAFE_FILE = 'unsafe-migrations/20240102000000_add_accounts_plan.js';
export const CHECK_MESSAGE = `error add-column-not-null-no-default at ${UNSAFE_FILE}:3: Adding accounts.plan NOT NULL without a default fails as soon as accounts has a row`;
export const VERIFY_MESSAGE = `20240102000000_add_accounts_plan.js (${UNSAFE_FILE}): not-reversible`;

/** The JSON report vitest and jest both write: per file, the outcome of each test. */
export interface RunnerJson {
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

/** The sample's two tests under vitest or jest: the passing one passed, the failing one failed listing the finding. */
export function expectSampleOutcome(json: RunnerJson): void {
  const results = Object.fromEntries(json.testResults.flatMap((f) => f.assertionResults.map((a) => [a.title, a])));
  expect(Object.keys(results).sort()).toEqual(['FAILS ON PURPOSE: an unsafe migration is caught', 'the migrations are safe to deploy and reversible']);
  const passing = results['the migrations are safe to deploy and reversible'];
  expect(passing?.status, passing?.failureMessages.join('\n')).toBe('passed');
  const failed = results['FAILS ON PURPOSE: an unsafe migration is caught'];
  expect(failed?.status).toBe('failed');
  expect(failed?.failureMessages.join('\n')).toContain('knexsafe found 1 finding of severity error:');
  expect(failed?.failureMessages.join('\n')).toContain(CHECK_MESSAGE);
}
