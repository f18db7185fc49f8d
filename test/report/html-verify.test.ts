import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { externalReferences } from './shop-batch.js';

describe('verify --format html', () => {
  it('shows each verdict, the schema down did not restore and the data it lost', async () => {
    // A copy outside this repository, whose package.json would make the CommonJS fixture ESM.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-verify-html-'));
    fs.cpSync(path.join(REPO_ROOT, 'test/fixtures/verify-broken'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
    const out = path.join(dir, 'verify.html');
    const r = await runCli(['verify', '--format', 'html', '--output', out], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const html = fs.readFileSync(out, 'utf8');
    const { document } = parseHTML(html);
    const article = (name: string) => [...document.querySelectorAll('article.verdict')].find((a) => a.getAttribute('id')?.includes(name))!;
    const column = article('down_forgets_column');
    expect(column.getAttribute('data-status')).toBe('not-reversible');
    expect([...column.querySelectorAll('.finding')].map((f) => f.getAttribute('data-rule'))).toEqual(['down-not-inverse', 'up-not-rerunnable']);
    expect([...column.querySelectorAll('table.diffs tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))).toEqual([
      ['public.b_column.fax', 'column', 'extra', 'column b_column.fax: left behind'],
    ]);
    expect(article('down_recreates_table').querySelector('ul.data-loss')?.textContent).toContain('f_recreate: 3 of 3 row(s) gone');
    expect(article('no_down').getAttribute('data-status')).toBe('failed');
    expect(article('reversible').getAttribute('data-status')).toBe('reversible');
    expect(document.querySelectorAll('table.verdicts tbody tr span.phase')).toHaveLength(3 * document.querySelectorAll('table.verdicts tbody tr').length);
    expect(externalReferences(html, document)).toEqual([]);
  }, 120_000);
});
