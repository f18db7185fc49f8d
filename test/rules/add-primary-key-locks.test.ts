import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each case's fix runs through check and verify on a shadow: minutes, not seconds, on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('add-primary-key-locks', {
  valid: [
    { name: 'primary key of a table created in the same migration', up: `await knex.schema.createTable('pk_fresh', (t) => { t.integer('id'); t.primary(['id']); });` },
    {
      name: 'PRIMARY KEY USING INDEX',
      setup: [`await knex.schema.createTable('pk_a', (t) => { t.integer('id').notNullable(); });\nawait knex.raw('CREATE UNIQUE INDEX pk_a_pkey ON pk_a (id)');`],
      up: `await knex.raw('ALTER TABLE pk_a ADD CONSTRAINT pk_a_pkey PRIMARY KEY USING INDEX pk_a_pkey');`,
    },
    { name: 'SQL file: USING INDEX', ext: 'sql', file: 'ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_idx;' },
  ],
  invalid: [
    {
      name: 'knex table.primary() on a nullable column of an existing table',
      setup: [`await knex.schema.createTable('pk_legacy', (t) => { t.integer('id'); t.string('code'); });\nawait knex('pk_legacy').insert([{ id: 1, code: 'a' }, { id: 2, code: 'b' }]);`],
      up: `await knex.schema.alterTable('pk_legacy', (t) => {\n  t.primary(['id']);\n});`,
      down: `await knex.schema.alterTable('pk_legacy', (t) => t.dropPrimary());`,
      errors: [{ severity: 'error', line: 2, message: 'Primary key pk_legacy_pkey on pk_legacy is built under an ACCESS EXCLUSIVE lock (with a NOT NULL scan of id)' }],
    },
    {
      name: 'raw ADD PRIMARY KEY on a NOT NULL column (PostgreSQL names it)',
      setup: [`await knex.schema.createTable('pk_events', (t) => { t.bigInteger('id').notNullable(); t.string('kind'); });`],
      up: `\nawait knex.raw('ALTER TABLE pk_events ADD PRIMARY KEY (id)');`,
      errors: [{ severity: 'error', line: 3, message: /^Primary key pk_events_pkey on pk_events is built under an ACCESS EXCLUSIVE lock$/ }],
    },
    { name: 'SQL file: ADD PRIMARY KEY', ext: 'sql', file: 'ALTER TABLE events ADD PRIMARY KEY (id);\n', errors: [{ severity: 'error', line: 1, message: 'Primary key events_pkey on events' }] },
  ],
});
