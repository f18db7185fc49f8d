import type { Intent, IntentKind } from '../grammar.js';
import { addColumns } from './add-columns.js';
import { addEnumColumn } from './add-enum-column.js';
import { addEnumValue } from './add-enum-value.js';
import { addForeignKey } from './add-foreign-key.js';
import { addIndex } from './add-index.js';
import { addUnique } from './add-unique.js';
import { backfill } from './backfill.js';
import { changeType } from './change-type.js';
import { createEnum } from './create-enum.js';
import { createTables } from './create-table.js';
import { dropColumns } from './drop-columns.js';
import { dropNotNull } from './drop-not-null.js';
import { renameColumn } from './rename-column.js';
import { renameTable } from './rename-table.js';
import { setNotNull } from './set-not-null.js';
import type { PlannedFile, Writer } from './writer.js';

/** Writes the migration files of one kind of intent. */
export type IntentGenerator<K extends IntentKind = IntentKind> = (w: Writer, intent: Extract<Intent, { kind: K }>) => PlannedFile[];

/** Every intent the naming grammar knows, by kind (alphabetical), and the generator that writes it. */
export const INTENT_GENERATORS: { readonly [K in IntentKind]: IntentGenerator<K> } = {
  'add-columns': (w, i) => addColumns(w, i.table, i.columns),
  'add-enum-column': (w, i) => addEnumColumn(w, i.table, i.column),
  'add-enum-value': (w, i) => addEnumValue(w, i.type, i.value),
  'add-foreign-key': (w, i) => addForeignKey(w, i.table, i.columns, i.references),
  'add-index': (w, i) => addIndex(w, i.table, i.columns),
  'add-unique': (w, i) => addUnique(w, i.table, i.columns),
  backfill: (w, i) => backfill(w, i.table, i.column),
  'change-type': (w, i) => changeType(w, i.table, i.column, i.type),
  'create-enum': (w, i) => createEnum(w, i.type),
  'create-table': (_w, i) => createTables(i.tables),
  'drop-columns': (w, i) => dropColumns(w, i.table, i.columns),
  'drop-not-null': (w, i) => dropNotNull(w, i.table, i.column),
  'rename-column': (w, i) => renameColumn(w, i.table, i.from, i.to),
  'rename-table': (w, i) => renameTable(w, i.from, i.to),
  'set-not-null': (w, i) => setNotNull(w, i.table, i.column),
};
