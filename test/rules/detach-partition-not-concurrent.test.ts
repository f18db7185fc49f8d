import { ruleTester } from '../helpers/rule-tester.js';

/** A range-partitioned table with two partitions (and a DEFAULT one when asked), holding rows; tables prefixed per case. */
const events = (p: string, withDefault = false) => [
  `await knex.raw(\`create table ${p}events (id bigint not null, at date not null) partition by range (at);
create table ${p}events_2024 partition of ${p}events for values from ('2024-01-01') to ('2025-01-01');
create table ${p}events_2025 partition of ${p}events for values from ('2025-01-01') to ('2026-01-01');
${withDefault ? `create table ${p}events_default partition of ${p}events default;` : ''}
insert into ${p}events select g, date '2024-01-01' + (g % 700) from generate_series(1, 500) g;\`);`,
];

ruleTester('detach-partition-not-concurrent', {
  valid: [
    {
      name: 'DETACH PARTITION CONCURRENTLY in a migration without a transaction',
      setup: events('d1_'),
      up: `await knex.raw('alter table d1_events detach partition d1_events_2024 concurrently');`,
      down: `await knex.raw("alter table d1_events attach partition d1_events_2024 for values from ('2024-01-01') to ('2025-01-01')");`,
      transaction: false,
    },
    {
      name: 'DETACH PARTITION of a table partitioned in the same migration',
      up: [
        `await knex.raw(\`create table d2_events (id bigint not null, at date not null) partition by range (at);`,
        `create table d2_events_2024 partition of d2_events for values from ('2024-01-01') to ('2025-01-01');\`);`,
        `await knex.raw('alter table d2_events detach partition d2_events_2024');`,
      ].join('\n'),
    },
  ],
  invalid: [
    {
      name: 'DETACH PARTITION without CONCURRENTLY: the fix detaches CONCURRENTLY (FINALIZE when run again after an interruption)',
      pgVersion: 15,
      setup: events('d3_'),
      up: `await knex.raw('alter table d3_events detach partition d3_events_2024');`,
      down: `await knex.raw("alter table d3_events attach partition d3_events_2024 for values from ('2024-01-01') to ('2025-01-01')");`,
      errors: [{ severity: 'warning', message: 'DETACH PARTITION d3_events_2024 takes ACCESS EXCLUSIVE on d3_events without CONCURRENTLY' }],
    },
    {
      name: 'with a DEFAULT partition CONCURRENTLY is refused: the fix keeps the lock short',
      pgVersion: 15,
      setup: events('d4_', true),
      up: `await knex.raw('alter table d4_events detach partition d4_events_2024');`,
      down: `await knex.raw("alter table d4_events attach partition d4_events_2024 for values from ('2024-01-01') to ('2025-01-01')");`,
      errors: [{ severity: 'warning', message: /^DETACH PARTITION d4_events_2024 takes ACCESS EXCLUSIVE on d4_events$/ }],
    },
    {
      name: 'before PostgreSQL 14 there is no CONCURRENTLY',
      pgVersion: 13,
      setup: events('d5_'),
      up: `await knex.raw('alter table d5_events detach partition d5_events_2024');`,
      down: `await knex.raw("alter table d5_events attach partition d5_events_2024 for values from ('2024-01-01') to ('2025-01-01')");`,
      errors: [{ severity: 'warning', message: /^DETACH PARTITION d5_events_2024 takes ACCESS EXCLUSIVE on d5_events$/ }],
    },
  ],
});
