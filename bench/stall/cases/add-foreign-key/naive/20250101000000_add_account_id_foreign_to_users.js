exports.up = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.foreign('account_id').references('accounts.id');
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.dropForeign('account_id');
  });
};
