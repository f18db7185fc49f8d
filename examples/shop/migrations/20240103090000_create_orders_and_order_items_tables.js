exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.schema.createTable('orders', (table) => {
      table.increments('id').primary();
      table.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
      table.timestamps(true, true);
    });
    await trx.schema.createTable('order_items', (table) => {
      table.increments('id').primary();
      table.integer('order_id').notNullable().references('id').inTable('orders').onDelete('CASCADE');
      table.integer('product_id').notNullable().references('id').inTable('products');
      table.integer('quantity').notNullable().defaultTo(1);
    });
  });
};

exports.down = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.schema.dropTableIfExists('order_items');
    await trx.schema.dropTableIfExists('orders');
  });
};
