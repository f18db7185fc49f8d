// The migration chain the fault bench kills: transactional migrations and `transaction: false`
// ones, each long enough (pg_sleep) that a kill lands inside statements as often as between them.
export const SLEEP = 0.25;

export const MIGRATIONS = {
  '20240101000001_create_accounts.js': `exports.up = async (knex) => {
  await knex.raw('create table accounts (id serial primary key, name text not null, balance int)');
  await knex.raw("insert into accounts (name) select 'user' || g from generate_series(1, 2000) g");
  await knex.raw('select pg_sleep(${SLEEP})');
};
exports.down = (knex) => knex.raw('drop table accounts');
`,
  '20240101000002_index_accounts_name.js': `exports.config = { transaction: false };
exports.up = async (knex) => {
  await knex.raw('select pg_sleep(${SLEEP})');
  await knex.raw('create index concurrently if not exists accounts_name_idx on accounts (name)');
};
exports.down = (knex) => knex.raw('drop index concurrently if exists accounts_name_idx');
`,
  '20240101000003_add_email.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('accounts', (t) => { t.text('email'); });
  await knex.raw("update accounts set email = name || '@example.com'");
  await knex.raw('select pg_sleep(${SLEEP})');
};
exports.down = (knex) => knex.schema.alterTable('accounts', (t) => { t.dropColumn('email'); });
`,
  '20240101000004_create_ledger.js': `exports.config = { transaction: false };
exports.up = async (knex) => {
  await knex.raw('create table ledger (id serial primary key, account_id int not null references accounts (id), amount int not null)');
  await knex.raw('insert into ledger (account_id, amount) select g, 10 from generate_series(1, 1000) g');
  await knex.raw('select pg_sleep(${SLEEP})');
  await knex.raw('create index concurrently if not exists ledger_account_id_idx on ledger (account_id)');
};
exports.down = (knex) => knex.raw('drop table ledger');
`,
  '20240101000005_balance_check.js': `exports.up = async (knex) => {
  await knex.raw('alter table accounts add constraint accounts_balance_check check (balance >= 0) not valid');
  await knex.raw('select pg_sleep(${SLEEP})');
};
exports.down = (knex) => knex.raw('alter table accounts drop constraint accounts_balance_check');
`,
  '20240101000006_backfill_balance.js': `exports.config = { transaction: false };
exports.up = async (knex) => {
  for (let from = 1; from <= 2000; from += 500) {
    await knex.raw('update accounts set balance = 100 where id between ? and ? and balance is null', [from, from + 499]);
    await knex.raw('select pg_sleep(${SLEEP / 4})');
  }
};
exports.down = async () => {};
`,
};

/** What the database holds once every migration is applied: nothing may be lost or doubled. */
export const EXPECTED = {
  migrations: Object.keys(MIGRATIONS).length,
  checks: [
    ['accounts rows', 'select count(*)::int from accounts', 2000],
    ['accounts with e-mail', 'select count(email)::int from accounts', 2000],
    ['accounts balance total', 'select coalesce(sum(balance), 0)::int from accounts', 200000],
    ['ledger rows', 'select count(*)::int from ledger', 1000],
    ['ledger amount total', 'select coalesce(sum(amount), 0)::int from ledger', 10000],
    ['valid indexes', "select count(*)::int from pg_index where indexrelid in (to_regclass('accounts_name_idx'), to_regclass('ledger_account_id_idx')) and indisvalid", 2],
    ['balance check', "select count(*)::int from pg_constraint where conname = 'accounts_balance_check'", 1],
  ],
};
