exports.seed = async function (knex) {
  await knex('users').del();
  await knex('users').insert([
    { email: 'ada@example.com', full_name: 'Ada Lovelace', display_name: 'Ada' },
    { email: 'alan@example.com', full_name: 'Alan Turing', display_name: 'Alan' },
  ]);
};
