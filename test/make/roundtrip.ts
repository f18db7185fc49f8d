import { expect } from 'vitest';
import { check } from '../../src/check/run.js';
import { makeMigration, type MakeOptions, type MakeResult } from '../../src/make/run.js';
import { verify } from '../../src/verify/run.js';

export type MakeSpec = string | ({ name: string } & Partial<Omit<MakeOptions, 'name' | 'cwd'>>);

/** Generates each name into the project, in order (each sees the schema the earlier ones left). */
export async function makeAll(cwd: string, specs: MakeSpec[]): Promise<Map<string, MakeResult>> {
  const results = new Map<string, MakeResult>();
  for (const spec of specs) {
    const options = typeof spec === 'string' ? { name: spec } : spec;
    results.set(options.name, await makeMigration({ cwd, ...options }));
  }
  return results;
}

/** `check --all` finds no error and `verify` proves every migration reversible, on the given shadow. */
export async function expectCheckedAndReversible(cwd: string, shadowUrl: string | undefined): Promise<void> {
  const report = await check({ cwd, all: true, ...(shadowUrl ? { shadowUrl } : {}) });
  const failed = report.migrations.filter((m) => m.failed).map((m) => `${m.name}: ${m.failed?.message}`);
  expect(failed).toEqual([]);
  const errors = report.findings.filter((f) => f.severity === 'error' && !f.suppressed).map((f) => `${f.rule} ${f.migration}: ${f.message}`);
  expect(errors).toEqual([]);
  // The hazards the safe patterns exist to avoid must not show up at any severity.
  const avoided = [
    'missing-lock-timeout',
    'index-not-concurrent',
    'unique-constraint-locks',
    'foreign-key-not-valid',
    'check-not-valid',
    'validate-in-same-transaction',
    'set-not-null-scan',
    'column-type-rewrite',
    'table-rewrite',
    'unbatched-backfill',
    'lock-held-across-batch',
    'concurrently-in-transaction',
    'knex-alter-drops-default',
    'knex-enum-type-leak',
    'unused-ignore',
    'ignore-without-reason',
  ];
  const hazards = report.findings.filter((f) => avoided.includes(f.rule) && !f.suppressed && !f.migration.startsWith('20240101')).map((f) => `${f.rule} ${f.migration}: ${f.message}`);
  expect(hazards).toEqual([]);

  const proof = await verify({ cwd, ...(shadowUrl ? { shadowUrl } : {}) });
  const notReversible = proof.verdicts.filter((v) => v.status !== 'reversible').map((v) => `${v.name}: ${v.findings.map((f) => f.message).join('; ')}`);
  expect(notReversible).toEqual([]);
}
