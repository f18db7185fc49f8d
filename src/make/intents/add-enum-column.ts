import { ident, jsString as js, sqlString } from '../../codegen/index.js';
import { singular } from '../naming.js';
import { indent, raw, usage, type PlannedFile, type Writer } from './writer.js';
import { enumValues } from './enum-values.js';

// make add_<column>_enum_to_<table>: the enum type and the column.

export function addEnumColumn(w: Writer, tableName: string, column: string): PlannedFile[] {
  const values = enumValues(w, `The enum column ${tableName}.${column}`);
  let type = `${singular(tableName)}_${column}`;
  if (w.schema.nameTaken(type)) type = `${tableName}_${column}`;
  if (w.schema.nameTaken(type)) throw usage(`The type names ${singular(tableName)}_${column} and ${type} are both taken.`, 'Create the type with create_<type>_enum, then add the column with --type.');
  w.details.type = type;
  w.details.values = values;
  return [
    {
      suffix: '',
      role: 'create the enum type and add the column',
      body: {
        header: [`// A native enum: knex's dropTable/dropColumn never drop the type, so down does it explicitly.`],
        up: [
          raw('knex', `CREATE TYPE ${ident(type)} AS ENUM (${values.map(sqlString).join(', ')})`),
          ...w.locked(true, (db) => [
            `await ${db}.schema.alterTable(${js(tableName)}, (table) => {`,
            ...indent([`table.specificType(${js(column)}, ${js(type)}).defaultTo(${js(values[0]!)});`]),
            `});`,
          ]),
        ],
        down: [
          ...w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(tableName)}, (table) => {`, ...indent([`table.dropColumn(${js(column)});`]), `});`], false),
          raw('knex', `DROP TYPE ${ident(type)}`),
        ],
      },
    },
  ];
}
