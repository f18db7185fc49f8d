import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// The fix is three migrations per case, each checked and verified (up, down, up): slow on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('rename-column', {
  valid: [
    {
      name: 'rename a column of a table created in the same migration',
      up: `await knex.schema.createTable('rc_draft', (t) => { t.increments('id'); t.text('nm'); });\nawait knex.schema.alterTable('rc_draft', (t) => t.renameColumn('nm', 'name'));`,
    },
    {
      name: 'rename a constraint',
      setup: [`await knex.schema.createTable('rc_tags', (t) => { t.increments('id'); t.text('label').unique(); });`],
      up: `await knex.raw('ALTER TABLE rc_tags RENAME CONSTRAINT rc_tags_label_unique TO rc_tags_label_key');`,
    },
    {
      name: 'add the new column instead (expand)',
      setup: [`await knex.schema.createTable('rc_people', (t) => { t.increments('id'); t.text('name'); });`],
      up: `await knex.schema.alterTable('rc_people', (t) => { t.text('full_name'); });`,
    },
  ],
  invalid: [
    {
      name: 'knex renameColumn (the seed example)',
      setup: [`await knex.schema.createTable('rc_users', (t) => { t.increments('id'); t.string('name'); });\nawait knex('rc_users').insert([{ name: 'Ada' }, { name: 'Linus' }]);`],
      up: `await knex.schema.alterTable('rc_users', (table) => {\n  table.renameColumn('name', 'full_name');\n});`,
      down: `await knex.schema.alterTable('rc_users', (table) => {\n  table.renameColumn('full_name', 'name');\n});`,
      errors: [{ severity: 'warning', line: 3, message: 'Column rc_users.name is renamed to full_name' }],
    },
    {
      name: 'NOT NULL column with a default and an index',
      setup: [
        `await knex.schema.createTable('rc_orders', (t) => { t.increments('id'); t.string('state', 20).notNullable().defaultTo('new').index(); });\nawait knex('rc_orders').insert([{ state: 'paid' }, {}]);`,
      ],
      up: `await knex.schema.alterTable('rc_orders', (t) => t.renameColumn('state', 'status'));`,
      errors: [{ line: 2, message: 'Column rc_orders.state is renamed to status' }],
    },
    {
      name: 'a column with an expression index, a unique constraint, a check and a foreign key: rebuilt on the new column under their names',
      setup: [
        `await knex.schema.createTable('rc_countries', (t) => { t.string('code', 2).primary(); });\nawait knex('rc_countries').insert([{ code: 'fr' }, { code: 'de' }]);`,
        `await knex.schema.createTable('rc_sites', (t) => { t.increments('id'); t.string('cc', 2).unique().references('code').inTable('rc_countries'); });`,
        `await knex.raw('CREATE INDEX rc_sites_cc_lower ON rc_sites (lower(cc)) WHERE cc IS NOT NULL');\nawait knex.raw('ALTER TABLE rc_sites ADD CONSTRAINT rc_sites_cc_length CHECK (length(cc) = 2)');\nawait knex('rc_sites').insert([{ cc: 'fr' }, { cc: 'de' }, {}]).onConflict().ignore();`,
      ],
      up: `await knex.schema.alterTable('rc_sites', (t) => t.renameColumn('cc', 'country'));`,
      errors: [{ line: 2, message: 'Column rc_sites.cc is renamed to country' }],
    },
    {
      name: 'raw RENAME COLUMN',
      setup: [`await knex.schema.createTable('rc_accounts', (t) => { t.increments('id'); t.text('login'); });`],
      up: `await knex.raw('ALTER TABLE rc_accounts RENAME COLUMN login TO username');`,
      errors: [{ line: 2, message: 'Column rc_accounts.login is renamed to username' }],
    },
    { name: 'SQL file', ext: 'sql', file: 'ALTER TABLE users RENAME COLUMN name TO full_name;', errors: [{ line: 1, message: 'Column users.name is renamed to full_name' }] },
  ],
});
