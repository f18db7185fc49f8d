import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each case's fix runs through check and verify on a shadow: minutes, not seconds, on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('unique-constraint-locks', {
  valid: [
    { name: 'unique on a table created in the same migration', up: `await knex.schema.createTable('uq_fresh', (t) => { t.increments('id'); t.string('code').unique(); });` },
    {
      name: 'ADD CONSTRAINT … UNIQUE USING INDEX over an index built concurrently',
      setup: [`await knex.schema.createTable('uq_a', (t) => { t.increments('id'); t.string('email'); });\nawait knex.raw('CREATE UNIQUE INDEX uq_a_email_unique ON uq_a (email)');`],
      up: `await knex.raw('ALTER TABLE uq_a ADD CONSTRAINT uq_a_email_unique UNIQUE USING INDEX uq_a_email_unique');`,
    },
    {
      name: 'CREATE UNIQUE INDEX is index-not-concurrent’s, not this rule’s',
      setup: [`await knex.schema.createTable('uq_b', (t) => { t.increments('id'); t.string('email'); });`],
      up: `await knex.schema.alterTable('uq_b', (t) => t.unique(['email'], { indexName: 'uq_b_email_idx', useConstraint: false }));`,
    },
    { name: 'SQL file: USING INDEX', ext: 'sql', file: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;' },
    { name: 'SQL file: a table the file creates', ext: 'sql', file: 'CREATE TABLE t (a int);\nALTER TABLE t ADD UNIQUE (a);\n' },
    {
      name: 'EXCLUDE on a table created in the same migration',
      up: `await knex.schema.createTable('uq_rooms', (t) => { t.increments('id'); t.specificType('during', 'tstzrange'); });\nawait knex.raw('ALTER TABLE uq_rooms ADD CONSTRAINT uq_rooms_no_overlap EXCLUDE USING gist (during WITH &&)');`,
    },
  ],
  invalid: [
    {
      // PostgreSQL refuses CONCURRENTLY and USING INDEX on a partitioned table: the fix is a unique index built partition by partition.
      name: 'knex unique() on a partitioned table',
      setup: [
        `await knex.raw(\`create table uq_orders (id bigint not null, placed date not null) partition by range (placed);
create table uq_orders_2024 partition of uq_orders for values from ('2024-01-01') to ('2025-01-01');
create table uq_orders_rest partition of uq_orders default;
insert into uq_orders select g, date '2024-01-01' + (g % 500) from generate_series(1, 300) g;\`);`,
      ],
      up: `await knex.schema.alterTable('uq_orders', (t) => {\n  t.unique(['id', 'placed']);\n});`,
      down: `await knex.schema.alterTable('uq_orders', (t) => t.dropUnique(['id', 'placed']));`,
      errors: [{ severity: 'error', line: 2, message: "Unique constraint uq_orders_id_placed_unique on partitioned uq_orders builds every partition's index under lock" }],
    },
    {
      name: 'knex table.unique() on an existing table',
      setup: [`await knex.schema.createTable('uq_users', (t) => { t.increments('id'); t.string('email'); });\nawait knex('uq_users').insert([{ email: 'a@x' }, { email: 'b@x' }]);`],
      up: `await knex.schema.alterTable('uq_users', (t) => {\n  t.unique('email');\n});`,
      down: `await knex.schema.alterTable('uq_users', (t) => t.dropUnique('email'));`,
      errors: [{ severity: 'error', line: 2, message: 'Unique constraint uq_users_email_unique on uq_users builds its index under an ACCESS EXCLUSIVE lock' }],
    },
    {
      name: 'knex .unique() on a column added to an existing table',
      setup: [`await knex.schema.createTable('uq_accounts', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('uq_accounts', (t) => {\n  t.string('slug', 64).unique();\n});`,
      errors: [{ severity: 'error', line: 2, message: 'Unique constraint uq_accounts_slug_unique on uq_accounts' }],
    },
    {
      name: 'raw two-column DEFERRABLE unique constraint',
      setup: [`await knex.schema.createTable('uq_slots', (t) => { t.increments('id'); t.integer('room'); t.integer('pos'); });`],
      up: `\n\nawait knex.raw('ALTER TABLE uq_slots ADD CONSTRAINT uq_slots_room_pos UNIQUE (room, pos) DEFERRABLE INITIALLY DEFERRED');`,
      errors: [{ severity: 'error', line: 4, message: 'Unique constraint uq_slots_room_pos on uq_slots' }],
    },
    {
      name: 'raw ADD COLUMN … UNIQUE (PostgreSQL names it)',
      setup: [`await knex.schema.createTable('uq_codes', (t) => { t.increments('id'); });`],
      up: `await knex.raw('ALTER TABLE uq_codes ADD COLUMN code text UNIQUE');`,
      errors: [{ severity: 'error', message: 'Unique constraint uq_codes_code_key on uq_codes' }],
    },
    {
      name: 'knex withSchema().alterTable() in another schema',
      setup: [`await knex.schema.createSchema('uq_app');\nawait knex.schema.withSchema('uq_app').createTable('things', (t) => { t.increments('id'); t.string('code'); });`],
      up: `await knex.schema.withSchema('uq_app').alterTable('things', (t) => t.unique(['code']));`,
      errors: [{ severity: 'error', line: 2, message: 'Unique constraint things_code_unique on uq_app.things' }],
    },
    {
      name: 'raw ADD CONSTRAINT … EXCLUDE on an existing table (no fix exists)',
      setup: [`await knex.schema.createTable('uq_bookings', (t) => { t.increments('id'); t.specificType('during', 'tstzrange'); });`],
      up: `await knex.raw('ALTER TABLE uq_bookings ADD CONSTRAINT uq_bookings_no_overlap EXCLUDE USING gist (during WITH &&)');`,
      errors: [{ severity: 'error', line: 2, message: 'Exclusion constraint uq_bookings_no_overlap on uq_bookings builds its gist index under an ACCESS EXCLUSIVE lock' }],
    },
    {
      name: 'SQL file: ADD EXCLUDE without a name',
      ext: 'sql',
      file: 'ALTER TABLE bookings ADD EXCLUDE USING gist (during WITH &&);\n',
      errors: [{ severity: 'error', line: 1, message: 'Exclusion constraint bookings_during_excl on bookings' }],
    },
    {
      name: 'SQL file: ADD CONSTRAINT … UNIQUE',
      ext: 'sql',
      file: 'ALTER TABLE users\n  ADD CONSTRAINT users_email_key UNIQUE (email);\n',
      errors: [{ severity: 'error', line: 1, message: 'Unique constraint users_email_key on users' }],
    },
  ],
});
