// Step 2 of 2: check existing rows under SHARE UPDATE EXCLUSIVE (reads and writes continue).
// Its own transaction, never step 1's.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users VALIDATE CONSTRAINT users_score_check');
  });
};

exports.down = async function () {
  // Nothing to undo: a validated constraint cannot be marked NOT VALID again; step 1's down drops it.
};
