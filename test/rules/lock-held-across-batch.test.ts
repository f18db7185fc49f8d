import { ruleTester } from '../helpers/rule-tester.js';

const later = [`await knex.schema.createTable('lb_audit', (t) => { t.increments('id'); t.text('entry'); });`, `await knex('lb_audit').insert([{ entry: 'a' }, { entry: 'b' }]);`];

ruleTester('lock-held-across-batch', {
  valid: [
    {
      name: 'a migration run on its own (check --all: every migration is its own deploy)',
      setup: [`await knex.schema.createTable('lb_alone', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('lb_alone', (t) => { t.string('note'); });`,
    },
    {
      name: 'batch: a migration with transaction: false makes knex run each migration in its own transaction',
      setup: [`await knex.schema.createTable('lb_split', (t) => { t.increments('id'); });`],
      up: `await knex.transaction(async (trx) => {\n  await trx.raw("SET LOCAL lock_timeout = '5s'");\n  await trx.schema.alterTable('lb_split', (t) => { t.string('note'); });\n});`,
      down: `await knex.schema.alterTable('lb_split', (t) => { t.dropColumn('note'); });`,
      transaction: false,
      batchWith: later,
    },
  ],
  invalid: [
    {
      name: 'batch: ACCESS EXCLUSIVE from ALTER TABLE held while two later migrations run',
      setup: [`await knex.schema.createTable('lb_users', (t) => { t.increments('id'); t.string('email'); });`],
      up: `await knex.schema.alterTable('lb_users', (table) => {\n  table.string('nickname');\n});`,
      down: `await knex.schema.alterTable('lb_users', (table) => { table.dropColumn('nickname'); });`,
      batchWith: later,
      // The embedded target reports lb_users as (nearly) empty: a small table.
      errors: [
        {
          severity: 'info',
          line: 2,
          message: /^The ACCESS EXCLUSIVE lock on lb_users stays held while 2 later migrations of the batch run \(20250101000001_c\d+_case_1\.js, 20250101000002_c\d+_case_2\.js\)$/,
        },
      ],
    },
  ],
});
