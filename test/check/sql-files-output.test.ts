import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

// `check file.sql` builds what it reports (fix code, explanations, lock descriptions) only for the
// output that shows it. These goldens were written by the CLI before that work was made lazy, so
// every format must still print exactly what it printed then. Rewrite them only for an intended
// change of the output: KNEXSAFE_WRITE_GOLDEN=1 npx vitest run test/check/sql-files-output.test.ts
const DIR = path.join(REPO_ROOT, 'test/fixtures/rawsql');
const SQL = 'test/fixtures/rawsql/many-findings.sql';

const FORMATS: { name: string; args: string[] }[] = [
  { name: 'text', args: [] },
  { name: 'verbose.text', args: ['--verbose'] },
  { name: 'json', args: ['--json'] },
  { name: 'sarif.json', args: ['--format', 'sarif'] },
  { name: 'github.text', args: ['--format', 'github'] },
];

/** What changes from run to run or machine to machine: the duration and where the repository is. */
function normalize(output: string): string {
  return output
    .replaceAll(REPO_ROOT, '<repo>')
    .replace(/"durationMs": \d+/g, '"durationMs": 0')
    .replace(/, \d+(\.\d+)? m?s$/m, ', <duration>');
}

describe('check file.sql: every output format as before the raw SQL path was made lazy', () => {
  for (const format of FORMATS) {
    it(`${format.name}: byte for byte the golden output`, async () => {
      const r = await runCli(['check', SQL, ...format.args]);
      expect(r.code, r.stderr).toBe(1);
      const golden = path.join(DIR, `many-findings.${format.name}.golden`);
      const got = normalize(r.stdout);
      if (process.env.KNEXSAFE_WRITE_GOLDEN === '1') fs.writeFileSync(golden, got);
      expect(got).toBe(fs.readFileSync(golden, 'utf8'));
    });
  }

  it('stdin (-): the same findings as the file', async () => {
    const file = await runCli(['check', SQL, '--json']);
    const stdin = await runCli(['check', '-', '--json'], { input: fs.readFileSync(path.join(REPO_ROOT, SQL), 'utf8') });
    expect(stdin.code, stdin.stderr).toBe(1);
    const findings = (text: string) => (JSON.parse(text) as { findings: unknown[] }).findings;
    const asStdin = file.stdout.replaceAll(SQL, '<stdin>').replaceAll(path.basename(SQL), '<stdin>');
    expect(findings(stdin.stdout)).toEqual(findings(asStdin));
    expect(findings(file.stdout).length).toBeGreaterThanOrEqual(40);
  });
});
