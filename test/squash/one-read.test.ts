import { describe, expect, it } from 'vitest';
import { openEmbeddedDatabase, openServer, type Database } from '../../src/db/connect.js';
import { snapshotSchema } from '../../src/schema/index.js';
import { readCatalogAndSnapshot } from '../../src/squash/catalog.js';
import { createTempDatabase, describeServer } from '../helpers/pg.js';

const EX = { excludeTables: ['knex_migrations', 'knex_migrations_lock'] };
const SCHEMA = String.raw`
create table public.bin (id int primary key, b bytea default '\x00ff'::bytea);
create sequence public.unset_seq; select setval('public.unset_seq', 42, false);
create sequence public.called_seq; select setval('public.called_seq', 7);
create sequence public."odd.seq""q";
create rule bin_ins as on insert to public.bin where new.id < 0 do instead nothing;
create statistics public.bin_st (dependencies) on id, b from public.bin;
grant select on public.bin to public;
create view public.bin_ids as select id from public.bin;
`;

/** squash takes the chain's snapshot from the model's read: it must be the snapshot a plain read gives, whatever the session's bytea_output. */
async function check(db: Database) {
  await db.knex.raw(SCHEMA);
  await db.knex.transaction(async (trx) => {
    await trx.raw(`set local bytea_output = 'escape'`);
    const plain = await snapshotSchema(trx, EX);
    const { model, snapshot } = await readCatalogAndSnapshot(trx, EX);
    expect(snapshot).toEqual(plain);
    expect(JSON.stringify(plain)).toContain(String.raw`'\\x00ff'::bytea`);
    // Every sequence's state, each its own (read in one statement).
    expect(model.sequences.map((s) => [s.ident, s.lastValue, s.isCalled])).toEqual([
      ['public."odd.seq""q"', '1', false],
      ['public.called_seq', '7', true],
      ['public.unset_seq', '42', false],
    ]);
    expect(model.rules.map((r) => r.definition)).toEqual([expect.stringContaining('CREATE RULE bin_ins AS')]);
    expect(model.statistics.map((s) => s.definition)).toEqual(['CREATE STATISTICS public.bin_st (dependencies) ON id, b FROM public.bin']);
    expect(model.privileges).toEqual(['public.bin']);
    expect(model.unsupported).toEqual([]);
    expect(model.serverVersionNum).toBeGreaterThan(130000);
    const view = model.views.find((v) => v.ident === 'public.bin_ids');
    expect(model.dependencies).toContainEqual({ from: `pg_class:${view?.oid}`, to: key(model, 'public.bin'), kind: 'pre' });
  });
}

function key(model: Awaited<ReturnType<typeof readCatalogAndSnapshot>>['model'], table: string): string {
  return `pg_class:${model.tables.find((t) => t.ident === table)?.oid}`;
}

describe('squash reads the model and the snapshot once, embedded', () => {
  it('gives the plain snapshot and every kind squash alone reads', async () => {
    const db = await openEmbeddedDatabase();
    try {
      await check(db);
    } finally {
      await db.close();
    }
  }, 60_000);
});

describeServer('squash reads the model and the snapshot once, PostgreSQL server', () => {
  it('gives the plain snapshot and every kind squash alone reads', async () => {
    const temp = await createTempDatabase('one_model_4');
    const db = await openServer(temp.url);
    try {
      await check(db);
    } finally {
      await db.close();
      await temp.drop();
    }
  }, 60_000);
});
