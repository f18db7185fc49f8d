// Build the unique index without blocking writes, then attach it as the constraint
// (catalog-only, brief ACCESS EXCLUSIVE lock). Both steps can be re-run after a failure.
// CREATE INDEX CONCURRENTLY cannot run inside a transaction block.
exports.config = { transaction: false };

exports.up = async function (knex) {
  // A failed CONCURRENTLY build leaves an INVALID index behind, which IF NOT EXISTS would keep: drop it first.
  const invalid = await knex.raw(
    "SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('users_email_unique') AND NOT indisvalid",
  );
  if (invalid.rows.length > 0) await knex.raw('DROP INDEX CONCURRENTLY users_email_unique');
  await knex.raw('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_unique ON users (email)');
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users ADD CONSTRAINT users_email_unique UNIQUE USING INDEX users_email_unique');
  });
};

exports.down = async function (knex) {
  // Dropping the constraint drops its index too.
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_unique');
  });
};
