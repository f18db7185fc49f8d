import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { copyExample, runCli } from '../helpers/cli.js';

/**
 * The example shop with a target (embedded) that has the first three migrations applied and the
 * rest pending, which knex runs as one batch transaction. The CONCURRENTLY migration is left out of
 * the copy, as scripts/render-report-png.mjs does: with it, knex gives every migration its own
 * transaction.
 */
export async function shopWithPendingBatch(): Promise<{ dir: string; target: string }> {
  const dir = copyExample('shop');
  const migrations = path.join(dir, 'migrations');
  fs.rmSync(path.join(migrations, '20240108090000_add_index_on_orders_user_id.js'));
  // Applied in one process: the later files wait outside the folder meanwhile.
  const later = path.join(dir, 'later');
  fs.mkdirSync(later);
  const pending = fs.readdirSync(migrations).filter((f) => f > '20240104');
  for (const f of pending) fs.renameSync(path.join(migrations, f), path.join(later, f));
  const target = `embedded:${path.join(dir, 'target')}`;
  const applied = await runCli(['--db', target, 'latest', '--no-check'], { cwd: dir });
  expect(applied.code, applied.stderr).toBe(0);
  for (const f of pending) fs.renameSync(path.join(later, f), path.join(migrations, f));
  return { dir, target };
}

/** Every way a page could reach the network: src/href attributes, CSS imports and url(), a host name after //. */
export function externalReferences(html: string, document: { querySelectorAll(selector: string): Iterable<{ tagName: string; getAttribute(name: string): string | null }> }): string[] {
  const found: string[] = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of ['src', 'href', 'xlink:href', 'action', 'srcset', 'poster', 'data']) {
      const value = el.getAttribute(attr);
      if (value && !value.startsWith('#')) found.push(`${el.tagName} ${attr}=${value}`);
    }
  }
  for (const m of html.matchAll(/@import|url\(\s*['"]?(?!#)[^)]*\)/gi)) found.push(m[0]);
  for (const m of html.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/gi)) found.push(m[0]);
  return found;
}
