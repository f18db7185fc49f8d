import type { ColumnInfo, TableInfo } from '../../schema/types.js';
import { parseTypeText } from '../../sql/datatypes.js';
import { emptyValueFor, ident, jsSql as sqlLiteral, jsString as js, sqlString } from '../../codegen/index.js';
import { identifierWithin63 } from '../naming.js';
import { typeFromCatalog } from '../types.js';
import { indent, raw, usage, type PlannedFile, type Writer } from './writer.js';
import { ownsSequence } from './columns.js';

// make drop_<column>[_and_<column>…]_from_<table>: the drop, and a down that re-creates the columns (and their values).

/** A literal that fits a NOT NULL column of this type, for rows that have no saved value. */
function placeholderFor(w: Writer, column: ColumnInfo): string | undefined {
  const enumType = Object.values(w.schema.snapshot.enums).find((e) => `${e.schema}.${e.name}` === column.type || e.name === column.type);
  if (enumType) return sqlString(enumType.values[0] ?? '');
  const ref = parseTypeText(column.type);
  if (!ref) return undefined;
  const empty = emptyValueFor(ref);
  if (empty !== undefined) return empty;
  switch (ref.name) {
    case 'uuid':
      return `'00000000-0000-0000-0000-000000000000'`;
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return `'1970-01-01'`;
    default:
      return undefined;
  }
}

/** The knex builder call that re-creates `column` as it is (type, default, comment; NOT NULL handled by the caller). */
function recreateColumn(w: Writer, table: TableInfo, column: ColumnInfo, options: { notNull: boolean; placeholder?: string; withDefault?: boolean }): string {
  let call = column.collation ? `table.specificType(${js(column.name)}, ${js(`${column.type} COLLATE ${column.collation}`)})` : typeFromCatalog(column.type).builder(column.name);
  if (options.notNull) call += '.notNullable()';
  if (column.default !== null && options.withDefault !== false) call += `.defaultTo(knex.raw(${sqlLiteral(column.default)}))`;
  else if (options.placeholder !== undefined) call += `.defaultTo(knex.raw(${sqlLiteral(options.placeholder)}))`;
  const comment = w.schema.comment(`column ${table.schema}.${table.name}.${column.name}`);
  if (comment !== undefined) call += `.comment(${js(comment)})`;
  return `${call};`;
}

export function dropColumns(w: Writer, tableName: string, columns: string[]): PlannedFile[] {
  const table = w.table(tableName);
  const t = ident(table.name);
  for (const c of columns) {
    const refs = w.schema.referencesTo(table).filter((r) => r.constraint.references?.columns.includes(c));
    if (refs.length) {
      throw usage(
        `${table.name}.${c} is referenced by the foreign key ${refs.map((r) => `${r.constraint.name} on ${r.table.name}`).join(', ')}; dropping it would fail (or, with CASCADE, silently drop the key).`,
        `Drop the foreign key first, in its own migration.`,
      );
    }
  }
  const infos = columns.map((c) => {
    const info = table.columns[c]!;
    // A serial's sequence goes with the column; down re-creates a plain column (see the warning below).
    return ownsSequence(w, table, info) ? { ...info, default: null } : info;
  });
  const pk = w.schema.primaryKey(table);
  const backup = w.options.backup !== false && pk !== undefined && !pk.columns.some((k) => columns.includes(k));
  const special = columns.map((c) => table.columns[c]!).filter((c) => c.identity !== null || ownsSequence(w, table, c));
  for (const c of special) {
    w.warnings.push(
      `${table.name}.${c.name} takes its values from a sequence (serial or identity): down re-creates it as a plain column with the saved values; re-attach the sequence by hand if you roll back.`,
    );
  }
  if (w.options.backup !== false && !backup) {
    w.warnings.push(
      `${table.name} has no primary key (outside the dropped columns), so knexsafe cannot keep the values to restore: down re-creates ${columns.length > 1 ? 'the columns' : 'the column'} without them.`,
    );
  }
  const stored = infos.filter((c) => c.generated === null);
  const backupTable = identifierWithin63(`knexsafe_backup_${table.name}_${columns.join('_')}`);
  const constraints = Object.values(table.constraints).filter((c) => c.columns.some((col) => columns.includes(col)));
  if (pk?.columns.some((k) => columns.includes(k))) {
    w.warnings.push(
      `${columns.length > 1 ? 'The columns include' : `${table.name}.${columns[0]} is`} part of the primary key ${pk.name}: down re-adds the key, which fails unless the values come back unique and not null.`,
    );
  }
  const indexes = w.schema.indexesOf(table).filter((i) => i.columns.some((col) => columns.includes(col)));
  w.details.columns = infos.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, default: c.default }));
  if (backup && stored.length) w.details.backupTable = backupTable;

  const header: string[] = [
    `// Dropping ${columns.length > 1 ? 'columns' : 'a column'} breaks app servers that still use ${columns.length > 1 ? 'them' : 'it'}: ship code that no longer reads or writes`,
    `// ${columns.map((c) => `${table.name}.${c}`).join(', ')} first. down re-creates ${columns.length > 1 ? 'them' : 'it'} as ${columns.length > 1 ? 'they were' : 'it was'} (type, NOT NULL, default, indexes, constraints)${backup && stored.length ? ',' : '.'}`,
  ];
  if (backup && stored.length) {
    header.push(`// with the values up copies to ${backupTable}. Drop that copy in a later migration once you are sure.`);
  }
  const up: string[] = [];
  if (backup && stored.length) {
    const keep = [...pk!.columns, ...stored.map((c) => c.name)].map(ident).join(', ');
    up.push(`// Keep the values: down puts them back.`, raw('knex', `CREATE TABLE ${ident(backupTable)} AS SELECT ${keep} FROM ${t}`));
  }
  up.push(...w.locked(true, (db) => [`await ${db}.schema.alterTable(${js(table.name)}, (table) => {`, ...indent(columns.map((c) => `table.dropColumn(${js(c)});`)), `});`]));

  // down: columns back (nullable while the values come back), values, NOT NULL, constraints, indexes.
  const adds: string[] = [];
  const after: ((db: string) => string)[] = [];
  const notNullLater: string[] = [];
  for (const c of infos) {
    if (c.generated !== null) {
      after.push((db) => raw(db, `ALTER TABLE ${t} ADD COLUMN ${ident(c.name)} ${c.type} GENERATED ALWAYS AS ${c.generated}`));
      continue;
    }
    if (c.nullable) {
      adds.push(recreateColumn(w, table, c, { notNull: false }));
    } else if (backup || c.default !== null) {
      adds.push(recreateColumn(w, table, c, { notNull: c.default !== null && !backup }));
      if (backup || c.default === null) notNullLater.push(c.name);
    } else {
      const placeholder = placeholderFor(w, c);
      if (placeholder !== undefined) {
        adds.push(`// ${c.name} is NOT NULL without a default: existing rows get ${placeholder}, then the default goes.`);
        adds.push(recreateColumn(w, table, c, { notNull: true, placeholder }));
        after.unshift((db) => raw(db, `ALTER TABLE ${t} ALTER COLUMN ${ident(c.name)} DROP DEFAULT`));
      } else {
        adds.push(recreateColumn(w, table, c, { notNull: false }));
        notNullLater.push(c.name);
      }
    }
  }
  const down: string[] = [];
  const downBody = (db: string): string[] => {
    const lines: string[] = [];
    if (adds.length) lines.push(`await ${db}.schema.alterTable(${js(table.name)}, (table) => {`, ...indent(adds), `});`);
    if (backup && stored.length) {
      const sets = stored.map((c) => `${ident(c.name)} = b.${ident(c.name)}`).join(', ');
      const on = pk!.columns.map((k) => `${t}.${ident(k)} = b.${ident(k)}`).join(' AND ');
      lines.push(raw(db, `UPDATE ${t} SET ${sets} FROM ${ident(backupTable)} b WHERE ${on}`));
    }
    if (notNullLater.length) {
      if (backup) lines.push(`// Rows inserted after up have no saved value: give them one before this if it fails.`);
      lines.push(`await ${db}.schema.alterTable(${js(table.name)}, (table) => {`, ...indent(notNullLater.map((c) => `table.dropNullable(${js(c)});`)), `});`);
    }
    lines.push(...after.map((line) => line(db)));
    for (const c of constraints) lines.push(raw(db, `ALTER TABLE ${t} ADD CONSTRAINT ${ident(c.name)} ${c.definition}`));
    for (const i of indexes) lines.push(raw(db, i.definition));
    if (backup && stored.length) lines.push(`await ${db}.schema.dropTable(${js(backupTable)});`);
    return lines;
  };
  down.push(...w.locked(true, downBody, false));
  return [{ suffix: '', role: 'drop the column(s)', body: { header, up, down } }];
}
