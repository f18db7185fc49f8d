import type { Knex } from 'knex';
import type { ColumnInfo } from '../../src/schema/types.js';

/**
 * Back to an empty database between tests that share one embedded instance: every user schema
 * dropped (extensions living in them go too), `public` recreated as initdb makes it.
 */
export async function resetDatabase(knex: Knex): Promise<void> {
  const rows = (await knex.raw(`select nspname from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'`)).rows as {
    nspname: string;
  }[];
  for (const { nspname } of rows) await knex.raw('drop schema ?? cascade', [nspname]);
  await knex.raw("create schema public; comment on schema public is 'standard public schema'; grant usage on schema public to public");
  await knex.raw("select pg_catalog.set_config('search_path', 'public', false)");
}

/** A column as the snapshot describes it, with the common defaults filled in. */
export function column(name: string, type: string, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return { name, type, nullable: true, default: null, identity: null, generated: null, collation: null, ...extra };
}

/** Columns keyed by name, as in `TableInfo.columns`. */
export function columns(...list: ColumnInfo[]): Record<string, ColumnInfo> {
  return Object.fromEntries(list.map((c) => [c.name, c]));
}

/** The schema of a small app built with knex's schema builder, as migrations write it. */
export async function buildKnexAppSchema(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('email').notNullable().unique();
    t.string('name', 100).notNullable().defaultTo('anon');
    t.enu('status', ['new', 'active', 'banned'], { useNative: true, enumName: 'user_status' }).notNullable().defaultTo('new');
    t.decimal('price', 10, 2);
    t.timestamps(true, true);
  });
  await knex.schema.createTable('orders', (t) => {
    t.increments('id');
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('note').index();
    t.jsonb('meta');
    t.unique(['user_id', 'note']);
  });
  // knex's .alter() drops the default and NOT NULL it is not told to keep.
  await knex.schema.alterTable('users', (t) => {
    t.text('name').alter();
  });
}
