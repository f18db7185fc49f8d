import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MakeResult } from '../../src/make/run.js';
import { makeMigration } from '../../src/make/run.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';
import { expectCheckedAndReversible, makeAll } from './roundtrip.js';

/**
 * The seed's naming table, generated into a project that already has users, products and orders:
 * each name gives the change the table promises, and the drafts pass check and verify as written.
 */
const BASE = `exports.up = async function (knex) {
  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('name', 100).notNullable();
    t.string('first_name', 100);
    t.string('last_name', 100);
    t.text('display_name');
    t.timestamps(true, true);
  });
  await knex.schema.createTable('products', (t) => {
    t.increments('id');
    t.string('sku', 64).notNullable();
    t.integer('price').notNullable().defaultTo(0);
    t.index(['price'], 'products_price_index');
  });
  await knex.schema.createTable('orders', (t) => {
    t.increments('id');
    t.integer('user_id').references('id').inTable('users');
    t.string('legacy_status', 20).notNullable().defaultTo('new');
    t.index(['legacy_status'], 'orders_legacy_status_index');
  });
};

exports.down = async function (knex) {
  await knex.schema.dropTable('orders');
  await knex.schema.dropTable('products');
  await knex.schema.dropTable('users');
};
`;

const SEED_NAMES = [
  'create_posts_and_comments_tables',
  'add_email_to_users',
  'add_index_on_users_email',
  'drop_legacy_status_from_orders',
  'rename_name_to_full_name_in_users',
  'change_price_to_decimal_in_products',
  { name: 'backfill_users_display_name', set: "first_name || ' ' || last_name" },
];

let dir: string;
let made: Map<string, MakeResult>;
const content = (name: string, index = 0) => made.get(name)!.files[index]!.content;

beforeAll(async () => {
  dir = makeProject({ 'knexfile.js': `module.exports = { client: 'pg', migrations: { directory: './migrations' } };\n`, 'migrations/20240101000000_base.js': BASE });
  made = await makeAll(dir, SEED_NAMES);
}, 900_000);

describe('make: the seed naming table', () => {
  it('New table: create_users_table creates it with knex’s builder, down drops it', async () => {
    const empty = makeProject({ 'knexfile.js': `module.exports = { client: 'pg' };\n` });
    const r = await makeMigration({ cwd: empty, name: 'create_users_table', print: true });
    expect(r.intent).toMatchObject({ kind: 'create-table', tables: ['users'] });
    expect(r.content).toMatch(/await knex\.schema\.createTable\('users', \(table\) => \{[\s\S]*table\.timestamps\(true, true\);/);
    expect(r.content).toContain("await knex.schema.dropTable('users');");
    expect(r.written).toBe(false);
    expect(r.schema).toBeUndefined();
  });

  it('Multiple tables: create_posts_and_comments_tables creates both, down drops them in reverse', () => {
    expect(made.get('create_posts_and_comments_tables')!.intent).toMatchObject({ kind: 'create-table', tables: ['posts', 'comments'] });
    const c = content('create_posts_and_comments_tables');
    expect(c.indexOf("createTable('posts'")).toBeLessThan(c.indexOf("createTable('comments'"));
    expect(c.indexOf("dropTable('comments')")).toBeLessThan(c.indexOf("dropTable('posts')"));
  });

  it('Add column(s): add_email_to_users adds it; down drops it', () => {
    expect(made.get('add_email_to_users')!.intent).toMatchObject({ kind: 'add-columns', table: 'users', columns: [{ name: 'email', type: 'text' }] });
    expect(content('add_email_to_users')).toMatch(/alterTable\('users'[\s\S]*table\.text\('email'\)[\s\S]*exports\.down[\s\S]*table\.dropColumn\('email'\)/);
  });

  it('Add index: add_index_on_users_email builds it concurrently outside a transaction', () => {
    const r = made.get('add_index_on_users_email')!;
    expect(r.intent).toMatchObject({ kind: 'add-index', table: 'users', columns: ['email'], index: 'users_email_index' });
    expect(r.content).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users (email)');
    expect(r.content).toContain('DROP INDEX CONCURRENTLY IF EXISTS users_email_index');
    expect(r.content).toContain('exports.config = { transaction: false };');
  });

  it('Remove column: drop_legacy_status_from_orders drops it; down re-creates it as it was, values included', () => {
    const r = made.get('drop_legacy_status_from_orders')!;
    expect(r.intent).toMatchObject({ kind: 'drop-columns', table: 'orders', columns: [{ name: 'legacy_status', type: 'character varying(20)', nullable: false }] });
    expect(r.content).toContain("table.dropColumn('legacy_status');");
    expect(r.content).toContain("table.string('legacy_status', 20).defaultTo(knex.raw(`'new'::character varying`));");
    expect(r.content).toContain("table.dropNullable('legacy_status');");
    expect(r.content).toContain('CREATE INDEX orders_legacy_status_index ON public.orders USING btree (legacy_status)');
  });

  it('Rename column: rename_name_to_full_name_in_users renames both ways', () => {
    expect(made.get('rename_name_to_full_name_in_users')!.intent).toMatchObject({ kind: 'rename-column', table: 'users', from: 'name', to: 'full_name' });
    expect(content('rename_name_to_full_name_in_users')).toMatch(/renameColumn\('name', 'full_name'\)[\s\S]*exports\.down[\s\S]*renameColumn\('full_name', 'name'\)/);
  });

  it('Change column type: change_price_to_decimal_in_products goes to decimal(10,2) online; down returns to integer', () => {
    const r = made.get('change_price_to_decimal_in_products')!;
    expect(r.intent).toMatchObject({ kind: 'change-type', table: 'products', column: 'price', from: 'integer', to: 'numeric(10,2)', rewrites: true });
    expect(r.paths.map((p) => path.basename(p).replace(/^\d{14}_/, ''))).toEqual([
      'change_price_to_decimal_in_products.js',
      'change_price_to_decimal_in_products_backfill.js',
      'change_price_to_decimal_in_products_indexes.js',
      'change_price_to_decimal_in_products_validate.js',
      'change_price_to_decimal_in_products_swap.js',
    ]);
    const prefixes = r.paths.map((p) => Number(path.basename(p).slice(0, 14)));
    expect(prefixes.every((p, i) => i === 0 || p > prefixes[i - 1]!)).toBe(true);
    expect(content('change_price_to_decimal_in_products')).toContain('ALTER TABLE products ADD COLUMN price_new numeric(10,2)');
    const swap = content('change_price_to_decimal_in_products', 4);
    expect(swap).toContain('ALTER TABLE products ADD COLUMN price integer DEFAULT 0');
    expect(swap).toContain('UPDATE products SET price = price_new::integer');
    expect(swap).toContain('ALTER TABLE products ALTER COLUMN price SET NOT NULL');
  });

  it('Data migration: backfill_users_display_name updates in batches outside one transaction', () => {
    const r = made.get('backfill_users_display_name')!;
    expect(r.intent).toMatchObject({ kind: 'backfill', table: 'users', column: 'display_name', expression: "first_name || ' ' || last_name" });
    expect(r.content).toContain("const EXPRESSION = `first_name || ' ' || last_name`;");
    expect(r.content).toContain('WHERE display_name IS NULL AND users.id BETWEEN ? AND ?');
    expect(r.content).toContain('exports.config = { transaction: false };');
  });

  it('writes every file into the migrations folder', () => {
    const files = fs.readdirSync(path.join(dir, 'migrations'));
    expect(files).toHaveLength(1 + [...made.values()].reduce((n, r) => n + r.paths.length, 0));
  });
});

describe('make: the seed names pass check and verify on the embedded shadow', () => {
  it('check reports no error, verify proves every migration reversible', async () => {
    await expectCheckedAndReversible(dir, undefined);
  }, 900_000);
});

describeServer('make: the seed names pass check and verify on the server shadow', () => {
  it('check reports no error, verify proves every migration reversible', async () => {
    await expectCheckedAndReversible(dir, SERVER_URL);
  }, 900_000);
});
