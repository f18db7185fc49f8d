import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { check, type CheckReport } from '../../src/check/run.js';
import { verify } from '../../src/verify/run.js';
import { ruleById } from '../../src/rules/registry.js';
import type { Finding } from '../../src/rules/types.js';

/**
 * Every example migration of the practice knexsafe automates (shared/seed/000_90c3e6b12c08326b.txt),
 * written as in the text, run through `check` where it would really run: after a migration that
 * created the tables it alters, with rows in them. Each gets the verdict a careful PostgreSQL
 * reviewer would give — by rule id, so the assertions hold however the messages are worded.
 */

const SETUP = `exports.up = async function (knex) {
  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('email');
    t.string('name');
    t.string('first_name');
    t.string('last_name');
  });
  await knex.schema.createTable('orders', (t) => {
    t.increments('id');
    t.integer('user_id');
  });
  await knex.schema.createTable('products', (t) => {
    t.increments('id');
    t.integer('price').notNullable();
  });
  await knex('users').insert([
    { email: 'ada@example.com', name: 'Ada', first_name: 'Ada', last_name: 'Lovelace' },
    { email: 'linus@example.com', name: 'Linus', first_name: 'Linus', last_name: 'Torvalds' },
  ]);
  await knex('orders').insert([{ user_id: 1 }, { user_id: 2 }]);
  await knex('products').insert([{ price: 10 }, { price: 25 }]);
};

exports.down = async function (knex) {
  await knex.schema.dropTable('products');
  await knex.schema.dropTable('orders');
  await knex.schema.dropTable('users');
};
`;

/** The seed's examples, in its order, under the names its naming table suggests. */
const EXAMPLES: Record<string, string> = {
  create_posts_and_add_post_count: `exports.up = async function(knex) {
await knex.transaction(async (trx) => {
await trx.schema.createTable('posts', (table) => {
table.increments('id').primary();
table.integer('user_id').unsigned().notNullable()
.references('id').inTable('users').onDelete('CASCADE');
table.string('title', 255).notNullable();
table.text('body');
table.timestamps(true, true);
});
await trx.schema.alterTable('users', (table) => {
table.integer('post_count').defaultTo(0);
});
});
};
exports.down = async function(knex) {
await knex.transaction(async (trx) => {
await trx.schema.alterTable('users', (table) => {
table.dropColumn('post_count');
});
await trx.schema.dropTableIfExists('posts');
});
};
`,
  add_phone_to_users: `exports.up = async function(knex) {
await knex.schema.alterTable('users', (table) => {
table.string('phone', 20).nullable();
});
};
exports.down = async function(knex) {
await knex.schema.alterTable('users', (table) => {
table.dropColumn('phone');
});
};
`,
  backfill_users_display_name: `exports.up = async function(knex) {
await knex.transaction(async (trx) => {
// 1. Add as nullable
await trx.schema.alterTable('users', (table) => {
table.string('display_name', 100).nullable();
});
// 2. Backfill existing rows
await trx.raw(\`UPDATE users SET display_name = first_name || ' ' || last_name\`);
// 3. Set NOT NULL constraint
await trx.raw(\`ALTER TABLE users ALTER COLUMN display_name SET NOT NULL\`);
});
};
exports.down = async function(knex) {
await knex.schema.alterTable('users', (table) => {
table.dropColumn('display_name');
});
};
`,
  rename_name_to_full_name_in_users: `exports.up = async function(knex) {
await knex.schema.alterTable('users', (table) => {
table.renameColumn('name', 'full_name');
});
};
exports.down = async function(knex) {
await knex.schema.alterTable('users', (table) => {
table.renameColumn('full_name', 'name');
});
};
`,
  change_price_to_decimal_in_products: `exports.up = async function(knex) {
await knex.schema.alterTable('products', (table) => {
table.decimal('price', 10, 2).alter();
});
};
exports.down = async function(knex) {
await knex.schema.alterTable('products', (table) => {
table.integer('price').alter();
});
};
`,
  add_index_on_users_email: `exports.up = async function(knex) {
await knex.schema.alterTable('users', (table) => {
table.index('email', 'idx_users_email');
});
};
exports.down = async function(knex) {
await knex.schema.alterTable('users', (table) => {
table.dropIndex('email', 'idx_users_email');
});
};
`,
  add_unique_email_to_users: `exports.up = async function(knex) {
await knex.schema.alterTable('users', (table) => {
table.unique('email');
});
};
exports.down = async function(knex) {
await knex.schema.alterTable('users', (table) => {
table.dropUnique('email');
});
};
`,
  add_status_to_orders: `exports.up = async function(knex) {
await knex.raw(\`CREATE TYPE order_status AS ENUM ('pending', 'shipped', 'delivered', 'cancelled')\`);
await knex.schema.alterTable('orders', (table) => {
table.specificType('status', 'order_status').defaultTo('pending');
});
};
exports.down = async function(knex) {
await knex.schema.alterTable('orders', (table) => {
table.dropColumn('status');
});
await knex.raw(\`DROP TYPE order_status\`);
};
`,
  add_index_on_orders_user_id: `exports.up = async function(knex) {
// Cannot run inside a transaction -- CONCURRENTLY prevents that
await knex.raw(\`CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_user_id ON orders (user_id)\`);
};
exports.down = async function(knex) {
await knex.raw(\`DROP INDEX IF EXISTS idx_orders_user_id\`);
};
exports.config = { transaction: false };
`,
};

const TS_POSTS = `import { Knex } from 'knex';
export async function up(knex: Knex): Promise<void> {
await knex.schema.createTable('posts', (table) => {
table.increments('id').primary();
table.string('title', 255).notNullable();
table.timestamps(true, true);
});
}
export async function down(knex: Knex): Promise<void> {
await knex.schema.dropTableIfExists('posts');
}
`;

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-seed-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'migrations', name), content);
  return dir;
}

const names = Object.keys(EXAMPLES).map((example, i) => `20240102${String(i + 1).padStart(6, '0')}_${example}.js`);
const fileOf = (example: string) => names[Object.keys(EXAMPLES).indexOf(example)]!;

interface Verdict {
  /** Rules that must report on the example. */
  reports: string[];
  /** Rules a careful reviewer would not raise here. */
  silent?: string[];
  /** The rule ids allowed to be errors (default: the error-severity ones of `reports`). */
  errors: string[];
}

const VERDICTS: Record<string, Verdict> = {
  // A foreign key from a new table needs no NOT VALID dance; post_count DEFAULT 0 is metadata-only on PG ≥ 11.
  create_posts_and_add_post_count: {
    reports: ['knex-unsigned-ignored'],
    silent: ['foreign-key-not-valid', 'add-column-volatile-default', 'add-column-not-null-no-default', 'table-rewrite', 'index-not-concurrent'],
    errors: [],
  },
  add_phone_to_users: { reports: [], silent: ['add-column-volatile-default', 'table-rewrite', 'down-missing'], errors: [] },
  // SET NOT NULL scans the table under ACCESS EXCLUSIVE; the backfill is one unbatched UPDATE in the same transaction.
  backfill_users_display_name: { reports: ['set-not-null-scan', 'unbatched-backfill'], errors: ['set-not-null-scan', 'unbatched-backfill'] },
  rename_name_to_full_name_in_users: { reports: ['rename-column'], errors: [] },
  // integer → numeric rewrites the table; knex's .alter() also silently drops NOT NULL from price.
  change_price_to_decimal_in_products: { reports: ['column-type-rewrite', 'knex-alter-drops-default'], errors: ['column-type-rewrite', 'table-rewrite', 'knex-alter-drops-default'] },
  add_index_on_users_email: { reports: ['index-not-concurrent'], errors: ['index-not-concurrent'] },
  add_unique_email_to_users: { reports: ['unique-constraint-locks'], silent: ['knex-drop-unique-on-index'], errors: ['unique-constraint-locks'] },
  // Its down drops the column and then the type: nothing leaks.
  add_status_to_orders: { reports: [], silent: ['knex-enum-type-leak', 'add-column-volatile-default', 'table-rewrite'], errors: [] },
  add_index_on_orders_user_id: { reports: [], silent: ['index-not-concurrent', 'concurrently-in-transaction'], errors: [] },
};

const registered = (id: string) => ruleById(id) !== undefined;

describe('the seed examples, checked as they would run', () => {
  let report: CheckReport;
  let tsReport: CheckReport;
  let chain: string;
  beforeAll(async () => {
    chain = project({ '20240101000000_create_tables.js': SETUP, ...Object.fromEntries(Object.entries(EXAMPLES).map(([e, content]) => [fileOf(e), content])) });
    const ts = project({ '20240101000000_create_tables.js': SETUP, '20240102000001_create_posts_table.ts': TS_POSTS });
    [report, tsReport] = await Promise.all([check({ cwd: chain, all: true }), check({ cwd: ts, all: true })]);
  }, 240_000);

  const findingsOf = (example: string): Finding[] => report.findings.filter((f) => f.migration === fileOf(example) && !f.suppressed);

  it('every example runs', () => {
    expect(report.migrations.map((m) => m.name)).toEqual(['20240101000000_create_tables.js', ...names]);
    expect(report.migrations.filter((m) => m.failed)).toEqual([]);
    expect(tsReport.migrations.filter((m) => m.failed)).toEqual([]);
  });

  for (const [example, verdict] of Object.entries(VERDICTS)) {
    describe(example, () => {
      for (const id of verdict.reports) {
        (registered(id) ? it : it.todo)(`reports ${id}`, () => {
          const ids = findingsOf(example).map((f) => f.rule);
          expect(
            ids,
            JSON.stringify(
              findingsOf(example).map((f) => `${f.rule}: ${f.message}`),
              null,
              1,
            ),
          ).toContain(id);
        });
      }
      for (const id of verdict.silent ?? []) {
        (registered(id) ? it : it.todo)(`does not report ${id}`, () => {
          expect(
            findingsOf(example)
              .filter((f) => f.rule === id)
              .map((f) => f.message),
          ).toEqual([]);
        });
      }
      it(verdict.errors.length ? `has no errors other than ${verdict.errors.join(', ')}` : 'has no errors', () => {
        const unexpected = findingsOf(example).filter((f) => f.severity === 'error' && !verdict.errors.includes(f.rule));
        expect(unexpected.map((f) => `${f.rule} (line ${f.line}): ${f.message}`)).toEqual([]);
      });
    });
  }

  it('the unsigned foreign key is reported as harmless (info) at the .unsigned() line', () => {
    const f = findingsOf('create_posts_and_add_post_count').find((x) => x.rule === 'knex-unsigned-ignored');
    expect(f).toMatchObject({ severity: 'info', line: 5, message: '.unsigned() on posts.user_id does nothing on PostgreSQL' });
  });

  it('the rename is reported at the renameColumn() line, with an expand/contract fix in three migrations', () => {
    const f = findingsOf('rename_name_to_full_name_in_users').find((x) => x.rule === 'rename-column');
    expect(f).toMatchObject({ severity: 'warning', line: 3, message: 'Column users.name is renamed to full_name' });
    expect(f?.fix?.code.split('// ---- next migration ----')).toHaveLength(3);
  });

  it('the decimal .alter() loses NOT NULL, and the fix keeps it in up and down', () => {
    const f = findingsOf('change_price_to_decimal_in_products').find((x) => x.rule === 'knex-alter-drops-default');
    expect(f).toMatchObject({ severity: 'error', line: 3, message: '.alter() on products.price drops its NOT NULL' });
    expect(f?.fix?.code).toContain(`table.decimal('price', 10, 2).alter({ alterNullable: false });`);
    expect(f?.fix?.code).toContain(`table.integer('price').alter({ alterNullable: false });`);
  });

  it('the TypeScript posts table has no errors and no knex-specific findings', () => {
    const own = tsReport.findings.filter((f) => f.migration === '20240102000001_create_posts_table.ts');
    expect(own.filter((f) => f.severity === 'error').map((f) => f.rule)).toEqual([]);
    expect(own.filter((f) => f.rule.startsWith('knex-') || f.rule === 'down-missing').map((f) => f.rule)).toEqual([]);
  });

  it('verify proves the enum example reversible (its down drops the type)', async () => {
    const result = await verify({ cwd: chain, names: [fileOf('add_status_to_orders')] });
    expect(result.verdicts.flatMap((v) => v.findings.map((f) => `${f.rule}: ${f.message}`))).toEqual([]);
  }, 240_000);
});
