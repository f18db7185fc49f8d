import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('rename-table', {
  valid: [
    {
      name: 'rename a table created in the same migration',
      up: `await knex.schema.createTable('rt_draft', (t) => { t.increments('id'); });\nawait knex.schema.renameTable('rt_draft', 'rt_final');`,
    },
    {
      name: 'rename with a compatibility view under the old name',
      setup: [`await knex.schema.createTable('rt_clients', (t) => { t.increments('id'); t.text('name'); });`],
      up: `await knex.schema.renameTable('rt_clients', 'rt_customers');\nawait knex.raw('CREATE VIEW rt_clients AS SELECT * FROM rt_customers');`,
      down: `await knex.raw('DROP VIEW rt_clients');\nawait knex.schema.renameTable('rt_customers', 'rt_clients');`,
    },
    {
      name: 'rename an index',
      setup: [`await knex.schema.createTable('rt_tags', (t) => { t.increments('id'); t.text('label').index('rt_tags_label_idx'); });`],
      up: `await knex.raw('ALTER INDEX rt_tags_label_idx RENAME TO rt_tags_label_index');`,
    },
  ],
  invalid: [
    {
      name: 'knex renameTable on an existing table',
      setup: [
        `await knex.schema.createTable('rt_orders', (t) => { t.increments('id'); t.integer('total').notNullable().defaultTo(0); });\nawait knex('rt_orders').insert([{ total: 5 }, { total: 7 }]);`,
      ],
      up: `await knex.schema.renameTable('rt_orders', 'rt_purchases');`,
      down: `await knex.schema.renameTable('rt_purchases', 'rt_orders');`,
      errors: [{ severity: 'warning', line: 2, message: 'Table rt_orders is renamed to rt_purchases' }],
    },
    {
      name: 'raw ALTER TABLE … RENAME TO',
      setup: [`await knex.schema.createTable('rt_items', (t) => { t.increments('id'); });`],
      up: `await knex.raw('ALTER TABLE rt_items RENAME TO rt_line_items');`,
      errors: [{ line: 2, message: 'Table rt_items is renamed to rt_line_items' }],
    },
    { name: 'SQL file', ext: 'sql', file: 'ALTER TABLE users RENAME TO accounts;', errors: [{ line: 1, message: 'Table users is renamed to accounts' }] },
  ],
});
