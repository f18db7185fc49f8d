import { ruleTester } from '../helpers/rule-tester.js';

ruleTester('missing-lock-timeout', {
  valid: [
    {
      name: 'SET LOCAL lock_timeout first, in knex’s transaction',
      setup: [`await knex.schema.createTable('lt_users', (t) => { t.increments('id'); });`],
      up: `await knex.raw("SET LOCAL lock_timeout = '5s'");\nawait knex.schema.alterTable('lt_users', (t) => { t.string('nickname'); });`,
    },
    {
      name: 'set_config(lock_timeout, …, true)',
      setup: [`await knex.schema.createTable('lt_posts', (t) => { t.increments('id'); });`],
      up: `await knex.raw("SELECT set_config('lock_timeout', '3s', true)");\nawait knex.raw('ALTER TABLE lt_posts ADD COLUMN title text');`,
    },
    {
      name: 'transaction: false with its own transaction and SET LOCAL (the fixes’ shape)',
      setup: [`await knex.schema.createTable('lt_orders', (t) => { t.increments('id'); });`],
      up: `await knex.transaction(async (trx) => {\n  await trx.raw("SET LOCAL lock_timeout = '5s'");\n  await trx.raw('ALTER TABLE lt_orders ADD COLUMN note text');\n});`,
      transaction: false,
    },
    {
      name: 'only SHARE UPDATE EXCLUSIVE (CREATE INDEX CONCURRENTLY): reads and writes are not queued',
      setup: [`await knex.schema.createTable('lt_items', (t) => { t.increments('id'); t.string('sku'); });`],
      up: `await knex.raw('CREATE INDEX CONCURRENTLY lt_items_sku_idx ON lt_items (sku)');`,
      down: `await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS lt_items_sku_idx');`,
      transaction: false,
    },
    {
      name: 'a table created in the same migration',
      up: `await knex.schema.createTable('lt_fresh', (t) => { t.increments('id'); });\nawait knex.schema.alterTable('lt_fresh', (t) => { t.string('x'); });`,
    },
    {
      // EXCLUSIVE on a materialized view blocks no reads (and nobody writes one), even while it waits.
      name: 'REFRESH MATERIALIZED VIEW CONCURRENTLY of an existing view',
      setup: [`await knex.raw('CREATE MATERIALIZED VIEW lt_totals AS SELECT 1 AS id');\nawait knex.raw('CREATE UNIQUE INDEX lt_totals_id ON lt_totals (id)');`],
      up: `await knex.raw('REFRESH MATERIALIZED VIEW CONCURRENTLY lt_totals');`,
    },
    { name: 'SQL file: SET lock_timeout first', ext: 'sql', file: "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;\n" },
    { name: 'SQL file: DROP INDEX CONCURRENTLY', ext: 'sql', file: 'DROP INDEX CONCURRENTLY IF EXISTS users_email_index;\n' },
    { name: 'SQL file: DROP INDEX after SET lock_timeout', ext: 'sql', file: "SET lock_timeout = '2s';\nDROP INDEX users_email_index;\n" },
  ],
  invalid: [
    {
      name: 'knex alterTable on an existing table',
      setup: [`await knex.schema.createTable('lt_accounts', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('lt_accounts', (table) => {\n  table.string('plan');\n});`,
      down: `await knex.schema.alterTable('lt_accounts', (table) => { table.dropColumn('plan'); });`,
      errors: [{ severity: 'warning', line: 2, message: 'lt_accounts is locked in ACCESS EXCLUSIVE mode without a lock_timeout' }],
    },
    {
      // Checked on PostgreSQL 15: ALTER COLUMN TYPE of a foreign-key column takes ACCESS EXCLUSIVE on the referenced table too.
      name: '.alter() of a foreign-key column locks the referenced table in the same call',
      isolated: true,
      setup: [
        `await knex.schema.createTable('lt_owners', (t) => { t.increments('id'); });\nawait knex.schema.createTable('lt_pets', (t) => { t.increments('id'); t.integer('owner_id').references('lt_owners.id'); });`,
      ],
      up: `await knex.schema.alterTable('lt_pets', (t) => {\n  t.integer('owner_id').alter();\n});`,
      errors: [{ severity: 'warning', line: 2, message: /^lt_pets is locked in ACCESS EXCLUSIVE mode without a lock_timeout \(the same call also locks lt_owners in ACCESS EXCLUSIVE mode\)$/ }],
    },
    {
      name: 'SET LOCAL outside a transaction does nothing',
      setup: [`await knex.schema.createTable('lt_carts', (t) => { t.increments('id'); });`],
      up: `await knex.raw("SET LOCAL lock_timeout = '5s'");\nawait knex.raw('ALTER TABLE lt_carts ADD COLUMN coupon text');`,
      down: `await knex.raw('ALTER TABLE lt_carts DROP COLUMN coupon');`,
      transaction: false,
      errors: [{ severity: 'warning', line: 3, message: 'lt_carts is locked in ACCESS EXCLUSIVE mode' }],
    },
    {
      // The fix inserts an await: the plain function around it is made async (the fix test loads and runs it).
      name: 'a promise-returning (not async) up, as older knex projects write them',
      setup: [`await knex.schema.createTable('lt_members', (t) => { t.increments('id'); });`],
      file: `exports.up = function (knex) {\n  return knex.schema.alterTable('lt_members', (table) => {\n    table.string('nickname');\n  });\n};\n\nexports.down = function (knex) {\n  return knex.schema.alterTable('lt_members', (table) => {\n    table.dropColumn('nickname');\n  });\n};\n`,
      errors: [{ severity: 'warning', line: 2, message: 'lt_members is locked in ACCESS EXCLUSIVE mode without a lock_timeout' }],
    },
    {
      name: 'lock_timeout = 0 disables it',
      setup: [`await knex.schema.createTable('lt_tags', (t) => { t.increments('id'); t.string('name'); });`],
      up: `await knex.raw('SET LOCAL lock_timeout = 0');\nawait knex.raw('ALTER TABLE lt_tags RENAME COLUMN name TO label');`,
      down: `await knex.raw('ALTER TABLE lt_tags RENAME COLUMN label TO name');`,
      errors: [{ severity: 'warning', line: 3 }],
    },
    { name: 'SQL file', ext: 'sql', file: 'BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;\n', errors: [{ severity: 'warning', line: 2 }] },
    // Statically the index's table is unknown: the lock on the index stands for it.
    {
      name: 'SQL file: DROP INDEX of an index the file does not create',
      ext: 'sql',
      file: 'DROP INDEX users_email_index;\n',
      errors: [{ severity: 'warning', line: 1, message: 'Index users_email_index (and so its table) is locked in ACCESS EXCLUSIVE mode without a lock_timeout' }],
    },
    { name: 'SQL file: REINDEX INDEX', ext: 'sql', file: 'REINDEX INDEX users_email_index;\n', errors: [{ severity: 'warning', line: 1, message: 'Index users_email_index (and so its table)' }] },
  ],
});
