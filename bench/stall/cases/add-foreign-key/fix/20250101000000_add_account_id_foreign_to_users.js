// Step 1 of 2: add the foreign key without checking existing rows (brief SHARE ROW EXCLUSIVE on both tables).
// New and updated rows are checked from now on.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw(
      'ALTER TABLE users ADD CONSTRAINT users_account_id_foreign FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID',
    );
  });
};

exports.down = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users DROP CONSTRAINT IF EXISTS users_account_id_foreign');
  });
};
