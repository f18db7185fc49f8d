import { ruleTester } from '../helpers/rule-tester.js';

ruleTester('table-rewrite', {
  valid: [
    {
      name: 'TRUNCATE swaps in empty files without copying rows',
      setup: [`await knex.schema.createTable('tr_logs', (t) => { t.increments('id'); t.text('line'); });`],
      up: `await knex.raw('TRUNCATE tr_logs');`,
    },
    {
      name: 'a type change is column-type-rewrite’s finding, not a second one here',
      setup: [`await knex.schema.createTable('tr_users', (t) => { t.increments('id'); t.integer('points'); });`],
      up: `await knex.schema.alterTable('tr_users', (t) => { t.bigInteger('points').alter(); });`,
    },
    {
      name: 'a volatile default is add-column-volatile-default’s finding',
      setup: [`await knex.schema.createTable('tr_accounts', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('tr_accounts', (t) => { t.uuid('token').defaultTo(knex.raw('gen_random_uuid()')); });`,
    },
    {
      name: 'plain VACUUM',
      setup: [`await knex.schema.createTable('tr_plain', (t) => { t.increments('id'); });`],
      up: `await knex.raw('VACUUM (ANALYZE) tr_plain');`,
      transaction: false,
    },
    { name: 'SQL file: SET LOGGED of a table created in the same file', ext: 'sql', file: 'CREATE UNLOGGED TABLE staging (id int);\nALTER TABLE staging SET LOGGED;\n' },
  ],
  invalid: [
    {
      name: 'VACUUM FULL in a migration',
      setup: [`await knex.schema.createTable('tr_events', (t) => { t.increments('id'); t.text('payload'); });`],
      up: `await knex.raw('VACUUM FULL tr_events');`,
      transaction: false,
      errors: [{ severity: 'error', line: 2, message: 'VACUUM FULL rewrites tr_events under ACCESS EXCLUSIVE' }],
    },
    {
      name: 'REFRESH MATERIALIZED VIEW without CONCURRENTLY',
      setup: [
        `await knex.schema.createTable('tr_sales', (t) => { t.increments('id'); t.integer('amount'); });\nawait knex.raw('CREATE MATERIALIZED VIEW tr_totals AS SELECT id, sum(amount) AS total FROM tr_sales GROUP BY id');\nawait knex.raw('CREATE UNIQUE INDEX tr_totals_id ON tr_totals (id)');`,
      ],
      up: `await knex.raw('REFRESH MATERIALIZED VIEW tr_totals');`,
      errors: [{ severity: 'error', line: 2, message: 'REFRESH MATERIALIZED VIEW rewrites the materialized view tr_totals' }],
    },
    { name: 'SQL file: SET UNLOGGED', ext: 'sql', file: 'ALTER TABLE users SET UNLOGGED;', errors: [{ severity: 'error', line: 1, message: 'ALTER TABLE ... SET UNLOGGED rewrites users' }] },
    { name: 'SQL file: CLUSTER', ext: 'sql', file: 'CLUSTER users USING users_pkey;', errors: [{ severity: 'error', line: 1, message: 'CLUSTER rewrites users' }] },
    {
      name: 'SQL file: stored generated column',
      ext: 'sql',
      file: 'ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (quantity * price_cents) STORED;',
      errors: [{ severity: 'error', line: 1, message: 'GENERATED ... STORED rewrites orders' }],
    },
  ],
});
