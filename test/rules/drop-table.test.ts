import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

ruleTester(
  'drop-table',
  {
    valid: [
      {
        name: 'drop a table created in the same migration',
        up: `await knex.schema.createTable('dt_scratch', (t) => { t.increments('id'); });\nawait knex.schema.dropTable('dt_scratch');`,
      },
      { name: 'dropTableIfExists of a table that does not exist', up: `await knex.schema.dropTableIfExists('dt_never_created');` },
      {
        name: 'drop a view',
        setup: [`await knex.schema.createTable('dt_base', (t) => { t.increments('id'); });\nawait knex.raw('CREATE VIEW dt_base_view AS SELECT id FROM dt_base');`],
        up: `await knex.raw('DROP VIEW dt_base_view');`,
      },
    ],
    invalid: [
      {
        name: 'knex dropTable on an existing table with data',
        setup: [
          `await knex.schema.createTable('dt_orders', (t) => {\n  t.bigIncrements('id');\n  t.string('status', 20).notNullable().defaultTo('new').index();\n  t.enu('kind', ['retail', 'b2b'], { useNative: true, enumName: 'dt_order_kind' });\n  t.timestamps(true, true);\n});\nawait knex('dt_orders').insert([{ status: 'paid', kind: 'retail' }, { status: 'new', kind: 'b2b' }]);`,
        ],
        up: `await knex.schema.dropTable('dt_orders');\nawait knex.raw('DROP TYPE dt_order_kind');`,
        errors: [{ severity: 'warning', line: 2, message: 'Table dt_orders is dropped' }],
      },
      {
        name: 'dropTableIfExists of an existing table referenced by nothing',
        setup: [
          `await knex.schema.createTable('dt_legacy', (t) => { t.increments('id'); t.text('payload'); t.unique(['payload']); });\nawait knex.raw("COMMENT ON TABLE dt_legacy IS 'old import buffer'");`,
        ],
        up: `await knex.schema.dropTableIfExists('dt_legacy');`,
        errors: [{ severity: 'warning', line: 2, message: 'Table dt_legacy is dropped' }],
      },
      {
        name: 'raw DROP TABLE … CASCADE',
        setup: [`await knex.schema.createTable('dt_raw', (t) => { t.increments('id'); });`],
        up: `await knex.raw('DROP TABLE dt_raw CASCADE');`,
        errors: [{ line: 2, message: 'Table dt_raw is dropped with CASCADE' }],
      },
      { name: 'SQL file', ext: 'sql', file: 'DROP TABLE IF EXISTS audit_log;', errors: [{ line: 1, message: 'Table audit_log is dropped' }] },
    ],
  },
  { fixDestroysData: true },
);
