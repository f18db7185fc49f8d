// Step 1 of 2: add the CHECK without scanning existing rows (brief ACCESS EXCLUSIVE lock).
// New and updated rows are checked from now on.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users ADD CONSTRAINT users_score_check CHECK (score >= 0) NOT VALID');
  });
};

exports.down = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users DROP CONSTRAINT IF EXISTS users_score_check');
  });
};
