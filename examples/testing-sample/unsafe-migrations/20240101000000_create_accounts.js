exports.up = (knex) =>
  knex.schema.createTable('accounts', (t) => {
    t.increments('id');
    t.string('email').notNullable();
  });

exports.down = (knex) => knex.schema.dropTable('accounts');
