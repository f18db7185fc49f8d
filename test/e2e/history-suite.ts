import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, type describe, expect, it } from 'vitest';
import { copyExample, parseJson, runCli } from '../helpers/cli.js';

export interface StatusJson {
  applied: number;
  pending: number;
  locked: boolean;
  migrations: { name: string; state: string; batch: number | null }[];
}

export const SHOP = [
  '20240101090000_create_users_table.js',
  '20240102090000_create_products_table.js',
  '20240103090000_create_orders_and_order_items_tables.js',
  '20240104090000_add_phone_to_users.js',
  '20240105090000_rename_name_to_full_name_in_users.js',
  '20240106090000_change_price_to_decimal_in_products.js',
  '20240107090000_add_status_to_orders.ts',
  '20240108090000_add_index_on_orders_user_id.js',
  '20240109090000_backfill_users_display_name.js',
];

/** The same scenario on both kinds of database: every history command, as a user runs them. */
export function historySuite(
  label: string,
  describeFn: typeof describe,
  targetArgs: () => Promise<{ args: string[]; query?: (sql: string) => Promise<Record<string, unknown>[]>; cleanup(): Promise<void> }>,
) {
  describeFn(`history commands on ${label}`, () => {
    let dir: string;
    let target: Awaited<ReturnType<typeof targetArgs>>;
    const cli = (...args: string[]) => runCli([...args, '--cwd', dir, ...target.args]);
    const status = async () => {
      const r = await cli('status', '--json');
      return { code: r.code, json: parseJson<StatusJson>(r.stdout) };
    };

    beforeAll(async () => {
      dir = copyExample('shop');
      target = await targetArgs();
    });
    afterAll(async () => {
      await target?.cleanup();
    });

    it('status before anything ran: all pending, exit 1, and it created nothing', async () => {
      const s = await status();
      expect(s.code).toBe(1);
      expect(s.json.pending).toBe(SHOP.length);
      expect(s.json.migrations.map((m) => m.name)).toEqual(SHOP);
      if (target.query) {
        const tables = await target.query("select tablename from pg_tables where tablename like 'knex_migrations%'");
        expect(tables).toEqual([]);
      }
    });

    it('latest applies everything in one batch, with timings; status exits 0', async () => {
      const r = await cli('latest');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Applied batch 1: 9 migrations/);
      expect(r.stderr).toMatch(/✓ up\s+20240107090000_add_status_to_orders\.ts \d+ ms/);
      const s = await status();
      expect(s.code).toBe(0);
      expect(s.json).toMatchObject({ applied: 9, pending: 0, locked: false });
      const again = await cli('latest', '--json');
      expect(parseJson(again.stdout)).toMatchObject({ batch: 0, migrations: [] });
    });

    it('list prints a table of name, batch, applied at, state', async () => {
      const r = await cli('list');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/migration\s+batch\s+applied at\s+state/);
      expect(r.stdout).toMatch(/20240101090000_create_users_table\.js\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+applied/);
    });

    it('down undoes the last one, up re-applies it (by name without extension)', async () => {
      const down = await cli('down', '--json');
      expect(parseJson(down.stdout)).toMatchObject({ migrations: [{ name: SHOP[8], direction: 'down' }] });
      expect((await status()).json.pending).toBe(1);
      const up = await cli('up', '20240109090000_backfill_users_display_name', '--json');
      expect(parseJson(up.stdout)).toMatchObject({ batch: 2, migrations: [{ name: SHOP[8], direction: 'up' }] });
    });

    it('rollback undoes the last batch only; rollback --all undoes everything', async () => {
      const r = await cli('rollback', '--json');
      expect(parseJson(r.stdout)).toMatchObject({ migrations: [{ name: SHOP[8] }] });
      const all = await cli('migrate:rollback', '--all', '--json');
      expect(parseJson<{ migrations: unknown[] }>(all.stdout).migrations).toHaveLength(8);
      const s = await status();
      expect(s.json.applied).toBe(0);
      if (target.query) expect(await target.query("select 1 from pg_tables where tablename = 'users'")).toEqual([]);
    });

    it('unlock frees a lock left by a crashed run', async () => {
      await cli('latest');
      if (target.query) {
        await target.query('update knex_migrations_lock set is_locked = 1');
        const blocked = await cli('rollback');
        expect(blocked.code).toBe(1);
        expect(blocked.stderr).toMatch(/Another migration holds knex's lock/);
        expect((await status()).json.locked).toBe(true);
      }
      const r = await cli('unlock', '--json');
      expect(r.code).toBe(0);
      expect(parseJson(r.stdout)).toMatchObject({ locked: false, wasLocked: Boolean(target.query) });
      expect((await status()).json.locked).toBe(false);
    });

    it('seed:make and seed:run', async () => {
      const made = await cli('seed:make', '02_products', '--json');
      const file = parseJson<{ path: string }>(made.stdout).path;
      expect(fs.existsSync(file)).toBe(true);
      fs.writeFileSync(file, `exports.seed = async (knex) => { await knex('products').del(); await knex('products').insert({ sku: 'A1', title: 'Lamp', price: 12.5 }); };\n`);
      const r = await cli('seed:run', '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(parseJson<{ seeds: string[] }>(r.stdout).seeds.map((s) => path.basename(s))).toEqual(['01_users.js', '02_products.js']);
      const one = await cli('seed:run', '--specific', '01_users.js', '--json');
      expect(parseJson<{ seeds: string[] }>(one.stdout).seeds.map((s) => path.basename(s))).toEqual(['01_users.js']);
      if (target.query) expect(await target.query('select count(*)::int as n from users')).toEqual([{ n: 2 }]);
    });
  });
}
