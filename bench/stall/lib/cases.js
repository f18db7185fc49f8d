// The benchmark cases. Migration code lives in cases/<id>/{naive,fix}/*.js (copied verbatim into a
// throw-away knex project per run); this file only describes them and says how to check the end state.

/** @typedef {{ id: string, title: string, naive: string, fix: string, verify: string }} Case */

/** @type {Case[]} */
export const CASES = [
  {
    id: 'add-index',
    title: 'Add index',
    naive: "table.index('email') → CREATE INDEX (SHARE lock: writes wait for the whole build)",
    fix: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS, transaction: false',
    verify: "SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('users_email_index')), false) AS ok",
  },
  {
    id: 'add-unique',
    title: 'Add unique',
    naive: "table.unique('email') → ADD CONSTRAINT … UNIQUE (ACCESS EXCLUSIVE while the index builds)",
    fix: 'CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … UNIQUE USING INDEX',
    verify: "SELECT EXISTS (SELECT 1 FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid WHERE c.conname = 'users_email_unique' AND c.contype = 'u' AND i.indisvalid) AS ok",
  },
  {
    id: 'add-foreign-key',
    title: 'Add foreign key',
    naive: "table.foreign('account_id').references('accounts.id') (SHARE ROW EXCLUSIVE on users and accounts during the check)",
    fix: 'ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in its own migration',
    verify: "SELECT coalesce((SELECT convalidated FROM pg_constraint WHERE conname = 'users_account_id_foreign' AND contype = 'f'), false) AS ok",
  },
  {
    id: 'add-check',
    title: 'Add CHECK',
    naive: "table.check('score >= 0', [], 'users_score_check') (ACCESS EXCLUSIVE during the scan)",
    fix: 'ADD CONSTRAINT … CHECK … NOT VALID, then VALIDATE CONSTRAINT in its own migration',
    verify: "SELECT coalesce((SELECT convalidated FROM pg_constraint WHERE conname = 'users_score_check' AND contype = 'c'), false) AS ok",
  },
  {
    id: 'set-not-null',
    title: 'Set NOT NULL',
    naive: "table.dropNullable('name') → SET NOT NULL (ACCESS EXCLUSIVE during the scan)",
    fix: 'CHECK (name IS NOT NULL) NOT VALID → VALIDATE → SET NOT NULL (no scan) → drop the check',
    verify: "SELECT attnotnull AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'users_name_not_null') AS ok FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'name'",
  },
  {
    id: 'add-column-volatile-default',
    title: 'Add column, volatile default',
    naive: "table.uuid('token').defaultTo(knex.raw('gen_random_uuid()')) (table rewrite under ACCESS EXCLUSIVE)",
    fix: 'add nullable column, SET DEFAULT (new rows only), backfill in 2,000-row batches with a 20 ms pause',
    verify: `SELECT NOT EXISTS (SELECT 1 FROM users WHERE token IS NULL)
        AND (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
             WHERE d.adrelid = 'users'::regclass AND a.attname = 'token') = 'gen_random_uuid()' AS ok`,
  },
  {
    id: 'change-column-type',
    title: 'Change column type (int → bigint)',
    naive: "table.bigInteger('amount').notNullable().defaultTo(0).alter() (table rewrite under ACCESS EXCLUSIVE)",
    fix: 'expand/contract: new column + sync trigger, backfill as above, NOT NULL via validated CHECK, swap in one short transaction',
    verify: "SELECT format_type(atttypid, atttypmod) = 'bigint' AND attnotnull AS ok FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'amount' AND NOT attisdropped",
  },
];
