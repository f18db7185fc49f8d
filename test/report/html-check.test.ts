import fs from 'node:fs';
import path from 'node:path';
import { parseHTML } from 'linkedom';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../helpers/cli.js';
import { externalReferences, shopWithPendingBatch } from './shop-batch.js';

/** The HTML report of `check` on the example shop's pending batch (see shop-batch.ts). */
let dir: string;
let target: string;

describe('check --format html', () => {
  let html: string;
  let document: ReturnType<typeof parseHTML>['document'];

  beforeAll(async () => {
    ({ dir, target } = await shopWithPendingBatch());
    const out = path.join(dir, 'report.html');
    const r = await runCli(['--db', target, 'check', '--max-severity', 'none', '--format', 'html', '--output', out], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Wrote ${out}`);
    html = fs.readFileSync(out, 'utf8');
    document = parseHTML(html).document;
  }, 120_000);

  it('draws the batch as one timeline: a row per table, bars by lock mode, held across files until the batch commits', () => {
    const figures = [...document.querySelectorAll('figure.timeline')];
    expect(figures).toHaveLength(1);
    const figure = figures[0]!;
    expect(figure.getAttribute('data-migrations')?.split(' ')).toEqual([
      '20240104090000_add_phone_to_users.js',
      '20240105090000_rename_name_to_full_name_in_users.js',
      '20240106090000_change_price_to_decimal_in_products.js',
      '20240107090000_add_status_to_orders.ts',
      '20240109090000_backfill_users_display_name.js',
    ]);
    // Statements #1 … #12: add phone (1), rename (2), the five ALTERs of .alter() (3–7), CREATE TYPE and ADD COLUMN (8–9), the backfill's three (10–12).
    expect(figure.querySelectorAll('[data-stmt^="g0-s"] > rect.ks-stmt, a[data-stmt] rect.ks-stmt')).toHaveLength(12);
    const bars = [...figure.querySelectorAll('g.ks-bar')].map((b) => [
      b.getAttribute('data-table'),
      b.getAttribute('data-mode'),
      Number(b.getAttribute('data-from')),
      Number(b.getAttribute('data-to')),
    ]);
    expect(bars).toEqual([
      ['public.users', 'AccessExclusiveLock', 1, 12],
      ['public.products', 'AccessExclusiveLock', 3, 12],
      ['public.orders', 'AccessExclusiveLock', 9, 12],
    ]);
    // Each bar has its pattern (not colour alone) and says its mode in words.
    for (const bar of figure.querySelectorAll('g.ks-bar')) {
      expect(bar.querySelector('rect[fill^="url(#g0-p-reads)"]')).not.toBeNull();
      expect(bar.querySelector('title')?.textContent).toMatch(/ACCESS EXCLUSIVE from #\d+ until the transaction commits \(after later migrations of the batch\) — blocks reads/);
    }
    expect(figure.querySelector('text.ks-barlabel[data-table="public.users"]')?.textContent).toBe('ACCESS EXCLUSIVE — held until the batch commits');
    expect(figure.querySelector('text.ks-barlabel[data-table="public.orders"]')?.textContent).toMatch(/^(ACCESS EXCLUSIVE|AX)/);
    // Row labels, the migration boundaries and the batch bracket.
    const labels = [...figure.querySelectorAll('text[font-weight="600"]')].map((t) => t.textContent);
    expect(labels).toEqual(['users', 'products', 'orders']);
    expect(figure.querySelectorAll('line.ks-boundary')).toHaveLength(4);
    expect(figure.textContent).toContain('one knex batch transaction: 5 migrations, locks held until COMMIT');
    // The legend says what each mode blocks.
    const ax = [...document.querySelectorAll('table.legend tr')].find((tr) => tr.textContent?.includes('ACCESS EXCLUSIVE (AX)'));
    expect(ax?.textContent).toMatch(/✔ blocked.*✔ blocked.*✔ blocked/);
    const rx = [...document.querySelectorAll('table.legend tr')].find((tr) => tr.textContent?.includes('ROW EXCLUSIVE (RX)'));
    expect(rx?.textContent).not.toContain('✔');
  });

  it('puts each finding at its statement, with the fix code', () => {
    const at = (rule: string) => document.querySelector(`.finding[data-rule="${rule}"]`);
    const rewrite = at('column-type-rewrite')!;
    expect(rewrite.closest('li')?.id).toBe('g0-s5');
    expect(rewrite.closest('li')?.querySelector('pre')?.textContent).toContain('alter column "price" type decimal(10, 2)');
    expect(rewrite.querySelector('pre.fix-code')?.textContent).toContain('ALTER TABLE products ADD COLUMN price_numeric numeric(10,2)');
    const notNull = at('set-not-null-scan')!;
    expect(notNull.closest('li')?.id).toBe('g0-s12');
    expect(notNull.querySelector('pre.fix-code')?.textContent).toMatch(/VALIDATE CONSTRAINT/);
    expect(at('missing-lock-timeout')?.closest('li')?.id).toBe('g0-s1');
    // Summary: counts and a row per migration, the strongest lock each holds.
    expect(document.querySelectorAll('table.migrations tbody tr')).toHaveLength(5);
    const rename = [...document.querySelectorAll('table.migrations tbody tr')].find((tr) => tr.textContent?.includes('rename_name'));
    expect(rename?.textContent).toMatch(/batch.*ACCESS EXCLUSIVE on users \(held from an earlier file\)/);
  });

  it('is self-contained: no external URL, one inline script, no stylesheet link', () => {
    expect(externalReferences(html, document)).toEqual([]);
    expect(document.querySelectorAll('script')).toHaveLength(1);
    expect(document.querySelector('script')?.getAttribute('src')).toBeNull();
    expect(document.querySelectorAll('link')).toHaveLength(0);
    expect(html).toMatch(/@media \(prefers-color-scheme:dark\)/);
    expect(html).toMatch(/@media print/);
  });

  it('--output with another format is a usage error', async () => {
    const r = await runCli(['check', '--all', '--format', 'json', '--output', path.join(dir, 'x.json')], { cwd: dir });
    expect(r.code).toBe(2);
    // Under a machine format the error is the JSON document, as for every other usage error.
    expect(r.stdout).toMatch(/"code": "BAD_OPTION"[\s\S]*--output goes with --format html or --format markdown \(not json\)/);
  });
});

describe('check --format html escapes what comes from the project', () => {
  it('migration names, SQL and messages with < & " stay text', async () => {
    const name = '20240101000000_a<b&"c"';
    const project = makeProject({
      'package.json': '{ "type": "commonjs" }\n',
      'knexfile.js': "module.exports = { client: 'pg', migrations: { directory: './migrations' } };\n",
      [`migrations/${name}.js`]: [
        'exports.up = async (knex) => {',
        `  await knex.raw(\`CREATE TABLE esc_t (id int, note text DEFAULT '</pre><script>alert("x")</script>&amp;')\`);`,
        "  await knex.raw('ALTER TABLE esc_t ALTER COLUMN id SET NOT NULL');",
        '};',
        'exports.down = async (knex) => knex.raw("DROP TABLE esc_t");',
      ].join('\n'),
      'migrations/20240102000000_index.js': "exports.up = (knex) => knex.raw('CREATE INDEX esc_t_note ON esc_t (note)');\nexports.down = (knex) => knex.raw('DROP INDEX esc_t_note');\n",
    });
    const r = await runCli(['check', '--all', '--max-severity', 'none', '--format', 'html'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    const { document } = parseHTML(r.stdout);
    expect(document.querySelectorAll('script')).toHaveLength(1);
    const article = [...document.querySelectorAll('article.migration')].find((a) => a.getAttribute('id') === `m-${name}.js`);
    expect(article?.querySelector('h3')?.textContent).toBe(`${name}.js`);
    expect(document.querySelector('figure.timeline[data-migrations]')?.getAttribute('data-migrations')).toBe(`${name}.js`);
    const sql = [...document.querySelectorAll('ol.stmts pre code')].map((c) => c.textContent);
    expect(sql).toContain(`CREATE TABLE esc_t (id int, note text DEFAULT '</pre><script>alert("x")</script>&amp;')`);
    expect(r.stdout).not.toContain('<script>alert');
    // The second migration's index locks the table the first created: a SHARE bar, striped, in its own timeline.
    const share = document.querySelector('figure.timeline[data-migrations="20240102000000_index.js"] g.ks-bar');
    expect(share?.getAttribute('data-mode')).toBe('ShareLock');
    expect(share?.querySelector('rect[fill="url(#g1-p-writes)"]')).not.toBeNull();
    expect(document.querySelector('.finding[data-rule="index-not-concurrent"]')?.closest('li')?.id).toBe('g1-s1');
  }, 120_000);
});
