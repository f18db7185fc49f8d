import { ruleTester } from '../helpers/rule-tester.js';

const people = `await knex.schema.createTable('rb_people', (t) => { t.increments('id'); t.string('name'); });\nawait knex('rb_people').insert([{ name: 'ada' }, { name: 'bob' }, { name: 'cy' }]);`;

ruleTester(
  'row-by-row-backfill',
  {
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
      {
        // The key appears only in a value (role.id), as in a DELETE of each role's group of rows.
        name: 'a loop deleting a group of rows per role (where on role_id: role.id)',
        setup: [`await knex.schema.createTable('rb_grants', (t) => { t.increments('id'); t.integer('role_id'); t.string('subject'); });`],
        up: `for (const role of [{ id: 1 }, { id: 2 }]) {\n  await knex('rb_grants').where({ role_id: role.id, subject: 'Flow' }).del();\n}`,
      },
      {
        // A loop over a small lookup table, each UPDATE setting a group of rows (not one row by its key).
        name: 'a loop over roles updating the users of each role',
        setup: [
          `await knex.schema.createTable('rb_roles', (t) => { t.increments('id'); t.string('key'); });\nawait knex.schema.createTable('rb_members', (t) => { t.increments('id'); t.string('role'); t.integer('role_id'); });\nawait knex('rb_roles').insert([{ key: 'admin' }, { key: 'user' }]);\nawait knex('rb_members').insert([{ role: 'admin' }, { role: 'user' }]);`,
        ],
        up: `const roles = await knex('rb_roles').select('id', 'key');\nfor (const role of roles) {\n  await knex('rb_members').where({ role: role.key }).update({ role_id: role.id });\n}`,
      },
      {
        // kutt's shape: one set-based UPDATE ... FROM per range of 100,000 ids, the join on links.id.
        name: 'a loop of UPDATE ... FROM over id ranges (whereBetween, joined on links.id)',
        setup: [
          `await knex.schema.createTable('rb_links', (t) => { t.increments('id'); t.integer('user_id'); });\nawait knex.schema.createTable('rb_visits', (t) => { t.increments('id'); t.integer('link_id'); });\nawait knex('rb_links').insert([{ user_id: 1 }]);\nawait knex('rb_visits').insert([{ link_id: 1 }, { link_id: 1 }]);`,
        ],
        up: `await knex.schema.alterTable('rb_visits', (t) => { t.integer('user_id'); });\nconst size = 1;\nawait Promise.all([0, 1, 2].map((i) =>\n  knex('rb_visits').fromRaw(knex.raw('rb_visits v')).update({ user_id: knex.ref('rb_links.user_id') })\n    .updateFrom('rb_links').where('rb_links.id', knex.ref('link_id')).andWhereBetween('v.id', [i * size, i * size + size])));`,
        down: `await knex.schema.alterTable('rb_visits', (t) => { t.dropColumn('user_id'); });`,
      },
      {
        name: 'a loop of UPDATEs over id ranges (where id >= a and id < b)',
        setup: [`await knex.schema.createTable('rb_ranges', (t) => { t.increments('id'); t.string('name'); });\nawait knex('rb_ranges').insert([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);`],
        up: `for (let from = 0; from < 4; from += 1) {\n  await knex('rb_ranges').where('id', '>=', from).andWhere('id', '<', from + 1).update({ name: 'x' });\n}`,
      },
      {
        name: 'a loop of UPDATEs per group of ids (whereIn)',
        setup: [`await knex.schema.createTable('rb_groups', (t) => { t.increments('id'); t.string('name'); });\nawait knex('rb_groups').insert([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);`],
        up: `for (const ids of [[1], [2], [3]]) {\n  await knex('rb_groups').whereIn('id', ids).update({ name: 'x' });\n}`,
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
    // The cases rewrite values (that is what a backfill does); no down can bring the old ones back.
  },
  { fixDestroysData: true },
);
