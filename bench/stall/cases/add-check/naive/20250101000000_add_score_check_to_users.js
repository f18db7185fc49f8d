exports.up = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.check('score >= 0', [], 'users_score_check');
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.dropChecks('users_score_check');
  });
};
