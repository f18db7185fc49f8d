// sql-case: check-knex
// Raw SQL: the one form every tool can read.
exports.up = async function (knex) {
  await knex.raw('ALTER TABLE users ADD CONSTRAINT users_score_check CHECK (score >= 0)');
};

exports.down = async function (knex) {
  await knex.raw('ALTER TABLE users DROP CONSTRAINT users_score_check');
};
