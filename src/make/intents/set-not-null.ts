import { ident, jsString as js } from '../../codegen/index.js';
import { identifierWithin63 } from '../naming.js';
import { indent, raw, type PlannedFile, type Writer } from './writer.js';

// make set_<column>_not_null_in_<table>: a NOT VALID check, validated, then SET NOT NULL without a scan.

function notNullCheckName(table: string, column: string): string {
  return identifierWithin63(`${table}_${column}_not_null_check`);
}

export function setNotNull(w: Writer, tableName: string, column: string): PlannedFile[] {
  const t = ident(tableName);
  const c = ident(column);
  if (w.simple) {
    return [
      {
        suffix: '',
        role: 'set NOT NULL',
        body: {
          header: [`// SET NOT NULL reads every row under an ACCESS EXCLUSIVE lock: fine for a small table.`],
          up: [`await knex.schema.alterTable(${js(tableName)}, (table) => {`, ...indent([`table.dropNullable(${js(column)});`]), `});`],
          down: [`await knex.schema.alterTable(${js(tableName)}, (table) => {`, ...indent([`table.setNullable(${js(column)});`]), `});`],
        },
      },
    ];
  }
  const check = notNullCheckName(tableName, column);
  w.details.checkConstraint = check;
  const add = `ALTER TABLE ${t} ADD CONSTRAINT ${ident(check)} CHECK (${c} IS NOT NULL) NOT VALID`;
  return [
    {
      suffix: '',
      role: 'add CHECK (… IS NOT NULL) NOT VALID',
      body: {
        header: [
          `// NOT NULL on a filled table, step 1 of 2: a CHECK ... NOT VALID is instant (existing rows are not read;`,
          `// new and updated rows are checked). The next migration validates it without blocking writes, then sets NOT NULL.`,
        ],
        up: w.locked(true, (db) => [raw(db, add)]),
        down: w.locked(true, (db) => [raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(check)}`)], false),
      },
    },
    {
      suffix: '_validate',
      role: 'validate, SET NOT NULL, drop the CHECK',
      body: {
        header: [
          `// NOT NULL, step 2 of 2. VALIDATE reads every row under SHARE UPDATE EXCLUSIVE: reads and writes go on. It fails if a`,
          `// row is still NULL: backfill first (knexsafe make backfill_${tableName}_${column}). With the check validated,`,
          `// SET NOT NULL needs no scan (PostgreSQL 12+), and the check is no longer needed.`,
          `// This migration runs outside knex's transaction so that the validation is not held up with step 1's lock.`,
        ],
        up: [
          raw('knex', `ALTER TABLE ${t} VALIDATE CONSTRAINT ${ident(check)}`),
          ...w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${c} SET NOT NULL`), raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(check)}`)], false),
        ],
        down: w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} ALTER COLUMN ${c} DROP NOT NULL`), raw(db, add)], false),
        transaction: false,
      },
    },
  ];
}
