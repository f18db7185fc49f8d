// sql-case: add-column-volatile-default
exports.up = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.uuid('token').defaultTo(knex.raw('gen_random_uuid()'));
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.dropColumn('token');
  });
};
