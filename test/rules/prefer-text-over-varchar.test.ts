import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('prefer-text-over-varchar', {
  valid: [
    { name: 'text column', up: `await knex.schema.createTable('pv_bios', (t) => { t.increments('id'); t.text('bio'); });` },
    { name: 'varchar without a length', up: `await knex.schema.createTable('pv_free', (t) => { t.increments('id'); t.specificType('code', 'varchar'); });` },
    {
      name: 'an existing varchar column is not nagged about',
      setup: [`await knex.schema.createTable('pv_old', (t) => { t.increments('id'); t.string('name'); });`],
      up: `await knex.schema.alterTable('pv_old', (t) => { t.text('extra'); });`,
    },
    {
      name: '.alter() of an existing column',
      setup: [`await knex.schema.createTable('pv_alter', (t) => { t.increments('id'); t.string('name', 10); });`],
      up: `await knex.schema.alterTable('pv_alter', (t) => { t.string('name', 40).alter(); });`,
    },
    { name: 'the one-byte "char" type is not char(n)', up: `await knex.schema.createTable('pv_flags', (t) => { t.increments('id'); t.specificType('flag', '"char"'); });` },
    {
      name: 'an existing char column is not nagged about',
      setup: [`await knex.schema.createTable('pv_old_char', (t) => { t.increments('id'); t.specificType('code', 'char(3)'); });`],
      up: `await knex.schema.alterTable('pv_old_char', (t) => { t.text('extra'); });`,
    },
  ],
  invalid: [
    {
      name: 'knex string() in createTable (the seed posts table)',
      up: `await knex.schema.createTable('pv_posts', (table) => {\n  table.increments('id').primary();\n  table.string('title', 255).notNullable();\n  table.text('body');\n});`,
      down: `await knex.schema.dropTableIfExists('pv_posts');`,
      errors: [{ severity: 'info', line: 4, message: 'pv_posts.title is varchar(255) (knex string()): prefer text' }],
    },
    {
      name: 'string column with a chosen length added to an existing table',
      setup: [`await knex.schema.createTable('pv_users', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('pv_users', (table) => {\n  table.string('phone', 20).nullable();\n});`,
      down: `await knex.schema.alterTable('pv_users', (table) => {\n  table.dropColumn('phone');\n});`,
      errors: [{ severity: 'info', line: 3, message: 'pv_users.phone is varchar(20) (knex string()): prefer text' }],
    },
    {
      name: 'raw CREATE TABLE',
      up: `await knex.raw('CREATE TABLE pv_raw (id serial PRIMARY KEY, code varchar(12) NOT NULL)');`,
      errors: [{ severity: 'info', line: 2, message: 'pv_raw.code is varchar(12): prefer text' }],
    },
    { name: 'SQL file', ext: 'sql', file: 'CREATE TABLE people (\n  id bigint PRIMARY KEY,\n  name character varying(50)\n);', errors: [{ line: 1, message: 'people.name is varchar(50)' }] },
    {
      name: 'char(n) through specificType in createTable',
      up: `await knex.schema.createTable('pv_countries', (table) => {\n  table.increments('id');\n  table.specificType('code', 'char(2)').notNullable();\n});`,
      down: `await knex.schema.dropTableIfExists('pv_countries');`,
      errors: [{ severity: 'info', line: 4, message: 'pv_countries.code is char(2): prefer text' }],
    },
    {
      name: 'SQL file: character(n) and bpchar added to an existing table',
      ext: 'sql',
      file: 'ALTER TABLE users ADD COLUMN country character(2);\nALTER TABLE users ADD COLUMN legacy bpchar;',
      errors: [
        { line: 1, message: 'users.country is char(2): prefer text' },
        { line: 2, message: 'users.legacy is char: prefer text' },
      ],
    },
  ],
});
