import { it } from 'vitest';
import { openEmbeddedDatabase, openServer } from '../../src/db/connect.js';
import { snapshotSchema } from '../../src/schema/snapshot.js';
import { urlFor } from '../helpers/pg.js';

it('perf', async () => {
  const srv = await openServer(urlFor('ksperf'));
  await snapshotSchema(srv.knex);
  const name = (await srv.knex.raw('select name from pg_prepared_statements')).rows[0]?.name;
  const steps: Record<string, number[]> = {};
  const step = async (label: string, f: () => Promise<unknown>) => { const t = performance.now(); await f(); (steps[label] ??= []).push(Math.round(performance.now() - t)); };
  for (let i = 0; i < 10; i++) {
    let trx: any;
    await step('begin', async () => { trx = await srv.knex.transaction(); });
    await step('set', () => trx.raw("select set_config('search_path','pg_catalog',true), set_config('plan_cache_mode','force_generic_plan',true), exists(select 1 from pg_prepared_statements where name = 'x')"));
    await step('prepared?', () => trx.raw("select name from pg_prepared_statements"));
    await step('rollback', () => trx.rollback());
    await step('whole', () => snapshotSchema(srv.knex));
  }
  console.log(name, JSON.stringify(steps));
  await srv.close();
});
