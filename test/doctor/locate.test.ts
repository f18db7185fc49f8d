import { describe, expect, it } from 'vitest';
import { makeProject } from '../helpers/cli.js';
import { explainFailure, EXPLAINED_SQLSTATES, splitKnexMessage } from '../../src/migrations/explain.js';
import { directionRange, locateStatement } from '../../src/migrations/locate.js';
import path from 'node:path';

/** Finding the line of a failed statement in a migration file, for the shapes migrations are written in. */
describe('locateStatement', () => {
  const file = (text: string) => path.join(makeProject({ 'm.js': text }), 'm.js');

  it('CommonJS exports: the builder call naming the column, in the failing direction only', async () => {
    const f = file(`exports.up = async (knex) => {
  await knex.schema.alterTable('users', (table) => {
    table.string('email');
  });
};
exports.down = async (knex) => {
  await knex.schema.alterTable('users', (table) => {
    table.dropColumn('email');
  });
};
`);
    const objects = ['email', 'users'];
    expect(await locateStatement({ file: f, direction: 'up', sql: 'alter table "users" add column "email" varchar(255)', objects, tables: ['users'] })).toMatchObject({ line: 3 });
    expect(await locateStatement({ file: f, direction: 'down', sql: 'alter table "users" drop column "email"', objects, tables: ['users'] })).toMatchObject({ line: 8 });
  });

  it('TypeScript export functions and knex.raw text', async () => {
    const f = file(`import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw("set local lock_timeout = '2s'");
  await knex.raw(\`
    CREATE INDEX CONCURRENTLY idx_orders_user_id ON orders (user_id)
  \`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX idx_orders_user_id');
}
`);
    expect(await locateStatement({ file: f, direction: 'up', sql: 'CREATE INDEX CONCURRENTLY idx_orders_user_id ON orders (user_id)', objects: [] })).toMatchObject({ line: 6 });
    expect(await locateStatement({ file: f, direction: 'down', sql: 'DROP INDEX idx_orders_user_id', objects: [] })).toMatchObject({ line: 11 });
  });

  it('an object literal with methods; nothing that points at the statement gives no line', async () => {
    const lines = `module.exports = {
  async up(knex) {
    await knex.schema.createTable('posts', (t) => { t.increments(); });
  },
  async down(knex) {
    await knex.schema.dropTable('posts');
  },
};
`.split('\n');
    expect(directionRange(lines, 'up')).toEqual([1, 4]);
    expect(directionRange(lines, 'down')).toEqual([4, lines.length]);
    const f = file(lines.join('\n'));
    expect(await locateStatement({ file: f, direction: 'up', sql: 'create table "posts" ("id" serial primary key)', objects: ['posts'] })).toMatchObject({ line: 3 });
    expect(await locateStatement({ file: f, direction: 'up', sql: 'select 1', objects: ['nothing_here'] })).toBeUndefined();
  });
});

describe('explainFailure', () => {
  it('splits knex messages into statement and error', () => {
    expect(splitKnexMessage('alter table "a" add column "b" text - column "b" of relation "a" already exists')).toEqual({
      sql: 'alter table "a" add column "b" text',
      message: 'column "b" of relation "a" already exists',
    });
    expect(splitKnexMessage('Migration table is already locked')).toEqual({ message: 'Migration table is already locked' });
  });

  it('covers the SQLSTATEs of the seed table and names the objects of the error', () => {
    for (const state of ['42701', '42P07', '42P01', '42703', '55P03', '57014', '25001', '23502', '23505', '42804', '2BP01', '0A000']) {
      expect(EXPLAINED_SQLSTATES).toContain(state);
    }
    const e = explainFailure({ sqlState: '23502', message: 'column "nickname" of relation "users" contains null values', direction: 'up' });
    expect(e).toMatchObject({ condition: 'not_null_violation', objects: ['nickname', 'users'], table: 'users' });
    expect(e?.fix).toContain('ALTER TABLE users ALTER COLUMN nickname SET NOT NULL;');
    expect(explainFailure({ sqlState: 'XX000', message: 'internal', direction: 'up' })).toBeUndefined();
  });
});
