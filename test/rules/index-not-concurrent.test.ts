import { ruleTester } from '../helpers/rule-tester.js';

const users = `await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email'); t.integer('age'); });`;

ruleTester('index-not-concurrent', {
  valid: [
    { name: 'index on a table created in the same migration', up: `await knex.schema.createTable('fresh', (t) => { t.increments('id'); t.string('code').index(); });` },
    {
      name: 'index on a table dropped and re-created in the same migration (it is empty)',
      setup: [`await knex.schema.createTable('rc_shares', (t) => { t.string('id', 32).primary(); });`],
      up: `await knex.schema.dropTable('rc_shares');\nawait knex.schema.createTable('rc_shares', (t) => { t.string('id', 32).primary(); t.string('owner_id', 32).index(); });`,
    },
    {
      name: 'CREATE INDEX CONCURRENTLY outside a transaction',
      setup: [`await knex.schema.createTable('c_users', (t) => { t.increments('id'); t.string('email'); });`],
      up: `await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS c_users_email_idx ON c_users (email)');`,
      down: `await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS c_users_email_idx');`,
      transaction: false,
    },
    { name: 'SQL file: concurrent index', ext: 'sql', file: 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);' },
  ],
  invalid: [
    {
      name: 'knex table.index() on an existing table',
      setup: [users],
      up: `await knex.schema.alterTable('users', (t) => {\n  t.index('email');\n});`,
      errors: [{ severity: 'error', line: 2, message: 'Index users_email_index on users is built without CONCURRENTLY' }],
    },
    {
      name: 'raw unique index with a WHERE clause',
      setup: [`await knex.schema.createTable('accounts', (t) => { t.increments('id'); t.string('email'); t.boolean('deleted'); });`],
      up: `await knex.raw('create unique index accounts_email_live on accounts (email) where not deleted');`,
      errors: [{ severity: 'error', message: 'Unique index accounts_email_live on accounts' }],
    },
    {
      name: 'suppressed with a reason',
      setup: [`await knex.schema.createTable('tiny', (t) => { t.increments('id'); t.string('code'); });`],
      file: `exports.up = async function (knex) {\n  // knexsafe-ignore index-not-concurrent: lookup table with 12 rows\n  await knex.schema.alterTable('tiny', (t) => t.index('code'));\n};\nexports.down = async function () {};\n`,
      errors: [{ suppressed: true, line: 3 }],
    },
    { name: 'SQL file: plain CREATE INDEX', ext: 'sql', file: 'CREATE INDEX users_email_idx ON users (email);', errors: [{ severity: 'error', line: 1 }] },
  ],
});
