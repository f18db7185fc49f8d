// Expand/contract, step 1 of 4 (expand): a new bigint column kept in sync by a trigger (fires only when `amount`
// is written, so the backfill below does not pay for it), plus a NOT VALID check so the column can become
// NOT NULL later without a scan. Catalog-only, brief locks.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users ADD COLUMN amount_bigint bigint');
    await trx.raw(`
      CREATE FUNCTION users_amount_bigint_sync() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.amount_bigint := NEW.amount;
        RETURN NEW;
      END
      $$`);
    await trx.raw(
      'CREATE TRIGGER users_amount_bigint_sync BEFORE INSERT OR UPDATE OF amount ON users FOR EACH ROW EXECUTE FUNCTION users_amount_bigint_sync()',
    );
    await trx.raw(
      'ALTER TABLE users ADD CONSTRAINT users_amount_bigint_not_null CHECK (amount_bigint IS NOT NULL) NOT VALID',
    );
  });
};

exports.down = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('DROP TRIGGER IF EXISTS users_amount_bigint_sync ON users');
    await trx.raw('DROP FUNCTION IF EXISTS users_amount_bigint_sync()');
    await trx.raw('ALTER TABLE users DROP COLUMN IF EXISTS amount_bigint');
  });
};
