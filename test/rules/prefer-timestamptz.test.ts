import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('prefer-timestamptz', {
  valid: [
    {
      name: 'knex timestamp(), datetime() and timestamps() are timestamptz on PostgreSQL',
      up: `await knex.schema.createTable('pt_ok', (t) => { t.increments('id'); t.timestamp('paid_at'); t.datetime('seen_at'); t.timestamps(true, true); t.timestamp('p', { precision: 3 }); });`,
    },
    { name: 'date and time columns', up: `await knex.schema.createTable('pt_dates', (t) => { t.increments('id'); t.date('day'); });` },
    {
      name: 'an existing timestamp column is not nagged about',
      setup: [`await knex.schema.createTable('pt_old', (t) => { t.increments('id'); t.timestamp('at', { useTz: false }); });`],
      up: `await knex.schema.alterTable('pt_old', (t) => { t.text('note'); });`,
    },
  ],
  invalid: [
    {
      name: 'timestamp with { useTz: false }',
      up: `await knex.schema.createTable('pt_logs', (t) => {\n  t.increments('id');\n  t.timestamp('logged_at', { useTz: false }).notNullable();\n});`,
      down: `await knex.schema.dropTable('pt_logs');`,
      errors: [{ severity: 'info', line: 4, message: 'pt_logs.logged_at is timestamp without time zone: prefer timestamptz' }],
    },
    {
      name: 'timestamp(name, true) — the old "withoutTz" flag — added to an existing table',
      setup: [`await knex.schema.createTable('pt_users', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('pt_users', (t) => {\n  t.timestamp('last_login', true, 3);\n});`,
      down: `await knex.schema.alterTable('pt_users', (t) => {\n  t.dropColumn('last_login');\n});`,
      errors: [{ line: 3 }],
    },
    {
      name: "specificType('…', 'timestamp')",
      up: `await knex.schema.createTable('pt_jobs', (t) => {\n  t.increments('id');\n  t.specificType('run_at', 'timestamp without time zone');\n});`,
      down: `await knex.schema.dropTable('pt_jobs');`,
      errors: [{ line: 4, message: 'pt_jobs.run_at is timestamp without time zone' }],
    },
    { name: 'raw SQL', up: `await knex.raw('CREATE TABLE pt_raw (id serial PRIMARY KEY, created timestamp DEFAULT now())');`, errors: [{ line: 2 }] },
    { name: 'SQL file', ext: 'sql', file: 'CREATE TABLE audit (at timestamp(6) NOT NULL);', errors: [{ line: 1 }] },
  ],
});
