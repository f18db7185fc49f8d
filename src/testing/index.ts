/**
 * `knexsafe/testing`: knexsafe's check and verify inside a project's own test suite (vitest, jest,
 * node:test) — typed results, assertions that throw a readable error, and matchers for
 * `expect.extend`. Runs on the embedded shadow by default (no database needed), or on a temporary
 * database of `shadowUrl`.
 */
import path from 'node:path';
import { check, type CheckReport } from '../check/run.js';
import { verify, type VerifyCommandResult } from '../verify/run.js';
import type { Finding, Severity } from '../rules/types.js';
// Loaded up front here, not on first use as the CLI does: jest's ES module support fails when two
// dynamic imports link the same modules at once ("request for … is not in cache"), and check loads
// its runner and its rules side by side. A test suite pays for them once either way.
import '../capture/session.js';
import '../schema/incremental.js';
import '../sql/parse.js';
import '../rules/analyze.js';
import '../rules/engine.js';
import '../rules/registry.js';
import '../cache/plan.js';
import '../db/connect.js';

export type { Finding, Severity } from '../rules/types.js';

export interface MigrationTestOptions {
  /** The project folder (where its knexfile is); default process.cwd(). */
  cwd?: string;
  knexfile?: string;
  /** The knexfile's environment (default: NODE_ENV, else development, as knex does). */
  env?: string;
  /** A migrations folder other than the knexfile's, relative to cwd. */
  migrationsDir?: string;
  /** A server to create the shadow database on (`--shadow-url`); default: embedded PostgreSQL. */
  shadowUrl?: string;
  /** Only these migrations (names with or without extension); default: all. */
  migrations?: string[];
  /** Longest a migration may run on the shadow, in ms. */
  timeoutMs?: number;
  /** The warm cache of shadow states, as the CLI uses it (default true; KNEXSAFE_NO_CACHE=1 also turns it off). */
  cache?: boolean;
}

export interface MigrationCheckResult extends CheckReport {
  kind: 'check';
  /** The project folder, for file names relative to it in messages. */
  cwd: string;
}

export interface MigrationVerifyResult extends VerifyCommandResult {
  kind: 'verify';
  cwd: string;
}

function projectOptions(options: MigrationTestOptions) {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  return {
    cwd,
    cache: options.cache ?? true,
    ...(options.knexfile !== undefined ? { knexfile: options.knexfile } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.migrationsDir !== undefined ? { migrationsDir: path.resolve(cwd, options.migrationsDir) } : {}),
    ...(options.shadowUrl !== undefined ? { shadowUrl: options.shadowUrl } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.migrations?.length ? { names: options.migrations } : { all: true }),
  };
}

/** `knexsafe check --all` on a shadow: every migration's statements, locks and findings. Never touches the project's database. */
export async function checkMigrations(options: MigrationTestOptions = {}): Promise<MigrationCheckResult> {
  const opts = projectOptions(options);
  const report = await check(opts);
  return { ...report, kind: 'check', cwd: opts.cwd };
}

/** `knexsafe verify` on a shadow: up → down → up for each migration, with schema and data compared. */
export async function verifyMigrations(options: MigrationTestOptions = {}): Promise<MigrationVerifyResult> {
  const opts = projectOptions(options);
  const report = await verify(opts);
  return { ...report, kind: 'verify', cwd: opts.cwd };
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** The error the assertions throw: the message lists what was found; `findings` has it as data. */
export class KnexsafeAssertionError extends Error {
  override name = 'KnexsafeAssertionError';
  constructor(
    message: string,
    readonly findings: readonly unknown[],
  ) {
    super(message);
  }
}

function where(file: string, line: number | undefined, cwd: string): string {
  const rel = path.relative(cwd, file);
  const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  return `${shown}${line ? `:${line}` : ''}`;
}

function assertKind<K extends 'check' | 'verify'>(result: unknown, kind: K, what: string): asserts result is K extends 'check' ? MigrationCheckResult : MigrationVerifyResult {
  const got = (result as { kind?: unknown } | null | undefined)?.kind;
  if (got !== kind) {
    throw new TypeError(
      `${what} expects the result of ${kind === 'check' ? 'checkMigrations()' : 'verifyMigrations()'}${got === 'check' || got === 'verify' ? `, got the result of ${got}Migrations()` : ''}.`,
    );
  }
}

interface SafetyProblems {
  findings: Finding[];
  failed: { name: string; file: string; message: string }[];
  severity: Severity;
}

function safetyProblems(result: MigrationCheckResult, severity: Severity): SafetyProblems {
  return {
    findings: result.findings.filter((f) => !f.suppressed && RANK[f.severity] <= RANK[severity]),
    failed: result.migrations.filter((m) => m.failed).map((m) => ({ name: m.name, file: m.file, message: m.failed!.message })),
    severity,
  };
}

function safetyText(p: SafetyProblems, cwd: string): string {
  const level = p.severity === 'info' ? 'findings' : p.severity === 'warning' ? 'findings of severity warning or error' : 'findings of severity error';
  const lines: string[] = [];
  if (p.findings.length) lines.push(`knexsafe found ${p.findings.length} ${p.findings.length === 1 ? level.replace('findings', 'finding') : level}:`);
  for (const f of p.findings) lines.push(`  ${f.severity} ${f.rule} at ${where(f.file, f.line, cwd)}: ${f.message}`);
  if (p.failed.length) lines.push(`${p.failed.length} migration${p.failed.length === 1 ? '' : 's'} failed on the shadow database:`);
  for (const m of p.failed) lines.push(`  ${m.name} (${where(m.file, undefined, cwd)}): ${m.message}`);
  return lines.join('\n');
}

/** Throws a KnexsafeAssertionError listing every unsuppressed finding at `severity` or worse (default error), and migrations that failed. */
export function assertSafe(result: MigrationCheckResult, options: { severity?: Severity } = {}): void {
  assertKind(result, 'check', 'assertSafe');
  const problems = safetyProblems(result, options.severity ?? 'error');
  if (problems.findings.length || problems.failed.length) throw new KnexsafeAssertionError(safetyText(problems, result.cwd), [...problems.findings, ...problems.failed]);
}

function irreversible(result: MigrationVerifyResult) {
  return result.verdicts.filter((v) => v.status !== 'reversible');
}

function reversibleText(result: MigrationVerifyResult): string {
  const bad = irreversible(result);
  const lines = [`knexsafe verify: ${bad.length} of ${result.verdicts.length} migration${result.verdicts.length === 1 ? '' : 's'} ${bad.length === 1 ? 'is' : 'are'} not reversible:`];
  for (const v of bad) {
    lines.push(`  ${v.name} (${where(v.file, undefined, result.cwd)}): ${v.status}`);
    for (const f of v.findings) lines.push(`    ${f.rule}: ${f.message}`);
  }
  if (result.notReached.length) lines.push(`Not reached (after a failing up): ${result.notReached.join(', ')}`);
  return lines.join('\n');
}

/** Throws a KnexsafeAssertionError naming each migration whose down does not undo its up (and why). */
export function assertReversible(result: MigrationVerifyResult): void {
  assertKind(result, 'verify', 'assertReversible');
  const bad = irreversible(result);
  if (bad.length || result.notReached.length) throw new KnexsafeAssertionError(reversibleText(result), bad);
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

/**
 * Matchers for `expect.extend(knexsafeMatchers)` (vitest and jest):
 * `expect(await verifyMigrations()).toBeReversible()`,
 * `expect(await checkMigrations()).toHaveNoFindings({ severity: 'error' })`.
 */
export const knexsafeMatchers = {
  toBeReversible(received: unknown): MatcherResult {
    assertKind(received, 'verify', 'toBeReversible()');
    const pass = irreversible(received).length === 0 && received.notReached.length === 0;
    return { pass, message: () => (pass ? `expected a migration not to be reversible, but all ${received.verdicts.length} are` : reversibleText(received)) };
  },
  toHaveNoFindings(received: unknown, options: { severity?: Severity } = {}): MatcherResult {
    assertKind(received, 'check', 'toHaveNoFindings()');
    const problems = safetyProblems(received, options.severity ?? 'info');
    const pass = problems.findings.length === 0 && problems.failed.length === 0;
    return { pass, message: () => (pass ? `expected knexsafe findings, but there were none in ${received.migrations.length} migrations` : safetyText(problems, received.cwd)) };
  },
};

/**
 * For TypeScript users: add the matchers to expect's types, e.g. for vitest
 * `declare module 'vitest' { interface Assertion<T = any> extends KnexsafeMatchers<T> {} }`.
 */
export interface KnexsafeMatchers<R = unknown> {
  toBeReversible(): R;
  toHaveNoFindings(options?: { severity?: Severity }): R;
}
