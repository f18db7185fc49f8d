import { ident, sqlString } from '../../codegen/index.js';
import { raw, type PlannedFile, type Writer } from './writer.js';
import { enumValues } from './enum-values.js';

// make create_<type>_enum: a new enum type.

export function createEnum(w: Writer, type: string): PlannedFile[] {
  const values = enumValues(w, `The enum ${type}`);
  w.details.values = values;
  return [
    {
      suffix: '',
      role: 'create the enum type',
      body: {
        up: [raw('knex', `CREATE TYPE ${ident(type)} AS ENUM (${values.map(sqlString).join(', ')})`)],
        down: [raw('knex', `DROP TYPE ${ident(type)}`)],
      },
    },
  ];
}
