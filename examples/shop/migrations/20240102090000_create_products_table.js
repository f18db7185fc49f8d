exports.up = async function (knex) {
  await knex.schema.createTable('products', (table) => {
    table.increments('id').primary();
    table.string('sku', 64).notNullable().unique();
    table.string('title', 255).notNullable();
    table.integer('price').notNullable().defaultTo(0);
    table.timestamps(true, true);
  });
};

exports.down = async function (knex) {
  await knex.schema.dropTableIfExists('products');
};
