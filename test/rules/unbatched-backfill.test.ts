import { ruleTester } from '../helpers/rule-tester.js';

ruleTester(
  'unbatched-backfill',
  {
    valid: [
      {
        // knex sends `WHERE 1 = ?` (bound to 0) for .whereIn(col, []): nothing is written; with ids it is a key list.
        name: 'whereIn with a list that was empty on the shadow',
        setup: [`await knex.schema.createTable('ub_flows', (t) => { t.increments('id'); t.integer('user_id'); t.timestamp('deleted_at'); });`],
        up: `const gone = (await knex('ub_flows').whereNotNull('deleted_at')).map((f) => f.id);\nawait knex('ub_flows').whereIn('id', gone).update({ deleted_at: knex.fn.now() });`,
      },
      {
        name: 'batched with a LIMIT subquery',
        setup: [`await knex.schema.createTable('ub_users', (t) => { t.increments('id'); t.string('name'); t.string('display_name'); });`],
        up: `await knex.raw('UPDATE ub_users SET display_name = name WHERE id IN (SELECT id FROM ub_users WHERE display_name IS NULL LIMIT 1000)');`,
      },
      {
        name: 'batched by key range with bindings',
        setup: [`await knex.schema.createTable('ub_items', (t) => { t.increments('id'); t.integer('qty'); });`],
        up: `await knex('ub_items').where('id', '>=', 1).andWhere('id', '<', 1001).update({ qty: 0 });`,
      },
      {
        name: 'one row by primary key',
        setup: [`await knex.schema.createTable('ub_settings', (t) => { t.increments('id'); t.string('value'); });`],
        up: `await knex('ub_settings').where({ id: 1 }).update({ value: 'on' });`,
      },
      {
        name: 'a table created in the same migration',
        up: `await knex.schema.createTable('ub_fresh', (t) => { t.increments('id'); t.string('v'); });\nawait knex('ub_fresh').update({ v: 'x' });`,
      },
      { name: 'SQL file: batched', ext: 'sql', file: 'UPDATE users SET flag = true WHERE id BETWEEN 1 AND 1000;' },
    ],
    invalid: [
      {
        name: 'knex query builder update with a condition',
        setup: [`await knex.schema.createTable('ub_orders', (t) => { t.increments('id'); t.string('status'); t.timestamp('created_at'); });`],
        up: `await knex('ub_orders')\n  .where('created_at', '<', '2020-01-01')\n  .update({ status: 'archived' });`,
        errors: [{ severity: 'warning', line: 2, message: 'UPDATE of the matching rows of ub_orders in one statement, not in batches' }],
      },
      {
        name: 'raw UPDATE of every row',
        setup: [`await knex.schema.createTable('ub_people', (t) => { t.increments('id'); t.string('first_name'); t.string('last_name'); t.string('full_name'); });`],
        up: `await knex.raw(\`UPDATE ub_people SET full_name = first_name || ' ' || last_name\`);`,
        errors: [{ severity: 'warning', line: 2, message: 'UPDATE of every row of ub_people' }],
      },
      {
        name: 'DELETE through knex',
        setup: [`await knex.schema.createTable('ub_sessions', (t) => { t.increments('id'); t.timestamp('expires_at'); });`],
        up: `await knex('ub_sessions').where('expires_at', '<', knex.fn.now()).del();`,
        errors: [{ severity: 'warning', line: 2, message: 'DELETE of the matching rows of ub_sessions' }],
      },
      { name: 'SQL file: UPDATE without batching', ext: 'sql', file: 'UPDATE users SET flag = true;', errors: [{ severity: 'warning', line: 1 }] },
    ],
  },
  // A backfill changes existing rows by design; its down cannot give the old values back.
  { fixDestroysData: true },
);
