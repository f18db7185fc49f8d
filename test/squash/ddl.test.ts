import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase, openServer, type Database } from '../../src/db/connect.js';
import { diffSchemas, formatDiff, snapshotSchema, type SchemaSnapshot } from '../../src/schema/index.js';
import { readCatalog, type CatalogModel } from '../../src/squash/index.js';
import { dataFingerprint, diffFingerprints, readBaselineData } from '../../src/squash/data.js';
import { generateDdl } from '../../src/squash/ddl.js';
import { cleanDump, dumpDdl, findPgDump } from '../../src/squash/pg-dump.js';
import { createTempDatabase, describeServer, type TempDatabase } from '../helpers/pg.js';
import { EVERY_KIND_SQL } from './fixtures.js';

const EXTENSIONS = ['citext', 'pg_trgm', 'btree_gist'];
const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'];

/** The up script the way squash assembles it, ready for knex.raw. */
function upScript(model: CatalogModel, fresh: CatalogModel, data: string[], override?: { preData: string[]; postData: string[] }): string {
  const ddl = generateDdl(model, fresh);
  const pre = override?.preData ?? ddl.preData;
  const post = override?.postData ?? ddl.postData;
  const unchecked = ddl.needsUncheckedFunctionBodies || (override !== undefined && model.functions.some((f) => f.language === 'sql'));
  const statements = [...(unchecked ? ['SET LOCAL check_function_bodies = false'] : []), ...pre, ...(unchecked ? ['SET LOCAL check_function_bodies TO DEFAULT'] : []), ...data, ...post];
  return statements
    .map((s) => `${s};`)
    .join('\n')
    .replace(/\?/g, '\\?');
}

interface Engine {
  open(): Promise<Database>;
  done(): Promise<void>;
}

/** Builds the every-kind schema on one database, rebuilds it from the generated DDL on another, and tears it down again. */
function roundTrip(engine: () => Engine) {
  let e: Engine;
  let chain: Database;
  let fresh: CatalogModel;
  let model: CatalogModel;
  let chainSnapshot: SchemaSnapshot;
  let emptySnapshot: SchemaSnapshot;

  beforeAll(async () => {
    e = engine();
    chain = await e.open();
    fresh = await readCatalog(chain.knex, { excludeTables: KNEX_TABLES });
    emptySnapshot = await snapshotSchema(chain.knex);
    await chain.knex.raw(EVERY_KIND_SQL);
    model = await readCatalog(chain.knex, { excludeTables: KNEX_TABLES });
    chainSnapshot = await snapshotSchema(chain.knex);
  });
  afterAll(async () => {
    await chain?.close();
    await e?.done();
  });

  it('reads every kind of object and finds nothing it cannot rebuild', () => {
    expect(model.unsupported).toEqual([]);
    expect(model.tables.map((t) => t.ident)).toContain('public.events_2025_h1');
    expect(model.functions.map((f) => f.signature)).toEqual(expect.arrayContaining(['public.concat_all(text)', 'billing.noop(integer)', 'public.user_count()']));
    expect(model.sequences.find((s) => s.ident === 'public.invoice_numbers')).toMatchObject({ lastValue: '2000', isCalled: true, ownedBy: null });
    expect(model.sequences.find((s) => s.ident === 'public.accounts_id_seq')).toMatchObject({ identity: true, identityOf: { column: 'id' } });
  });

  it('orders the up by dependency and the down in reverse, dropping without CASCADE', () => {
    const ddl = generateDdl(model, fresh);
    const at = (text: string) => ddl.preData.findIndex((s) => s.includes(text));
    expect(at('CREATE SCHEMA billing')).toBeLessThan(at('CREATE TYPE billing.money_pair'));
    expect(at('CREATE EXTENSION IF NOT EXISTS citext')).toBeLessThan(at('CREATE DOMAIN public.email AS public.citext'));
    expect(at('CREATE TABLE public.users')).toBeLessThan(at('CREATE VIEW public.active_users'));
    expect(at('CREATE VIEW public.active_users')).toBeLessThan(at('CREATE VIEW public.active_user_names'));
    expect(at('CREATE TABLE public.events (')).toBeLessThan(at('CREATE TABLE public.events_2025_h1'));
    expect(ddl.down.join('\n')).not.toMatch(/cascade/i);
    expect(ddl.down[0]).toMatch(/^DROP MATERIALIZED VIEW public.user_counts/);
    expect(ddl.down[ddl.down.length - 1]).toBe('DROP SCHEMA billing');
    // Extensions and schemas of a fresh database are not re-created or dropped.
    expect(ddl.preData.join('\n')).not.toMatch(/CREATE EXTENSION[^\n]*plpgsql|CREATE SCHEMA public/);
  });

  it('rebuilds the identical schema, rows and sequence values on a fresh database, and the down leaves it empty', async () => {
    const data = await readBaselineData(chain.knex, model, { maxRows: 1000, includeRows: true });
    expect(data.tables.map((t) => t.table)).toEqual(expect.arrayContaining(['public.users', 'public.events_2024', 'public.special_items']));
    const target = await e.open();
    try {
      await target.knex.transaction((trx) => trx.raw(upScript(model, fresh, data.statements)));
      const diff = diffSchemas(chainSnapshot, await snapshotSchema(target.knex));
      expect(diff.equal, formatDiff(diff)).toBe(true);
      expect(diffFingerprints(await dataFingerprint(chain.knex, model), await dataFingerprint(target.knex, model))).toEqual([]);
      const down = generateDdl(model, fresh)
        .down.map((s) => `${s};`)
        .join('\n');
      await target.knex.transaction((trx) => trx.raw(down));
      const empty = diffSchemas(emptySnapshot, await snapshotSchema(target.knex));
      expect(empty.equal, formatDiff(empty)).toBe(true);
    } finally {
      await target.close();
    }
  });

  return { model: () => model, chain: () => chain, fresh: () => fresh, snapshot: () => chainSnapshot };
}

describe('baseline DDL from the catalogs, embedded PostgreSQL', () => {
  roundTrip(() => ({ open: () => openEmbeddedDatabase({ extensions: EXTENSIONS }), done: async () => undefined }));
});

describeServer('baseline DDL from the catalogs, PostgreSQL server', () => {
  const dbs: TempDatabase[] = [];
  const state = roundTrip(() => ({
    open: async () => {
      const db = await createTempDatabase('ks_squash');
      dbs.push(db);
      return openServer(db.url);
    },
    done: async () => {
      for (const db of dbs) await db.drop();
    },
  }));

  it("pg_dump's DDL, cleaned, rebuilds the same schema", async () => {
    const version = ((await state.chain().knex.raw(`select current_setting('server_version_num')::int / 10000 as major`)) as { rows: { major: number }[] }).rows[0]!.major;
    const binary = await findPgDump(version);
    if (!binary) return; // no client tools on this machine: nothing to compare with.
    const dumped = await dumpDdl(binary, dbs[0]!.url, []);
    expect(dumped.preData.join('\n')).not.toMatch(/^\s*(SET |\\)/m);
    expect(dumped.preData.join('\n')).not.toMatch(/set_config/);
    const data = await readBaselineData(state.chain().knex, state.model(), { maxRows: 1000, includeRows: true });
    const db = await createTempDatabase('ks_squash');
    dbs.push(db);
    const target = await openServer(db.url);
    try {
      await target.knex.transaction((trx) => trx.raw(upScript(state.model(), state.fresh(), data.statements, dumped)));
      const diff = diffSchemas(state.snapshot(), await snapshotSchema(target.knex));
      expect(diff.equal, formatDiff(diff)).toBe(true);
    } finally {
      await target.close();
    }
  });
});

describeServer('a baseline generated on the embedded PostgreSQL 18, run on a PostgreSQL server', () => {
  it('builds the schema the chain builds on that server', async () => {
    const embedded = await openEmbeddedDatabase({ extensions: EXTENSIONS });
    const dbs = [await createTempDatabase('ks_squash'), await createTempDatabase('ks_squash')];
    const chain = await openServer(dbs[0]!.url);
    const target = await openServer(dbs[1]!.url);
    try {
      const fresh = await readCatalog(embedded.knex, { excludeTables: KNEX_TABLES });
      await embedded.knex.raw(EVERY_KIND_SQL);
      const model = await readCatalog(embedded.knex, { excludeTables: KNEX_TABLES });
      const data = await readBaselineData(embedded.knex, model, { maxRows: 1000, includeRows: true });
      await chain.knex.raw(EVERY_KIND_SQL);
      await target.knex.transaction((trx) => trx.raw(upScript(model, fresh, data.statements)));
      const diff = diffSchemas(await snapshotSchema(chain.knex), await snapshotSchema(target.knex), { ignoreExtensionVersions: true });
      expect(diff.equal, formatDiff(diff)).toBe(true);
      expect(diffFingerprints(await dataFingerprint(chain.knex, model), await dataFingerprint(target.knex, model))).toEqual([]);
    } finally {
      await embedded.close();
      await chain.close();
      await target.close();
      for (const db of dbs) await db.drop();
    }
  }, 300_000);
});

describe('cleaning a pg_dump script', () => {
  it('drops psql meta-commands, SET lines and set_config calls, keeps every statement whole', async () => {
    const script = [
      '--',
      '-- PostgreSQL database dump',
      '--',
      '\\restrict abc123',
      'SET statement_timeout = 0;',
      "SELECT pg_catalog.set_config('search_path', '', false);",
      'SET check_function_bodies = false;',
      '-- Name: f; Type: FUNCTION',
      "CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$ select 'a;b\\n' $$;",
      "SELECT pg_catalog.setval('public.s', 3, true);",
      'CREATE TABLE public.t (',
      '    id integer -- a comment; with a semicolon',
      ');',
      '\\unrestrict abc123',
    ].join('\n');
    expect(await cleanDump(script)).toEqual([
      "CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$ select 'a;b\\n' $$",
      "SELECT pg_catalog.setval('public.s', 3, true)",
      'CREATE TABLE public.t (\n    id integer -- a comment; with a semicolon\n)',
    ]);
  });
});
