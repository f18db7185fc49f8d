import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';

/**
 * What the warm-cache tests share (warm-cache.test.ts, warm-cache-fixtures.test.ts; two files so
 * that the 2 workers run them side by side): private chain copies, runs of the built CLI with the
 * cache traced, and cold references of the example shop.
 */

export const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-warm-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
/** Test files share a worker's modules (isolate: false): the first file's afterAll removed the folder a later file of the worker still uses. */
const scratchDir = () => {
  fs.mkdirSync(scratch, { recursive: true });
  return scratch;
};

let copies = 0;
/** A private copy of a chain: cache keys include the project's path, and the tests edit files. */
export function copyChain(from: string): string {
  const dir = path.join(scratchDir(), `chain-${copies++}`);
  fs.cpSync(from, dir, { recursive: true });
  return dir;
}

export function freshCacheDir(): string {
  return fs.mkdtempSync(path.join(scratchDir(), 'cache-'));
}

export type Command = 'check' | 'verify';
export const ARGS: Record<Command, string[]> = { check: ['check', '--all', '--json'], verify: ['verify', '--json'] };

export interface Run {
  code: number;
  /** The JSON result without what differs between any two runs (durations, timings). */
  json: unknown;
  /** Migrations the run took from the cache (KNEXSAFE_CACHE_TRACE), undefined when it did not use one. */
  fromCache: number | undefined;
  raw: CliResult;
}

/** Also the copy's folder as <project>: a cold run of one copy is the reference for another copy of the same chain. */
function normalise(value: unknown, dir: string): unknown {
  if (typeof value === 'string') return value.split(dir).join('<project>');
  if (Array.isArray(value)) return value.map((v) => normalise(v, dir));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'durationMs' || k === 'shadowReadyMs' || k === 'timings') continue;
      out[k] = normalise(v, dir);
    }
    return out;
  }
  return value;
}

export async function run(command: Command, cwd: string, cacheDir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  const raw = await runCli([...ARGS[command], '--cwd', cwd, ...extra], { env: { KNEXSAFE_STATE_CACHE_DIR: cacheDir, KNEXSAFE_CACHE_TRACE: '1', ...env } });
  let json: unknown;
  try {
    json = normalise(JSON.parse(raw.stdout), cwd);
  } catch {
    throw new Error(`${command} in ${cwd} printed no JSON (exit ${raw.code}):\n${raw.stdout}\n${raw.stderr}`);
  }
  const traced = /knexsafe cache: (\d+) of \d+ migrations from the cache/.exec(raw.stderr);
  return { code: raw.code, json, fromCache: traced ? Number(traced[1]) : undefined, raw };
}

export function expectSame(actual: Run, expected: Run, what: string): void {
  expect(actual.json, what).toEqual(expected.json);
  expect(actual.code, what).toBe(expected.code);
}

export function migrationFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (/migrations/.test(full) && /\.(c|m)?[jt]s$/.test(e.name)) found.push(full);
    }
  };
  walk(dir);
  return found.sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
}

/**
 * Changes a migration's bytes and nothing it does (a comment at the end keeps every line number).
 * The same comment every time: check's fix code quotes the file, and two copies edited alike must
 * print the same (the shared references below).
 */
export function touch(file: string): void {
  fs.appendFileSync(file, '\n// edited\n');
}

export const shop = path.join(REPO_ROOT, 'examples/shop');

/**
 * Cold (--no-cache) runs of the example shop, as it is and with its newest migration edited, each
 * made once on a copy of its own and shared by the tests that compare a run of their copy with it:
 * a cold run costs a whole shadow, and the suite must stay bounded on 2 cores.
 */
const references = new Map<string, Promise<Run>>();
export function shopReference(command: Command, edit: 'as is' | 'newest edited'): Promise<Run> {
  const key = `${command} ${edit}`;
  let made = references.get(key);
  if (!made) {
    const dir = copyChain(shop);
    if (edit === 'newest edited') touch(migrationFiles(dir).at(-1)!);
    made = run(command, dir, freshCacheDir(), ['--no-cache']);
    references.set(key, made);
  }
  return made;
}
