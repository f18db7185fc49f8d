exports.up = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.bigInteger('amount').notNullable().defaultTo(0).alter();
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.integer('amount').notNullable().defaultTo(0).alter();
  });
};
