import type { ColumnInfo, TableInfo } from '../../schema/types.js';
import { ident, sqlString } from '../../codegen/index.js';
import { identifierWithin63 } from '../naming.js';
import { raw, type PlannedFile, type Writer } from './writer.js';

// make add_<value>_to_<type>_enum: ALTER TYPE … ADD VALUE (outside a transaction before PostgreSQL 12).

export function addEnumValue(w: Writer, typeName: string, value: string): PlannedFile[] {
  const type = w.schema.enumType(typeName)!;
  const qualified = `${type.schema}.${type.name}`;
  const users: { table: TableInfo; column: ColumnInfo }[] = [];
  for (const table of Object.values(w.schema.snapshot.tables)) {
    for (const column of Object.values(table.columns)) {
      if (column.type === qualified || column.type === type.name) users.push({ table, column });
      else if (column.type === `${qualified}[]` || column.type === `${type.name}[]`) {
        w.warnings.push(`${table.name}.${column.name} is an array of ${type.name}: down does not convert it; adjust by hand.`);
      }
    }
  }
  w.details.values = [...type.values, value];
  const tname = ident(type.name);
  const old = identifierWithin63(`${type.name}_old`);
  const downBody = (db: string): string[] => {
    const lines = [raw(db, `ALTER TYPE ${tname} RENAME TO ${ident(old)}`), raw(db, `CREATE TYPE ${tname} AS ENUM (${type.values.map(sqlString).join(', ')})`)];
    for (const { table, column } of users) {
      const t = ident(table.name);
      const c = ident(column.name);
      const parts = [`ALTER TABLE ${t}`];
      const alters: string[] = [];
      if (column.default !== null) alters.push(`ALTER COLUMN ${c} DROP DEFAULT`);
      alters.push(`ALTER COLUMN ${c} TYPE ${tname} USING ${c}::text::${tname}`);
      if (column.default !== null) alters.push(`ALTER COLUMN ${c} SET DEFAULT ${column.default}`);
      lines.push(raw(db, `${parts[0]} ${alters.join(', ')}`));
    }
    lines.push(raw(db, `DROP TYPE ${ident(old)}`));
    return lines;
  };
  return [
    {
      suffix: '',
      role: 'add the enum value',
      body: {
        header: [
          `// ALTER TYPE ... ADD VALUE runs outside knex's transaction (required before PostgreSQL 12, and the new value is`,
          `// usable by the next migration only once committed).`,
          `// down: PostgreSQL cannot remove an enum value, so down rebuilds the type without it${users.length ? ` and converts ${users.map((u) => `${u.table.name}.${u.column.name}`).join(', ')}` : ''}.`,
          `// It fails if a row still uses ${sqlString(value)}: change those rows first.`,
        ],
        up: [raw('knex', `ALTER TYPE ${tname} ADD VALUE IF NOT EXISTS ${sqlString(value)}`)],
        down: w.locked(false, downBody, false),
        transaction: false,
      },
    },
  ];
}
