import pg from 'pg';
import { expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { describeServer, sqlOn, tempDatabases } from '../helpers/pg.js';

/**
 * Every SQLSTATE of the seed's troubleshooting table, triggered through `knexsafe latest` on the
 * server: the error names the SQLSTATE, the file and the line of the knex call, the statement, the
 * cause (in the seed's words where it has them) and the exact fix.
 */

interface FailureJson {
  error: {
    code: string;
    message: string;
    hint?: string;
    details: { sqlState: string; condition: string; file: string; line?: number; code?: string; statement?: string; cause: string; fix: string; migration: string };
  };
}

interface Case {
  sqlState: string;
  condition: string;
  setup?: string[];
  files: Record<string, string>;
  /** The failing migration file and the line of the knex call that sent the failing statement. */
  file: string;
  line: number;
  cause: RegExp;
  fix: RegExp;
  /** Runs while the command runs (another session holding a lock, …); returns its cleanup. */
  during?: (url: string) => Promise<() => Promise<void>>;
  /** CLI arguments run first (e.g. to apply the migration before a rollback). */
  prepare?: string[];
  /** The failing command; default `latest --no-check` (no check on a shadow: the setup tables exist only on the target). */
  command?: string[];
  direction?: 'up' | 'down';
}

/** Another session reading `table` in an open transaction: ALTER TABLE must wait for it. */
function holdAccessShare(table: string): (url: string) => Promise<() => Promise<void>> {
  return async (url) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('begin');
    await client.query(`select count(*) from ${table}`);
    return async () => {
      await client.query('rollback');
      await client.end();
    };
  };
}

const down = `exports.down = async () => {};\n`;

const CASES: Case[] = [
  {
    sqlState: '42701',
    condition: 'duplicate_column',
    setup: ['create table users (id serial primary key, email text)'],
    files: {
      'migrations/20240201000000_add_email_to_users.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('users', (table) => {
    table.string('email', 255);
  });
};
${down}`,
    },
    file: 'migrations/20240201000000_add_email_to_users.js',
    line: 3,
    cause: /Migration ran partially: column email is already on users/,
    fix: /ALTER TABLE users DROP COLUMN email;.*hasColumn\('users', 'email'\)/s,
  },
  {
    sqlState: '42P07',
    condition: 'duplicate_table',
    setup: ['create table posts (id serial primary key)'],
    files: {
      'migrations/20240201000000_create_posts_table.js': `exports.up = async (knex) => {
  await knex.schema.createTable('posts', (table) => {
    table.increments('id').primary();
    table.string('title', 255).notNullable();
  });
};
${down}`,
    },
    file: 'migrations/20240201000000_create_posts_table.js',
    line: 2,
    cause: /Migration ran partially: posts .*already exists/,
    fix: /DROP TABLE posts;.*hasTable\('posts'\)/s,
  },
  {
    sqlState: '42P01',
    condition: 'undefined_table',
    files: {
      'migrations/20240201000000_add_total_to_orders.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('orders', (table) => {
    table.decimal('total', 10, 2);
  });
};
${down}`,
      'migrations/20240202000000_create_orders_table.js': `exports.up = async (knex) => {
  await knex.schema.createTable('orders', (table) => {
    table.increments('id');
  });
};
${down}`,
    },
    file: 'migrations/20240201000000_add_total_to_orders.js',
    line: 2,
    cause: /Table not created yet \/ wrong order: orders does not exist/,
    fix: /earlier timestamp runs first.*20240202000000_create_orders_table\.js, which sorts after 20240201000000_add_total_to_orders\.js/s,
  },
  {
    sqlState: '42703',
    condition: 'undefined_column',
    setup: ['create table users (id serial primary key, full_name text)'],
    files: {
      'migrations/20240201000000_rename_name_to_display_name_in_users.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('users', (table) => {
    table.renameColumn('name', 'display_name');
  });
};
${down}`,
    },
    file: 'migrations/20240201000000_rename_name_to_display_name_in_users.js',
    line: 3,
    cause: /Column name of users does not exist/,
    fix: /\\d users/,
  },
  {
    // `latest` is guarded (src/guard): it retries lock timeouts and explains them itself (see the
    // test below); `rollback` is not, so the lock timeout of a down function shows this explanation.
    sqlState: '55P03',
    condition: 'lock_not_available',
    setup: ['create table accounts (id serial primary key, note text)'],
    files: {
      'migrations/20240201000000_add_note_to_accounts.js': `exports.up = async () => {};
exports.down = async (knex) => {
  await knex.raw("set local lock_timeout = '300ms'");
  await knex.schema.alterTable('accounts', (table) => {
    table.dropColumn('note');
  });
};
`,
    },
    prepare: ['latest', '--no-check'],
    command: ['rollback'],
    direction: 'down',
    file: 'migrations/20240201000000_add_note_to_accounts.js',
    line: 5,
    cause: /ALTER TABLE locks large table: the statement waited longer than lock_timeout/,
    fix: /Use batched updates and concurrent indexes.*pg_blocking_pids/s,
    during: holdAccessShare('accounts'),
  },
  {
    sqlState: '57014',
    condition: 'query_canceled',
    setup: ['create table events (id serial primary key, processed boolean)'],
    files: {
      'migrations/20240201000000_backfill_events_processed.js': `exports.up = async (knex) => {
  await knex.raw("set local statement_timeout = '200ms'");
  await knex.raw('select pg_sleep(3)');
};
${down}`,
    },
    file: 'migrations/20240201000000_backfill_events_processed.js',
    line: 3,
    cause: /ran longer than statement_timeout/,
    fix: /Use batched updates and concurrent indexes.*SET LOCAL statement_timeout/s,
  },
  {
    sqlState: '25001',
    condition: 'active_sql_transaction',
    setup: ['create table users (id serial primary key, email text)'],
    files: {
      'migrations/20240201000000_add_index_on_users_email.js': `// An index on a big table, built without blocking writes.
exports.up = async (knex) => {
  await knex.raw('CREATE INDEX CONCURRENTLY idx_users_email ON users (email)');
};
${down}`,
    },
    file: 'migrations/20240201000000_add_index_on_users_email.js',
    line: 3,
    cause: /cannot run inside a transaction/,
    fix: /exports\.config = \{ transaction: false \};` at the bottom of the file/,
  },
  {
    sqlState: '23502',
    condition: 'not_null_violation',
    setup: ['create table users (id serial primary key, nickname varchar(255))', "insert into users (nickname) values ('a'), (null)"],
    files: {
      'migrations/20240201000000_make_nickname_required_in_users.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('users', (table) => {
    table.string('nickname', 255).notNullable().alter();
  });
};
${down}`,
    },
    file: 'migrations/20240201000000_make_nickname_required_in_users.js',
    line: 3,
    cause: /Cannot add NOT NULL without a default or backfill: column nickname of users/,
    fix: /three-step approach.*UPDATE users SET nickname = … WHERE nickname IS NULL/s,
  },
  {
    sqlState: '23505',
    condition: 'unique_violation',
    setup: ['create table users (id serial primary key, email text)', "insert into users (email) values ('a@example.com'), ('a@example.com')"],
    files: {
      'migrations/20240201000000_add_unique_email_to_users.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('users', (table) => {
    table.unique(['email']);
  });
};
${down}`,
    },
    file: 'migrations/20240201000000_add_unique_email_to_users.js',
    line: 3,
    cause: /Rows of users already share a value of \(email\)/,
    fix: /SELECT email, count\(\*\) FROM users GROUP BY email HAVING count\(\*\) > 1/,
  },
  {
    sqlState: '42804',
    condition: 'datatype_mismatch',
    setup: ['create table products (id serial primary key, price text)'],
    files: {
      'migrations/20240201000000_change_price_to_integer_in_products.js': `exports.up = async (knex) => {
  await knex.raw('ALTER TABLE products ALTER COLUMN price TYPE integer');
};
${down}`,
    },
    file: 'migrations/20240201000000_change_price_to_integer_in_products.js',
    line: 2,
    cause: /unsupported PG type change: PostgreSQL cannot convert price of products/,
    fix: /Use knex\.raw\('ALTER TABLE \.\.\.'\) instead.*USING price::<new type>/s,
  },
  {
    sqlState: '42804',
    condition: 'datatype_mismatch',
    setup: ['create table users (id serial primary key)'],
    files: {
      'migrations/20240201000000_create_orders_table.js': `exports.up = async (knex) => {
  await knex.schema.createTable('orders', (table) => {
    table.increments('id');
    table.uuid('user_id').references('id').inTable('users');
  });
};
${down}`,
    },
    file: 'migrations/20240201000000_create_orders_table.js',
    line: 4,
    cause: /foreign key joins columns of different types.*uuid and integer/,
    fix: /referenced column's type/,
  },
  {
    sqlState: '2BP01',
    condition: 'dependent_objects_still_exist',
    setup: ['create table users (id serial primary key, active boolean)', 'create view active_users as select * from users where active'],
    files: {
      'migrations/20240201000000_drop_users_table.js': `exports.up = async (knex) => {
  await knex.schema.dropTable('users');
};
${down}`,
    },
    file: 'migrations/20240201000000_drop_users_table.js',
    line: 2,
    cause: /Other objects .*depend on.*view active_users depends on table users/s,
    fix: /Drop or change the dependent objects first.*avoid CASCADE/s,
  },
  {
    sqlState: '0A000',
    condition: 'feature_not_supported',
    setup: ['create table products (id serial primary key, price integer)', 'create view cheap_products as select id, price from products where price < 10'],
    files: {
      'migrations/20240201000000_change_price_to_bigint_in_products.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('products', (table) => {
    table.bigInteger('price').alter();
  });
};
${down}`,
    },
    file: 'migrations/20240201000000_change_price_to_bigint_in_products.js',
    line: 3,
    cause: /cannot alter type of a column used by a view or rule/,
    fix: /drop the view that uses the column, alter the column, re-create the view/,
  },
];

describeServer('failure explanations by SQLSTATE, through knexsafe latest', () => {
  const newDatabase = tempDatabases('ks_explain');

  it.each(CASES.map((c) => [`${c.sqlState} ${c.condition} (${Object.keys(c.files).pop()})`, c] as const))('%s', async (_label, c) => {
    const db = await newDatabase();
    for (const sql of c.setup ?? []) await sqlOn(db.url, sql);
    const dir = makeProject(c.files);
    const command = c.command ?? ['latest', '--no-check'];
    if (c.prepare) expect((await runCli([...c.prepare, '--cwd', dir, '--connection', db.url])).code).toBe(0);
    const release = c.during ? await c.during(db.url) : undefined;
    let json;
    try {
      json = await runCli([...command, '--json', '--cwd', dir, '--connection', db.url]);
    } finally {
      await release?.();
    }
    expect(json.code, json.stdout + json.stderr).toBe(1);
    const { error } = parseJson<FailureJson>(json.stdout);
    expect(error.code).toBe('MIGRATION_FAILED');
    expect(error.details).toMatchObject({ sqlState: c.sqlState, condition: c.condition, file: c.file, line: c.line });
    expect(error.details.statement).toBeTruthy();
    expect(error.details.cause).toMatch(c.cause);
    expect(error.details.fix).toMatch(c.fix);
    expect(error.message).toContain(`failed at ${c.file}:${c.line} with SQLSTATE ${c.sqlState} (${c.condition})`);
    expect(error.hint).toBe(`Fix: ${error.details.fix}`);

    // The same explanation as people read it: one paragraph, then the fix; no stack.
    const release2 = c.during ? await c.during(db.url) : undefined;
    let text;
    try {
      text = await runCli([...command, '--cwd', dir, '--connection', db.url]);
    } finally {
      await release2?.();
    }
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(new RegExp(`error Migration \\S+ \\(${c.direction ?? 'up'}\\) failed at ${c.file.replace(/\./g, '\\.')}:${c.line} with SQLSTATE ${c.sqlState}`));
    expect(text.stderr).toMatch(/Statement: .*Cause: /s);
    expect(text.stderr).toMatch(/\nhint {2}Fix: /);
    expect(text.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
  });

  it('55P03 through latest: the guarded run retries, then names the migration and the lock wait', async () => {
    const db = await newDatabase();
    await sqlOn(db.url, 'create table accounts (id serial primary key)');
    const dir = makeProject({
      'migrations/20240201000000_add_note_to_accounts.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('accounts', (table) => {
    table.text('note');
  });
};
${down}`,
    });
    const release = await holdAccessShare('accounts')(db.url);
    let result;
    try {
      result = await runCli(['latest', '--no-check', '--retries', '0', '--lock-timeout', '300ms', '--json', '--cwd', dir, '--connection', db.url]);
    } finally {
      await release();
    }
    expect(result.code).toBe(1);
    const { error } = parseJson<{ error: { code: string; message: string; hint: string; details: { attempts: { sqlState: string }[] } } }>(result.stdout);
    expect(error.code).toBe('LOCK_TIMEOUT');
    expect(error.message).toMatch(/migration 20240201000000_add_note_to_accounts\.js could not get a lock within lock_timeout/);
    expect(error.details.attempts[0]!.sqlState).toBe('55P03');
    expect(error.hint).toMatch(/pg_terminate_backend/);
  });
});
