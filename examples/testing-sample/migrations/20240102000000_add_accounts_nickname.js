exports.up = (knex) =>
  knex.schema.alterTable('accounts', (t) => {
    t.string('nickname');
  });

exports.down = (knex) =>
  knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('nickname');
  });
