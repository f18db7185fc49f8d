// sql-case: concurrent-index-outside-transaction
// The fix for index-knex: CONCURRENTLY, outside knex's transaction.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_lower_idx ON users (lower(email))');
};

exports.down = async function (knex) {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS users_email_lower_idx');
};
