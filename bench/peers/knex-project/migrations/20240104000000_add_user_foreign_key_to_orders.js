// sql-case: foreign-key-knex
exports.up = async function (knex) {
  await knex.schema.alterTable('orders', (table) => {
    table.foreign('user_id').references('users.id');
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('orders', (table) => {
    table.dropForeign('user_id');
  });
};
