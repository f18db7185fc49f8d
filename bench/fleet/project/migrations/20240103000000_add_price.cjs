exports.up = (knex) =>
  knex.schema.alterTable('items', (t) => {
    t.integer('price_cents');
  });
exports.down = (knex) =>
  knex.schema.alterTable('items', (t) => {
    t.dropColumn('price_cents');
  });
