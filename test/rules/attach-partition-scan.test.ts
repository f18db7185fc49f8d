import { ruleTester } from '../helpers/rule-tester.js';

/** A range-partitioned table with rows, a DEFAULT partition when asked, and a standalone table of 2026 rows to attach. */
const events = (p: string, withDefault = false) => [
  `await knex.raw(\`create table ${p}events (id bigint not null, at date not null) partition by range (at);
create table ${p}events_2025 partition of ${p}events for values from ('2025-01-01') to ('2026-01-01');
${withDefault ? `create table ${p}events_default partition of ${p}events default;` : ''}
insert into ${p}events select g, date '2025-01-01' + (g % 300) from generate_series(1, 500) g;
create table ${p}events_2026 (like ${p}events);
insert into ${p}events_2026 select g, date '2026-01-01' + (g % 300) from generate_series(1, 500) g;\`);`,
];

const attach = (p: string) => `await knex.raw("alter table ${p}events attach partition ${p}events_2026 for values from ('2026-01-01') to ('2027-01-01')");`;
const detach = (p: string) => `await knex.raw('alter table ${p}events detach partition ${p}events_2026');`;

ruleTester('attach-partition-scan', {
  valid: [
    {
      name: 'a validated CHECK matching the bound: PostgreSQL skips the scan',
      setup: [
        ...events('a1_'),
        `await knex.raw("alter table a1_events_2026 add constraint a1_bound check (at >= '2026-01-01' and at < '2027-01-01') not valid");`,
        `await knex.raw('alter table a1_events_2026 validate constraint a1_bound');`,
      ],
      up: attach('a1_'),
      down: detach('a1_'),
    },
    {
      name: 'a partition created in the same migration, no DEFAULT partition (nothing to scan)',
      setup: events('a2_'),
      up: `await knex.raw('create table a2_events_2027 (like a2_events)');\nawait knex.raw("alter table a2_events attach partition a2_events_2027 for values from ('2027-01-01') to ('2028-01-01')");`,
    },
    {
      name: 'ALTER INDEX … ATTACH PARTITION (an index, not a table)',
      setup: [...events('a3_'), `await knex.raw('create index a3_events_id_idx on only a3_events (id)'); await knex.raw('create index a3_events_2025_id_idx on a3_events_2025 (id)');`],
      up: `await knex.raw('alter index a3_events_id_idx attach partition a3_events_2025_id_idx');`,
    },
  ],
  invalid: [
    {
      name: 'an existing table attached without a CHECK: scanned under ACCESS EXCLUSIVE',
      setup: events('a4_'),
      up: attach('a4_'),
      down: detach('a4_'),
      errors: [{ severity: 'warning', message: 'ATTACH PARTITION a4_events_2026 scans a4_events_2026 under ACCESS EXCLUSIVE: no validated CHECK proves the bound' }],
    },
    {
      name: 'the parent has a DEFAULT partition: it is scanned too, and gets the opposite CHECK',
      setup: events('a5_', true),
      up: attach('a5_'),
      down: detach('a5_'),
      errors: [{ severity: 'warning', message: 'ATTACH PARTITION a5_events_2026 scans a5_events_2026 and a5_events_default under ACCESS EXCLUSIVE: no validated CHECK proves the bound' }],
    },
    {
      name: 'a LIST partition',
      setup: [
        `await knex.raw(\`create table a7_jobs (id bigint not null, state text not null) partition by list (state);
create table a7_jobs_open partition of a7_jobs for values in ('open');
create table a7_jobs_done (like a7_jobs);
insert into a7_jobs_done select g, case when g % 2 = 0 then 'done' else 'failed' end from generate_series(1, 200) g;\`);`,
      ],
      up: `await knex.raw("alter table a7_jobs attach partition a7_jobs_done for values in ('done', 'failed')");`,
      down: `await knex.raw('alter table a7_jobs detach partition a7_jobs_done');`,
      errors: [{ severity: 'warning', message: 'ATTACH PARTITION a7_jobs_done scans a7_jobs_done under ACCESS EXCLUSIVE: no validated CHECK proves the bound' }],
    },
  ],
});

// The fix rewrites the case's migration as three: it cannot keep a CREATE TABLE of the same
// migration, so this case is checked without running its fix.
ruleTester(
  'attach-partition-scan',
  {
    valid: [
      {
        name: 'a new partition, and a DEFAULT partition created in the same migration',
        up: [
          `await knex.raw(\`create table a8_events (id bigint not null, at date not null) partition by range (at);`,
          `create table a8_events_default partition of a8_events default;`,
          `create table a8_events_2027 (like a8_events);\`);`,
          `await knex.raw("alter table a8_events attach partition a8_events_2027 for values from ('2027-01-01') to ('2028-01-01')");`,
        ].join('\n'),
      },
    ],
    invalid: [
      {
        name: 'a new, empty partition still has the DEFAULT partition scanned',
        setup: events('a6_', true),
        up: `await knex.raw('create table a6_events_2027 (like a6_events)');\nawait knex.raw("alter table a6_events attach partition a6_events_2027 for values from ('2027-01-01') to ('2028-01-01')");`,
        errors: [{ severity: 'warning', message: 'ATTACH PARTITION a6_events_2027 scans a6_events_default under ACCESS EXCLUSIVE: no validated CHECK proves the bound' }],
      },
    ],
  },
  { fixes: false },
);
