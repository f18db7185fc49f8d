// Step 1 of 3: a NOT VALID check that proves "name IS NOT NULL" (brief ACCESS EXCLUSIVE lock, no scan).
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT VALID');
  });
};

exports.down = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users DROP CONSTRAINT IF EXISTS users_name_not_null');
  });
};
