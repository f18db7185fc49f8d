import { beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/util/duration.js';
import { isIdempotentSql } from '../../src/guard/idempotent.js';
import { resolveGuardSettings, retryDelay } from '../../src/guard/settings.js';
import { destructiveTargets } from '../../src/backup/targets.js';
import { KnexsafeError } from '../../src/errors.js';
import { ensureParser, parseSqlSync, statementFacts } from '../../src/sql/index.js';
import type { MigrationUnit } from '../../src/rules/types.js';

beforeAll(() => ensureParser());

describe('guard settings', () => {
  it('reads durations the way people write them', () => {
    expect(parseDuration('5s', 'x')).toBe(5000);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('1.5 s', 'x')).toBe(1500);
    expect(parseDuration('2min', 'x')).toBe(120_000);
    expect(parseDuration(750, 'x')).toBe(750);
    expect(() => parseDuration('soon', '--lock-timeout')).toThrow(/--lock-timeout takes a duration/);
  });

  it('flags win over config, config over defaults; lock_timeout 0 is refused', () => {
    expect(resolveGuardSettings({}, {})).toMatchObject({ lockTimeoutMs: 5000, retries: 5, idleInTransactionTimeoutMs: 60_000 });
    expect(resolveGuardSettings({}, {})).not.toHaveProperty('statementTimeoutMs');
    expect(resolveGuardSettings({}, { lockTimeout: '2s', statementTimeout: 60000, retries: 1 })).toMatchObject({ lockTimeoutMs: 2000, statementTimeoutMs: 60000, retries: 1 });
    expect(resolveGuardSettings({ lockTimeout: '1s', retries: '3' }, { lockTimeout: '2s', retries: 1 })).toMatchObject({ lockTimeoutMs: 1000, retries: 3 });
    expect(() => resolveGuardSettings({ lockTimeout: '0' }, {})).toThrow(KnexsafeError);
    expect(() => resolveGuardSettings({ retries: 'many' }, {})).toThrow(/--retries takes a whole number/);
  });

  it('backs off exponentially with jitter, capped', () => {
    const s = resolveGuardSettings({ retryDelay: '1s' }, {});
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(s, n, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(retryDelay(s, 1, () => 0)).toBe(800);
    expect(retryDelay(s, 1, () => 1)).toBe(1200);
  });
});

describe('idempotent statements (what a migration without a transaction may repeat after a lock timeout)', () => {
  it.each([
    ['create table if not exists a (id int)', true],
    ['create table a (id int)', false],
    ['alter table a add column if not exists b int, alter column b set default 1', true],
    ['alter table a add column b int', false],
    ['drop index if exists a_idx', true],
    ['drop table a', false],
    ['create index if not exists i on a (b)', true],
    ['create index concurrently if not exists i on a (b)', false],
    ['create or replace view v as select 1', true],
    ['insert into a values (1)', false],
    ['update a set b = b + 1', false],
    ['select 1; set lock_timeout = 1000', true],
    ['comment on table a is $$x$$', true],
  ])('%s → %s', (sql, expected) => {
    expect(isIdempotentSql(sql)).toBe(expected);
  });
});

describe('destructive targets', () => {
  const unit = (name: string, sqls: string[]): MigrationUnit =>
    ({
      name,
      file: name,
      source: '',
      transactional: true,
      hasDown: true,
      sqlFile: false,
      statements: sqls.map((sql, index) => {
        const ast = parseSqlSync(sql)[0]!.ast;
        return { sql, ast, facts: statementFacts(ast, sql), locks: [], rewrites: [], inTransaction: true, index };
      }),
    }) as MigrationUnit;

  it('drop/truncate → whole tables, drop column / type change → columns, merged per table', () => {
    const targets = destructiveTargets([
      unit('m1.js', ['alter table users drop column email', 'alter table users alter column score type integer']),
      unit('m2.js', ['drop table if exists audit', 'truncate billing.invoices', 'create index i on users (name)']),
      unit('m3.js', ['drop table users']),
    ]);
    expect(targets.map((t) => [t.table.schema ?? null, t.table.name, t.columns ?? null, t.migrations])).toEqual([
      [null, 'users', null, ['m1.js', 'm3.js']],
      [null, 'audit', null, ['m2.js']],
      ['billing', 'invoices', null, ['m2.js']],
    ]);
    expect(targets[0]!.reasons).toEqual(['drop column email (m1.js)', 'change the type of score (m1.js)', 'drop table (m3.js)']);
  });
});
