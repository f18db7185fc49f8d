import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { check, type CheckReport } from '../../src/check/run.js';
import { resolveProject } from '../../src/config/resolve.js';
import { openTarget } from '../../src/db/connect.js';
import { migrateLatest } from '../../src/migrations/history.js';
import { makeProject } from '../helpers/cli.js';
import { createTempDatabase, describeServer, type TempDatabase } from '../helpers/pg.js';

/**
 * `check --data-checks` on a server target holding rows that make the pending migrations fail:
 * duplicates for a unique key, NULLs for SET NOT NULL, orphans for a foreign key, a CHECK violated,
 * a value a type change cannot convert. The target is made read-only for new sessions before the
 * check: any write knexsafe attempted there would fail the run.
 */
const APPLIED = `
exports.up = async (knex) => {
  await knex.raw(\`
    create table dc_users (id serial primary key, email text, nickname text, age text, team_id int, score int);
    create table dc_teams (id int primary key);
  \`);
};
exports.down = (knex) => knex.raw('drop table dc_users, dc_teams');
`;

const PENDING: Record<string, string> = {
  '20240201000000_unique_email.js': `exports.up = (knex) => knex.schema.alterTable('dc_users', (t) => { t.unique(['email']); });\nexports.down = () => {};\n`,
  '20240202000000_nickname_not_null.js': `exports.up = (knex) => knex.raw('alter table dc_users alter column nickname set not null');\nexports.down = () => {};\n`,
  '20240203000000_team_fk.js': `exports.up = (knex) => knex.schema.alterTable('dc_users', (t) => { t.foreign('team_id').references('dc_teams.id'); });\nexports.down = () => {};\n`,
  '20240204000000_score_check.js': `exports.up = (knex) => knex.raw('alter table dc_users add constraint dc_users_score_positive check (score > 0)');\nexports.down = () => {};\n`,
  '20240205000000_age_integer.js': `exports.up = (knex) => knex.schema.alterTable('dc_users', (t) => { t.integer('age').alter(); });\nexports.down = () => {};\n`,
  '20240206000000_index_nickname.js': `exports.up = (knex) => knex.raw('create unique index dc_users_nickname_idx on dc_users (nickname)');\nexports.down = () => {};\n`,
};

describeServer('check --data-checks (server target)', () => {
  let db: TempDatabase;
  let cwd: string;
  let report: CheckReport;

  beforeAll(async () => {
    db = await createTempDatabase('prec_part_dc');
    cwd = makeProject(
      {
        'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(db.url)} };\n`,
        'migrations/20240101000000_applied.js': APPLIED,
      },
      'ks-data-checks-',
    );
    const project = await resolveProject({ cwd });
    const target = await openTarget(project);
    try {
      await migrateLatest({ db: target, project });
    } finally {
      await target.close();
    }
    for (const [name, body] of Object.entries(PENDING)) fs.writeFileSync(path.join(cwd, 'migrations', name), body);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    // The rows exist on the target only (the shadow replays the migration, not the data).
    await admin.query(`insert into dc_teams values (1), (2);
      insert into dc_users (email, nickname, age, team_id, score) values
        ('a@x', 'ann', '31', 1, 5), ('a@x', 'ann2', '29', 1, 7), ('a@x', null, '12a', 9, -1),
        ('b@x', 'bob', '40', 2, 3), (null, 'nil', null, null, 1)`);
    await admin.query(`alter database "${db.name}" set default_transaction_read_only = on`);
    await admin.end();
    report = await check({ cwd, dataChecks: true });
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('counts the rows each pending migration would fail on, with the query to find them', () => {
    const failing = report.findings.filter((f) => f.rule === 'data-check');
    expect(failing.map((f) => [f.migration, f.message])).toEqual([
      ['20240201000000_unique_email.js', 'will fail: 3 duplicate (email) rows in dc_users'],
      ['20240202000000_nickname_not_null.js', 'will fail: 1 row with nickname NULL in dc_users'],
      ['20240203000000_team_fk.js', 'will fail: 1 (team_id) row with no match in dc_teams in dc_users'],
      ['20240204000000_score_check.js', 'will fail: 1 row violating CHECK dc_users_score_positive in dc_users'],
      ['20240205000000_age_integer.js', 'will fail: values of age that do not convert to integer in dc_users (invalid input syntax for type integer: "12a")'],
    ]);
    expect(failing.every((f) => f.severity === 'error' && f.sql && f.fix?.code === f.sql)).toBe(true);
    expect(failing[0]?.sql).toBe('SELECT email, count(*) AS copies FROM public.dc_users WHERE email IS NOT NULL GROUP BY email HAVING count(*) > 1 ORDER BY copies DESC');
  });

  it('reports the checks that pass as passing', () => {
    const nickname = report.dataChecks?.find((r) => r.migration === '20240206000000_index_nickname.js');
    expect(nickname).toMatchObject({ kind: 'unique', status: 'passes', rows: 0 });
  });

  it('the query it prints lists exactly the offending rows', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const orphans = report.dataChecks!.find((r) => r.kind === 'foreign-key')!;
      expect((await client.query(orphans.query)).rows.map((r: { email: string }) => r.email)).toEqual(['a@x']);
      const nulls = report.dataChecks!.find((r) => r.kind === 'not-null')!;
      expect((await client.query(nulls.query)).rowCount).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('never writes: the target refuses writes and nothing changed', async () => {
    expect(report.warnings.filter((w) => w.startsWith('data check'))).toEqual([]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await client.query('select count(*)::int as n from knex_migrations')).rows[0].n).toBe(1);
      expect((await client.query('select count(*)::int as n from dc_users')).rows[0].n).toBe(5);
    } finally {
      await client.end();
    }
  });

  it('counts on a replica URL when given one, and gives up on a query after its statement_timeout', async () => {
    const replica = await check({ cwd, dataChecks: { url: db.url, timeoutMs: 5000 } });
    expect(replica.findings.filter((f) => f.rule === 'data-check')).toHaveLength(5);
    expect(replica.findings.find((f) => f.rule === 'data-check')?.why).toContain('the replica');
  }, 120_000);

  it('without a target it is skipped with a warning', async () => {
    const report2 = await check({ cwd, all: true, dataChecks: true });
    expect(report2.warnings).toContain('--data-checks needs the target database (the knexfile’s connection, checking its pending migrations): skipped.');
    expect(report2.findings.filter((f) => f.rule === 'data-check')).toEqual([]);
  }, 120_000);
});
