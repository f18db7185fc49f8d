// The tables the later migrations change, with a few rows (created here, so they "exist" for the rest).
exports.up = async function (knex) {
  await knex.schema.createTable('users', (table) => {
    table.bigIncrements('id');
    table.text('email');
    table.text('name');
    table.integer('score');
  });
  await knex.schema.createTable('products', (table) => {
    table.bigIncrements('id');
    table.string('title');
    table.integer('amount').notNullable().defaultTo(0);
  });
  await knex.schema.createTable('orders', (table) => {
    table.bigIncrements('id');
    table.bigInteger('user_id');
  });
  await knex.schema.createTable('sessions', (table) => {
    table.bigIncrements('id');
    table.text('data');
  });
  await knex('users').insert([{ email: 'a@example.com', name: 'A', score: 1 }, { email: 'b@example.com', name: 'B', score: 2 }]);
  await knex('products').insert([{ title: 'Tea', amount: 3 }]);
  await knex('orders').insert([{ user_id: 1 }]);
};

exports.down = async function (knex) {
  await knex.schema.dropTable('sessions');
  await knex.schema.dropTable('orders');
  await knex.schema.dropTable('products');
  await knex.schema.dropTable('users');
};
