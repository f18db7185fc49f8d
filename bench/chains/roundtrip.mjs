#!/usr/bin/env node
// Oracle for bench chains, independent of knexsafe: with plain knex, for every migration in order
// take a catalog snapshot, run its up, its down, snapshot again and compare, then run the up again.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/empty_db node bench/chains/roundtrip.mjs <dir-with-knexfile.js>
//
// Exit 0 when every down restored the schema (compared by name, so column order is ignored) and the
// row counts of all tables; otherwise prints the first differences per migration and exits 1.
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import knexFactory from 'knex';

const dir = process.argv[2];
if (!dir || !process.env.DATABASE_URL) {
  console.error('usage: DATABASE_URL=... node bench/chains/roundtrip.mjs <dir-with-knexfile.js>');
  process.exit(2);
}
const mod = await import(pathToFileURL(join(resolve(dir), 'knexfile.js')).href);
const config = mod.default ?? mod;
const knex = knexFactory({ ...config, connection: process.env.DATABASE_URL });

const SNAPSHOT = [
  [
    'column',
    `select table_name || '.' || column_name as k, data_type || coalesce('(' || character_maximum_length || ')', '')
     || coalesce(' ' || numeric_precision || ',' || numeric_scale, '') || ' ' || is_nullable || ' ' || coalesce(column_default, '')
     || ' ' || udt_name as v from information_schema.columns where table_schema = 'public'`,
  ],
  ['index', `select indexname, indexdef from pg_indexes where schemaname = 'public'`],
  [
    'constraint',
    `select conrelid::regclass || '.' || conname as k, pg_get_constraintdef(oid) as v from pg_constraint
     where connamespace = 'public'::regnamespace`,
  ],
  [
    'type',
    `select t.typname, coalesce(string_agg(e.enumlabel, ',' order by e.enumsortorder), t.typtype::text)
     from pg_type t left join pg_enum e on e.enumtypid = t.oid
     where t.typnamespace = 'public'::regnamespace and t.typtype in ('e', 'd') group by t.typname, t.typtype`,
  ],
  ['view', `select viewname, definition from pg_views where schemaname = 'public'`],
  [
    'function',
    `select p.oid::regprocedure::text as k, md5(pg_get_functiondef(p.oid)) from pg_proc p
     where p.pronamespace = 'public'::regnamespace`,
  ],
  ['trigger', `select tgrelid::regclass || '.' || tgname as k, pg_get_triggerdef(oid) as v from pg_trigger where not tgisinternal`],
  [
    'comment',
    `select c.relname, obj_description(c.oid, 'pg_class') from pg_class c
     where c.relnamespace = 'public'::regnamespace and obj_description(c.oid, 'pg_class') is not null`,
  ],
  ['extension', `select extname, extversion from pg_extension`],
  ['sequence', `select sequencename, data_type::text from pg_sequences where schemaname = 'public'`],
];

async function snapshot() {
  const out = new Map();
  for (const [kind, sql] of SNAPSHOT) {
    const { rows } = await knex.raw(sql);
    for (const r of rows) {
      const v = Object.values(r);
      out.set(`${kind} ${v[0]}`, String(v[1]));
    }
  }
  const tables = (
    await knex.raw(`select tablename from pg_tables where schemaname = 'public'
    and tablename not like 'knex_migrations%'`)
  ).rows.map((r) => r.tablename);
  for (const t of tables) {
    const { rows } = await knex.raw('select count(*)::int as n from ??', [t]);
    out.set(`rows ${t}`, String(rows[0].n));
  }
  return out;
}
function diff(a, b) {
  const d = [];
  for (const [k, v] of a)
    if (!b.has(k)) d.push(`- ${k}: ${v}`);
    else if (b.get(k) !== v) d.push(`~ ${k}: ${v}  ->  ${b.get(k)}`);
  for (const [k, v] of b) if (!a.has(k)) d.push(`+ ${k}: ${v}`);
  return d;
}

const [, pending] = await knex.migrate.list();
const names = pending.map((m) => m.file ?? m.name ?? m);
let bad = 0;
const t0 = Date.now();
for (const name of names) {
  const before = await snapshot();
  await knex.migrate.up({ name });
  await knex.migrate.down({ name });
  const d = diff(before, await snapshot());
  if (d.length) {
    bad++;
    console.log(`DOWN-NOT-INVERSE ${name}\n  ${d.slice(0, 12).join('\n  ')}`);
  }
  try {
    await knex.migrate.up({ name });
  } catch (e) {
    console.log(`STOP: ${name} failed when re-applied after its down: ${e.message.split('\n')[0]}`);
    bad++;
    break;
  }
}
console.log(`${names.length} migrations, ${bad} with a down that does not restore the schema (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
await knex.destroy();
process.exit(bad ? 1 : 0);
