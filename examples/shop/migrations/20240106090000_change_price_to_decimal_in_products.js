exports.up = async function (knex) {
  await knex.schema.alterTable('products', (table) => {
    table.decimal('price', 10, 2).notNullable().defaultTo(0).alter();
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('products', (table) => {
    table.integer('price').notNullable().defaultTo(0).alter();
  });
};
