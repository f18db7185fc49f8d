import { describe, expect, it } from 'vitest';
import { check } from '../../src/check/run.js';

/**
 * A fix's suppression comes with a placeholder reason (`<why these rows are disposable>`,
 * truncate-table's): pasted as it is, it must not silence the finding — the reason is a blank only
 * a person can fill. (The language server's `REASON — why this is safe here`: test/lsp.)
 */
describe('a placeholder is not a reason', () => {
  const sql = (reason: string) => `CREATE TABLE audit_log (id int);\n-- knexsafe-ignore truncate-table: ${reason}\nTRUNCATE audit_log;\n`;

  it('`<…>` as the reason leaves the finding and says the placeholder must be replaced', async () => {
    const report = await check({ sqlFiles: ['-'], stdin: sql('<why these rows are disposable>') });
    const truncate = report.findings.find((f) => f.rule === 'truncate-table');
    expect(truncate?.suppressed).toBeUndefined();
    const blank = report.findings.find((f) => f.rule === 'ignore-without-reason');
    expect(blank?.severity).toBe('error');
    expect(blank?.message).toBe('knexsafe-ignore truncate-table still has the placeholder "<why these rows are disposable>" as its reason: write why it is safe here; the finding stays.');
  });

  it('a written reason silences it', async () => {
    const report = await check({ sqlFiles: ['-'], stdin: sql('a cache, rebuilt nightly') });
    // Suppressed findings are counted, not listed.
    expect(report.findings.filter((f) => f.rule === 'truncate-table' && !f.suppressed)).toEqual([]);
    expect(report.findings.filter((f) => f.rule === 'ignore-without-reason')).toEqual([]);
  });
});
