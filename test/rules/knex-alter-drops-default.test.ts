import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

const products = `await knex.schema.createTable('ka_products', (t) => { t.increments('id'); t.integer('price').notNullable().defaultTo(0); t.string('status', 20).defaultTo('new'); t.text('note'); });\nawait knex('ka_products').insert([{ price: 3 }, { price: 4, status: 'old' }]);`;

ruleTester('knex-alter-drops-default', {
  valid: [
    {
      name: '.alter() that repeats notNullable() and defaultTo()',
      setup: [`await knex.schema.createTable('ka_keep', (t) => { t.increments('id'); t.integer('qty').notNullable().defaultTo(1); });`],
      up: `await knex.schema.alterTable('ka_keep', (t) => {\n  t.bigInteger('qty').notNullable().defaultTo(1).alter();\n});`,
    },
    {
      name: '.alter() of a nullable column without a default',
      setup: [`await knex.schema.createTable('ka_plain', (t) => { t.increments('id'); t.string('code', 10); });`],
      up: `await knex.schema.alterTable('ka_plain', (t) => { t.string('code', 40).alter(); });`,
    },
    {
      name: 'explicit .nullable().alter() on a NOT NULL column',
      setup: [`await knex.schema.createTable('ka_opt', (t) => { t.increments('id'); t.text('note').notNullable(); });`],
      up: `await knex.schema.alterTable('ka_opt', (t) => { t.text('note').nullable().alter(); });`,
    },
    {
      name: 'raw ALTER COLUMN TYPE keeps the default',
      setup: [`await knex.schema.createTable('ka_raw', (t) => { t.increments('id'); t.integer('n').notNullable().defaultTo(0); });`],
      up: `await knex.raw('ALTER TABLE ka_raw ALTER COLUMN n TYPE bigint');`,
    },
  ],
  invalid: [
    {
      name: 'decimal .alter() of a NOT NULL integer with a default (the seed example; it also rewrites, so its fix is not run)',
      isolated: true,
      setup: [products],
      up: `await knex.schema.alterTable('ka_products', (table) => {\n  table.decimal('price', 10, 2).alter();\n});`,
      down: `await knex.schema.alterTable('ka_products', (table) => {\n  table.integer('price').alter();\n});`,
      errors: [{ severity: 'error', line: 3, message: '.alter() on ka_products.price drops its NOT NULL and DEFAULT 0' }],
    },
    {
      name: 'string length .alter() drops the default',
      setup: [`await knex.schema.createTable('ka_orders', (t) => { t.increments('id'); t.string('status', 20).defaultTo('new'); });`],
      up: `await knex.schema.alterTable('ka_orders', (t) => {\n  t.string('status', 50).alter();\n});`,
      down: `await knex.schema.alterTable('ka_orders', (t) => {\n  t.string('status', 20).alter();\n});`,
      errors: [{ line: 3, message: `.alter() on ka_orders.status drops its DEFAULT 'new'::character varying` }],
    },
    {
      name: '.alter({ alterNullable: false }) still drops the default',
      setup: [`await knex.schema.createTable('ka_counts', (t) => { t.increments('id'); t.string('label', 10).notNullable().defaultTo('none'); });`],
      up: `await knex.schema.alterTable('ka_counts', (t) => {\n  t.string('label', 30).alter({ alterNullable: false });\n});`,
      down: `await knex.schema.alterTable('ka_counts', (t) => {\n  t.string('label', 10).alter({ alterNullable: false });\n});`,
      errors: [{ line: 3, message: `.alter() on ka_counts.label drops its DEFAULT 'none'::character varying` }],
    },
    {
      name: 'varchar → text .alter() of a NOT NULL column with a default, inside knex.transaction',
      setup: [`await knex.schema.createTable('ka_notes', (t) => { t.increments('id'); t.string('body', 200).notNullable().defaultTo(''); });\nawait knex('ka_notes').insert([{ body: 'x' }]);`],
      up: `await knex.transaction(async (trx) => {\n  await trx.schema.alterTable('ka_notes', (t) => {\n    t.text('body').alter();\n  });\n});`,
      down: `await knex.schema.alterTable('ka_notes', (t) => {\n  t.string('body', 200).alter();\n});`,
      errors: [{ line: 4, message: `.alter() on ka_notes.body drops its NOT NULL and DEFAULT ''::character varying` }],
    },
  ],
});
