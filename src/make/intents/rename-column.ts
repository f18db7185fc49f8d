import { jsString as js } from '../../codegen/index.js';
import { indent, type PlannedFile, type Writer } from './writer.js';

// make rename_<old>_to_<new>_in_<table>: the rename under a lock_timeout.

export function renameColumn(w: Writer, table: string, from: string, to: string): PlannedFile[] {
  const header = [
    `// Renaming ${table}.${from} breaks every running app server that still uses the old name: deploy code`,
    `// that works with both names first (or add ${to} and copy, then drop ${from} later), then rename.`,
  ];
  return [
    {
      suffix: '',
      role: 'rename the column',
      body: {
        header,
        up: w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([`table.renameColumn(${js(from)}, ${js(to)});`]), `});`]),
        down: w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table)}, (table) => {`, ...indent([`table.renameColumn(${js(to)}, ${js(from)});`]), `});`], false),
      },
    },
  ];
}
