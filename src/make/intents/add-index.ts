import { ident, jsString as js } from '../../codegen/index.js';
import { indent, raw, type PlannedFile, type Writer } from './writer.js';
import { indexName, columnList, jsList } from './index-naming.js';

// make add_index_on_<table>_<columns>: an index built CONCURRENTLY.

export function addIndex(w: Writer, tableName: string, columns: string[]): PlannedFile[] {
  const table = w.table(tableName);
  const same = w.schema.indexesOf(table).find((i) => i.columns.join(',') === columns.join(',') && i.predicate === null);
  if (same) w.warnings.push(`${table.name} already has the index ${same.name} on (${columns.join(', ')}).`);
  const name = indexName(w, table.name, columns, 'index');
  w.details.index = name;
  if (w.simple) {
    return [
      {
        suffix: '',
        role: 'create the index',
        body: {
          header: [`// A plain CREATE INDEX blocks writes to ${table.name} while it builds: fine for a small table.`],
          up: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.index(${jsList(columns)}, ${js(name)});`]), `});`],
          down: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.dropIndex(${jsList(columns)}, ${js(name)});`]), `});`],
        },
      },
    ];
  }
  return [
    {
      suffix: '',
      role: 'create the index concurrently',
      body: {
        header: [
          `// CREATE INDEX CONCURRENTLY builds the index while reads and writes go on. It cannot run inside a transaction,`,
          `// so this migration opts out of knex's (config below). If it fails halfway it leaves an INVALID index behind:`,
          `// DROP INDEX CONCURRENTLY ${name}, then run it again.`,
        ],
        up: [raw('knex', `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${ident(name)} ON ${ident(table.name)} (${columnList(columns)})`)],
        down: [raw('knex', `DROP INDEX CONCURRENTLY IF EXISTS ${ident(name)}`)],
        transaction: false,
      },
    },
  ];
}
