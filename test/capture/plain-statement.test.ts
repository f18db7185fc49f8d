import { expect, it } from 'vitest';
import { isPlainStatement } from '../../src/capture/recorder.js';
import { statementShape } from '../../src/capture/transaction-block.js';
import { ensureParser, statementKind } from '../../src/sql/parse.js';

// What knex's builders send, sent before it is parsed with the effects query appended.
const plain = [
  'create table "users" ("id" serial primary key, "email" varchar(255) not null)',
  'alter table "users" add column "name" text',
  'create unique index "users_email_index" on "users" ("email")',
  'CREATE INDEX idx ON t (a)',
  'drop table "users"',
  'drop index "users_email_index"',
  'comment on column "users"."email" is \'login\'',
  'update "users" set "name" = \'x\'',
  'delete from "users"',
  '  alter table t alter column c set not null',
];

// Parsed first: several statements, CONCURRENTLY, a leading comment, COPY, transaction control…
const notPlain = [
  'create table a (id int); create table b (id int)',
  "insert into t values ('a;b')",
  'create index concurrently idx on t (a)',
  'drop index CONCURRENTLY idx',
  'alter table p detach partition c concurrently',
  '-- add a column\nalter table t add column c int',
  'copy t from stdin',
  'begin',
  'vacuum t',
  'deallocate all',
  'alter table t add column c int;',
];

it('recognises knex statements that need no parse before they are sent', () => {
  for (const sql of plain) expect(isPlainStatement(sql), sql).toBe(true);
  for (const sql of notPlain) expect(isPlainStatement(sql), sql).toBe(false);
});

it('says yes only to one statement that may run in a transaction block, not COPY or DEALLOCATE', async () => {
  await ensureParser();
  for (const sql of plain) {
    const shape = statementShape(sql);
    expect(shape.asts, sql).toHaveLength(1);
    expect(shape.allowedInTransactionBlock, sql).toBe(true);
    expect(shape.control, sql).toBeUndefined();
    expect(['CopyStmt', 'DeallocateStmt', 'DiscardStmt']).not.toContain(statementKind(shape.asts[0]!));
  }
});
