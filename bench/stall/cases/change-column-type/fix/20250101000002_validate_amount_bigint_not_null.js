// Expand/contract, step 3 of 4: prove every row is filled, under SHARE UPDATE EXCLUSIVE (writes continue).
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users VALIDATE CONSTRAINT users_amount_bigint_not_null');
  });
};

exports.down = async function () {
  // Nothing to undo: step 1's down drops the constraint with the column.
};
