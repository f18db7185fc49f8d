import { vi } from 'vitest';
import { ruleTester } from '../helpers/rule-tester.js';

// Each case's fix runs through check and verify on a shadow: minutes, not seconds, on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

ruleTester('check-not-valid', {
  valid: [
    { name: 'check on a table created in the same migration', up: `await knex.schema.createTable('ck_fresh', (t) => { t.increments('id'); t.integer('n').checkPositive(); });` },
    {
      name: 'raw CHECK … NOT VALID',
      setup: [`await knex.schema.createTable('ck_a', (t) => { t.increments('id'); t.integer('n'); });`],
      up: `await knex.raw('ALTER TABLE ck_a ADD CONSTRAINT ck_a_n_check CHECK (n > 0) NOT VALID');`,
    },
    { name: 'SQL file: NOT VALID', ext: 'sql', file: 'ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0) NOT VALID;' },
  ],
  invalid: [
    {
      name: 'knex table.check() on an existing table',
      setup: [`await knex.schema.createTable('ck_users', (t) => { t.increments('id'); t.integer('score'); });\nawait knex('ck_users').insert([{ score: 1 }, { score: 5 }]);`],
      up: `await knex.schema.alterTable('ck_users', (t) => {\n  t.check('score >= 0', [], 'ck_users_score_check');\n});`,
      down: `await knex.schema.alterTable('ck_users', (t) => t.dropChecks('ck_users_score_check'));`,
      errors: [{ severity: 'error', line: 2, message: 'CHECK constraint ck_users_score_check on ck_users is added without NOT VALID' }],
    },
    {
      name: 'knex checkPositive() on a column added to an existing table (PostgreSQL names it)',
      setup: [`await knex.schema.createTable('ck_items', (t) => { t.increments('id'); });`],
      up: `await knex.schema.alterTable('ck_items', (t) => {\n  t.integer('qty').checkPositive();\n});`,
      errors: [{ severity: 'error', line: 2, message: 'CHECK constraint ck_items_qty_check on ck_items' }],
    },
    {
      name: 'raw ADD CONSTRAINT … CHECK',
      setup: [
        `await knex.schema.createTable('ck_prices', (t) => { t.increments('id'); t.decimal('amount'); t.string('currency', 3); });\nawait knex('ck_prices').insert({ amount: 10, currency: 'EUR' });`,
      ],
      up: `\nawait knex.raw("ALTER TABLE ck_prices ADD CONSTRAINT ck_prices_currency CHECK (currency IN ('EUR', 'USD') AND amount >= 0)");`,
      errors: [{ severity: 'error', line: 3, message: 'CHECK constraint ck_prices_currency on ck_prices' }],
    },
    {
      name: 'SQL file: ADD CHECK',
      ext: 'sql',
      file: 'ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0);\n',
      errors: [{ severity: 'error', line: 1, message: 'CHECK constraint users_age_check on users' }],
    },
  ],
});
