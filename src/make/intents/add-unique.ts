import { ident, jsString as js } from '../../codegen/index.js';
import { indent, raw, usage, type PlannedFile, type Writer } from './writer.js';
import { indexName, columnList, jsList } from './index-naming.js';

// make add_unique_on_<table>_<columns>: a unique index built CONCURRENTLY, then the constraint on it.

export function addUnique(w: Writer, tableName: string, columns: string[]): PlannedFile[] {
  const table = w.table(tableName);
  const key = columns.join(',');
  const existing = Object.values(table.constraints).find((c) => (c.kind === 'unique' || c.kind === 'primary') && c.columns.join(',') === key);
  if (existing) throw usage(`${table.name} (${columns.join(', ')}) is already unique: ${existing.name}.`, 'Nothing to add.');
  const name = indexName(w, table.name, columns, 'unique');
  w.details.constraint = name;
  const t = ident(table.name);
  const create = `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(name)} ON ${t} (${columnList(columns)})`;
  if (w.simple) {
    return [
      {
        suffix: '',
        role: 'add the unique constraint',
        body: {
          header: [`// A plain unique constraint builds its index while blocking writes to ${table.name}: fine for a small table.`],
          up: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.unique(${jsList(columns)}, { indexName: ${js(name)} });`]), `});`],
          down: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.dropUnique(${jsList(columns)}, ${js(name)});`]), `});`],
        },
      },
    ];
  }
  return [
    {
      suffix: '',
      role: 'build the unique index concurrently',
      body: {
        header: [
          `// Unique constraint, step 1 of 2: build its index with CREATE UNIQUE INDEX CONCURRENTLY, which does not block`,
          `// writes. It cannot run inside a transaction, so this migration opts out of knex's. It fails if duplicates exist`,
          `// (and then leaves an INVALID index: DROP INDEX CONCURRENTLY ${name} before running it again).`,
        ],
        up: [raw('knex', create)],
        down: [raw('knex', `DROP INDEX CONCURRENTLY IF EXISTS ${ident(name)}`)],
        transaction: false,
      },
    },
    {
      suffix: '_constraint',
      role: 'attach the constraint USING INDEX',
      body: {
        header: [
          `// Unique constraint, step 2 of 2: adopt the index built by step 1. Instant: no scan, only a brief lock.`,
          `// down: dropping the constraint drops its index, so down builds the index again (concurrently) for step 1.`,
        ],
        up: w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} ADD CONSTRAINT ${ident(name)} UNIQUE USING INDEX ${ident(name)}`)]),
        down: [...w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(name)}`)], false), raw('knex', create)],
        transaction: false,
      },
    },
  ];
}
