import { ruleTester } from '../helpers/rule-tester.js';

ruleTester(
  'set-not-null-scan',
  {
    valid: [
      {
        name: 'NOT NULL on a table created in the same migration',
        up: `await knex.schema.createTable('snn_fresh', (t) => { t.increments('id'); t.string('code'); });\nawait knex.schema.alterTable('snn_fresh', (t) => { t.dropNullable('code'); });`,
      },
      {
        name: 'a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip the scan (step 3 of the pattern)',
        setup: [
          `await knex.schema.createTable('snn_checked', (t) => { t.increments('id'); t.string('name'); });\nawait knex.raw('ALTER TABLE snn_checked ADD CONSTRAINT snn_checked_name_not_null CHECK (name IS NOT NULL) NOT VALID');`,
          `await knex.raw('ALTER TABLE snn_checked VALIDATE CONSTRAINT snn_checked_name_not_null');`,
        ],
        up: `await knex.raw('ALTER TABLE snn_checked ALTER COLUMN name SET NOT NULL');\nawait knex.raw('ALTER TABLE snn_checked DROP CONSTRAINT snn_checked_name_not_null');`,
      },
      {
        name: 'the column is already NOT NULL',
        setup: [`await knex.schema.createTable('snn_already', (t) => { t.increments('id'); t.string('name').notNullable(); });`],
        up: `await knex.raw('ALTER TABLE snn_already ALTER COLUMN name SET NOT NULL');`,
      },
      {
        name: 'knex .alter() that keeps a column nullable',
        setup: [`await knex.schema.createTable('snn_widen', (t) => { t.increments('id'); t.string('nick', 50); });`],
        up: `await knex.schema.alterTable('snn_widen', (t) => { t.string('nick', 100).alter(); });`,
      },
      {
        name: 'SQL file: check validated earlier in the file (PostgreSQL 12+)',
        ext: 'sql',
        file: 'ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_name_not_null;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n',
      },
    ],
    invalid: [
      {
        // joplin's item_owner / storage migrations: .alter() only meant to drop the default.
        name: 'a column added NOT NULL with a default, then .alter()ed in the same migration to drop the default',
        setup: [`await knex.schema.createTable('snn_items', (t) => { t.increments('id'); t.string('name'); });`],
        up: [
          `  await knex.schema.alterTable('snn_items', (table) => { table.integer('owner_id').notNullable().defaultTo(0); });`,
          `  await knex.schema.alterTable('snn_items', (table) => { table.integer('owner_id').notNullable().alter(); });`,
        ].join('\n'),
        down: `  await knex.schema.alterTable('snn_items', (table) => { table.dropColumn('owner_id'); });`,
        errors: [{ severity: 'error', line: 3, message: 'NOT NULL on snn_items.owner_id, added in this migration, is dropped and set again (knex .alter())' }],
      },
      {
        name: 'the seed’s three-step NOT NULL column on an existing table',
        setup: [`await knex.schema.createTable('snn_people', (t) => { t.increments('id'); t.string('first_name'); t.string('last_name'); });`],
        up: [
          `  await knex.transaction(async (trx) => {`,
          `    await trx.schema.alterTable('snn_people', (table) => {`,
          `      table.string('display_name', 100).nullable();`,
          `    });`,
          `    await trx.raw(\`UPDATE snn_people SET display_name = first_name || ' ' || last_name\`);`,
          `    await trx.raw(\`ALTER TABLE snn_people ALTER COLUMN display_name SET NOT NULL\`);`,
          `  });`,
        ].join('\n'),
        down: `await knex.schema.alterTable('snn_people', (table) => { table.dropColumn('display_name'); });`,
        errors: [{ severity: 'error', line: 7, message: 'SET NOT NULL on snn_people.display_name scans the whole table under ACCESS EXCLUSIVE' }],
      },
      {
        name: 'knex dropNullable() on an existing column',
        setup: [`await knex.schema.createTable('snn_users', (t) => { t.increments('id'); t.string('name'); });`],
        up: `await knex.schema.alterTable('snn_users', (table) => {\n  table.dropNullable('name');\n});`,
        down: `await knex.schema.alterTable('snn_users', (table) => { table.setNullable('name'); });`,
        errors: [{ severity: 'error', line: 2, message: 'SET NOT NULL on snn_users.name scans' }],
      },
      {
        name: 'knex .notNullable().alter() re-adds NOT NULL the column already had',
        setup: [`await knex.schema.createTable('snn_posts', (t) => { t.increments('id'); t.string('title', 100).notNullable(); });`],
        up: `await knex.schema.alterTable('snn_posts', (t) => {\n  t.string('title', 200).notNullable().alter();\n});`,
        down: `await knex.schema.alterTable('snn_posts', (t) => { t.string('title', 100).notNullable().alter(); });`,
        errors: [{ severity: 'error', line: 2, message: /NOT NULL on snn_posts\.title is dropped and set again \(knex \.alter\(\)\)/ }],
      },
      { name: 'SQL file: SET NOT NULL', ext: 'sql', file: 'ALTER TABLE users ALTER COLUMN name SET NOT NULL;', errors: [{ severity: 'error', line: 1 }] },
      {
        name: 'SQL file: PostgreSQL 11 scans even with a validated check',
        ext: 'sql',
        pgVersion: 11,
        file: 'ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_name_not_null;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n',
        errors: [{ severity: 'error', line: 3 }],
      },
    ],
  },
  // Multi-step fixes: every step is verified up → down → up.
  { fixTimeoutMs: 180_000 },
);
