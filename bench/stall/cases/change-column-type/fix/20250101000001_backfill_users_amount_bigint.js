// Expand/contract, step 2 of 4: copy existing rows in small batches by primary-key range. Each batch is its
// own short transaction (row locks for tens of milliseconds). Safe to re-run.
exports.config = { transaction: false };

const BATCH_SIZE = 2000;
const PAUSE_MS = 20; // between batches: lets WAL flushing, replicas and vacuum keep up

exports.up = async function (knex) {
  const { rows } = await knex.raw('SELECT min(id) AS lo, max(id) AS hi FROM users');
  if (rows[0].lo === null) return;
  const lo = Number(rows[0].lo);
  const hi = Number(rows[0].hi);
  for (let from = lo; from <= hi; from += BATCH_SIZE) {
    await knex.raw('UPDATE users SET amount_bigint = amount WHERE id >= ? AND id < ? AND amount_bigint IS NULL', [
      from,
      from + BATCH_SIZE,
    ]);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  }
};

exports.down = async function () {
  // Nothing to undo: step 1's down drops the column.
};
