import { ruleTester } from '../helpers/rule-tester.js';

const people = `await knex.schema.createTable('rb_people', (t) => { t.increments('id'); t.string('name'); });\nawait knex('rb_people').insert([{ name: 'ada' }, { name: 'bob' }, { name: 'cy' }]);`;

ruleTester('row-by-row-backfill', {
  valid: [
    {
      name: 'inserts of new rows in a loop (no existing row is locked)',
      setup: [`await knex.schema.createTable('rb_tags', (t) => { t.increments('id'); t.string('name'); });`],
      up: `for (const name of ['a', 'b', 'c']) {\n  await knex('rb_tags').insert({ name });\n}`,
    },
    {
      name: 'one UPDATE of one row by primary key',
      setup: [`await knex.schema.createTable('rb_settings', (t) => { t.increments('id'); t.string('value'); });\nawait knex('rb_settings').insert({ value: 'x' });`],
      up: `await knex('rb_settings').where({ id: 1 }).update({ value: 'y' });`,
    },
    {
      name: 'a loop over a table created in the same migration',
      up: `await knex.schema.createTable('rb_fresh', (t) => { t.increments('id'); t.string('name'); });\nawait knex('rb_fresh').insert([{ name: 'a' }, { name: 'b' }]);\nfor (const row of await knex('rb_fresh').select('id')) {\n  await knex('rb_fresh').where({ id: row.id }).update({ name: 'z' });\n}`,
    },
  ],
  invalid: [
    {
      name: 'the whole table read into memory and written back row by row',
      setup: [people],
      up: `const rows = await knex('rb_people').select('id', 'name');\nfor (const row of rows) {\n  await knex('rb_people').where({ id: row.id }).update({ name: row.name.toUpperCase() });\n}`,
      errors: [{ severity: 'warning', line: 4, message: 'Rows of rb_people are written one at a time from a loop (3 single-row statements from this call on the shadow)' }],
    },
    {
      name: 'row by row while a trigger’s SHARE ROW EXCLUSIVE lock is held',
      setup: [
        `await knex.schema.createTable('rb_orders', (t) => { t.increments('id'); t.integer('total'); });\nawait knex('rb_orders').insert([{ total: 1 }, { total: 2 }]);\nawait knex.raw(\`CREATE FUNCTION rb_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$\`);`,
      ],
      up: `await knex.raw('CREATE TRIGGER rb_orders_touch BEFORE UPDATE ON rb_orders FOR EACH ROW EXECUTE FUNCTION rb_touch()');\nconst rows = await knex('rb_orders').select('id', 'total');\nfor (const row of rows) {\n  await knex('rb_orders').where('id', row.id).update({ total: row.total * 100 });\n}`,
      down: `await knex.raw('DROP TRIGGER IF EXISTS rb_orders_touch ON rb_orders');`,
      errors: [{ severity: 'warning', line: 5, message: 'Rows of rb_orders are written one at a time from a loop (2 single-row statements' }],
    },
    {
      name: 'a loop that never ran on the shadow (the table is empty there)',
      setup: [`await knex.schema.createTable('rb_posts', (t) => { t.increments('id'); t.string('slug'); });`],
      up: `const posts = await knex('rb_posts').select('id', 'slug');\nposts.forEach(async (post) => {\n  await knex('rb_posts').where({ id: post.id }).update({ slug: post.slug.toLowerCase() });\n});`,
      errors: [{ severity: 'warning', line: 4, message: 'Rows of rb_posts are written one at a time from a loop (the loop ran no times on the nearly empty shadow)' }],
    },
  ],
});
