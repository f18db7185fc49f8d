import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { check, type CheckReport } from '../../src/check/run.js';
import { verify } from '../../src/verify/run.js';
import { resolveProject } from '../../src/config/resolve.js';
import { openTarget } from '../../src/db/connect.js';
import { migrateLatest } from '../../src/migrations/history.js';
import { NEXT_MIGRATION } from '../../src/codegen/index.js';
import { ruleById } from '../../src/rules/registry.js';
import type { Finding, Severity } from '../../src/rules/types.js';
import { describeServer, SERVER_URL } from './pg.js';

/**
 * ESLint-RuleTester-style harness: every case is a real migration, run on a real shadow (embedded
 * PGlite and the PostgreSQL server) through the whole `check` pipeline; the rule's findings on the
 * case's migration are compared with what the case expects.
 */
export interface RuleCase {
  name: string;
  /** Migration bodies run before the case (they build the starting schema, and data if any). */
  setup?: string[];
  /** Body of `exports.up = async (knex) => { … }`. */
  up?: string;
  /** Body of `exports.down`; default: empty. */
  down?: string;
  /** `false` adds `exports.config = { transaction: false }`. */
  transaction?: false;
  /** A whole file instead of up/down (for suppression comments, TypeScript, …). */
  file?: string;
  /** File type of `file`: js (default), ts, or sql (checked statically, no shadow). */
  ext?: 'js' | 'ts' | 'sql';
  /** Target PostgreSQL version for the advice. */
  pgVersion?: number;
  /** Run in a project of its own (e.g. a migration that fails on purpose). */
  isolated?: boolean;
  /**
   * Later migrations (up bodies) pending together with the case: the setups are applied to an
   * embedded target first, and `check` runs the case and these as `knex migrate:latest` would —
   * one batch, one transaction. Runs in a project of its own; its fix is not run.
   */
  batchWith?: string[];
  /** For invalid cases: the findings of this rule on the case (in order of line). */
  errors?: ExpectedFinding[];
}

export interface ExpectedFinding {
  severity?: Severity;
  line?: number;
  message?: RegExp | string;
  /** The finding is silenced by a knexsafe-ignore comment. */
  suppressed?: boolean;
}

export interface RuleTests {
  valid: RuleCase[];
  invalid: RuleCase[];
}

export interface RuleTesterOptions {
  /** Check and verify the suggested fixes of the invalid cases (default true). */
  fixes?: boolean;
  /** Also run on the PostgreSQL server shadow (default true). */
  server?: boolean;
  /** The fix itself removes data by design (drop-column, drop-table): verify may report only that. */
  fixDestroysData?: boolean;
  /** Timeout of the fix test (default: vitest's): multi-migration fixes verify every step up → down → up. */
  fixTimeoutMs?: number;
}

function migrationFile(c: RuleCase): string {
  if (c.file !== undefined) return c.file;
  return [
    `exports.up = async function (knex) {`,
    c.up ?? '',
    `};`,
    ``,
    `exports.down = async function (knex) {`,
    c.down ?? '',
    `};`,
    c.transaction === false ? `\nexports.config = { transaction: false };` : '',
  ].join('\n');
}

function setupFile(body: string): string {
  return `exports.up = async function (knex) {\n${body}\n};\n\nexports.down = async function () {};\n`;
}

interface Layout {
  dir: string;
  /** case index → migration name of the case */
  caseNames: Map<number, string>;
}

/** Writes cases as one chain: each case's setup migrations, then the case. */
function writeProject(cases: RuleCase[], indices: number[], files: (c: RuleCase) => string[]): Layout {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-rule-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  const caseNames = new Map<number, string>();
  let counter = 100;
  const stamp = () => `20240101${String(counter++).padStart(6, '0')}`;
  for (const i of indices) {
    const c = cases[i]!;
    for (const [j, body] of (c.setup ?? []).entries()) {
      fs.writeFileSync(path.join(dir, 'migrations', `${stamp()}_c${i}_setup_${j}.js`), setupFile(body));
    }
    for (const [j, content] of files(c).entries()) {
      const ext = c.ext === 'ts' ? 'ts' : 'js';
      const name = `${stamp()}_c${i}_case${j === 0 ? '' : `_${j}`}.${ext}`;
      fs.writeFileSync(path.join(dir, 'migrations', name), content);
      if (j === 0) caseNames.set(i, name);
    }
  }
  return { dir, caseNames };
}

function matches(f: Finding, e: ExpectedFinding): boolean {
  if (e.severity && f.severity !== e.severity) return false;
  if (e.line !== undefined && f.line !== e.line) return false;
  if (e.message !== undefined && !(typeof e.message === 'string' ? f.message.includes(e.message) : e.message.test(f.message))) return false;
  if (e.suppressed !== undefined && Boolean(f.suppressed) !== e.suppressed) return false;
  return true;
}

function assertFindings(ruleId: string, c: RuleCase, findings: Finding[], expected: ExpectedFinding[]): void {
  const own = findings.filter((f) => f.rule === ruleId);
  const describe = (list: Finding[]) => list.map((f) => `  [${f.severity}] line ${f.line}: ${f.message}${f.suppressed ? ' (suppressed)' : ''}`).join('\n') || '  (none)';
  expect(own.length, `case "${c.name}": expected ${expected.length} finding(s) of ${ruleId}, got:\n${describe(own)}`).toBe(expected.length);
  expected.forEach((e, i) => {
    const f = own[i]!;
    expect(matches(f, e), `case "${c.name}": finding ${i} does not match ${JSON.stringify({ ...e, message: String(e.message) })}:\n${describe([f])}`).toBe(true);
  });
}

/** Case `i` with its setups applied to an embedded target and the case plus `batchWith` pending, checked as one knex batch. */
async function checkAsBatch(c: RuleCase, i: number, shadowUrl: string | undefined): Promise<{ report: CheckReport; name: string }> {
  const layout = writeProject([c], [0], () => []);
  const db = `embedded:${path.join(layout.dir, 'target')}`;
  const project = await resolveProject({ cwd: layout.dir, db });
  const target = await openTarget(project);
  try {
    await migrateLatest({ db: target, project });
  } finally {
    await target.close();
  }
  const files = [migrationFile(c), ...(c.batchWith ?? []).map((up) => migrationFile({ name: c.name, up }))];
  const names = files.map((_, j) => `20250101${String(j).padStart(6, '0')}_c${i}_case${j === 0 ? '' : `_${j}`}.js`);
  files.forEach((content, j) => {
    fs.writeFileSync(path.join(layout.dir, 'migrations', names[j]!), content);
  });
  const report = await check({ cwd: layout.dir, db, ...(shadowUrl ? { shadowUrl } : {}) });
  return { report, name: names[0]! };
}

export function ruleTester(ruleId: string, tests: RuleTests, options: RuleTesterOptions = {}): void {
  const rule = ruleById(ruleId);
  const all = [...tests.valid.map((c) => ({ c, expected: [] as ExpectedFinding[] })), ...tests.invalid.map((c) => ({ c, expected: c.errors ?? [{}] }))];
  const cases = all.map((x) => x.c);

  describe(`rule ${ruleId}`, () => {
    it('is registered and documented', () => {
      expect(rule, `rule ${ruleId} is not in the registry`).toBeDefined();
      expect(fs.existsSync(path.join(process.cwd(), 'docs/rules', `${ruleId}.md`)), `docs/rules/${ruleId}.md is missing`).toBe(true);
      expect(tests.valid.length, 'needs safe cases').toBeGreaterThan(0);
      expect(tests.invalid.length, 'needs unsafe cases').toBeGreaterThan(0);
    });

    const sqlCases = all.filter((x) => x.c.ext === 'sql');
    for (const { c, expected } of sqlCases) {
      it(`${expected.length ? 'flags' : 'accepts'} (SQL file): ${c.name}`, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-rule-sql-'));
        const file = path.join(dir, 'case.sql');
        fs.writeFileSync(file, c.file ?? '');
        const report = await check({ sqlFiles: [file], ...(c.pgVersion ? { pgVersion: c.pgVersion } : {}) });
        assertFindings(ruleId, c, report.findings, expected);
      });
    }

    const knexCases = all.map((x, i) => ({ ...x, i })).filter((x) => x.c.ext !== 'sql');
    const shared = knexCases.filter((x) => !x.c.isolated && !x.c.pgVersion && !x.c.batchWith);
    const separate = knexCases.filter((x) => x.c.isolated || x.c.pgVersion || x.c.batchWith);

    // The embedded run of the shared cases also yields the fixes the fix test checks.
    let embeddedRun: { report: CheckReport; layout: Layout } | undefined;
    const suite = (label: string, describeFn: typeof describe, shadowUrl: string | undefined) =>
      describeFn(`on the ${label} shadow`, () => {
        let report: CheckReport;
        let layout: Layout;
        beforeAll(async () => {
          if (shared.length === 0) return;
          layout = writeProject(
            cases,
            shared.map((x) => x.i),
            (c) => [migrationFile(c)],
          );
          report = await check({ cwd: layout.dir, all: true, ...(shadowUrl ? { shadowUrl } : {}) });
          if (!shadowUrl) embeddedRun = { report, layout };
        });
        for (const { c, expected, i } of shared) {
          it(`${expected.length ? 'flags' : 'accepts'}: ${c.name}`, () => {
            const name = layout.caseNames.get(i)!;
            const ran = report.migrations.find((m) => m.name === name);
            expect(ran, `case "${c.name}" did not run (an earlier case failed?): ${JSON.stringify(report.migrations.filter((m) => m.failed))}`).toBeDefined();
            assertFindings(
              ruleId,
              c,
              report.findings.filter((f) => f.migration === name),
              expected,
            );
          });
        }
        for (const { c, expected, i } of separate) {
          it(`${expected.length ? 'flags' : 'accepts'}: ${c.name}`, async () => {
            if (c.batchWith) {
              const batch = await checkAsBatch(c, i, shadowUrl);
              assertFindings(
                ruleId,
                c,
                batch.report.findings.filter((f) => f.migration === batch.name),
                expected,
              );
              return;
            }
            const own = writeProject(cases, [i], (x) => [migrationFile(x)]);
            const r = await check({ cwd: own.dir, all: true, ...(shadowUrl ? { shadowUrl } : {}), ...(c.pgVersion ? { pgVersion: c.pgVersion } : {}) });
            assertFindings(
              ruleId,
              c,
              r.findings.filter((f) => f.migration === own.caseNames.get(i)),
              expected,
            );
          });
        }
      });

    suite('embedded', describe, undefined);
    if (options.server !== false) suite('server', describeServer, SERVER_URL);

    const fixable = tests.invalid.filter((c) => c.ext !== 'sql' && !c.isolated && !c.pgVersion && !c.batchWith);
    if (options.fixes !== false && fixable.length > 0) {
      it(
        'its suggested fixes pass check (no errors) and verify (reversible)',
        async () => {
          // Find the fix of each invalid case, then run the setups with the fixes instead of the cases.
          expect(embeddedRun, 'the embedded run of the cases did not happen').toBeDefined();
          const { report, layout } = embeddedRun!;
          const fixes = new Map<number, string[]>();
          fixable.forEach((c, i) => {
            const name = layout.caseNames.get(cases.indexOf(c));
            const f = report.findings.find((x) => x.rule === ruleId && x.migration === name && x.fix);
            if (f?.fix)
              fixes.set(
                i,
                f.fix.code.split(NEXT_MIGRATION).map((s) => `${fillFixBlanks(s.trim())}\n`),
              );
          });
          const withFix = [...fixes.keys()];
          if (withFix.length === 0) return;
          const fixed = writeProject(fixable, withFix, (c) => fixes.get(fixable.indexOf(c)) ?? []);
          const fixedReport = await check({ cwd: fixed.dir, all: true });
          const caseMigrations = new Set(fs.readdirSync(path.join(fixed.dir, 'migrations')).filter((n) => /_case/.test(n)));
          const errors = fixedReport.findings.filter((f) => caseMigrations.has(f.migration) && f.severity === 'error');
          expect(
            errors.map((f) => `${f.migration}: ${f.rule}: ${f.message}`),
            'fixes must not raise errors',
          ).toEqual([]);
          expect(
            fixedReport.migrations.filter((m) => m.failed).map((m) => `${m.name}: ${m.failed?.message}`),
            'fixes must run',
          ).toEqual([]);
          const verified = await verify({ cwd: fixed.dir, names: [...caseMigrations] });
          const acceptable = (rule: string) => options.fixDestroysData === true && rule === 'down-destroys-data';
          const problems = verified.verdicts.flatMap((v) => v.findings.filter((f) => !acceptable(f.rule)).map((f) => `${v.name}: ${f.rule}: ${f.message}`));
          expect(problems, 'fixes must be reversible').toEqual([]);
        },
        options.fixTimeoutMs,
      );
    }
  });
}

/** A fix's code with the blanks it leaves for a person (a suppression's `<why …>` reason) filled as a person would. */
export function fillFixBlanks(code: string): string {
  return code.replace(/(knexsafe-ignore [\w-]+(?:, ?[\w-]+)*: )<[^<>]*>/g, '$1written by the person applying the fix');
}
