import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each fix is checked and verified (up, down, up) on a shadow: slow when the machine is loaded.
vi.setConfig({ testTimeout: 240_000 });

const tickets = `await knex.schema.createTable('el_tickets', (t) => {\n  t.increments('id');\n  t.enu('state', ['open', 'closed'], { useNative: true, enumName: 'el_ticket_state' }).notNullable().defaultTo('open');\n});`;

ruleTester(
  'knex-enum-type-leak',
  {
    valid: [
      {
        name: 'the seed enum example: down drops the column, then the type',
        setup: [`await knex.schema.createTable('el_orders', (t) => { t.increments('id'); });`],
        up: `await knex.raw(\`CREATE TYPE el_order_status AS ENUM ('pending', 'shipped', 'delivered', 'cancelled')\`);\nawait knex.schema.alterTable('el_orders', (table) => {\n  table.specificType('status', 'el_order_status').defaultTo('pending');\n});`,
        down: `await knex.schema.alterTable('el_orders', (table) => {\n  table.dropColumn('status');\n});\nawait knex.raw(\`DROP TYPE el_order_status\`);`,
      },
      {
        name: 'createTable with a native enum, down drops table and type',
        up: `await knex.schema.createTable('el_jobs', (t) => { t.increments('id'); t.enu('phase', ['a', 'b'], { useNative: true, enumName: 'el_job_phase' }); });`,
        down: `await knex.schema.dropTable('el_jobs');\nawait knex.raw('DROP TYPE IF EXISTS el_job_phase');`,
      },
      {
        name: 'dropping one of two tables that use the type',
        setup: [
          `await knex.raw("CREATE TYPE el_color AS ENUM ('red', 'blue')");\nawait knex.schema.createTable('el_cars', (t) => { t.increments('id'); t.specificType('color', 'el_color'); });\nawait knex.schema.createTable('el_bikes', (t) => { t.increments('id'); t.specificType('color', 'el_color'); });`,
        ],
        up: `await knex.schema.dropTable('el_bikes');`,
      },
      {
        name: 'a check-constraint enum (knex enu without useNative) has no type to leak',
        up: `await knex.schema.createTable('el_plain', (t) => { t.increments('id'); t.enu('kind', ['x', 'y']); });`,
        down: `await knex.schema.dropTable('el_plain');`,
      },
    ],
    invalid: [
      {
        name: 'up: dropTable leaves the native enum behind',
        setup: [tickets],
        up: `await knex.schema.dropTable('el_tickets');`,
        down: tickets,
        errors: [{ severity: 'warning', line: 2, message: 'Enum type el_ticket_state is left behind: table el_tickets is dropped' }],
      },
      {
        name: 'up: dropColumn of the last column using the type',
        setup: [`await knex.schema.createTable('el_users', (t) => { t.increments('id'); t.enu('role', ['admin', 'member'], { useNative: true, enumName: 'el_user_role' }); });`],
        up: `await knex.schema.alterTable('el_users', (t) => {\n  t.dropColumn('role');\n});`,
        down: `await knex.schema.alterTable('el_users', (t) => {\n  t.enu('role', ['admin', 'member'], { useNative: true, enumName: 'el_user_role' });\n});`,
        errors: [{ line: 2, message: 'Enum type el_user_role is left behind: column el_users.role is dropped' }],
      },
      {
        name: 'down: dropTable without DROP TYPE (read from the source)',
        up: `await knex.schema.createTable('el_invoices', (t) => {\n  t.increments('id');\n  t.enu('state', ['draft', 'sent'], { useNative: true, enumName: 'el_invoice_state' });\n});`,
        down: `await knex.schema.dropTable('el_invoices');`,
        errors: [{ severity: 'warning', line: 9, message: 'down drops what uses enum type el_invoice_state but not the type' }],
      },
      {
        name: 'down: dropColumn of a specificType enum column, type never dropped',
        setup: [`await knex.schema.createTable('el_shipments', (t) => { t.increments('id'); });`],
        up: `await knex.raw("CREATE TYPE el_ship_state AS ENUM ('packed', 'sent')");\nawait knex.schema.alterTable('el_shipments', (t) => {\n  t.specificType('state', 'el_ship_state');\n});`,
        down: `await knex.schema.alterTable('el_shipments', (t) => {\n  t.dropColumn('state');\n});`,
        errors: [{ line: 10, message: 'down drops what uses enum type el_ship_state' }],
      },
    ],
  },
  { fixDestroysData: true },
);
