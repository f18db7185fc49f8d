// CREATE INDEX CONCURRENTLY cannot run inside a transaction block.
exports.config = { transaction: false };

exports.up = async function (knex) {
  // A failed CONCURRENTLY build leaves an INVALID index behind, which IF NOT EXISTS would keep: drop it first.
  const invalid = await knex.raw(
    "SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('users_email_index') AND NOT indisvalid",
  );
  if (invalid.rows.length > 0) await knex.raw('DROP INDEX CONCURRENTLY users_email_index');
  await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users (email)');
};

exports.down = async function (knex) {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS users_email_index');
};
