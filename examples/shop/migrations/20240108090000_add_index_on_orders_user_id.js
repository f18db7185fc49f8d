// CREATE INDEX CONCURRENTLY cannot run inside a transaction, so this migration opts out of knex's.
exports.up = async function (knex) {
  await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_user_id ON orders (user_id)');
};

exports.down = async function (knex) {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS idx_orders_user_id');
};

exports.config = { transaction: false };
