// sql-case: alter-type-knex-text
// varchar(255) → text is binary-coercible: no rewrite. Only a run on a real database shows it.
exports.up = async function (knex) {
  await knex.schema.alterTable('products', (table) => {
    table.text('title').alter();
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('products', (table) => {
    table.string('title').alter();
  });
};
