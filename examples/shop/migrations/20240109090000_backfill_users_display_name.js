exports.up = async function (knex) {
  await knex.transaction(async (trx) => {
    // 1. Add as nullable
    await trx.schema.alterTable('users', (table) => {
      table.string('display_name', 100).nullable();
    });
    // 2. Backfill existing rows
    await trx.raw(`UPDATE users SET display_name = coalesce(first_name || ' ' || last_name, full_name)`);
    // 3. Set NOT NULL constraint
    await trx.raw(`ALTER TABLE users ALTER COLUMN display_name SET NOT NULL`);
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.dropColumn('display_name');
  });
};
