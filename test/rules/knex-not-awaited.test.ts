import { ruleTester } from '../helpers/rule-tester.js';

ruleTester('knex-not-awaited', {
  valid: [
    {
      name: 'awaited raw and schema builders',
      setup: [`await knex.schema.createTable('na_a', (t) => { t.bigIncrements('id'); });`],
      up: `await knex.raw('ALTER TABLE na_a ADD COLUMN x int');\nawait knex.schema.alterTable('na_a', (t) => { t.string('y'); });`,
      down: `await knex.schema.alterTable('na_a', (t) => { t.dropColumn('y'); t.dropColumn('x'); });`,
    },
    {
      name: 'a promise-returning up (return, not await), as older projects write it',
      file: `exports.up = function (knex) {\n  return knex.schema.createTable('na_b', (t) => { t.bigIncrements('id'); });\n};\n\nexports.down = function (knex) {\n  return knex.schema.dropTable('na_b');\n};\n`,
    },
    {
      name: 'raw values, knex.fn.now() and subqueries used inside another query (they run with it)',
      setup: [`await knex.schema.createTable('na_c', (t) => { t.bigIncrements('id'); t.timestamp('at', { useTz: true }).defaultTo(knex.fn.now()); t.integer('n'); });`],
      up: `await knex('na_c').update({ at: knex.raw('now()'), n: knex.raw('coalesce(n, 0) + 1') }).whereIn('id', knex('na_c').select('id').where('n', '>', 1));`,
    },
    {
      name: 'builders run together with Promise.all',
      setup: [`await knex.schema.createTable('na_d', (t) => { t.bigIncrements('id'); });`],
      up: `await Promise.all([knex.raw('ALTER TABLE na_d ADD COLUMN x int'), knex('na_d').count()]);`,
      down: `await knex.raw('ALTER TABLE na_d DROP COLUMN x');`,
    },
  ],
  invalid: [
    {
      // kutt's 20200510140704_domains.js
      name: 'knex.raw without await: the statement never runs',
      setup: [`await knex.schema.createTable('na_e', (t) => { t.bigIncrements('id'); t.string('user_id'); t.unique(['user_id']); });`],
      up: `knex.raw('ALTER TABLE na_e DROP CONSTRAINT IF EXISTS na_e_user_id_unique');`,
      down: `await knex.raw('ALTER TABLE na_e ADD CONSTRAINT na_e_user_id_unique UNIQUE (user_id)');`,
      errors: [{ severity: 'error', line: 2, message: 'This knex call is never run: nothing awaits or returns it' }],
    },
    {
      name: 'a schema builder without await',
      setup: [`await knex.schema.createTable('na_f', (t) => { t.bigIncrements('id'); });`],
      up: `knex.schema.alterTable('na_f', (t) => {\n  t.string('note');\n});`,
      down: `await knex.schema.alterTable('na_f', (t) => { t.dropColumn('note'); });`,
      errors: [{ severity: 'error', line: 2 }],
    },
  ],
});
