import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

ruleTester(
  'truncate-table',
  {
    valid: [
      {
        name: 'truncate a table created in the same migration',
        up: `await knex.schema.createTable('tt_scratch', (t) => { t.bigIncrements('id'); });\nawait knex('tt_scratch').truncate();`,
      },
      {
        name: 'delete in batches instead',
        setup: [`await knex.schema.createTable('tt_batched', (t) => { t.bigIncrements('id'); });`],
        up: `await knex('tt_batched').where('id', '<', 1000).del();`,
      },
      { name: 'SQL file: a table the file creates', ext: 'sql', file: 'CREATE TABLE staging (id bigint);\nTRUNCATE staging;\n' },
    ],
    invalid: [
      {
        name: 'knex truncate() on an existing table with rows',
        setup: [`await knex.schema.createTable('tt_cache', (t) => { t.bigIncrements('id'); t.text('payload'); });\nawait knex('tt_cache').insert([{ payload: 'a' }, { payload: 'b' }]);`],
        up: `await knex('tt_cache').truncate();`,
        errors: [{ severity: 'warning', line: 2, message: 'Table tt_cache is emptied by TRUNCATE' }],
      },
      {
        name: 'raw TRUNCATE … CASCADE empties the referencing tables too',
        setup: [
          `await knex.schema.createTable('tt_users', (t) => { t.bigIncrements('id'); });\nawait knex.schema.createTable('tt_orders', (t) => { t.bigIncrements('id'); t.bigInteger('user_id').references('tt_users.id'); });\nawait knex.schema.createTable('tt_order_items', (t) => { t.bigIncrements('id'); t.bigInteger('order_id').references('tt_orders.id'); });\nawait knex.schema.createTable('tt_unrelated', (t) => { t.bigIncrements('id'); });`,
        ],
        up: `await knex.raw('TRUNCATE tt_users CASCADE');`,
        errors: [{ severity: 'error', line: 2, message: 'TRUNCATE … CASCADE empties tt_users and, through foreign keys, tt_orders, tt_order_items' }],
      },
      {
        name: 'SQL file: TRUNCATE … CASCADE',
        ext: 'sql',
        file: 'TRUNCATE users CASCADE;\n',
        errors: [{ severity: 'error', line: 1, message: 'TRUNCATE … CASCADE empties users and every table whose foreign keys point at it' }],
      },
      { name: 'SQL file: knex truncate()', ext: 'sql', file: 'truncate "users" restart identity;\n', errors: [{ severity: 'warning', line: 1, message: 'Table users is emptied by TRUNCATE' }] },
    ],
  },
  { fixDestroysData: true },
);
