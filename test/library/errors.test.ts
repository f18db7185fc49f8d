import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/cli.js';

const codes = Object.keys(ERROR_CODES).sort();

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes of ERROR_CODES, each with its description', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs/errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!.replaceAll('\\|', '|')] as const);
    expect(rows.map(([code]) => code).sort(), 'run node scripts/gen-errors-doc.mjs').toEqual(codes);
    for (const [code, meaning] of rows) expect(meaning, code).toBe(ERROR_CODES[code as keyof typeof ERROR_CODES]);
  });

  it('every listed code is used in src/, and every code the CLI writes into JSON by hand is listed', () => {
    const src = path.join(REPO_ROOT, 'src');
    const text = sourceFiles(src)
      .filter((f) => f !== path.join(src, 'errors.ts'))
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    expect(codes.filter((code) => !text.includes(`'${code}'`))).toEqual([]);
    // KnexsafeError's code is typed (tsc rejects an unknown one); these plain objects are not.
    const handWritten = [...text.matchAll(/error: \{ code: '([A-Z_]+)'/g)].map((m) => m[1]!);
    expect(handWritten.length).toBeGreaterThan(0);
    expect(handWritten.filter((code) => !(code in ERROR_CODES))).toEqual([]);
  });
});
