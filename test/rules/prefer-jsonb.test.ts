import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('prefer-jsonb', {
  valid: [
    { name: 'jsonb column', up: `await knex.schema.createTable('pj_events', (t) => { t.increments('id'); t.jsonb('payload'); });` },
    {
      name: 'an existing json column is not nagged about',
      setup: [`await knex.schema.createTable('pj_old', (t) => { t.increments('id'); t.json('payload'); });`],
      up: `await knex.schema.alterTable('pj_old', (t) => { t.jsonb('meta'); });`,
    },
  ],
  invalid: [
    {
      name: 'knex json() in createTable',
      up: `await knex.schema.createTable('pj_hooks', (t) => {\n  t.increments('id');\n  t.json('payload').notNullable();\n});`,
      down: `await knex.schema.dropTable('pj_hooks');`,
      errors: [{ severity: 'info', line: 4, message: 'pj_hooks.payload is json: prefer jsonb' }],
    },
    {
      name: 'specificType json column added to an existing table',
      setup: [`await knex.schema.createTable('pj_users', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('pj_users', (t) => {\n  t.specificType('settings', 'json');\n});`,
      down: `await knex.schema.alterTable('pj_users', (t) => {\n  t.dropColumn('settings');\n});`,
      errors: [{ line: 3, message: 'pj_users.settings is json: prefer jsonb' }],
    },
    {
      name: 'raw ADD COLUMN',
      setup: [`await knex.schema.createTable('pj_raw', (t) => { t.increments('id'); });`],
      up: `await knex.raw('ALTER TABLE pj_raw ADD COLUMN doc json');`,
      errors: [{ line: 2 }],
    },
    { name: 'SQL file', ext: 'sql', file: 'ALTER TABLE webhooks ADD COLUMN body json;', errors: [{ line: 1, message: 'webhooks.body is json: prefer jsonb' }] },
  ],
});
