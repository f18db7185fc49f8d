// sql-case: set-not-null-knex
exports.up = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.dropNullable('name');
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.setNullable('name');
  });
};
