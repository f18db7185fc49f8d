// Expand/contract, step 4 of 4 (contract): swap the columns in one short transaction. SET NOT NULL skips the
// scan thanks to the validated check (PostgreSQL 12+); everything else is catalog-only. Brief ACCESS EXCLUSIVE.
// In a real deploy, ship the application code that tolerates both columns before this step.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '2s'");
    await trx.raw('ALTER TABLE users ALTER COLUMN amount_bigint SET NOT NULL');
    await trx.raw('ALTER TABLE users DROP CONSTRAINT users_amount_bigint_not_null');
    await trx.raw('ALTER TABLE users ALTER COLUMN amount_bigint SET DEFAULT 0');
    await trx.raw('DROP TRIGGER users_amount_bigint_sync ON users');
    await trx.raw('DROP FUNCTION users_amount_bigint_sync()');
    await trx.raw('ALTER TABLE users DROP COLUMN amount');
    await trx.raw('ALTER TABLE users RENAME COLUMN amount_bigint TO amount');
  });
};

exports.down = async function (knex) {
  // Back to step 3's state. Not online: re-creating the integer column copies every row in one UPDATE.
  await knex.transaction(async (trx) => {
    await trx.raw('ALTER TABLE users RENAME COLUMN amount TO amount_bigint');
    await trx.raw('ALTER TABLE users ALTER COLUMN amount_bigint DROP DEFAULT');
    await trx.raw('ALTER TABLE users ALTER COLUMN amount_bigint DROP NOT NULL');
    await trx.raw('ALTER TABLE users ADD COLUMN amount integer NOT NULL DEFAULT 0');
    await trx.raw('UPDATE users SET amount = amount_bigint');
    await trx.raw('ALTER TABLE users ADD CONSTRAINT users_amount_bigint_not_null CHECK (amount_bigint IS NOT NULL)');
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
  });
};
