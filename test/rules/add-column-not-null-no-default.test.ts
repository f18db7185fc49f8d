import { ruleTester } from '../helpers/rule-tester.js';

ruleTester(
  'add-column-not-null-no-default',
  {
    valid: [
      {
        name: 'NOT NULL with a constant default',
        setup: [`await knex.schema.createTable('nn_orders', (t) => { t.increments('id'); });`],
        up: `await knex.schema.alterTable('nn_orders', (t) => { t.string('status', 20).notNullable().defaultTo('new'); });`,
      },
      {
        name: 'NOT NULL column of a table created in the same migration',
        up: `await knex.schema.createTable('nn_fresh', (t) => { t.increments('id'); });\nawait knex.schema.alterTable('nn_fresh', (t) => { t.string('code').notNullable(); });`,
      },
      {
        name: 'nullable column',
        setup: [`await knex.schema.createTable('nn_people', (t) => { t.increments('id'); });`],
        up: `await knex.schema.alterTable('nn_people', (t) => { t.string('nickname'); });`,
      },
      { name: 'SQL file: NOT NULL with a default', ext: 'sql', file: `ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'new';` },
    ],
    invalid: [
      {
        name: 'knex notNullable() on an existing table',
        setup: [`await knex.schema.createTable('nn_users', (t) => { t.increments('id'); t.string('email'); });`],
        up: `await knex.schema.alterTable('nn_users', (table) => {\n  table.string('status', 20).notNullable();\n});`,
        down: `await knex.schema.alterTable('nn_users', (table) => { table.dropColumn('status'); });`,
        errors: [{ severity: 'error', line: 2, message: 'Adding nn_users.status NOT NULL without a default fails as soon as nn_users has a row' }],
      },
      {
        name: 'raw boolean NOT NULL',
        setup: [`await knex.schema.createTable('nn_flags', (t) => { t.increments('id'); });`],
        up: `await knex.raw('ALTER TABLE nn_flags ADD COLUMN enabled boolean NOT NULL');`,
        down: `await knex.raw('ALTER TABLE nn_flags DROP COLUMN enabled');`,
        errors: [{ severity: 'error', line: 2, message: 'nn_flags.enabled' }],
      },
      {
        name: 'uuid NOT NULL: no constant fits, the fix fills it step by step',
        setup: [`await knex.schema.createTable('nn_documents', (t) => { t.increments('id'); });`],
        up: `await knex.schema.alterTable('nn_documents', (table) => { table.uuid('external_id').notNullable(); });`,
        down: `await knex.schema.alterTable('nn_documents', (table) => { table.dropColumn('external_id'); });`,
        errors: [{ severity: 'error', line: 2 }],
      },
      {
        name: 'the shadow table has rows: the migration fails there',
        isolated: true,
        setup: [`await knex.schema.createTable('nn_filled', (t) => { t.increments('id'); });\nawait knex('nn_filled').insert({});`],
        up: `await knex.schema.alterTable('nn_filled', (table) => { table.integer('rank').notNullable(); });`,
        errors: [{ severity: 'error', line: 2, message: 'failed on the shadow: nn_filled has rows' }],
      },
      { name: 'SQL file', ext: 'sql', file: `ALTER TABLE users ADD COLUMN status text NOT NULL;`, errors: [{ severity: 'error', line: 1 }] },
    ],
  },
  // Multi-step fixes: every step is verified up → down → up.
  { fixTimeoutMs: 180_000 },
);
