// sql-case: alter-type-knex-bigint
exports.up = async function (knex) {
  await knex.schema.alterTable('products', (table) => {
    table.bigInteger('amount').notNullable().defaultTo(0).alter();
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('products', (table) => {
    table.integer('amount').notNullable().defaultTo(0).alter();
  });
};
