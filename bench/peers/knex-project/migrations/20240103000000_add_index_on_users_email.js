// sql-case: index-knex
exports.up = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.index('email');
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.dropIndex('email');
  });
};
