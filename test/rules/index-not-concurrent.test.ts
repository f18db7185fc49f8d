import { ruleTester } from '../helpers/rule-tester.js';

// A partitioned parent with a range partition, a sub-partitioned one and a DEFAULT partition, holding rows.
// Cases share one database: each gets its own tables (m1_…, m2_…).
const measurements = (p: string) => [
  `await knex.raw(\`create table ${p}measurements (id bigint not null, at date not null, device text not null, value int) partition by range (at);
create table ${p}measurements_2024 partition of ${p}measurements for values from ('2024-01-01') to ('2025-01-01');
create table ${p}measurements_2025 partition of ${p}measurements for values from ('2025-01-01') to ('2026-01-01') partition by list (device);
create table ${p}measurements_2025_a partition of ${p}measurements_2025 for values in ('a');
create table ${p}measurements_2025_rest partition of ${p}measurements_2025 default;
create table ${p}measurements_default partition of ${p}measurements default;
insert into ${p}measurements select g, date '2024-01-01' + g, case when g % 2 = 0 then 'a' else 'b' end, g from generate_series(1, 900) g;\`);`,
];

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
    {
      name: 'CREATE INDEX ON ONLY a partitioned parent (catalog only)',
      setup: measurements('m1_'),
      up: `await knex.raw('create index m1_measurements_value_idx on only m1_measurements (value)');`,
      down: `await knex.raw('drop index m1_measurements_value_idx');`,
    },
    {
      name: 'the ON ONLY + CONCURRENTLY per partition + ATTACH recipe',
      setup: measurements('m2_'),
      up: [
        `await knex.raw('create index if not exists m2_measurements_value_idx on only m2_measurements (value)');`,
        `await knex.raw('create index concurrently if not exists m2_measurements_2024_value_idx on m2_measurements_2024 (value)');`,
        `await knex.raw('alter index m2_measurements_value_idx attach partition m2_measurements_2024_value_idx');`,
      ].join('\n'),
      down: `await knex.raw('drop index if exists m2_measurements_value_idx');`,
      transaction: false,
    },
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
    {
      name: 'knex index on a partitioned parent: the fix is the ON ONLY + per-partition CONCURRENTLY + ATTACH recipe',
      setup: measurements('m3_'),
      up: `await knex.schema.alterTable('m3_measurements', (t) => {\n  t.index(['device', 'value']);\n});`,
      errors: [{ severity: 'error', line: 2, message: 'Index m3_measurements_device_value_index on partitioned m3_measurements is built on its 3 partition(s) at once, without CONCURRENTLY' }],
    },
    { name: 'SQL file: plain CREATE INDEX', ext: 'sql', file: 'CREATE INDEX users_email_idx ON users (email);', errors: [{ severity: 'error', line: 1 }] },
  ],
});
