// Step 2 of 2: check existing rows. VALIDATE takes SHARE UPDATE EXCLUSIVE on users and ROW SHARE on
// accounts, so reads and writes continue while it scans. Its own transaction, never step 1's.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users VALIDATE CONSTRAINT users_account_id_foreign');
  });
};

exports.down = async function () {
  // Nothing to undo: a validated constraint cannot be marked NOT VALID again; step 1's down drops it.
};
