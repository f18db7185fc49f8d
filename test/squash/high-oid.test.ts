import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { sqlOn, startThrowawayCluster } from '../helpers/pg.js';

// A long-lived cluster's oid counter passes 2^31 (TOAST values and large objects use oids too).
// squash's model joins the snapshot's rows to its own reads by oid: read as a signed int4 on one
// side, the keys stopped matching, and the baseline lost its OWNED BY and PRIMARY KEY statements.
const FIRST_OID = 3_000_000_000;

describe('squash on a cluster whose oids are past 2^31', () => {
  let cluster: Awaited<ReturnType<typeof startThrowawayCluster>> | undefined;
  beforeAll(async () => {
    cluster = await startThrowawayCluster({ firstOid: FIRST_OID });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('proves the baseline from the catalogs as on any other server', async () => {
    const dir = makeProject({
      'migrations/20240101000000_create_tags.js': `exports.up = (knex) => knex.schema.createTable('tags', (t) => { t.increments('id'); t.string('label').notNullable().unique(); });\nexports.down = (knex) => knex.schema.dropTable('tags');\n`,
      'migrations/20240102000000_create_posts.js': `exports.up = (knex) => knex.schema.createTable('posts', (t) => { t.bigIncrements('id'); t.integer('tag_id').references('id').inTable('tags'); });\nexports.down = (knex) => knex.schema.dropTable('posts');\n`,
    });
    const url = cluster!.url();
    const r = await runCli(['squash', '--to', '20240102000000_create_posts', '--dry-run', '--json', '--ddl', 'catalog', '--shadow-url', url, '--cwd', dir]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = parseJson<{ ok: boolean; proof: { schemaEqual: boolean; verify: { status: string } } }>(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.proof).toMatchObject({ schemaEqual: true, verify: { status: 'reversible' } });
    // Objects made there really get oids past 2^31 (the counter moved and did not wrap).
    const [row] = await sqlOn<{ oid: string }>(url, `select pg_catalog.lo_create(0)::int8::text as oid`);
    expect(BigInt(row!.oid)).toBeGreaterThan(2n ** 31n);
  }, 600_000);
});
