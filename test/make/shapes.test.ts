import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MakeResult } from '../../src/make/run.js';
import { makeProject, REPO_ROOT } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';
import { expectCheckedAndReversible, makeAll, type MakeSpec } from './roundtrip.js';

/**
 * Every shape of the grammar (backfill included), generated as TypeScript into a project with an
 * existing schema whose names contain underscores; then check, verify and tsc on the result.
 */
const BASE = `import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(\`CREATE TYPE order_status AS ENUM ('pending', 'shipped')\`);
  await knex.schema.createTable('accounts', (t) => {
    t.integer('id').primary();
    t.text('name');
  });
  await knex.schema.createTable('invoices', (t) => {
    t.increments('id');
    t.integer('account_id');
    t.string('status_code', 20);
    t.string('notes', 255).comment('free text');
    t.bigInteger('amount_cents');
    t.date('created_on');
  });
  await knex.schema.createTable('shipments', (t) => {
    t.increments('id');
    t.specificType('state', 'order_status').defaultTo('pending');
    t.string('tracking_code', 40).notNullable();
  });
  await knex.schema.createTable('audit_log_entries', (t) => {
    t.bigIncrements('id');
    t.integer('actor_id');
    t.timestamp('happened_at', { useTz: false });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log_entries');
  await knex.schema.dropTable('shipments');
  await knex.schema.dropTable('invoices');
  await knex.schema.dropTable('accounts');
  await knex.raw('DROP TYPE order_status');
}
`;

const SHAPES: MakeSpec[] = [
  'create_tags_table',
  'create_teams_and_team_members_tables',
  'add_first_name_and_is_active_to_audit_log_entries',
  'drop_notes_from_invoices',
  'add_index_on_audit_log_entries_actor_id_and_happened_at',
  'add_unique_on_invoices_status_code',
  'rename_tracking_code_to_tracking_number_in_shipments',
  'change_status_code_to_text_in_invoices',
  'change_happened_at_to_timestamptz_in_audit_log_entries',
  'set_account_id_not_null_in_invoices',
  'add_foreign_key_on_invoices_account_id',
  { name: 'create_priority_enum', values: ['low', 'high'] },
  { name: 'add_kind_enum_to_shipments', values: ['parcel', 'letter'] },
  'add_delivered_to_order_status_enum',
  'set_tracking_number_nullable_in_shipments',
  { name: 'backfill_audit_log_entries_first_name', set: "'unknown'" },
  'rename_accounts_table_to_customers',
];

let dir: string;
let made: Map<string, MakeResult>;
const result = (name: string) => made.get(name)!;

beforeAll(async () => {
  dir = makeProject({
    'knexfile.ts': `export default { client: 'pg', migrations: { directory: './migrations' } };\n`,
    'migrations/20240101000000_base.ts': BASE,
  });
  made = await makeAll(dir, SHAPES);
}, 1_800_000);

describe('make: every shape, as TypeScript', () => {
  it('writes TypeScript typed with Knex, in the project’s style', () => {
    for (const r of made.values()) {
      expect(r.extension).toBe('ts');
      for (const f of r.files) {
        expect(f.content).toMatch(/^import type \{ Knex \} from 'knex';/);
        expect(f.content).toContain('export async function up(knex: Knex): Promise<void> {');
        expect(f.content).toContain('export async function down(knex: Knex): Promise<void> {');
      }
    }
  });

  it('understood each name against the schema', () => {
    expect(result('create_teams_and_team_members_tables').intent).toMatchObject({ kind: 'create-table', tables: ['teams', 'team_members'] });
    expect(result('add_first_name_and_is_active_to_audit_log_entries').intent).toMatchObject({
      kind: 'add-columns',
      table: 'audit_log_entries',
      columns: [
        { name: 'first_name', type: 'text' },
        { name: 'is_active', type: 'boolean' },
      ],
    });
    expect(result('add_index_on_audit_log_entries_actor_id_and_happened_at').intent).toMatchObject({ table: 'audit_log_entries', columns: ['actor_id', 'happened_at'] });
    expect(result('add_unique_on_invoices_status_code').paths).toHaveLength(2);
    expect(result('change_status_code_to_text_in_invoices').intent).toMatchObject({ from: 'character varying(20)', to: 'text', rewrites: false });
    expect(result('change_status_code_to_text_in_invoices').paths).toHaveLength(1);
    expect(result('change_happened_at_to_timestamptz_in_audit_log_entries').intent).toMatchObject({ rewrites: true, pattern: 'expand-contract' });
    expect(result('change_happened_at_to_timestamptz_in_audit_log_entries').paths.map((p) => path.basename(p).replace(/^\d{14}_change_happened_at_to_timestamptz_in_audit_log_entries/, ''))).toEqual([
      '.ts',
      '_backfill.ts',
      '_indexes.ts',
      '_swap.ts',
    ]);
    expect(result('set_account_id_not_null_in_invoices').paths).toHaveLength(2);
    expect(result('add_foreign_key_on_invoices_account_id').intent).toMatchObject({ references: { table: 'accounts', columns: ['id'] }, constraint: 'invoices_account_id_foreign' });
    expect(result('add_kind_enum_to_shipments').intent).toMatchObject({ type: 'shipment_kind', values: ['parcel', 'letter'] });
    expect(result('add_delivered_to_order_status_enum').intent).toMatchObject({ kind: 'add-enum-value', values: ['pending', 'shipped', 'delivered'] });
    expect(result('rename_accounts_table_to_customers').intent).toEqual(expect.objectContaining({ kind: 'rename-table', from: 'accounts', to: 'customers' }));
  });

  it('keeps what .alter() and DROP COLUMN would lose', () => {
    const drop = result('drop_notes_from_invoices').content;
    expect(drop).toContain("table.string('notes', 255).comment('free text');");
    const change = result('change_status_code_to_text_in_invoices').content;
    expect(change).toContain("table.string('status_code', 20).alter({ alterNullable: false });");
  });

  it('the generated TypeScript type-checks against knex’s types', async () => {
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noUncheckedIndexedAccess: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true, types: [] },
        include: ['migrations/*.ts'],
      }),
    );
    if (!fs.existsSync(path.join(dir, 'node_modules'))) fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const tsc = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    const run = await promisify(execFile)(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    expect(run.out).toBe('');
    expect(run.code).toBe(0);
  }, 120_000);
});

describe('make: every shape passes check and verify on the embedded shadow', () => {
  it('check reports no error, verify proves every migration reversible', async () => {
    await expectCheckedAndReversible(dir, undefined);
  }, 900_000);
});

describeServer('make: every shape passes check and verify on the server shadow', () => {
  it('check reports no error, verify proves every migration reversible', async () => {
    await expectCheckedAndReversible(dir, SERVER_URL);
  }, 900_000);
});
