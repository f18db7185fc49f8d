import type { Knex } from 'knex';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { openEmbeddedDatabase, openServer, type Database } from '../../src/db/connect.js';
import { diffSchemas, formatDiff, snapshotSchema } from '../../src/schema/index.js';
import type { SchemaSnapshot } from '../../src/schema/types.js';
import { createTempDatabase, describeServer, type TempDatabase } from '../helpers/pg.js';
import { EXPRESSIONS_SQL, EXTENSIONS_SQL, RICH_SCHEMA_SQL, manyTablesSql } from './fixtures.js';
import { buildKnexAppSchema, resetDatabase } from './helpers.js';

/**
 * The same DDL on a PostgreSQL 15 server and on PGlite (PostgreSQL 18) must give snapshots that
 * are deep-equal and JSON-identical: verify and squash compare snapshots taken on either.
 */
describeServer('snapshots on PostgreSQL 15 (server) and 18 (PGlite) agree', () => {
  let temp: TempDatabase;
  let server: Database;
  let embedded: Database;

  beforeAll(async () => {
    temp = await createTempDatabase('ks_schema');
    [server, embedded] = await Promise.all([openServer(temp.url), openEmbeddedDatabase({ extensions: ['uuid-ossp', 'pg_trgm', 'citext'] })]);
    const versions = await Promise.all([server, embedded].map(async (db) => (await db.knex.raw('show server_version_num')).rows[0].server_version_num as string));
    expect(versions.map((v) => v.slice(0, 2))).toEqual(['15', '18']);
  });
  afterAll(async () => {
    await Promise.all([server?.close(), embedded?.close()]);
    await temp?.drop();
  });
  beforeEach(async () => {
    await Promise.all([resetDatabase(server.knex), resetDatabase(embedded.knex)]);
  });

  async function onBoth(build: (knex: Knex) => Promise<unknown>): Promise<[SchemaSnapshot, SchemaSnapshot]> {
    await build(server.knex);
    await build(embedded.knex);
    return [await snapshotSchema(server.knex), await snapshotSchema(embedded.knex)];
  }

  function expectSame([fromServer, fromEmbedded]: [SchemaSnapshot, SchemaSnapshot]): void {
    // The diff first: on failure it names what differs.
    expect(formatDiff(diffSchemas(fromServer, fromEmbedded))).toBe('no schema differences');
    expect(fromEmbedded).toEqual(fromServer);
    expect(JSON.stringify(fromEmbedded)).toBe(JSON.stringify(fromServer));
  }

  it('every object kind', async () => {
    const snapshots = await onBoth((knex) => knex.raw(RICH_SCHEMA_SQL));
    expectSame(snapshots);
    expect(Object.keys(snapshots[0].tables)).toHaveLength(4);
    expect(Object.keys(snapshots[0].functions)).toHaveLength(4);
  });

  it('views, defaults, indexes, partitions, triggers, policies and functions whose printing changed across versions', async () => {
    const snapshots = await onBoth((knex) => knex.raw(EXPRESSIONS_SQL));
    expectSame(snapshots);
    const views = snapshots[0].views;
    expect(Object.keys(views)).toHaveLength(12);
    // The PostgreSQL 15 text, brought to the form PostgreSQL 16+ prints.
    expect(views['public.v_alias']?.definition).toBe('SELECT id,\n    name\n   FROM public.users u\n  WHERE (id > 1)\n  ORDER BY name;');
    expect(views['public.v_join']?.definition).toBe('SELECT u.id,\n    o.total\n   FROM (public.users u\n     JOIN public.orders o ON ((o.user_id = u.id)));');
    expect(snapshots[0].tables['public.child_t']).toMatchObject({ inherits: ['public.parent_t'], columnOrder: ['id', 'extra'] });
    expect(snapshots[0].tables['public.scratch']?.unlogged).toBe(true);
  });

  it('a schema built with the knex schema builder', async () => {
    expectSame(await onBoth(buildKnexAppSchema));
  });

  it('extensions at the same version on both, and what uses them', async () => {
    const snapshots = await onBoth((knex) => knex.raw(EXTENSIONS_SQL));
    expectSame(snapshots);
    expect(Object.keys(snapshots[0].extensions)).toEqual(['pg_trgm', 'plpgsql', 'uuid-ossp']);
    expect(snapshots[0].tables['public.docs']?.columns['id']?.default).toBe('public.uuid_generate_v4()');
    expect(snapshots[0].indexes['public.docs_body_trgm']?.definition).toBe('CREATE INDEX docs_body_trgm ON public.docs USING gin (body public.gin_trgm_ops)');
    expect(snapshots[0].functions).toEqual({});
  });

  it('reports an extension shipped at different versions, unless told to ignore versions', async () => {
    const [fromServer, fromEmbedded] = await onBoth((knex) => knex.raw('create extension citext; create table tags (name citext primary key)'));
    expect([fromServer.extensions['citext']?.version, fromEmbedded.extensions['citext']?.version]).toEqual(['1.6', '1.8']);
    expect(diffSchemas(fromServer, fromEmbedded)).toEqual({
      equal: false,
      changes: [
        {
          kind: 'extension',
          object: 'citext',
          change: 'changed',
          attribute: 'version',
          expected: '1.6',
          actual: '1.8',
          message: 'extension citext: version 1.6 → 1.8',
        },
      ],
      notes: [],
    });
    expect(diffSchemas(fromServer, fromEmbedded, { ignoreExtensionVersions: true })).toEqual({
      equal: true,
      changes: [],
      notes: ['extension citext: version 1.6 → 1.8 (ignored)'],
    });
  });

  it('the same migration round trip gives the same diff on both', async () => {
    const roundTrip = async (knex: Knex) => {
      await knex.schema.createTable('users', (t) => {
        t.increments('id');
        t.string('status').notNullable().defaultTo('new');
      });
      const before = await snapshotSchema(knex);
      // up
      await knex.schema.createTable('shipments', (t) => {
        t.increments('id');
        t.enu('state', ['packed', 'sent'], { useNative: true, enumName: 'shipment_state' });
      });
      await knex.schema.alterTable('users', (t) => t.string('status', 20).alter());
      // a careless down
      await knex.schema.dropTable('shipments');
      return formatDiff(diffSchemas(before, await snapshotSchema(knex)));
    };
    const expected = [
      'type shipment_state: left behind',
      'users.status: type character varying(255) → character varying(20)',
      'users.status: NOT NULL → nullable',
      "users.status: default 'new' → none",
    ].join('\n');
    expect(await roundTrip(server.knex)).toBe(expected);
    expect(await roundTrip(embedded.knex)).toBe(expected);
  });

  it('50 tables: equal, and timed', async () => {
    const snapshots = await onBoth((knex) => knex.raw(manyTablesSql(50)));
    expectSame(snapshots);
    expect(Object.keys(snapshots[0].tables)).toHaveLength(50);
    expect(Object.keys(snapshots[0].indexes)).toHaveLength(50);
    expect(Object.keys(snapshots[0].comments)).toHaveLength(101);
    const timings: Record<string, number> = {};
    for (const [label, db] of [
      ['server (PostgreSQL 15)', server],
      ['PGlite (PostgreSQL 18)', embedded],
    ] as const) {
      const runs: number[] = [];
      for (let i = 0; i < 7; i++) {
        const start = performance.now();
        await snapshotSchema(db.knex);
        runs.push(performance.now() - start);
      }
      runs.sort((a, b) => a - b);
      timings[label] = Math.round(runs[3] ?? 0);
      console.log(`snapshot of 50 tables on ${label}: median ${runs[3]?.toFixed(1)} ms, min ${runs[0]?.toFixed(1)} ms`);
    }
    // Generous bounds (CI machines are shared); a query per table would be an order of magnitude over.
    expect(timings['server (PostgreSQL 15)']).toBeLessThan(500);
    expect(timings['PGlite (PostgreSQL 18)']).toBeLessThan(1500);
  });
});
