import { ruleTester } from '../helpers/rule-tester.js';

ruleTester(
  'add-column-volatile-default',
  {
    valid: [
      {
        name: 'constant default (stored in the catalog since PostgreSQL 11)',
        setup: [`await knex.schema.createTable('vd_orders', (t) => { t.increments('id'); });`],
        up: `await knex.schema.alterTable('vd_orders', (t) => { t.string('status').notNullable().defaultTo('new'); t.timestamp('seen_at').defaultTo(knex.fn.now()); });`,
      },
      {
        name: 'volatile default on a table created in the same migration',
        up: `await knex.schema.createTable('vd_fresh', (t) => { t.increments('id'); });\nawait knex.schema.alterTable('vd_fresh', (t) => { t.uuid('token').defaultTo(knex.raw('gen_random_uuid()')); });`,
      },
      { name: 'SQL file: constant default', ext: 'sql', file: `ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'new';` },
    ],
    invalid: [
      {
        name: 'knex uuid().defaultTo(gen_random_uuid()) on an existing table',
        setup: [`await knex.schema.createTable('vd_users', (t) => { t.increments('id'); t.string('email'); });`],
        up: `await knex.schema.alterTable('vd_users', (table) => {\n  table.uuid('token').defaultTo(knex.raw('gen_random_uuid()'));\n});`,
        down: `await knex.schema.alterTable('vd_users', (table) => { table.dropColumn('token'); });`,
        errors: [{ severity: 'error', line: 2, message: 'Adding vd_users.token with the volatile DEFAULT gen_random_uuid() rewrites vd_users under ACCESS EXCLUSIVE' }],
      },
      {
        name: 'NOT NULL volatile default: the fix ends with the NOT NULL pattern',
        setup: [`await knex.schema.createTable('vd_accounts', (t) => { t.increments('id'); });`],
        up: `await knex.schema.alterTable('vd_accounts', (table) => {\n  table.uuid('public_id').notNullable().defaultTo(knex.raw('gen_random_uuid()'));\n});`,
        down: `await knex.schema.alterTable('vd_accounts', (table) => { table.dropColumn('public_id'); });`,
        errors: [{ severity: 'error', line: 2, message: 'vd_accounts.public_id' }],
      },
      {
        name: 'SQL file: bigserial column',
        ext: 'sql',
        file: 'ALTER TABLE events ADD COLUMN seq bigserial;',
        errors: [{ severity: 'error', line: 1, message: 'Adding the bigserial column events.seq rewrites events' }],
      },
      {
        name: 'SQL file: clock_timestamp()',
        ext: 'sql',
        file: `\nALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();`,
        errors: [{ severity: 'error', line: 2, message: 'volatile DEFAULT clock_timestamp()' }],
      },
      {
        name: 'SQL file: any default rewrites before PostgreSQL 11',
        ext: 'sql',
        pgVersion: 10,
        file: `ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'new';`,
        errors: [{ severity: 'error', line: 1, message: 'on PostgreSQL 10' }],
      },
      {
        name: 'SQL file: a function knexsafe cannot classify',
        ext: 'sql',
        file: `ALTER TABLE users ADD COLUMN code text DEFAULT make_code();`,
        errors: [{ severity: 'warning', line: 1, message: 'may rewrite' }],
      },
    ],
  },
  // Multi-step fixes: every step is verified up → down → up.
  { fixTimeoutMs: 180_000 },
);
