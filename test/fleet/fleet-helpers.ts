import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { SERVER_URL } from '../helpers/pg.js';

/** Small migrations: a table, then changes to it (the last ones need its ACCESS EXCLUSIVE lock). */
export const MIGRATIONS: Record<string, string> = {
  '20240101000000_create_items.js': `exports.up = (knex) => knex.schema.createTable('items', (t) => { t.increments('id'); t.text('name'); });
exports.down = (knex) => knex.schema.dropTable('items');
`,
  '20240102000000_add_price.js': `exports.up = (knex) => knex.schema.alterTable('items', (t) => { t.integer('price'); });
exports.down = (knex) => knex.schema.alterTable('items', (t) => { t.dropColumn('price'); });
`,
  '20240103000000_add_note.js': `exports.up = (knex) => knex.schema.alterTable('items', (t) => { t.text('note'); });
exports.down = (knex) => knex.schema.alterTable('items', (t) => { t.dropColumn('note'); });
`,
};

export function addMigrations(dir: string, names: string[]): void {
  for (const name of names) fs.writeFileSync(path.join(dir, 'migrations', name), MIGRATIONS[name]!);
}

/** Runs `fn` over items, `limit` at a time. */
export async function limited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Another session holding ACCESS SHARE on a table inside an open transaction: an ALTER TABLE on it
 * waits behind it until lock_timeout. `release` ends the transaction.
 */
export async function holdTableLock(url: string, table: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url, application_name: 'fleet-test-blocker' });
  await client.connect();
  await client.query('begin');
  await client.query(`lock table ${table} in access share mode`);
  return {
    async release() {
      await client.query('commit').catch(() => undefined);
      await client.end();
    },
  };
}

export interface FleetJson {
  command: string;
  stopped: boolean;
  ok: boolean;
  targets: { target: string; result: string; applied: number; pending: number; version: string | null; migrations: string[]; problems?: string[]; error?: { code: string; message: string } }[];
  checks: { state: string | null; targets: number; pending: number; errors: number }[];
  versions: { version: string | null; targets: number }[];
}
