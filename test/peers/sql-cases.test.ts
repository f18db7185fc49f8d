import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../../src/check/run.js';
import { ruleById } from '../../src/rules/registry.js';

/**
 * The SQL cases that bench/peers/compare.mjs runs through knexsafe, squawk and pgfence. Each file's
 * header says which knexsafe rules it must produce (`-- expect: a, b` or `none`) and for which
 * PostgreSQL version (`-- pg: 10`; 15 otherwise). This keeps the cases — and so the comparison's
 * "knexsafe misses nothing squawk catches" — honest in `npm test`, without squawk installed.
 */

const DIR = path.join(process.cwd(), 'test/fixtures/sql-cases');

interface SqlCase {
  file: string;
  name: string;
  pg: number;
  expect: string[];
  explained: string[];
}

function readCases(): SqlCase[] {
  return fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => {
      const file = path.join(DIR, name);
      const headers: [string, string][] = [];
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const m = /^--\s*([a-z-]+):\s*(.*)$/.exec(line);
        if (!m) break;
        headers.push([m[1]!, m[2]!.trim()]);
      }
      const get = (key: string) => headers.find(([k]) => k === key)?.[1];
      const expected = get('expect');
      return {
        file,
        name,
        pg: Number(get('pg') ?? 15),
        expect: !expected || expected === 'none' ? [] : expected.split(',').map((s) => s.trim()),
        explained: headers.filter(([k]) => k === 'knexsafe-only').map(([, v]) => v.slice(0, v.indexOf(':')).trim()),
      };
    });
}

const cases = readCases();
const versions = [...new Set(cases.map((c) => c.pg))].sort((a, b) => a - b);

describe('SQL cases of the peer comparison (test/fixtures/sql-cases)', () => {
  it('has cases, each with an expect header naming known rules', () => {
    expect(cases.length).toBeGreaterThan(50);
    for (const c of cases) {
      const text = fs.readFileSync(c.file, 'utf8');
      expect(/^-- expect: /m.test(text), `${c.name} has no "-- expect:" header`).toBe(true);
      for (const id of [...c.expect, ...c.explained]) expect(ruleById(id), `${c.name} names an unknown rule ${id}`).toBeDefined();
    }
  });

  for (const pg of versions) {
    const group = cases.filter((c) => c.pg === pg);
    it(`knexsafe reports exactly the expected rules on the ${group.length} case(s) for PostgreSQL ${pg}`, async () => {
      const report = await check({ sqlFiles: group.map((c) => c.file), pgVersion: pg });
      const mismatches: string[] = [];
      for (const c of group) {
        const got = [...new Set(report.findings.filter((f) => f.migration === c.name && !f.suppressed).map((f) => f.rule))].sort();
        const want = [...new Set(c.expect)].sort();
        if (got.join() !== want.join()) mismatches.push(`${c.name}: got [${got.join(', ')}], expected [${want.join(', ')}]`);
      }
      expect(mismatches).toEqual([]);
    });
  }
});
