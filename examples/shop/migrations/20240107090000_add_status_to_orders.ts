import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE TYPE order_status AS ENUM ('pending', 'shipped', 'delivered', 'cancelled')`);
  await knex.schema.alterTable('orders', (table) => {
    table.specificType('status', 'order_status').defaultTo('pending');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (table) => {
    table.dropColumn('status');
  });
  await knex.raw(`DROP TYPE order_status`);
}
