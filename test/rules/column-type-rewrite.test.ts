import { ruleTester } from '../helpers/rule-tester.js';

ruleTester(
  'column-type-rewrite',
  {
    valid: [
      {
        name: 'knex .alter() widening a varchar (binary-compatible, no rewrite)',
        setup: [`await knex.schema.createTable('ct_people', (t) => { t.increments('id'); t.string('name', 50); t.string('bio', 100); });`],
        up: `await knex.schema.alterTable('ct_people', (t) => { t.string('name', 200).alter(); t.text('bio').alter(); });`,
      },
      {
        name: 'type change on a table created in the same migration',
        up: `await knex.schema.createTable('ct_fresh', (t) => { t.increments('id'); t.integer('n'); });\nawait knex.schema.alterTable('ct_fresh', (t) => { t.bigInteger('n').alter(); });`,
      },
      { name: 'SQL file: table created in the same file', ext: 'sql', file: 'CREATE TABLE t (id int);\nALTER TABLE t ALTER COLUMN id TYPE bigint;\n' },
    ],
    invalid: [
      {
        name: 'knex bigInteger().alter() on an existing integer column',
        setup: [`await knex.schema.createTable('ct_users', (t) => { t.increments('id'); t.integer('amount').notNullable().defaultTo(0); });`],
        up: `await knex.schema.alterTable('ct_users', (table) => {\n  table.bigInteger('amount').notNullable().defaultTo(0).alter();\n});`,
        down: `await knex.schema.alterTable('ct_users', (table) => { table.integer('amount').notNullable().defaultTo(0).alter(); });`,
        errors: [{ severity: 'error', line: 2, message: 'Changing ct_users.amount from integer to bigint rewrites ct_users under ACCESS EXCLUSIVE' }],
      },
      {
        name: 'raw ALTER TYPE of an indexed column',
        setup: [`await knex.schema.createTable('ct_orders', (t) => { t.increments('id'); t.integer('customer_ref').index(); });`],
        up: `await knex.raw('ALTER TABLE ct_orders ALTER COLUMN customer_ref TYPE bigint');`,
        down: `await knex.raw('ALTER TABLE ct_orders ALTER COLUMN customer_ref TYPE integer');`,
        errors: [{ severity: 'error', line: 2, message: 'ct_orders.customer_ref from integer to bigint' }],
      },
      {
        name: 'ALTER TYPE with a USING expression',
        setup: [`await knex.schema.createTable('ct_prices', (t) => { t.increments('id'); t.integer('cents'); });`],
        up: `await knex.raw('ALTER TABLE ct_prices ALTER COLUMN cents TYPE numeric(12,2) USING cents / 100.0');`,
        down: `await knex.raw('ALTER TABLE ct_prices ALTER COLUMN cents TYPE integer USING (cents * 100)::integer');`,
        errors: [{ severity: 'error', line: 2, message: 'to numeric(12,2) rewrites' }],
      },
      { name: 'SQL file: old type unknown', ext: 'sql', file: 'ALTER TABLE users ALTER COLUMN id TYPE bigint;', errors: [{ severity: 'warning', line: 1, message: 'may rewrite' }] },
    ],
  },
  // Multi-step fixes: every step is verified up → down → up.
  { fixTimeoutMs: 180_000 },
);
