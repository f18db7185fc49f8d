import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each case's fix runs through check and verify on a shadow: minutes, not seconds, on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('drop-index-not-concurrent', {
  valid: [
    {
      name: 'DROP INDEX CONCURRENTLY outside a transaction',
      setup: [`await knex.schema.createTable('di_a', (t) => { t.increments('id'); t.string('email').index(); });`],
      up: `await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS di_a_email_index');`,
      down: `await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS di_a_email_index ON di_a (email)');`,
      transaction: false,
    },
    {
      name: 'an index created and dropped in the same migration on a new table',
      up: `await knex.schema.createTable('di_fresh', (t) => { t.increments('id'); t.string('code').index(); });\nawait knex.schema.alterTable('di_fresh', (t) => t.dropIndex('code'));`,
    },
    {
      name: 'an index created earlier in the same migration on an existing table',
      setup: [`await knex.schema.createTable('di_b', (t) => { t.increments('id'); t.string('code'); });`],
      up: `await knex.raw('CREATE INDEX CONCURRENTLY di_b_tmp ON di_b (code)');\nawait knex.raw('DROP INDEX CONCURRENTLY di_b_tmp');`,
      transaction: false,
    },
    { name: 'SQL file: DROP INDEX CONCURRENTLY', ext: 'sql', file: 'DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;' },
    { name: 'SQL file: an index the file created itself', ext: 'sql', file: 'CREATE INDEX CONCURRENTLY t_idx ON t (a);\nDROP INDEX CONCURRENTLY t_idx;\n' },
  ],
  invalid: [
    {
      // pg_get_indexdef prints it ON ONLY the parent: a down re-running that would leave an INVALID index.
      name: 'an index of a partitioned table: no CONCURRENTLY there; down rebuilds it partition by partition',
      setup: [
        `await knex.raw(\`create table di_logs (id bigint not null, at date not null, level int) partition by range (at);
create table di_logs_2024 partition of di_logs for values from ('2024-01-01') to ('2025-01-01');
create table di_logs_rest partition of di_logs default;
insert into di_logs select g, date '2024-01-01' + (g % 500), g % 5 from generate_series(1, 300) g;
create index di_logs_level_idx on di_logs (level);\`);`,
      ],
      up: `await knex.raw('drop index di_logs_level_idx');`,
      down: `await knex.raw('create index di_logs_level_idx on di_logs (level)');`,
      errors: [{ severity: 'warning', message: 'Index di_logs_level_idx on di_logs is dropped without CONCURRENTLY' }],
    },
    {
      name: 'knex dropIndex on an existing table',
      setup: [`await knex.schema.createTable('di_users', (t) => { t.increments('id'); t.string('email'); t.index('email'); });`],
      up: `await knex.schema.alterTable('di_users', (t) => {\n  t.dropIndex('email');\n});`,
      down: `await knex.schema.alterTable('di_users', (t) => t.index('email'));`,
      errors: [{ severity: 'error', line: 2, message: 'Index di_users_email_index on di_users is dropped without CONCURRENTLY' }],
    },
    {
      name: 'raw DROP INDEX of a partial unique index, schema-qualified',
      setup: [
        `await knex.schema.createTable('di_orders', (t) => { t.increments('id'); t.string('ref'); t.boolean('open'); });\nawait knex.raw('CREATE UNIQUE INDEX di_orders_open_ref ON di_orders (ref) WHERE open');`,
      ],
      up: `\nawait knex.raw('DROP INDEX IF EXISTS public.di_orders_open_ref');`,
      errors: [{ severity: 'error', line: 3, message: 'Index di_orders_open_ref on di_orders is dropped without CONCURRENTLY' }],
    },
    {
      name: 'SQL file: plain DROP INDEX',
      ext: 'sql',
      file: 'SELECT 1;\nDROP INDEX users_email_idx;\n',
      errors: [{ severity: 'error', line: 2, message: 'Index users_email_idx is dropped without CONCURRENTLY' }],
    },
  ],
});
