import { ruleTester } from '../helpers/rule-tester.js';

// Locks written here were read on PostgreSQL 15 (pg_locks inside the transaction) before being expected.
ruleTester('unexplained-lock', {
  valid: [
    {
      name: 'a DO block that only writes rows (ROW EXCLUSIVE)',
      setup: [`await knex.schema.createTable('ul_events', (t) => { t.increments('id'); t.string('kind'); });`],
      up: `await knex.raw(\`DO $$ BEGIN INSERT INTO ul_events (kind) VALUES ('boot'); END $$\`);`,
    },
    {
      name: 'a DO block building an index on a table created in the same migration',
      up: `await knex.schema.createTable('ul_fresh', (t) => { t.increments('id'); t.string('code'); });\nawait knex.raw(\`DO $$ BEGIN EXECUTE 'CREATE INDEX ul_fresh_code ON ul_fresh (code)'; END $$\`);`,
    },
    {
      name: 'plain CREATE INDEX: index-not-concurrent explains it',
      setup: [`await knex.schema.createTable('ul_plain', (t) => { t.increments('id'); t.string('code'); });`],
      up: `await knex.schema.alterTable('ul_plain', (t) => { t.index('code'); });`,
    },
    {
      name: 'ALTER TABLE ADD COLUMN: its lock is what its SQL says (brief; missing-lock-timeout speaks for it)',
      setup: [`await knex.schema.createTable('ul_accounts', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('ul_accounts', (t) => { t.string('plan'); });`,
    },
    {
      name: '.alter() of a foreign-key column: ACCESS EXCLUSIVE on the referenced table comes with the key',
      setup: [
        `await knex.schema.createTable('ul_owners', (t) => { t.increments('id'); });\nawait knex.schema.createTable('ul_pets', (t) => { t.increments('id'); t.integer('owner_id').references('ul_owners.id'); });`,
      ],
      up: `await knex.schema.alterTable('ul_pets', (t) => { t.integer('owner_id').alter(); });`,
    },
    {
      name: 'REFRESH MATERIALIZED VIEW CONCURRENTLY in a DO block: EXCLUSIVE on a view nobody writes blocks no traffic',
      setup: [`await knex.raw('CREATE MATERIALIZED VIEW ul_totals AS SELECT 1 AS id');\nawait knex.raw('CREATE UNIQUE INDEX ul_totals_id ON ul_totals (id)');`],
      up: `await knex.raw(\`DO $$ BEGIN REFRESH MATERIALIZED VIEW CONCURRENTLY ul_totals; END $$\`);`,
    },
    {
      // The rewrite is observed (relfilenode) and table-rewrite reports it: the net adds nothing.
      name: 'a DO block that rewrites an existing table (table-rewrite explains it)',
      setup: [`await knex.schema.createTable('ul_metrics', (t) => { t.increments('id'); t.integer('value'); });`],
      up: `await knex.raw(\`DO $$ BEGIN ALTER TABLE ul_metrics ALTER COLUMN value TYPE bigint; END $$\`);`,
    },
    {
      // Two builders sent together on one connection: the rename's lock can be read after the CREATE TABLE.
      name: 'Promise.all of a CREATE TABLE and a rename on the referenced table',
      setup: [`await knex.schema.createTable('ul_members', (t) => { t.increments('id'); t.string('mail'); });`],
      up: `await Promise.all([\n  knex.schema.createTable('ul_mail', (t) => { t.increments('id'); t.integer('member_id').references('ul_members.id'); }),\n  knex.schema.alterTable('ul_members', (t) => { t.renameColumn('mail', 'primary_mail'); }),\n]);`,
    },
  ],
  invalid: [
    {
      name: 'CREATE INDEX inside a DO block on an existing table (the issue’s repro)',
      setup: [`await knex.schema.createTable('ul_users', (t) => { t.increments('id'); t.string('email'); });`],
      up: `await knex.raw(\`DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'ul_users_email') THEN\n    CREATE INDEX ul_users_email ON ul_users (email);\n  END IF;\nEND $$\`);`,
      down: `await knex.raw('DROP INDEX IF EXISTS ul_users_email');`,
      errors: [{ severity: 'warning', line: 2, message: 'A DO block took SHARE on ul_users, which blocks writes; no specific rule explains it' }],
    },
    {
      name: 'a function doing DDL, called with SELECT',
      setup: [
        `await knex.schema.createTable('ul_orders', (t) => { t.increments('id'); });\nawait knex.raw(\`CREATE FUNCTION ul_add_note() RETURNS void LANGUAGE plpgsql AS $$ BEGIN ALTER TABLE ul_orders ADD COLUMN note text; END $$\`);`,
      ],
      up: `await knex.raw('SELECT ul_add_note()');`,
      down: `await knex.raw('ALTER TABLE ul_orders DROP COLUMN IF EXISTS note');`,
      errors: [{ severity: 'warning', line: 2, message: 'A call of ul_add_note() took ACCESS EXCLUSIVE on ul_orders, which blocks reads and writes' }],
    },
    {
      name: 'a procedure doing DDL, called with CALL',
      setup: [
        `await knex.schema.createTable('ul_items', (t) => { t.increments('id'); t.string('sku'); });\nawait knex.raw(\`CREATE PROCEDURE ul_index_items() LANGUAGE plpgsql AS $$ BEGIN CREATE INDEX ul_items_sku ON ul_items (sku); END $$\`);`,
      ],
      up: `await knex.raw('CALL ul_index_items()');`,
      down: `await knex.raw('DROP INDEX IF EXISTS ul_items_sku');`,
      errors: [{ severity: 'warning', line: 2, message: /^A procedure call \(CALL ul_index_items\(\)\) took SHARE on ul_items/ }],
    },
    {
      name: 'an INSERT whose trigger locks another existing table',
      setup: [
        `await knex.schema.createTable('ul_ledger', (t) => { t.increments('id'); });\nawait knex.schema.createTable('ul_jobs', (t) => { t.increments('id'); });\nawait knex.raw(\`CREATE FUNCTION ul_jobs_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN LOCK TABLE ul_ledger IN SHARE ROW EXCLUSIVE MODE; RETURN NEW; END $$\`);\nawait knex.raw('CREATE TRIGGER ul_jobs_guard BEFORE INSERT ON ul_jobs FOR EACH ROW EXECUTE FUNCTION ul_jobs_guard()');`,
      ],
      up: `await knex('ul_jobs').insert({});`,
      errors: [{ severity: 'warning', line: 2, message: 'INSERT on ul_jobs (through a trigger or rule it fired) took SHARE ROW EXCLUSIVE on ul_ledger' }],
    },
    {
      name: 'a DO block in a migration outside knex’s transaction',
      setup: [`await knex.schema.createTable('ul_logs', (t) => { t.increments('id'); t.string('level'); });`],
      up: `await knex.raw(\`DO $$ BEGIN EXECUTE 'CREATE INDEX ul_logs_level ON ul_logs (level)'; END $$\`);`,
      down: `await knex.raw('DROP INDEX IF EXISTS ul_logs_level');`,
      transaction: false,
      errors: [{ severity: 'warning', line: 2, message: 'A DO block took SHARE on ul_logs' }],
    },
  ],
});
