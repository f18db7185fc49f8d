import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('knex-unsigned-ignored', {
  valid: [
    { name: 'integer without unsigned', up: `await knex.schema.createTable('ku_plain', (t) => { t.increments('id'); t.integer('qty'); });` },
    {
      name: 'unsigned together with a check',
      up: `await knex.schema.createTable('ku_checked', (t) => { t.increments('id'); t.integer('qty').unsigned().checkPositive(); });`,
    },
    {
      name: 'unsigned only in down',
      setup: [`await knex.schema.createTable('ku_history', (t) => { t.increments('id'); t.integer('legacy'); });`],
      up: `await knex.schema.alterTable('ku_history', (t) => { t.dropColumn('legacy'); });`,
      down: `await knex.schema.alterTable('ku_history', (t) => { t.integer('legacy').unsigned(); });`,
    },
    { name: 'raw SQL integer column', up: `await knex.raw('CREATE TABLE ku_raw (id serial PRIMARY KEY, qty integer CHECK (qty >= 0))');` },
  ],
  invalid: [
    {
      name: 'the seed posts table: unsigned foreign key column',
      setup: [`await knex.schema.createTable('ku_users', (t) => { t.increments('id'); });`],
      up: `await knex.schema.createTable('ku_posts', (table) => {\n  table.increments('id').primary();\n  table.integer('user_id').unsigned().notNullable()\n    .references('id').inTable('ku_users').onDelete('CASCADE');\n  table.string('title', 255).notNullable();\n});`,
      down: `await knex.schema.dropTableIfExists('ku_posts');`,
      errors: [{ severity: 'info', line: 4, message: '.unsigned() on ku_posts.user_id does nothing on PostgreSQL' }],
    },
    {
      name: 'counter column in a new table',
      up: `await knex.schema.createTable('ku_stock', (t) => {\n  t.increments('id');\n  t.integer('on_hand')\n    .unsigned()\n    .notNullable()\n    .defaultTo(0);\n});`,
      down: `await knex.schema.dropTable('ku_stock');`,
      errors: [{ severity: 'warning', line: 5, message: '.unsigned() on ku_stock.on_hand does nothing on PostgreSQL' }],
    },
    {
      name: 'column added to an existing table',
      setup: [`await knex.schema.createTable('ku_products', (t) => { t.increments('id'); });\nawait knex.raw('INSERT INTO ku_products DEFAULT VALUES');`],
      up: `await knex.schema.alterTable('ku_products', (t) => {\n  t.bigInteger('views').unsigned();\n});`,
      down: `await knex.schema.alterTable('ku_products', (t) => {\n  t.dropColumn('views');\n});`,
      errors: [{ severity: 'warning', line: 3, message: '.unsigned() on ku_products.views does nothing on PostgreSQL' }],
    },
    {
      name: 'TypeScript migration',
      ext: 'ts',
      file: `import type { Knex } from 'knex';\n\nexport async function up(knex: Knex): Promise<void> {\n  await knex.schema.createTable('ku_ts', (t) => {\n    t.increments('id');\n    t.smallint('rating').unsigned();\n  });\n}\n\nexport async function down(knex: Knex): Promise<void> {\n  await knex.schema.dropTable('ku_ts');\n}\n`,
      errors: [{ severity: 'warning', line: 6 }],
    },
  ],
});
