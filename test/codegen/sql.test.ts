import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ident, jsSql, jsString, limitName, pgObjectName, sqlName, sqlString } from '../../src/codegen/index.js';
import { QUOTED_KEYWORDS } from '../../src/codegen/keywords.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

const NAMES = [
  'users',
  'order',
  'user',
  'UserAccounts',
  'select',
  'Order',
  'a b',
  'we"ird',
  "it's",
  'café',
  'ünïcødé_表',
  'x$y',
  '_private',
  '1abc',
  'left',
  'between',
  'name',
  'value',
  'type',
  'position',
  'a'.repeat(70),
  `${'é'.repeat(31)}x`,
  'é'.repeat(40),
];
const TEXTS = ['plain', "it's", 'back\\slash', "both ' and \\", 'new\nline', 'tab\there', '', 'ünïcødé 表', '`tick` ${x}', '"quoted"', '\u2028sep'];

/** What PostgreSQL itself says: quote_ident, quote_literal, and the name a CREATE TABLE stores. */
async function checkAgainst(query: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>): Promise<void> {
  for (const name of NAMES) {
    const [row] = await query('select quote_ident($1::text) as q, $1::name::text as stored', [name]);
    // PostgreSQL cuts a name to 63 bytes when it becomes an identifier (::name cuts the same way).
    expect(ident(name), name).toBe(await query('select quote_ident($1::name::text) as q', [name]).then((r) => r[0]!.q));
    expect(limitName(name), name).toBe(row!.stored);
  }
  for (const text of TEXTS) {
    const [row] = await query(`select ${sqlString(text)}::text as v`);
    expect(row!.v, JSON.stringify(text)).toBe(text);
  }
  // Every shape works as a schema-qualified table name in real DDL.
  await query('create schema if not exists "codegen test"');
  for (const name of NAMES.slice(0, 12)) {
    const qualified = sqlName({ schema: 'codegen test', name });
    await query(`create table ${qualified} (${ident(name)} int)`);
    const [row] = await query(`select count(*)::int as n from pg_catalog.pg_class where oid = to_regclass(${sqlString(qualified)})`);
    expect(row!.n, qualified).toBe(1);
    await query(`drop table ${qualified}`);
  }
  // The names PostgreSQL picks itself for constraints, long or short.
  for (const [table, column] of [
    ['users', 'email'],
    ['t'.repeat(63), 'email'],
    ['t'.repeat(40), 'c'.repeat(40)],
    ['é'.repeat(31), 'ü'.repeat(20)],
  ] as const) {
    const qualified = sqlName({ schema: 'codegen test', name: table });
    await query(`create table ${qualified} (${ident(column)} int primary key, other int unique, check (${ident(column)} > 0))`);
    const rows = await query(`select conname::text as name from pg_catalog.pg_constraint where conrelid = to_regclass(${sqlString(qualified)}) and contype in ('p', 'u', 'c') order by 1`);
    expect(rows.map((r) => r.name).sort(), table).toEqual(
      [pgObjectName(limitName(table), column, 'check'), pgObjectName(limitName(table), 'other', 'key'), pgObjectName(limitName(table), undefined, 'pkey')].sort(),
    );
    await query(`drop table ${qualified}`);
  }
  await query('drop schema "codegen test"');
}

describe('codegen: SQL and JS text', () => {
  it('quotes the reserved words of the generated list and no plain name', () => {
    expect(QUOTED_KEYWORDS.has('order')).toBe(true);
    expect(QUOTED_KEYWORDS.has('user')).toBe(true);
    expect(ident('order')).toBe('"order"');
    expect(ident('users')).toBe('users');
    expect(ident('name')).toBe('name');
    expect(sqlName('app.order')).toBe('app."order"');
    expect(sqlName('public.UserAccounts')).toBe('"UserAccounts"');
    expect(sqlName({ schema: 'app', name: 'users' })).toBe('app.users');
  });

  it('writes JS literals that evaluate back to the same text', () => {
    for (const text of TEXTS) {
      expect(new Function(`return ${jsString(text)};`)(), JSON.stringify(text)).toBe(text);
      expect(new Function(`return ${jsSql(text)};`)(), JSON.stringify(text)).toBe(text);
    }
  });

  describe('agrees with PostgreSQL', () => {
    let db: PGlite;
    beforeAll(async () => {
      db = await PGlite.create();
    });
    afterAll(async () => {
      await db.close();
    });
    it('on the embedded shadow', async () => {
      await checkAgainst(async (sql, params) => (await db.query<Record<string, unknown>>(sql, params)).rows);
    });
  });

  describeServer('agrees with the PostgreSQL server', () => {
    let client: pg.Client;
    beforeAll(async () => {
      client = new pg.Client({ connectionString: SERVER_URL });
      await client.connect();
    });
    afterAll(async () => {
      await client.end();
    });
    it('on the server', async () => {
      await client.query('begin');
      try {
        await checkAgainst(async (sql, params) => (await client.query(sql, params)).rows);
      } finally {
        await client.query('rollback');
      }
    });
  });
});
