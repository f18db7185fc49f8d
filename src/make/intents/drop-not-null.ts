import { jsString as js } from '../../codegen/index.js';
import { indent, type PlannedFile, type Writer } from './writer.js';

// make set_<column>_nullable_in_<table>: DROP NOT NULL.

export function dropNotNull(w: Writer, table: string, column: string): PlannedFile[] {
  return [
    {
      suffix: '',
      role: 'drop NOT NULL',
      body: {
        up: w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([`table.setNullable(${js(column)});`]), `});`]),
        down: w.locked(
          true,
          (db) => [`// Fails if NULLs were written since up: fill them first.`, `await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([`table.dropNullable(${js(column)});`]), `});`],
          false,
        ),
      },
    },
  ];
}
