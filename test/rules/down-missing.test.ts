import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

ruleTester(
  'down-missing',
  {
    valid: [
      {
        name: 'down undoes up',
        setup: [`await knex.schema.createTable('dm_users', (t) => { t.increments('id'); });`],
        up: `await knex.schema.alterTable('dm_users', (t) => { t.string('phone', 20).nullable(); });`,
        down: `await knex.schema.alterTable('dm_users', (t) => { t.dropColumn('phone'); });`,
      },
      {
        name: 'data-only migration with an empty down',
        setup: [`await knex.schema.createTable('dm_flags', (t) => { t.increments('id'); t.boolean('on'); });`],
        up: `await knex('dm_flags').insert({ on: true });`,
      },
      {
        name: 'no down, but up changes nothing in the schema',
        file: `exports.up = async function (knex) {\n  await knex.raw('SELECT 1');\n};\n\nexports.down = async function () {};\n`,
      },
    ],
    invalid: [
      {
        name: 'suppressed with a reason',
        file: `// knexsafe-ignore down-missing: one-way migration, restore from backup\nexports.up = async function (knex) {\n  await knex.schema.createTable('dm_oneway', (t) => { t.increments('id'); });\n};\n\nexports.down = async function () {};\n`,
        errors: [{ suppressed: true }],
      },
      {
        // A module with no down at all is refused by knex itself (test/e2e/knex-listing.test.ts).
        name: 'empty down (CommonJS)',
        setup: [`await knex.schema.createTable('dm_orders', (t) => { t.increments('id'); t.string('ref', 10).notNullable().defaultTo('none'); });\nawait knex('dm_orders').insert([{ ref: 'a1' }]);`],
        file: `exports.up = async function (knex) {\n  await knex.schema.createTable('dm_order_notes', (t) => {\n    t.increments('id');\n    t.integer('order_id').references('id').inTable('dm_orders').index();\n    t.text('body');\n  });\n  await knex.schema.alterTable('dm_orders', (t) => {\n    t.string('currency', 3).notNullable().defaultTo('EUR');\n  });\n  await knex.schema.alterTable('dm_orders', (t) => {\n    t.string('ref', 40).defaultTo('n/a').alter({ alterNullable: false });\n  });\n};\n\nexports.down = async function () {};\n`,
        errors: [{ severity: 'warning', message: /^down is empty, but up changes the schema \(/ }],
      },
      {
        name: 'empty down (knex make stub left as is)',
        setup: [`await knex.schema.createTable('dm_products', (t) => { t.increments('id'); t.text('name'); });`],
        up: `await knex.raw("CREATE TYPE dm_size AS ENUM ('s', 'm', 'l')");\nawait knex.schema.alterTable('dm_products', (t) => { t.specificType('size', 'dm_size'); t.dropColumn('name'); });\nawait knex.raw('COMMENT ON TABLE dm_products IS $$catalog$$');`,
        errors: [{ severity: 'warning', message: /^down is empty, but up changes the schema/ }],
      },
      {
        name: 'down that only resolves',
        file: `exports.up = function (knex) {\n  return knex.schema.createTable('dm_tags', (t) => { t.increments('id'); t.text('label').unique(); });\n};\n\nexports.down = () => Promise.resolve();\n`,
        errors: [{ message: /^down is empty/ }],
      },
      {
        name: 'module.exports object with an empty down method',
        file: `module.exports = {\n  async up(knex) {\n    await knex.raw('CREATE TABLE dm_events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');\n  },\n  async down() {},\n};\n`,
        errors: [{ message: /^down is empty/ }],
      },
      {
        name: 'TypeScript migration with an empty down',
        ext: 'ts',
        file: `import type { Knex } from 'knex';\n\nexport async function up(knex: Knex): Promise<void> {\n  await knex.schema.createTable('dm_ts', (t) => {\n    t.increments('id');\n  });\n}\n\nexport async function down(): Promise<void> {}\n`,
        errors: [{ message: /^down is empty/ }],
      },
    ],
    // One case's up drops a column: the generated down re-creates it, not its values (verify's down-destroys-data).
  },
  { fixDestroysData: true },
);
