// Step 2 of 3: scan existing rows under SHARE UPDATE EXCLUSIVE (reads and writes continue).
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users VALIDATE CONSTRAINT users_name_not_null');
  });
};

exports.down = async function () {
  // Nothing to undo: step 1's down drops the constraint.
};
