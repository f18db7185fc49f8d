import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each case's fix runs through check and verify on a shadow: minutes, not seconds, on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

const accounts = `await knex.schema.createTable('fk_accounts', (t) => { t.increments('id'); });\nawait knex('fk_accounts').insert({});`;

ruleTester('foreign-key-not-valid', {
  valid: [
    {
      name: 'a new table referencing an existing one (empty: nothing to check)',
      setup: [`await knex.schema.createTable('fk_owners', (t) => { t.increments('id'); });`],
      up: `await knex.schema.createTable('fk_pets', (t) => { t.increments('id'); t.integer('owner_id').references('id').inTable('fk_owners'); });`,
    },
    {
      name: 'raw ADD CONSTRAINT … FOREIGN KEY … NOT VALID',
      setup: [`await knex.schema.createTable('fk_a_parent', (t) => { t.increments('id'); });\nawait knex.schema.createTable('fk_a', (t) => { t.increments('id'); t.integer('parent_id'); });`],
      up: `await knex.raw('ALTER TABLE fk_a ADD CONSTRAINT fk_a_parent_id_foreign FOREIGN KEY (parent_id) REFERENCES fk_a_parent (id) NOT VALID');`,
    },
    { name: 'SQL file: NOT VALID', ext: 'sql', file: 'ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;' },
  ],
  invalid: [
    {
      // PostgreSQL 15 refuses NOT VALID on a partitioned table (18 accepts it): the fix goes partition by partition.
      name: 'a foreign key on a partitioned table (one partition itself partitioned): NOT VALID and VALIDATE per partition, then the parent',
      setup: [
        `await knex.schema.createTable('fk_devices', (t) => { t.increments('id'); });\nawait knex.raw('insert into fk_devices select from generate_series(1, 2)');`,
        `await knex.raw(\`create table fk_readings (id bigint not null, at date not null, device_id int) partition by range (at);
create table fk_readings_2024 partition of fk_readings for values from ('2024-01-01') to ('2025-01-01');
create table fk_readings_2025 partition of fk_readings for values from ('2025-01-01') to ('2026-01-01') partition by hash (id);
create table fk_readings_2025_h0 partition of fk_readings_2025 for values with (modulus 2, remainder 0);
create table fk_readings_2025_h1 partition of fk_readings_2025 for values with (modulus 2, remainder 1);
insert into fk_readings select g, date '2024-01-01' + (g % 700), 1 + g % 2 from generate_series(1, 400) g;\`);`,
      ],
      up: `await knex.schema.alterTable('fk_readings', (t) => {\n  t.foreign('device_id').references('fk_devices.id');\n});`,
      down: `await knex.schema.alterTable('fk_readings', (t) => t.dropForeign('device_id'));`,
      errors: [{ severity: 'error', line: 2, message: 'Foreign key fk_readings_device_id_foreign on fk_readings is added without NOT VALID' }],
    },
    {
      name: 'knex foreign().references() on an existing table',
      setup: [accounts, `await knex.schema.createTable('fk_users', (t) => { t.increments('id'); t.integer('account_id'); });\nawait knex('fk_users').insert({ account_id: 1 });`],
      up: `await knex.schema.alterTable('fk_users', (t) => {\n  t.foreign('account_id').references('fk_accounts.id');\n});`,
      down: `await knex.schema.alterTable('fk_users', (t) => t.dropForeign('account_id'));`,
      errors: [{ severity: 'error', line: 2, message: 'Foreign key fk_users_account_id_foreign on fk_users is added without NOT VALID' }],
    },
    {
      name: 'knex column with .references() added to an existing table',
      setup: [`await knex.schema.createTable('fk_teams', (t) => { t.increments('id'); });\nawait knex.schema.createTable('fk_members', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('fk_members', (t) => {\n  t.integer('team_id').references('id').inTable('fk_teams').onDelete('CASCADE');\n});`,
      errors: [{ severity: 'error', line: 2, message: 'Foreign key fk_members_team_id_foreign on fk_members' }],
    },
    {
      name: 'raw ADD COLUMN … REFERENCES (PostgreSQL names it)',
      setup: [`await knex.schema.createTable('fk_vendors', (t) => { t.increments('id'); });\nawait knex.schema.createTable('fk_invoices', (t) => { t.increments('id'); });`],
      up: `await knex.raw('ALTER TABLE fk_invoices ADD COLUMN vendor_id integer REFERENCES fk_vendors (id)');`,
      errors: [{ severity: 'error', message: 'Foreign key fk_invoices_vendor_id_fkey on fk_invoices' }],
    },
    {
      name: 'SQL file: ADD FOREIGN KEY',
      ext: 'sql',
      file: 'ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;\n',
      errors: [{ severity: 'error', line: 1, message: 'Foreign key orders_user_id_fkey on orders is added without NOT VALID' }],
    },
  ],
});
