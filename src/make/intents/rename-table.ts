import { jsString as js } from '../../codegen/index.js';
import type { PlannedFile, Writer } from './writer.js';

// make rename_<old>_table_to_<new>: the rename under a lock_timeout.

export function renameTable(w: Writer, from: string, to: string): PlannedFile[] {
  const header = [
    `// Renaming ${from} breaks every running app server that still queries it by its old name:`,
    `// deploy code that can use either name first (or leave a view named ${from} behind), then rename.`,
  ];
  return [
    {
      suffix: '',
      role: 'rename the table',
      body: {
        header,
        up: w.locked(true, (db) => [`await ${db}.schema.renameTable(${js(from)}, ${js(to)});`]),
        down: w.locked(true, (db) => [`await ${db}.schema.renameTable(${js(to)}, ${js(from)});`], false),
      },
    },
  ];
}
