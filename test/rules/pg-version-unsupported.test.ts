import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { check } from '../../src/check/run.js';
import { makeProject } from '../helpers/cli.js';
import { createTempDatabase, describeServer, SERVER_URL, type TempDatabase } from '../helpers/pg.js';
import { ruleTester } from '../helpers/rule-tester.js';

vi.setConfig({ testTimeout: 240_000 });

// What PostgreSQL 15 (the server here) and 18 (PGlite) answered to each statement is in
// docs/rules/pg-version-unsupported.md; the cases below run on both shadows.
ruleTester(
  'pg-version-unsupported',
  {
    valid: [
      {
        name: 'no version known: advice for the shadow, which accepted it',
        setup: [`await knex.schema.createTable('pv_plain', (t) => { t.bigIncrements('id'); t.text('email'); });`],
        up: `await knex.raw('CREATE UNIQUE INDEX pv_plain_email ON pv_plain (email) NULLS NOT DISTINCT');`,
      },
      {
        name: 'NULLS NOT DISTINCT on PostgreSQL 15',
        pgVersion: 15,
        setup: [`await knex.schema.createTable('pv_fifteen', (t) => { t.bigIncrements('id'); t.text('email'); });`],
        up: `await knex.raw('CREATE UNIQUE INDEX pv_fifteen_email ON pv_fifteen (email) NULLS NOT DISTINCT');`,
      },
      {
        name: 'a uuidv7() the project defines itself, on PostgreSQL 15',
        pgVersion: 15,
        up: `await knex.raw("CREATE FUNCTION uuidv7() RETURNS uuid LANGUAGE sql AS 'SELECT gen_random_uuid()'");\nawait knex.raw('SELECT uuidv7()');`,
      },
      { name: 'SQL file: a stored generated column on PostgreSQL 12', ext: 'sql', pgVersion: 12, file: 'ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a * 2) STORED;\n' },
      {
        name: 'SQL file: gen_random_uuid() after CREATE EXTENSION pgcrypto, on PostgreSQL 12',
        ext: 'sql',
        pgVersion: 12,
        file: 'CREATE EXTENSION IF NOT EXISTS pgcrypto;\nSELECT gen_random_uuid();\n',
      },
      { name: 'SQL file: JSON_TABLE with no version given', ext: 'sql', file: "SELECT * FROM JSON_TABLE('[1]'::jsonb, '$[*]' COLUMNS (x int PATH '$'));\n" },
    ],
    invalid: [
      {
        name: 'NULLS NOT DISTINCT on PostgreSQL 14',
        pgVersion: 14,
        setup: [`await knex.schema.createTable('pv_users', (t) => { t.bigIncrements('id'); t.text('email'); });`],
        up: `await knex.raw('CREATE UNIQUE INDEX pv_users_email ON pv_users (email) NULLS NOT DISTINCT');`,
        errors: [{ severity: 'error', line: 2, message: 'UNIQUE … NULLS NOT DISTINCT is rejected by PostgreSQL 14: it needs PostgreSQL 15 or later' }],
      },
      {
        name: 'MERGE on PostgreSQL 14',
        pgVersion: 14,
        setup: [`await knex.schema.createTable('pv_stock', (t) => { t.bigInteger('id').primary(); t.integer('qty'); });`],
        up: `await knex.raw('MERGE INTO pv_stock s USING (VALUES (1, 5)) v(id, qty) ON s.id = v.id WHEN MATCHED THEN UPDATE SET qty = v.qty WHEN NOT MATCHED THEN INSERT (id, qty) VALUES (v.id, v.qty)');`,
        errors: [{ severity: 'error', line: 2, message: 'MERGE is rejected by PostgreSQL 14: it needs PostgreSQL 15 or later' }],
      },
      {
        name: 'CREATE OR REPLACE TRIGGER on PostgreSQL 13',
        pgVersion: 13,
        setup: [
          `await knex.schema.createTable('pv_audit', (t) => { t.bigIncrements('id'); });\nawait knex.raw('CREATE FUNCTION pv_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$');`,
        ],
        up: `await knex.raw('CREATE OR REPLACE TRIGGER pv_audit_touch BEFORE INSERT ON pv_audit FOR EACH ROW EXECUTE FUNCTION pv_touch()');`,
        errors: [{ severity: 'error', line: 2, message: 'CREATE OR REPLACE TRIGGER is rejected by PostgreSQL 13: it needs PostgreSQL 14 or later' }],
      },
      {
        name: 'SQL file: JSON_TABLE on PostgreSQL 16',
        ext: 'sql',
        pgVersion: 16,
        file: "SELECT * FROM JSON_TABLE('[1]'::jsonb, '$[*]' COLUMNS (x int PATH '$'));\n",
        errors: [{ line: 1, message: 'JSON_TABLE is rejected by PostgreSQL 16: it needs PostgreSQL 17 or later' }],
      },
      {
        name: 'SQL file: JSON_OBJECT on PostgreSQL 15',
        ext: 'sql',
        pgVersion: 15,
        file: "SELECT JSON_OBJECT('a' VALUE 1);\n",
        errors: [{ line: 1, message: /^SQL\/JSON constructors .* is rejected by PostgreSQL 15: it needs PostgreSQL 16/ }],
      },
      {
        name: 'SQL file: MERGE … RETURNING on PostgreSQL 16',
        ext: 'sql',
        pgVersion: 16,
        file: 'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING t.id;\n',
        errors: [{ line: 1, message: 'MERGE … RETURNING is rejected by PostgreSQL 16: it needs PostgreSQL 17 or later' }],
      },
      {
        name: 'SQL file: uuidv7() on PostgreSQL 17',
        ext: 'sql',
        pgVersion: 17,
        file: 'ALTER TABLE t ADD COLUMN id2 uuid DEFAULT uuidv7();\n',
        errors: [{ line: 1, message: 'uuidv7() / uuidv4() is rejected by PostgreSQL 17: it needs PostgreSQL 18 or later' }],
      },
      {
        name: 'SQL file: a virtual generated column on PostgreSQL 17',
        ext: 'sql',
        pgVersion: 17,
        file: 'ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a * 2);\n',
        errors: [{ line: 1, message: /^a virtual generated column .* is rejected by PostgreSQL 17/ }],
      },
      {
        name: 'SQL file: NOT ENFORCED on PostgreSQL 17',
        ext: 'sql',
        pgVersion: 17,
        file: 'ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT ENFORCED;\n',
        errors: [{ line: 1, message: 'a NOT ENFORCED constraint is rejected by PostgreSQL 17: it needs PostgreSQL 18 or later' }],
      },
      {
        name: 'SQL file: NOT NULL … NOT VALID on PostgreSQL 17',
        ext: 'sql',
        pgVersion: 17,
        file: 'ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL a NOT VALID;\n',
        errors: [{ line: 1, message: 'a NOT NULL constraint NOT VALID is rejected by PostgreSQL 17: it needs PostgreSQL 18 or later' }],
      },
      {
        name: 'SQL file: gen_random_uuid() without pgcrypto on PostgreSQL 12',
        ext: 'sql',
        pgVersion: 12,
        file: 'SELECT gen_random_uuid();\n',
        errors: [{ line: 1, message: 'gen_random_uuid() without pgcrypto is rejected by PostgreSQL 12: it needs PostgreSQL 13 or later' }],
      },
    ],
  },
  // The fix is advice for the older target (a comment), not a migration to run.
  { fixes: false },
);

const jsonTable = `exports.up = async (knex) => {\n  await knex.raw("SELECT * FROM JSON_TABLE('[1]'::jsonb, '$[*]' COLUMNS (x int PATH '$'))");\n};\nexports.down = async () => {};\n`;

describeServer('pg-version-unsupported against what the PostgreSQL 15 server does', () => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await createTempDatabase('ks_fid_pgver');
  });
  afterAll(async () => {
    await temp?.drop();
  });

  it('the 15 server rejects JSON_TABLE (42601); the 18 embedded shadow accepts it, and the rule says what 15 will do, with the version read from the target', async () => {
    const dir = makeProject({
      'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(temp.url)} };\n`,
      'migrations/20240101000000_json_table.js': jsonTable,
    });
    const onServer = await check({ cwd: dir, all: true, shadowUrl: SERVER_URL });
    expect(onServer.migrations[0]?.failed?.sqlState).toBe('42601');
    // The target (this server, PostgreSQL 15) is read for pending migrations and its version.
    const embedded = await check({ cwd: dir });
    expect(embedded.pgVersion).toBe(15);
    expect(embedded.migrations[0]?.failed).toBeUndefined();
    expect(embedded.findings.filter((f) => f.rule === 'pg-version-unsupported').map((f) => [f.severity, f.message])).toEqual([
      ['error', 'JSON_TABLE is rejected by PostgreSQL 15: it needs PostgreSQL 17 or later'],
    ]);
  });
});

describe('pg-version-unsupported with --pg-version on the embedded shadow', () => {
  it('--pg-version 17 accepts JSON_TABLE; 16 rejects it', async () => {
    const dir = makeProject({ 'migrations/20240101000000_json_table.js': jsonTable });
    const at17 = await check({ cwd: dir, all: true, pgVersion: 17 });
    expect(at17.findings.filter((f) => f.rule === 'pg-version-unsupported')).toEqual([]);
    const at16 = await check({ cwd: dir, all: true, pgVersion: 16 });
    expect(at16.findings.filter((f) => f.rule === 'pg-version-unsupported').map((f) => f.message)).toEqual(['JSON_TABLE is rejected by PostgreSQL 16: it needs PostgreSQL 17 or later']);
  });
});
