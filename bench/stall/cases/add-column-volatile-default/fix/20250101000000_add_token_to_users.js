// Step 1 of 2: add the column with no default (catalog-only), then set the default: SET DEFAULT only
// applies to rows inserted from now on, so neither statement rewrites the table. Brief ACCESS EXCLUSIVE lock.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.schema.alterTable('users', (table) => {
      table.uuid('token');
    });
    await trx.raw('ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid()');
  });
};

exports.down = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.schema.alterTable('users', (table) => {
      table.dropColumn('token');
    });
  });
};
