import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/make/generate.js';
import { grammarLines, understand } from '../../src/make/grammar.js';
import { isSnakeCase, pluralCandidates, singular, toSnakeCase, vagueNameWarning } from '../../src/make/naming.js';
import { parseTypeWords, typeFromCatalog, guessColumnType } from '../../src/make/types.js';
import { consecutivePaths } from '../../src/make/write.js';
import { renderMigration } from '../../src/make/stubs.js';
import { ensureParser } from '../../src/sql/parse.js';
import { schemaOf } from './helpers.js';

const schema = schemaOf(
  {
    users: {
      columns: { id: 'integer not null', name: 'character varying(100)', first_name: 'text', email: 'character varying(255)', opt_in_to_news: 'boolean' },
      primaryKey: ['id'],
    },
    orders: {
      columns: { id: 'integer not null', user_id: 'integer', legacy_status: "character varying(20) not null default 'new'::character varying", created_at: 'timestamp with time zone' },
      primaryKey: ['id'],
      indexes: { orders_legacy_status_index: ['legacy_status'] },
    },
    order_items: { columns: { id: 'integer not null', order_id: 'integer', unit_price: 'integer not null default 0' }, primaryKey: ['id'] },
    audit_log_entries: { columns: { id: 'bigint not null', actor_id: 'integer', happened_at: 'timestamp without time zone' }, primaryKey: ['id'] },
    categories: { columns: { id: 'integer not null' }, primaryKey: ['id'] },
    products: { columns: { id: 'integer not null', category_id: 'integer', price: 'integer not null default 0' }, primaryKey: ['id'] },
  },
  { order_status: ['pending', 'shipped'] },
);

function intent(name: string, warnings: string[] = []) {
  return understand(name, schema, warnings)?.intent;
}

beforeAll(async () => {
  await ensureParser();
});

describe('make: the name grammar', () => {
  it('reads the names of the seed naming table', () => {
    expect(intent('create_users_table')).toEqual({ kind: 'create-table', tables: ['users'] });
    expect(intent('add_email_to_orders')).toEqual({ kind: 'add-columns', table: 'orders', columns: ['email'] });
    expect(intent('drop_legacy_status_from_orders')).toEqual({ kind: 'drop-columns', table: 'orders', columns: ['legacy_status'] });
    expect(intent('add_index_on_users_email')).toEqual({ kind: 'add-index', table: 'users', columns: ['email'] });
    expect(intent('rename_name_to_full_name_in_users')).toEqual({ kind: 'rename-column', table: 'users', from: 'name', to: 'full_name' });
    expect(intent('change_price_to_decimal_in_products')).toEqual({ kind: 'change-type', table: 'products', column: 'price', type: ['decimal'] });
    expect(intent('backfill_users_first_name')).toEqual({ kind: 'backfill', table: 'users', column: 'first_name' });
    expect(intent('create_posts_and_comments_tables')).toEqual({ kind: 'create-table', tables: ['posts', 'comments'] });
  });

  it('splits table and column names that contain underscores against the schema', () => {
    expect(intent('add_index_on_order_items_order_id')).toEqual({ kind: 'add-index', table: 'order_items', columns: ['order_id'] });
    expect(intent('add_index_on_audit_log_entries_actor_id_happened_at')).toEqual({ kind: 'add-index', table: 'audit_log_entries', columns: ['actor_id', 'happened_at'] });
    expect(intent('add_index_on_audit_log_entries_actor_id_and_happened_at')).toEqual({ kind: 'add-index', table: 'audit_log_entries', columns: ['actor_id', 'happened_at'] });
    expect(intent('add_unique_on_users_email')).toEqual({ kind: 'add-unique', table: 'users', columns: ['email'] });
    expect(intent('backfill_order_items_unit_price')).toEqual({ kind: 'backfill', table: 'order_items', column: 'unit_price' });
    // `_to_` inside a column name: the split that names an existing table wins.
    expect(intent('add_opt_in_to_sms_to_users')).toEqual({ kind: 'add-columns', table: 'users', columns: ['opt_in_to_sms'] });
    expect(intent('rename_opt_in_to_news_to_newsletter_in_users')).toEqual({ kind: 'rename-column', table: 'users', from: 'opt_in_to_news', to: 'newsletter' });
    expect(intent('add_first_and_last_to_audit_log_entries')).toEqual({ kind: 'add-columns', table: 'audit_log_entries', columns: ['first', 'last'] });
    expect(intent('drop_actor_id_and_happened_at_from_audit_log_entries')).toEqual({ kind: 'drop-columns', table: 'audit_log_entries', columns: ['actor_id', 'happened_at'] });
  });

  it('reads foreign keys, NOT NULL, types, renames and enums', () => {
    expect(intent('add_foreign_key_on_orders_user_id')).toEqual({ kind: 'add-foreign-key', table: 'orders', columns: ['user_id'], references: { table: 'users', columns: ['id'] } });
    expect(intent('add_foreign_key_on_products_category_id')).toMatchObject({ references: { table: 'categories', columns: ['id'] } });
    expect(intent('add_fk_on_order_items_order_id_to_orders')).toMatchObject({ table: 'order_items', columns: ['order_id'], references: { table: 'orders', columns: ['id'] } });
    expect(intent('add_foreign_key_on_audit_log_entries_actor_id_to_users_id')).toMatchObject({ references: { table: 'users', columns: ['id'] } });
    expect(intent('set_first_name_not_null_in_users')).toEqual({ kind: 'set-not-null', table: 'users', column: 'first_name' });
    expect(intent('set_legacy_status_nullable_in_orders')).toEqual({ kind: 'drop-not-null', table: 'orders', column: 'legacy_status' });
    expect(intent('change_happened_at_to_timestamptz_in_audit_log_entries')).toMatchObject({ column: 'happened_at', type: ['timestamptz'] });
    expect(intent('change_price_type_to_decimal_12_4_in_products')).toMatchObject({ column: 'price', type: ['decimal', '12', '4'] });
    expect(intent('rename_users_table_to_customers')).toEqual({ kind: 'rename-table', from: 'users', to: 'customers' });
    expect(intent('rename_table_users_to_customers')).toEqual({ kind: 'rename-table', from: 'users', to: 'customers' });
    expect(intent('rename_order_items_to_line_items')).toEqual({ kind: 'rename-table', from: 'order_items', to: 'line_items' });
    expect(intent('create_order_priority_enum')).toEqual({ kind: 'create-enum', type: 'order_priority' });
    expect(intent('add_status_enum_to_order_items')).toEqual({ kind: 'add-enum-column', table: 'order_items', column: 'status' });
    expect(intent('add_refunded_to_order_status_enum')).toEqual({ kind: 'add-enum-value', type: 'order_status', value: 'refunded' });
  });

  it('says clearly when a column or table to change does not exist', () => {
    expect(() => intent('rename_nme_to_full_name_in_users')).toThrow(/users has no column nme to rename/);
    expect(() => intent('drop_fax_from_users')).toThrow(/users has no column fax to drop/);
    expect(() => intent('drop_fax_from_customers')).toThrow(/customers, which the project's migrations do not create/);
    expect(() => intent('change_fax_to_text_in_users')).toThrow(/users has no column fax to change/);
    expect(() => intent('rename_name_to_email_in_users')).toThrow(/already has a column email/);
    expect(() => intent('add_email_to_users')).toThrow(/already has a column email/);
    expect(() => intent('set_id_not_null_in_users')).toThrow(/already NOT NULL/);
    expect(() => intent('add_index_on_users_fax')).toThrow(/users has no column\(s\) fax/);
    expect(() => intent('add_refunded_to_shipment_state_enum')).toThrow(/enum type/);
    try {
      intent('rename_nme_to_full_name_in_users');
    } catch (error) {
      expect((error as { hint?: string }).hint).toMatch(/Columns of users: email, first_name, id, name, opt_in_to_news/);
    }
  });

  it('adds to a table it does not know with a warning (the schema may live elsewhere)', () => {
    const warnings: string[] = [];
    expect(intent('add_email_to_customers', warnings)).toEqual({ kind: 'add-columns', table: 'customers', columns: ['email'] });
    expect(warnings.join(' ')).toMatch(/customers is not a table/);
  });

  it('leaves other names to the plain stub and lists the shapes', () => {
    expect(understand('update_users', schema)).toBeUndefined();
    expect(understand('drop_users_table', schema)).toBeUndefined();
    expect(grammarLines()).toEqual(expect.arrayContaining(['create_<table>_table', 'add_index_on_<table>_<columns>', 'change_<column>_to_<type>_in_<table>']));
  });
});

describe('make: names', () => {
  it('warns on vague names with a suggestion', () => {
    for (const name of ['update', 'fix', 'changes', 'misc', 'update_users', 'fix_2', 'new_table', 'wip']) {
      expect(vagueNameWarning(name.split('_')), name).toMatch(/vague|says nothing/);
    }
    expect(vagueNameWarning(['update', 'users'])).toMatch(/add_<column>_to_users/);
    for (const name of ['add_email_to_users', 'create_users_table', 'change_price_to_decimal_in_products', 'backfill_users_name']) {
      expect(vagueNameWarning(name.split('_')), name).toBeUndefined();
    }
  });

  it('snake_cases other spellings', () => {
    expect(toSnakeCase('AddEmailToUsers')).toBe('add_email_to_users');
    expect(toSnakeCase('add-email-to-users')).toBe('add_email_to_users');
    expect(toSnakeCase('addEmailToUsers')).toBe('add_email_to_users');
    expect(isSnakeCase('add_email_to_users')).toBe(true);
    expect(isSnakeCase('AddEmail')).toBe(false);
  });

  it('inflects the way the grammar needs', () => {
    expect(pluralCandidates('category')[0]).toBe('categories');
    expect(pluralCandidates('address')).toContain('addresses');
    expect(singular('orders')).toBe('order');
    expect(singular('order_categories')).toBe('order_category');
    expect(singular('addresses')).toBe('address');
  });
});

describe('make: types', () => {
  it('reads type words', () => {
    const sql = (words: string) => parseTypeWords(words.split('_'), ['order_status'])?.sql;
    expect(sql('decimal')).toBe('numeric(10,2)');
    expect(sql('decimal_12_4')).toBe('numeric(12,4)');
    expect(sql('numeric')).toBe('numeric');
    expect(sql('varchar_100')).toBe('character varying(100)');
    expect(sql('string')).toBe('character varying(255)');
    expect(sql('text')).toBe('text');
    expect(sql('bigint')).toBe('bigint');
    expect(sql('timestamptz')).toBe('timestamp with time zone');
    expect(sql('timestamp')).toBe('timestamp without time zone');
    expect(sql('text_array')).toBe('text[]');
    expect(sql('order_status')).toBe('order_status');
    expect(sql('banana')).toBeUndefined();
  });

  it('writes knex builder calls for catalog types', () => {
    expect(typeFromCatalog('character varying(20)').builder('s')).toBe("table.string('s', 20)");
    expect(typeFromCatalog('numeric(10,2)').builder('p')).toBe("table.decimal('p', 10, 2)");
    expect(typeFromCatalog('timestamp with time zone').builder('t')).toBe("table.timestamp('t', { useTz: true })");
    expect(typeFromCatalog('integer').builder('i')).toBe("table.integer('i')");
    expect(typeFromCatalog('public.order_status').builder('s')).toBe("table.specificType('s', 'public.order_status')");
    expect(typeFromCatalog('character varying').builder('s')).toBe("table.specificType('s', 'character varying')");
  });

  it('guesses column types from names', () => {
    expect(guessColumnType('created_at').type.sql).toBe('timestamp with time zone');
    expect(guessColumnType('is_admin')).toMatchObject({ type: { sql: 'boolean' }, modifiers: '.notNullable().defaultTo(false)' });
    expect(guessColumnType('user_id', 'integer').type.sql).toBe('integer');
    expect(guessColumnType('user_id').type.sql).toBe('bigint');
    expect(guessColumnType('price').type.sql).toBe('numeric(10,2)');
    expect(guessColumnType('metadata').type.sql).toBe('jsonb');
    expect(guessColumnType('email').type.sql).toBe('text');
  });
});

describe('make: generation details', () => {
  const gen = (name: string, options = {}) => generate(understand(name, schema)!.intent, schema, options);

  it('a dropped column comes back in down with its type, default, NOT NULL, index and values', () => {
    const out = gen('drop_legacy_status_from_orders');
    const file = renderMigration('cjs', out.files[0]!.body);
    expect(file).toContain('CREATE TABLE knexsafe_backup_orders_legacy_status AS SELECT id, legacy_status FROM orders');
    expect(file).toContain("table.string('legacy_status', 20).defaultTo(knex.raw(`'new'::character varying`));");
    expect(file).toContain('UPDATE orders SET legacy_status = b.legacy_status FROM knexsafe_backup_orders_legacy_status b WHERE orders.id = b.id');
    expect(file).toContain("table.dropNullable('legacy_status');");
    expect(file).toContain('CREATE INDEX orders_legacy_status_index ON public.orders USING btree (legacy_status)');
    expect(out.details.backupTable).toBe('knexsafe_backup_orders_legacy_status');
    const noBackup = renderMigration('cjs', gen('drop_legacy_status_from_orders', { backup: false }).files[0]!.body);
    expect(noBackup).not.toContain('knexsafe_backup');
    expect(noBackup).toContain("table.string('legacy_status', 20).notNullable().defaultTo(knex.raw(`'new'::character varying`));");
  });

  it('a type change that does not rewrite is one .alter() keeping the default; down restores the real type', () => {
    const out = gen('change_legacy_status_to_text_in_orders');
    expect(out.files).toHaveLength(1);
    const file = renderMigration('cjs', out.files[0]!.body);
    expect(file).toContain("table.text('legacy_status').defaultTo(knex.raw(`'new'`)).alter({ alterNullable: false });");
    expect(file).toContain("table.string('legacy_status', 20).defaultTo(knex.raw(`'new'::character varying`)).alter({ alterNullable: false });");
  });

  it('a type change that rewrites becomes expand / contract; --simple keeps the in-place ALTER', () => {
    const out = gen('change_price_to_decimal_in_products');
    expect(out.files.map((f) => f.suffix)).toEqual(['', '_backfill', '_validate', '_swap']);
    expect(out.details).toMatchObject({ from: 'integer', to: 'numeric(10,2)', rewrites: true, newColumn: 'price_new' });
    const simple = gen('change_price_to_decimal_in_products', { simple: true });
    expect(simple.files).toHaveLength(1);
    expect(renderMigration('cjs', simple.files[0]!.body)).toContain("table.decimal('price', 10, 2).defaultTo(knex.raw('0')).alter({ alterNullable: false });");
    expect(simple.warnings.join(' ')).toMatch(/rewrites the whole table/);
  });

  it('multi-file patterns and their simple forms', () => {
    expect(gen('add_unique_on_users_email').files.map((f) => [f.suffix, f.body.transaction])).toEqual([
      ['', false],
      ['_constraint', false],
    ]);
    expect(gen('add_foreign_key_on_orders_user_id').files.map((f) => [f.suffix, f.body.transaction])).toEqual([
      ['', undefined],
      ['_validate', false],
    ]);
    expect(gen('set_first_name_not_null_in_users').files.map((f) => f.suffix)).toEqual(['', '_validate']);
    expect(renderMigration('cjs', gen('add_index_on_users_email', { simple: true }).files[0]!.body)).toContain("table.index('email', 'users_email_index');");
    expect(renderMigration('cjs', gen('add_unique_on_users_email', { simple: true }).files[0]!.body)).toContain("table.unique('email', { indexName: 'users_email_unique' });");
    expect(renderMigration('cjs', gen('set_first_name_not_null_in_users', { simple: true }).files[0]!.body)).toContain("table.dropNullable('first_name');");
  });

  it('sets lock_timeout before DDL on existing tables; without knex’s transaction, in a transaction of its own', () => {
    const inKnexTransaction = renderMigration('cjs', gen('add_email_to_orders').files[0]!.body);
    expect(inKnexTransaction).toMatch(/await knex\.raw\(`SET LOCAL lock_timeout = '5s'`\);\n  await knex\.schema\.alterTable\('orders'/);
    const own = renderMigration('cjs', gen('add_email_to_orders', { transactionsDisabled: true, lockTimeout: '2s' }).files[0]!.body);
    expect(own).toMatch(/await knex\.transaction\(async \(trx\) => \{\n    await trx\.raw\(`SET LOCAL lock_timeout = '2s'`\);\n    await trx\.schema\.alterTable\('orders'/);
    const dropped = renderMigration('cjs', gen('drop_legacy_status_from_orders', { transactionsDisabled: true }).files[0]!.body);
    expect(dropped).not.toMatch(/await knex\.schema|await knex\.raw\('(ALTER|CREATE INDEX|UPDATE)/);
    expect(renderMigration('cjs', gen('add_email_to_orders', { simple: true }).files[0]!.body)).not.toContain('lock_timeout');
  });

  it('enums need their values', () => {
    expect(() => gen('create_order_priority_enum')).toThrow(/--values/);
    expect(renderMigration('cjs', gen('create_order_priority_enum', { values: ['low', 'high'] }).files[0]!.body)).toContain(`CREATE TYPE order_priority AS ENUM ('low', 'high')`);
  });
});

describe('make: file names', () => {
  it('consecutive knex timestamps, never colliding, after the newest existing migration', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-make-'));
    fs.writeFileSync(path.join(dir, '20240101000000_a.js'), '');
    fs.writeFileSync(path.join(dir, '20240101000001_b.js'), '');
    const now = new Date(Date.UTC(2024, 0, 1, 0, 0, 0));
    const paths = consecutivePaths(dir, [dir], ['x', 'x_validate'], 'js', now).map((p) => path.basename(p));
    expect(paths).toEqual(['20240101000002_x.js', '20240101000003_x_validate.js']);
    const later = consecutivePaths(dir, [dir], ['y'], 'ts', new Date(Date.UTC(2025, 5, 30, 12, 34, 56))).map((p) => path.basename(p));
    expect(later).toEqual(['20250630123456_y.ts']);
  });
});
