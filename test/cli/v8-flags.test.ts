import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const FLAGS = pathToFileURL(path.join(REPO_ROOT, 'dist/cli/v8-flags.js')).href;

/**
 * A process that starts a worker thread (as the embedded shadow's watchdog does), waits until it
 * is online, then keeps ~40 MB of young objects alive across scavenges, which is what makes V8 grow
 * its young generation. Prints the new space's size in MB.
 */
function youngGenerationAfterWork(withCliFlags: boolean): number {
  const script = `
    ${withCliFlags ? `await import(${JSON.stringify(FLAGS)});` : ''}
    const { Worker } = await import('node:worker_threads');
    const v8 = await import('node:v8');
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const kept = [];
    for (let i = 0; i < 400_000; i++) kept.push({ i, s: 'x' + i, a: [i, i] });
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(space.space_size / 1048576, kept.length);
    await worker.terminate();
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return Number(run.stdout.trim().split(' ')[0]);
}

describe('the CLI V8 flags', () => {
  it('keep the young generation at its first size, also once a worker thread has started', () => {
    // Without them the same work grows it (else this test could not tell).
    expect(youngGenerationAfterWork(false)).toBeGreaterThan(8);
    expect(youngGenerationAfterWork(true)).toBeLessThanOrEqual(4);
  });
});
