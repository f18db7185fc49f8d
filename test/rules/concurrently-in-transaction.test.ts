import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { check } from '../../src/check/run.js';
import { verify } from '../../src/verify/run.js';
import { NEXT_MIGRATION } from '../../src/codegen/index.js';
import { ruleTester, type RuleCase } from '../helpers/rule-tester.js';

// Each case's fix runs through check and verify on a shadow: minutes, not seconds, on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

const items = `await knex.schema.createTable('ct_items', (t) => { t.increments('id'); t.string('sku'); });`;

const inKnexTransaction: RuleCase = {
  name: 'raw CREATE INDEX CONCURRENTLY in a migration that keeps knex’s transaction',
  isolated: true,
  setup: [items],
  up: `await knex.raw('CREATE INDEX CONCURRENTLY ct_items_sku_idx ON ct_items (sku)');`,
  errors: [{ severity: 'error', line: 2, message: 'CREATE INDEX CONCURRENTLY fails inside knex’s migration transaction (SQLSTATE 25001)' }],
};

const inExplicitTransaction: RuleCase = {
  name: 'DROP INDEX CONCURRENTLY inside knex.transaction() of a migration without a transaction',
  isolated: true,
  setup: [`await knex.schema.createTable('ct_orders', (t) => { t.increments('id'); t.string('ref').index(); });`],
  up: `await knex.transaction(async (trx) => {\n  await trx.raw('DROP INDEX CONCURRENTLY ct_orders_ref_index');\n});`,
  transaction: false,
  errors: [{ severity: 'error', line: 3, message: 'DROP INDEX CONCURRENTLY fails inside a transaction block (SQLSTATE 25001)' }],
};

ruleTester('concurrently-in-transaction', {
  valid: [
    {
      name: 'CREATE INDEX CONCURRENTLY alone, without a transaction',
      setup: [`await knex.schema.createTable('ct_a', (t) => { t.increments('id'); t.string('email'); });`],
      up: `await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS ct_a_email_idx ON ct_a (email)');`,
      transaction: false,
    },
    {
      name: 'build concurrently, then attach in a short transaction (re-runnable steps)',
      setup: [`await knex.schema.createTable('ct_b', (t) => { t.increments('id'); t.string('email'); });`],
      up: [
        `await knex.raw('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ct_b_email_unique ON ct_b (email)');`,
        `await knex.transaction(async (trx) => {`,
        `  await trx.raw("SET LOCAL lock_timeout = '2s'");`,
        `  await trx.raw('ALTER TABLE ct_b ADD CONSTRAINT ct_b_email_unique UNIQUE USING INDEX ct_b_email_unique');`,
        `});`,
      ].join('\n'),
      transaction: false,
    },
    {
      name: 'a new column with IF NOT EXISTS before a concurrent index',
      setup: [`await knex.schema.createTable('ct_c', (t) => { t.increments('id'); });`],
      up: `await knex.raw('ALTER TABLE ct_c ADD COLUMN IF NOT EXISTS code text');\nawait knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS ct_c_code_idx ON ct_c (code)');`,
      transaction: false,
    },
    {
      // ALTER INDEX … ATTACH PARTITION of an attached index is a no-op: the migration can run again.
      name: 'the partitioned-index recipe: ON ONLY, then CONCURRENTLY and ATTACH per partition',
      setup: [
        `await knex.raw(\`create table ct_m (id int not null, at date not null) partition by range (at);
create table ct_m_1 partition of ct_m for values from ('2024-01-01') to ('2025-01-01');
create table ct_m_2 partition of ct_m for values from ('2025-01-01') to ('2026-01-01');\`);`,
      ],
      up: [
        `await knex.raw('CREATE INDEX IF NOT EXISTS ct_m_id_idx ON ONLY ct_m (id)');`,
        `await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS ct_m_1_id_idx ON ct_m_1 (id)');`,
        `await knex.raw('ALTER INDEX ct_m_id_idx ATTACH PARTITION ct_m_1_id_idx');`,
        `await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS ct_m_2_id_idx ON ct_m_2 (id)');`,
        `await knex.raw('ALTER INDEX ct_m_id_idx ATTACH PARTITION ct_m_2_id_idx');`,
      ].join('\n'),
      down: `await knex.raw('DROP INDEX IF EXISTS ct_m_id_idx');`,
      transaction: false,
    },
    { name: 'SQL file: CONCURRENTLY after COMMIT', ext: 'sql', file: 'BEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\nCREATE INDEX CONCURRENTLY t_c_idx ON t (c);\n' },
  ],
  invalid: [
    inKnexTransaction,
    inExplicitTransaction,
    {
      name: 'ADD COLUMN then CREATE INDEX CONCURRENTLY without a transaction: half applied on failure',
      setup: [`await knex.schema.createTable('ct_users', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('ct_users', (t) => t.string('nick'));\nawait knex.raw('CREATE INDEX CONCURRENTLY ct_users_nick_idx ON ct_users (nick)');`,
      transaction: false,
      errors: [{ severity: 'warning', line: 3, message: 'CREATE INDEX CONCURRENTLY is mixed with other schema changes in a migration without a transaction' }],
    },
    {
      name: 'SQL file: CREATE INDEX CONCURRENTLY inside BEGIN … COMMIT',
      ext: 'sql',
      file: 'BEGIN;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\nCOMMIT;\n',
      errors: [{ severity: 'error', line: 2, message: 'CREATE INDEX CONCURRENTLY runs inside BEGIN … COMMIT and will fail' }],
    },
    {
      name: 'SQL file: REINDEX and DETACH PARTITION CONCURRENTLY in a transaction',
      ext: 'sql',
      file: 'BEGIN;\nREINDEX INDEX CONCURRENTLY users_email_idx;\nALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;\nCOMMIT;\n',
      errors: [
        { line: 2, message: 'REINDEX INDEX CONCURRENTLY runs inside BEGIN … COMMIT' },
        { line: 3, message: 'DETACH PARTITION CONCURRENTLY runs inside BEGIN … COMMIT' },
      ],
    },
  ],
});

// The failing cases run alone (their migration fails), so the harness does not try their fixes: do it here.
describe('concurrently-in-transaction: fixes of the failing migrations', () => {
  const project = (files: string[]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-cit-'));
    fs.mkdirSync(path.join(dir, 'migrations'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
    files.forEach((content, i) => {
      fs.writeFileSync(path.join(dir, 'migrations', `20240101${String(100 + i).padStart(6, '0')}_m${i}.js`), content);
    });
    return dir;
  };
  const setupFile = (c: RuleCase) => `exports.up = async function (knex) {\n${(c.setup ?? []).join('\n')}\n};\nexports.down = async function () {};\n`;
  const caseFile = (c: RuleCase) =>
    `exports.up = async function (knex) {\n${c.up}\n};\nexports.down = async function () {};\n${c.transaction === false ? 'exports.config = { transaction: false };\n' : ''}`;

  it('the fixes run, raise no errors and are reversible', async () => {
    const cases = [inKnexTransaction, inExplicitTransaction];
    const fixes = await Promise.all(
      cases.map(async (c) => {
        const report = await check({ cwd: project([setupFile(c), caseFile(c)]), all: true });
        const finding = report.findings.find((f) => f.rule === 'concurrently-in-transaction');
        expect(finding?.fix?.code, c.name).toContain('exports.config = { transaction: false };');
        return finding!.fix!.code.split(NEXT_MIGRATION).map((s) => s.trim() + '\n');
      }),
    );
    const files = cases.flatMap((c, i) => [setupFile(c), ...fixes[i]!]);
    const dir = project(files);
    const names = fs.readdirSync(path.join(dir, 'migrations')).filter((_, i) => !files[i]!.includes('exports.down = async function () {};'));
    const after = await check({ cwd: dir, all: true });
    expect(after.migrations.filter((m) => m.failed)).toEqual([]);
    expect(after.findings.filter((f) => f.severity === 'error').map((f) => `${f.rule}: ${f.message}`)).toEqual([]);
    const verified = await verify({ cwd: dir, names });
    expect(verified.verdicts.map((v) => v.name)).toEqual(names);
    expect(verified.verdicts.flatMap((v) => v.findings.map((f) => `${v.name}: ${f.rule}: ${f.message}`))).toEqual([]);
  }, 240_000);
});
