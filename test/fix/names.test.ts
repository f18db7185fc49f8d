import { describe, expect, it } from 'vitest';
import { nameAtEnd, namesAfter, slugForPart } from '../../src/fix/names.js';

describe('names of the migrations fix adds', () => {
  it('timestamps one second apart, between the migration and the next one', () => {
    expect(namesAfter('20240105090000_rename.js', '20240106090000_next.js', ['backfill_users_full_name', 'drop_name_from_users'], new Set())).toEqual([
      '20240105090001_backfill_users_full_name.js',
      '20240105090002_drop_name_from_users.js',
    ]);
    // 23:59:59 rolls over to the next day, still before the next migration.
    expect(namesAfter('20240105235959_a.ts', '20240107000000_b.ts', ['x'], new Set())).toEqual(['20240106000000_x.ts']);
  });

  it('no room between two timestamps: the original name is extended, which sorts right after it', () => {
    const names = namesAfter('20240105090000_rename.js', '20240105090001_next.js', ['backfill', 'contract'], new Set());
    expect(names).toEqual(['20240105090000_rename_2_backfill.js', '20240105090000_rename_3_contract.js']);
    expect([...names, '20240105090000_rename.js', '20240105090001_next.js'].sort()).toEqual(['20240105090000_rename.js', ...names, '20240105090001_next.js']);
  });

  it('a migration for an applied one goes after the last', () => {
    expect(nameAtEnd('20990101000000_future.js', 'x', '.js', new Set(), new Date(Date.UTC(2026, 0, 1)))).toBe('20990101000001_x.js');
    expect(nameAtEnd('20240101000000_a.js', 'x', '.js', new Set(), new Date(Date.UTC(2026, 0, 1, 12)))).toBe('20260101120000_x.js');
  });

  it('named for what they do: a recipe step by what matters most, moved statements by the first', () => {
    const contract = `// 3. Contract — only after every deployed release reads and writes full_name: drop name.
exports.up = async function (knex) {
  await knex.raw('ALTER TABLE users ALTER COLUMN full_name SET NOT NULL');
  await knex.schema.alterTable('users', (table) => {
    table.dropColumn('name');
  });
};
exports.down = async function (knex) {
  await knex.raw('UPDATE users SET name = full_name');
};
`;
    expect(slugForPart(contract, '20240105090000_rename.js')).toBe('drop_name_from_users');
    const rest = `// The statements of 20240105090000_change.js after this change, as knex sent them.
exports.up = async function (knex) {
  await knex.raw('create index "links_user_id_index" on "links" ("user_id")');
  await knex.raw('alter table "links" drop column "old"');
};
`;
    expect(slugForPart(rest, '20240105090000_change.js')).toBe('create_index_links_user_id_index');
    expect(slugForPart('// CONCURRENTLY cannot run inside a transaction.\nexports.up = async function (knex) {};\n', '20240105090000_change_rest.js')).toBe('change_rest');
  });
});
