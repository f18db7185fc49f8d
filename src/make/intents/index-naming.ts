import { ident, jsString as js } from '../../codegen/index.js';
import { identifierWithin63 } from '../naming.js';
import { usage, type Writer } from './writer.js';

// Names and column lists of the indexes and constraints the add_index/unique/foreign_key intents create.

export function indexName(w: Writer, table: string, columns: string[], suffix: 'index' | 'unique' | 'foreign'): string {
  // knex's default names, so that table.dropIndex(columns) / dropUnique / dropForeign find them.
  const name = identifierWithin63(`${table}_${columns.join('_')}_${suffix}`.toLowerCase().replace(/[-.]/g, '_'));
  if (w.schema.nameTaken(name)) throw usage(`The name ${name} is already taken in the schema.`, `An earlier migration created it; knexsafe make does not overwrite.`);
  return name;
}

export function columnList(columns: string[]): string {
  return columns.map(ident).join(', ');
}

export function jsList(columns: string[]): string {
  return columns.length === 1 ? js(columns[0]!) : `[${columns.map(js).join(', ')}]`;
}
