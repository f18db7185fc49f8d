/**
 * Chains whose second migration's second up changes the probed table again (adds, fills, renames a
 * column) and whose third loses those values: verify must compare the third with the rows as that
 * up left them (test/verify/rows-after-reup.test.ts, test/cache/warm-rows-after-reup.test.ts).
 */
export const KNEXFILE = `module.exports = { client: 'pg', migrations: { directory: __dirname + '/migrations' } };\n`;
export const BASE = `
exports.up = (knex) => knex.schema.createTable('items', (t) => { t.increments('id'); t.text('name'); t.text('note'); });
exports.down = (knex) => knex.schema.dropTable('items');
`;
/**
 * Drops `column` in up; down adds it back empty: its values are lost. It also overwrites note (not
 * undone either), so the loss is not only in columns the migration before adds (those are noted,
 * not counted: rolling back both undoes them anyway).
 */
const dropLosing = (column: string) => `
exports.up = async (knex) => {
  await knex('items').update({ note: 'overwritten' });
  await knex.schema.alterTable('items', (t) => { t.dropColumn('${column}'); });
};
exports.down = (knex) => knex.schema.alterTable('items', (t) => { t.text('${column}'); });
`;

export const CHAINS: Record<string, Record<string, string>> = {
  'a column added with a default': {
    'migrations/20240102000000_add.js': `
exports.up = (knex) => knex.schema.alterTable('items', (t) => { t.text('label').notNullable().defaultTo('kept'); });
exports.down = (knex) => knex.schema.alterTable('items', (t) => { t.dropColumn('label'); });
`,
    'migrations/20240103000000_drop.js': dropLosing('label'),
  },
  'a column added, then backfilled': {
    'migrations/20240102000000_add.js': `
exports.up = async (knex) => {
  await knex.schema.alterTable('items', (t) => { t.text('label'); });
  await knex('items').update({ label: knex.raw("'b-' || id") });
};
exports.down = (knex) => knex.schema.alterTable('items', (t) => { t.dropColumn('label'); });
`,
    'migrations/20240103000000_drop.js': dropLosing('label'),
  },
  'a column renamed': {
    'migrations/20240102000000_rename.js': `
exports.up = (knex) => knex.schema.alterTable('items', (t) => { t.renameColumn('name', 'title'); });
exports.down = (knex) => knex.schema.alterTable('items', (t) => { t.renameColumn('title', 'name'); });
`,
    'migrations/20240103000000_drop.js': dropLosing('title'),
  },
  // Nothing dropped: the second up sets the values down changed; the next migration sets them again (no loss).
  'values set again by the second up': {
    'migrations/20240102000000_fill.js': `
exports.up = (knex) => knex('items').update({ name: 'filled' });
exports.down = (knex) => knex('items').update({ name: 'undone' });
`,
    'migrations/20240103000000_drop.js': `
exports.up = (knex) => knex('items').update({ name: 'filled' });
exports.down = () => {};
`,
  },
};

/** The columns whose values the last migration of each chain loses, sorted. */
export const LOST: Record<string, string[]> = {
  'a column added with a default': ['label', 'note'],
  'a column added, then backfilled': ['label', 'note'],
  'a column renamed': ['note', 'title'],
  'values set again by the second up': [],
};
