import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('knex-drop-unique-on-index', {
  valid: [
    {
      name: 'dropUnique on a unique constraint (the seed example)',
      setup: [`await knex.schema.createTable('du_users', (t) => { t.increments('id'); t.string('email'); });\nawait knex.schema.alterTable('du_users', (table) => { table.unique('email'); });`],
      up: `await knex.schema.alterTable('du_users', (table) => {\n  table.dropUnique('email');\n});`,
    },
    {
      name: 'dropIndex on an index',
      setup: [`await knex.schema.createTable('du_people', (t) => { t.increments('id'); t.string('email').index('du_people_email_idx'); });`],
      up: `await knex.schema.alterTable('du_people', (table) => {\n  table.dropIndex('email', 'du_people_email_idx');\n});`,
    },
    {
      name: 'raw DROP INDEX of a unique index',
      setup: [`await knex.raw('CREATE TABLE du_codes (id serial PRIMARY KEY, code text)');\nawait knex.raw('CREATE UNIQUE INDEX du_codes_code_uq ON du_codes (code)');`],
      up: `await knex.raw('DROP INDEX du_codes_code_uq');`,
    },
    { name: 'SQL file (no schema to compare with)', ext: 'sql', file: 'ALTER TABLE users DROP CONSTRAINT users_email_uq;' },
  ],
  invalid: [
    {
      name: 'dropUnique on a unique index made with useConstraint: false (fails: 42704)',
      isolated: true,
      setup: [`await knex.schema.createTable('du_accounts', (t) => { t.increments('id'); t.string('email'); t.unique(['email'], { indexName: 'du_accounts_email_uq', useConstraint: false }); });`],
      up: `await knex.schema.alterTable('du_accounts', (table) => {\n  table.dropUnique(['email'], 'du_accounts_email_uq');\n});`,
      errors: [{ severity: 'error', line: 2, message: 'du_accounts_email_uq on du_accounts is a unique index, not a constraint: DROP CONSTRAINT fails' }],
    },
    {
      name: 'DROP CONSTRAINT IF EXISTS on a unique index silently does nothing',
      setup: [`await knex.raw('CREATE TABLE du_members (id serial PRIMARY KEY, login text)');\nawait knex.raw('CREATE UNIQUE INDEX du_members_login_uq ON du_members (login)');`],
      up: `await knex.raw('ALTER TABLE du_members DROP CONSTRAINT IF EXISTS du_members_login_uq');`,
      errors: [{ severity: 'error', line: 2, message: 'du_members_login_uq on du_members is a unique index' }],
    },
    {
      name: 'dropIndex on the index of a unique constraint (fails: 2BP01)',
      isolated: true,
      setup: [`await knex.schema.createTable('du_clients', (t) => { t.increments('id'); t.string('email').unique(); });`],
      up: `await knex.schema.alterTable('du_clients', (table) => {\n  table.dropIndex('email', 'du_clients_email_unique');\n});`,
      errors: [{ severity: 'error', line: 2, message: 'du_clients_email_unique belongs to the unique constraint du_clients_email_unique on du_clients: DROP INDEX fails' }],
    },
    {
      name: 'raw DROP INDEX of a primary key index (fails: 2BP01)',
      isolated: true,
      setup: [`await knex.schema.createTable('du_things', (t) => { t.increments('id'); });`],
      up: `await knex.raw('DROP INDEX du_things_pkey');`,
      errors: [{ line: 2, message: 'du_things_pkey belongs to the primary key du_things_pkey' }],
    },
  ],
});
