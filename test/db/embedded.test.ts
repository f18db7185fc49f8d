import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase, openServer, type Database } from '../../src/db/connect.js';
import { mentionedExtensions } from '../../src/db/embedded.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

describe('embedded PostgreSQL', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openEmbeddedDatabase({ extensions: ['uuid-ossp', 'citext', 'pg_trgm'] });
  });
  afterAll(async () => {
    await db.close();
  });

  it('runs multi-statement knex.raw like node-postgres does', async () => {
    const result = await db.knex.raw('create table t (id int); insert into t values (1), (2); select count(*)::int as n from t');
    expect(Array.isArray(result)).toBe(true);
    expect((result as { rows: { n: number }[] }[])[2]?.rows[0]?.n).toBe(2);
  });

  it('creates the contrib extensions it was opened with', async () => {
    await db.knex.raw('create extension if not exists "uuid-ossp"');
    await db.knex.raw('create extension if not exists citext');
    await db.knex.raw('create extension if not exists pg_trgm');
    const rows = (await db.knex.raw('select extname from pg_extension order by 1')).rows as { extname: string }[];
    expect(rows.map((r) => r.extname)).toEqual(expect.arrayContaining(['citext', 'pg_trgm', 'uuid-ossp']));
    const uuid = (await db.knex.raw('select uuid_generate_v4() as u')).rows[0].u as string;
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("shows migrations knex.client.config.client === 'pg', as npx knex does with client 'pg'", () => {
    expect(db.knex.client.config.client).toBe('pg');
  });

  it('runs knex query builders with bindings', async () => {
    await db.knex.schema.createTable('people', (t) => {
      t.increments('id');
      t.string('name').notNullable();
    });
    await db.knex('people').insert([{ name: 'ada' }, { name: 'alan' }]);
    const rows = await db.knex('people').where('name', 'like', 'a%').orderBy('id').pluck('name');
    expect(rows).toEqual(['ada', 'alan']);
    const updated = await db.knex('people').update({ name: 'grace' }).where({ id: 1 });
    expect(updated).toBe(1);
  });
});

describe('mentionedExtensions', () => {
  it('finds extension names in migration sources', () => {
    expect(mentionedExtensions(['await knex.raw(\'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"\')', 'create extension citext'])).toEqual(['citext', 'uuid-ossp']);
    expect(mentionedExtensions(['knex.schema.createTable("citext_notes")'])).toEqual([]);
  });
});

describeServer('server connection', () => {
  it("shows migrations knex.client.config.client === 'pg'", async () => {
    const db = await openServer(SERVER_URL);
    try {
      expect(db.knex.client.config.client).toBe('pg');
    } finally {
      await db.close();
    }
  });
});
