// Intentionally unsafe: the failing examples assert that knexsafe catches it.
exports.up = (knex) =>
  knex.schema.alterTable('accounts', (t) => {
    t.string('plan').notNullable();
  });

exports.down = async () => {};
