import { ident, jsString as js } from '../../codegen/index.js';
import { indent, raw, usage, type PlannedFile, type Writer } from './writer.js';
import { indexName, columnList, jsList } from './index-naming.js';

// make add_foreign_key_on_<table>_<column>[_to_<table>]: NOT VALID, then VALIDATE.

const FK_ACTIONS = new Set(['cascade', 'restrict', 'set null', 'set default', 'no action']);

export function addForeignKey(w: Writer, tableName: string, columns: string[], references: { table: string; columns: string[] }): PlannedFile[] {
  const table = w.table(tableName);
  const ref = w.table(references.table);
  const existing = Object.values(table.constraints).find((c) => c.kind === 'foreign' && c.columns.join(',') === columns.join(',') && c.references?.table === w.schema.qualified(ref));
  if (existing) throw usage(`${table.name} (${columns.join(', ')}) already refers to ${ref.name}: ${existing.name}.`, 'Nothing to add.');
  columns.forEach((c, i) => {
    const a = table.columns[c]?.type;
    const b = ref.columns[references.columns[i]!]?.type;
    if (a && b && a !== b) w.warnings.push(`${table.name}.${c} is ${a} but ${ref.name}.${references.columns[i]} is ${b}: the types of a foreign key should match.`);
  });
  const refKey = references.columns.join(',');
  const uniqueOnRef =
    Object.values(ref.constraints).some((c) => (c.kind === 'primary' || c.kind === 'unique') && c.columns.join(',') === refKey) ||
    w.schema.indexesOf(ref).some((i) => i.unique && i.predicate === null && i.columns.join(',') === refKey);
  if (!uniqueOnRef) {
    throw usage(
      `${ref.name} (${references.columns.join(', ')}) is not a primary key or unique: a foreign key cannot refer to it.`,
      `Add a unique constraint first (knexsafe make add_unique_on_${ref.name}_${references.columns.join('_')}).`,
    );
  }
  const onDelete = w.options.onDelete?.toLowerCase().replace(/[_-]/g, ' ');
  if (onDelete !== undefined && !FK_ACTIONS.has(onDelete)) throw usage(`--on-delete takes cascade, restrict, set null, set default or no action, not "${w.options.onDelete}".`);
  const name = indexName(w, table.name, columns, 'foreign');
  w.details.constraint = name;
  w.details.references = references;
  const t = ident(table.name);
  const definition = `FOREIGN KEY (${columnList(columns)}) REFERENCES ${ident(ref.name)} (${columnList(references.columns)})${onDelete && onDelete !== 'no action' ? ` ON DELETE ${onDelete.toUpperCase()}` : ''}`;
  const addNotValid = `ALTER TABLE ${t} ADD CONSTRAINT ${ident(name)} ${definition} NOT VALID`;
  const hasIndex =
    w.schema.indexesOf(table).some((i) => i.columns[0] === columns[0]) || Object.values(table.constraints).some((c) => (c.kind === 'primary' || c.kind === 'unique') && c.columns[0] === columns[0]);
  if (!hasIndex) {
    w.warnings.push(
      `No index starts with ${table.name}.${columns[0]}: deletes and key updates on ${ref.name} will scan ${table.name}. Consider knexsafe make add_index_on_${table.name}_${columns.join('_')}.`,
    );
  }
  if (w.simple) {
    const builder = `table.foreign(${jsList(columns)}, ${js(name)}).references(${jsList(references.columns)}).inTable(${js(ref.name)})${onDelete && onDelete !== 'no action' ? `.onDelete(${js(onDelete.toUpperCase())})` : ''};`;
    return [
      {
        suffix: '',
        role: 'add the foreign key',
        body: {
          header: [`// Adding a validated foreign key reads all of ${table.name} while blocking its writes: fine for a small table.`],
          up: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([builder]), `});`],
          down: [`await knex.schema.alterTable(${js(table.name)}, (table) => {`, ...indent([`table.dropForeign(${jsList(columns)}, ${js(name)});`]), `});`],
        },
      },
    ];
  }
  return [
    {
      suffix: '',
      role: 'add the foreign key NOT VALID',
      body: {
        header: [
          `// Foreign key, step 1 of 2: NOT VALID makes this instant (existing rows are not checked; new ones are).`,
          `// The next migration validates the existing rows without blocking writes.`,
        ],
        up: w.locked(true, (db) => [raw(db, addNotValid)]),
        down: w.locked(true, (db) => [raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(name)}`)], false),
      },
    },
    {
      suffix: '_validate',
      role: 'validate the foreign key',
      body: {
        header: [
          `// Foreign key, step 2 of 2: VALIDATE reads ${table.name} under SHARE UPDATE EXCLUSIVE (reads and writes go on) and fails`,
          `// if a row refers to a missing ${ref.name}. It runs outside knex's transaction, so never in one with step 1.`,
          `// down: a constraint cannot be un-validated, so down puts back the NOT VALID one of step 1.`,
        ],
        up: [raw('knex', `ALTER TABLE ${t} VALIDATE CONSTRAINT ${ident(name)}`)],
        down: w.locked(false, (db) => [raw(db, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(name)}`), raw(db, addNotValid)], false),
        transaction: false,
      },
    },
  ];
}
