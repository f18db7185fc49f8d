import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSqlFiles } from '../../src/check/sql-files.js';
import { formatJson, formatText } from '../../src/report/format.js';
import { lazyFix } from '../../src/rules/lazy-fix.js';
import pc from 'picocolors';
import { REPO_ROOT } from '../helpers/cli.js';

const plain = pc.createColors(false);

describe('lazyFix: fix code written when read', () => {
  it('writes the code once, on first read, and is then an ordinary property after the fields', () => {
    let writes = 0;
    const fix = lazyFix({ description: 'd', covers: [] }, () => `code ${++writes}`);
    expect(writes).toBe(0);
    expect(Object.keys(fix)).toEqual(['description', 'covers', 'code']);
    expect(JSON.stringify(fix)).toBe('{"description":"d","covers":[],"code":"code 1"}');
    expect(fix.code).toBe('code 1');
    expect(writes).toBe(1);
    expect(Object.getOwnPropertyDescriptor(fix, 'code')).toMatchObject({ value: 'code 1', enumerable: true, writable: true });
  });

  it('a copy of its descriptors shares the one writing; spreading reads it', () => {
    let writes = 0;
    const fix = lazyFix({ description: 'd' }, () => `code ${++writes}`);
    const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(fix)) as { code: string };
    expect(writes).toBe(0);
    expect(copy.code).toBe('code 1');
    expect({ ...fix }).toEqual({ description: 'd', code: 'code 1' });
    expect(writes).toBe(1);
  });

  it('check file.sql: no fix code is written for the default text output, all of it for --json', async () => {
    const report = await checkSqlFiles({ sqlFiles: [path.join(REPO_ROOT, 'test/fixtures/rawsql/many-findings.sql')] });
    const unwritten = () => report.findings.filter((f) => f.fix && typeof Object.getOwnPropertyDescriptor(f.fix, 'code')?.get === 'function').length;
    const lazy = unwritten();
    // index-not-concurrent, column-type-rewrite and foreign-key-not-valid write their code lazily.
    expect(lazy).toBeGreaterThanOrEqual(10);
    formatText(report, plain);
    expect(unwritten()).toBe(lazy);
    const json = JSON.parse(JSON.stringify(formatJson(report))) as { findings: { fix?: { code: string } }[] };
    expect(json.findings.filter((f) => f.fix && !f.fix.code)).toEqual([]);
    expect(unwritten()).toBe(0);
  });
});
