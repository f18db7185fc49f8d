exports.up = (knex) =>
  knex.schema.createTable('orders', (t) => {
    t.increments('id');
    t.integer('item_id').references('items.id');
    t.integer('quantity').notNullable().defaultTo(1);
  });
exports.down = (knex) => knex.schema.dropTable('orders');
