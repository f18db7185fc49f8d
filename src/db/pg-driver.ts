import { createRequire } from 'node:module';
import type pg from 'pg';

const require = createRequire(import.meta.url);

/**
 * node-pg, for knexsafe's own connections and knex's. When it loads, pg asks whether it runs on
 * Cloudflare Workers: without a `navigator` (Node 20) it builds a `new Response()`, and that first
 * touch of `Response` loads undici, ~25 ms of every command. A `navigator` with Node's user agent,
 * defined only while pg loads and gone before any migration runs, answers the question as Node 21
 * does. On Node 21+ nothing is defined.
 */
export function loadPg(): typeof pg {
  if ('navigator' in globalThis) return require('pg') as typeof pg;
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` }, configurable: true });
  try {
    return require('pg') as typeof pg;
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator;
  }
}
