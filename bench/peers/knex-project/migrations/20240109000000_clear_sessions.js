// sql-case: truncate-knex
exports.up = async function (knex) {
  await knex('sessions').truncate();
};

exports.down = async function () {};
