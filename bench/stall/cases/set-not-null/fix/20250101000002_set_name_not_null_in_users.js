// Step 3 of 3: SET NOT NULL skips the table scan because the valid CHECK already proves it
// (PostgreSQL 12+); then the helper check is redundant. Brief ACCESS EXCLUSIVE lock.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users ALTER COLUMN name SET NOT NULL');
    await trx.raw('ALTER TABLE users DROP CONSTRAINT users_name_not_null');
  });
};

exports.down = async function (knex) {
  // Restore step 2's state: nullable column plus the validated check (re-added NOT VALID, then validated).
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users ALTER COLUMN name DROP NOT NULL');
    await trx.raw('ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT VALID');
  });
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users VALIDATE CONSTRAINT users_name_not_null');
  });
};
