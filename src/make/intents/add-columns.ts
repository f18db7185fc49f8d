import { jsString as js } from '../../codegen/index.js';
import { referencedTableOf } from '../grammar.js';
import { guessColumnType, parseTypeWords, TYPE_WORDS_HELP, type ColumnType } from '../types.js';
import { indent, usage, type PlannedFile, type Writer } from './writer.js';

// make add_<column>[_and_<column>…]_to_<table>: columns with types guessed from their names or given.

function columnTypeFor(w: Writer, table: string, column: string): { type: ColumnType; modifiers: string; reason: string } {
  const given = w.options.types?.[column];
  if (given !== undefined) {
    const type = parseTypeWords(given.split(/[_\s]+/).filter(Boolean), w.schema.enumNames());
    if (!type) throw usage(`--type ${column}:${given}: "${given}" is not a type knexsafe knows.`, `Types: ${TYPE_WORDS_HELP}.`);
    return { type, modifiers: '', reason: 'given with --type' };
  }
  const ref = referencedTableOf(column, w.schema);
  const key = ref ? w.schema.primaryKey(ref) : undefined;
  const keyType = key?.columns.length === 1 ? ref?.columns[key.columns[0]!]?.type : undefined;
  const guess = guessColumnType(column, keyType);
  if (ref && keyType) guess.reason = `refers to ${ref.name}.${key!.columns[0]} (add the foreign key with: knexsafe make add_foreign_key_on_${table}_${column})`;
  return guess;
}

export function addColumns(w: Writer, table: string, columns: string[]): PlannedFile[] {
  const lines: string[] = [];
  const described: { name: string; type: string; guessed: boolean }[] = [];
  for (const c of columns) {
    const { type, modifiers, reason } = columnTypeFor(w, table, c);
    lines.push(`${type.builder(c)}${modifiers}; // ${reason}`);
    described.push({ name: c, type: type.sql, guessed: reason !== 'given with --type' });
  }
  w.details.columns = described;
  if (described.some((d) => d.guessed)) {
    w.warnings.push(`Column types are guessed from the names (${described.map((d) => `${d.name}: ${d.type}`).join(', ')}); check them, or pass --type <column>:<type>.`);
  }
  const up = w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent(lines), `});`]);
  const down = w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([...columns].reverse().map((c) => `table.dropColumn(${js(c)});`)), `});`], false);
  return [{ suffix: '', role: 'add the column(s)', body: { up, down } }];
}
