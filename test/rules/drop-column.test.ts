import { ruleTester } from '../helpers/rule-tester.js';

ruleTester(
  'drop-column',
  {
    valid: [
      {
        name: 'drop a column added in the same migration',
        up: `await knex.schema.createTable('tmp_things', (t) => { t.increments('id'); t.string('x'); });\nawait knex.schema.alterTable('tmp_things', (t) => t.dropColumn('x'));`,
      },
      { name: 'add a column', setup: [`await knex.schema.createTable('p_users', (t) => { t.increments('id'); });`], up: `await knex.schema.alterTable('p_users', (t) => t.string('nick'));` },
    ],
    invalid: [
      {
        name: 'knex dropColumn on an existing table',
        setup: [`await knex.schema.createTable('orders', (t) => { t.increments('id'); t.string('legacy_status', 20).notNullable().defaultTo('new'); });`],
        up: `await knex.schema.alterTable('orders', (t) => {\n  t.dropColumn('legacy_status');\n});`,
        down: `await knex.schema.alterTable('orders', (t) => { t.string('legacy_status', 20).notNullable().defaultTo('new'); });`,
        errors: [{ severity: 'warning', line: 2, message: 'Column orders.legacy_status is dropped' }],
      },
      {
        name: 'several columns dropped in one statement with another change: the fix keeps the whole statement',
        setup: [`await knex.schema.createTable('dc_items', (t) => { t.increments('id'); t.integer('old_a'); t.text('old_b').defaultTo('x'); });`],
        up: `await knex.raw('ALTER TABLE dc_items DROP COLUMN old_a, DROP COLUMN old_b, ADD COLUMN note text');`,
        errors: [
          { line: 2, message: 'Column dc_items.old_a is dropped' },
          { line: 2, message: 'Column dc_items.old_b is dropped' },
        ],
      },
      { name: 'SQL file', ext: 'sql', file: 'ALTER TABLE users DROP COLUMN phone;', errors: [{ line: 1 }] },
    ],
  },
  { fixDestroysData: true },
);
