import fs from 'node:fs';
import path from 'node:path';
import { DOMParser, parseHTML } from 'linkedom';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { externalReferences, shopWithPendingBatch } from './shop-batch.js';

describe('the pending batch of the example shop, as markdown and as latest --dry-run --format html', () => {
  let dir: string;
  let target: string;
  beforeAll(async () => {
    ({ dir, target } = await shopWithPendingBatch());
  }, 60_000);

  it('markdown: the lock table in a <details>, and the SVG next to --output', async () => {
    const out = path.join(dir, 'comment.md');
    const r = await runCli(['--db', target, 'check', '--max-severity', 'none', '--format', 'markdown', '--output', out], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const md = fs.readFileSync(out, 'utf8');
    expect(md).toContain('<details><summary>Lock timeline');
    expect(md).toContain('**5 migrations in one knex batch transaction**');
    expect(md).toMatch(/\| # \| where \| statement \| time \| users \| products \| orders \|/);
    // The rename holds nothing new, yet users stays locked: taken by the file before it.
    expect(md).toMatch(/\| ⚠️ 2 \| 20240105090000:2 \| .* \| ACCESS EXCLUSIVE \(held since #1\) \| {2}\| {2}\|/);
    expect(md).toContain('The same timeline as a picture: `comment.timeline.svg`.');
    const svg = fs.readFileSync(path.join(dir, 'comment.timeline.svg'), 'utf8');
    const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
    expect([...doc.querySelectorAll('g.ks-bar')].map((b) => `${b.getAttribute('data-table')} ${b.getAttribute('data-mode')} ${b.getAttribute('data-from')}-${b.getAttribute('data-to')}`)).toEqual([
      'public.users AccessExclusiveLock 1-12',
      'public.products AccessExclusiveLock 3-12',
      'public.orders AccessExclusiveLock 9-12',
    ]);
    expect(svg).toContain('<style>');
    // The namespace declaration is the one http: a standalone SVG needs; nothing is fetched.
    expect(externalReferences(svg.replace(' xmlns="http://www.w3.org/2000/svg"', ''), doc)).toEqual([]);
  }, 120_000);

  it('latest --dry-run --format html: the plan, then the timeline of what would run; nothing applied', async () => {
    const out = path.join(dir, 'plan.html');
    const r = await runCli(['--db', target, 'latest', '--dry-run', '--format', 'html', '--output', out], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    const { document } = parseHTML(html);
    expect(document.querySelector('h1')?.textContent).toBe('knexsafe latest --dry-run');
    const plan = document.querySelector('section#plan');
    expect(plan?.textContent).toMatch(/5 migrations, one transaction around all 5 migrations \(knex's batch transaction\)/);
    expect(plan?.querySelectorAll('tbody tr')).toHaveLength(5);
    expect([...document.querySelectorAll('figure.timeline g.ks-bar')].map((b) => b.getAttribute('data-table'))).toEqual(['public.users', 'public.products', 'public.orders']);
    expect(externalReferences(html, document)).toEqual([]);
    const status = await runCli(['--db', target, 'status', '--json'], { cwd: dir });
    expect(status.stdout).toMatch(/"pending": 5,/);

    const refused = await runCli(['--db', target, 'latest', '--format', 'html'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--format html goes with --dry-run/);
  }, 120_000);
});
