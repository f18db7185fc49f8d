import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { check } from '../../src/check/run.js';
import { ruleTester } from '../helpers/rule-tester.js';
import { createTempDatabase, describeServer, type TempDatabase } from '../helpers/pg.js';

// Each case's fix runs through check and verify on a shadow: minutes, not seconds, on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('validate-in-same-transaction', {
  valid: [
    {
      name: 'VALIDATE in a later migration (the NOT VALID add committed)',
      setup: [`await knex.schema.createTable('vs_a', (t) => { t.increments('id'); t.integer('n'); });`, `await knex.raw('ALTER TABLE vs_a ADD CONSTRAINT vs_a_n_check CHECK (n > 0) NOT VALID');`],
      up: `await knex.raw('ALTER TABLE vs_a VALIDATE CONSTRAINT vs_a_n_check');`,
    },
    {
      name: 'add and VALIDATE in two short transactions of one migration without knex’s transaction',
      setup: [`await knex.schema.createTable('vs_b', (t) => { t.increments('id'); t.integer('n'); });`],
      up: [
        `await knex.transaction(async (trx) => {`,
        `  await trx.raw('ALTER TABLE vs_b ADD CONSTRAINT vs_b_n_check CHECK (n > 0) NOT VALID');`,
        `});`,
        `await knex.transaction(async (trx) => {`,
        `  await trx.raw('ALTER TABLE vs_b VALIDATE CONSTRAINT vs_b_n_check');`,
        `});`,
      ].join('\n'),
      transaction: false,
    },
    {
      name: 'a table created in the same migration',
      up: `await knex.schema.createTable('vs_fresh', (t) => { t.increments('id'); t.integer('n'); });\nawait knex.raw('ALTER TABLE vs_fresh ADD CONSTRAINT vs_fresh_n_check CHECK (n > 0) NOT VALID');\nawait knex.raw('ALTER TABLE vs_fresh VALIDATE CONSTRAINT vs_fresh_n_check');`,
    },
    { name: 'SQL file: each statement in its own transaction', ext: 'sql', file: 'ALTER TABLE t ADD CONSTRAINT t_c CHECK (c > 0) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT t_c;\n' },
  ],
  invalid: [
    {
      name: 'CHECK NOT VALID and VALIDATE in one migration (knex’s transaction)',
      setup: [`await knex.schema.createTable('vs_users', (t) => { t.increments('id'); t.integer('score'); });\nawait knex('vs_users').insert([{ score: 1 }]);`],
      up: `await knex.raw('ALTER TABLE vs_users ADD CONSTRAINT vs_users_score_check CHECK (score >= 0) NOT VALID');\nawait knex.raw('ALTER TABLE vs_users VALIDATE CONSTRAINT vs_users_score_check');`,
      down: `await knex.raw('ALTER TABLE vs_users DROP CONSTRAINT vs_users_score_check');`,
      errors: [{ severity: 'error', line: 3, message: 'VALIDATE CONSTRAINT vs_users_score_check runs in the same transaction as its ADD CONSTRAINT … NOT VALID (line 2)' }],
    },
    {
      name: 'FOREIGN KEY NOT VALID and VALIDATE inside one knex.transaction()',
      // With rows that satisfy the key, in the same migration: verify probes tables left empty with values that know nothing of it.
      setup: [
        `await knex.schema.createTable('vs_accounts', (t) => { t.increments('id'); });\nawait knex.schema.createTable('vs_members', (t) => { t.increments('id'); t.integer('account_id'); });\nawait knex('vs_accounts').insert({ id: 7 });\nawait knex('vs_members').insert({ account_id: 7 });`,
      ],
      up: [
        `await knex.transaction(async (trx) => {`,
        `  await trx.raw('ALTER TABLE vs_members ADD CONSTRAINT vs_members_account_id_foreign FOREIGN KEY (account_id) REFERENCES vs_accounts (id) ON DELETE CASCADE NOT VALID');`,
        `  await trx.raw('ALTER TABLE vs_members VALIDATE CONSTRAINT vs_members_account_id_foreign');`,
        `});`,
      ].join('\n'),
      transaction: false,
      errors: [{ severity: 'error', line: 4, message: 'VALIDATE CONSTRAINT vs_members_account_id_foreign runs in the same transaction as its ADD CONSTRAINT … NOT VALID (line 3)' }],
    },
    {
      name: 'SQL file: both inside BEGIN … COMMIT',
      ext: 'sql',
      file: 'BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;\nCOMMIT;\n',
      errors: [{ severity: 'error', line: 3, message: 'VALIDATE CONSTRAINT orders_user_fk runs in the same transaction as its ADD CONSTRAINT … NOT VALID (line 2)' }],
    },
  ],
});

// Two migrations pending together run in one knex batch transaction: only known with a target.
describeServer('validate-in-same-transaction across migrations of one knex batch', () => {
  let db: TempDatabase;
  let dir: string;
  const write = (name: string, content: string) => fs.writeFileSync(path.join(dir, 'migrations', name), content);
  beforeAll(async () => {
    db = await createTempDatabase('ks_vsat');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-vsat-'));
    fs.mkdirSync(path.join(dir, 'migrations'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
    write(
      '20240101000000_create_scores.js',
      `exports.up = async (knex) => {\n  await knex.schema.createTable('vs_scores', (t) => { t.increments('id'); t.integer('n'); });\n  await knex('vs_scores').insert([{ n: 1 }, { n: 2 }]);\n};\nexports.down = (knex) => knex.schema.dropTable('vs_scores');\n`,
    );
    const knex = knexFactory({ client: 'pg', connection: db.url });
    try {
      await knex.migrate.latest({ directory: path.join(dir, 'migrations') });
    } finally {
      await knex.destroy();
    }
    write(
      '20240102000000_add_n_check_to_scores.js',
      `exports.up = (knex) => knex.raw('ALTER TABLE vs_scores ADD CONSTRAINT vs_scores_n_check CHECK (n > 0) NOT VALID');\nexports.down = (knex) => knex.raw('ALTER TABLE vs_scores DROP CONSTRAINT vs_scores_n_check');\n`,
    );
    write(
      '20240103000000_validate_n_check_on_scores.js',
      `exports.up = async (knex) => {\n  await knex.raw('ALTER TABLE vs_scores VALIDATE CONSTRAINT vs_scores_n_check');\n};\nexports.down = async () => {};\n`,
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('flags the VALIDATE of the second pending migration, and its fix (no transaction) clears it', async () => {
    const report = await check({ cwd: dir, connection: db.url });
    const own = report.findings.filter((f) => f.rule === 'validate-in-same-transaction');
    expect(own.map((f) => [f.migration, f.line, f.severity])).toEqual([['20240103000000_validate_n_check_on_scores.js', 2, 'warning']]);
    expect(own[0]!.message).toBe(
      'VALIDATE CONSTRAINT vs_scores_n_check runs in the same transaction as its ADD CONSTRAINT … NOT VALID in 20240102000000_add_n_check_to_scores.js, which knex runs in the same batch transaction',
    );
    expect(own[0]!.fix?.code).toContain('exports.config = { transaction: false };');
    // A new file name: the loader caches modules by path.
    fs.rmSync(path.join(dir, 'migrations', '20240103000000_validate_n_check_on_scores.js'));
    write('20240103000000_validate_n_check_on_scores_in_own_transaction.js', own[0]!.fix!.code);
    const fixed = await check({ cwd: dir, connection: db.url });
    expect(fixed.migrations.filter((m) => m.failed)).toEqual([]);
    expect(fixed.findings.filter((f) => f.rule === 'validate-in-same-transaction')).toEqual([]);
  });
});
