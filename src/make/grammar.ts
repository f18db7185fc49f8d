import { KnexsafeError } from '../errors.js';
import type { TableInfo } from '../schema/types.js';
import { pluralCandidates } from './naming.js';
import type { SchemaView } from './schema-lookup.js';

/** What a migration name asks for, with table and column names resolved against the schema. */
export type Intent =
  | { kind: 'create-table'; tables: string[] }
  | { kind: 'add-columns'; table: string; columns: string[] }
  | { kind: 'drop-columns'; table: string; columns: string[] }
  | { kind: 'add-index'; table: string; columns: string[] }
  | { kind: 'add-unique'; table: string; columns: string[] }
  | { kind: 'add-foreign-key'; table: string; columns: string[]; references: { table: string; columns: string[] } }
  | { kind: 'rename-column'; table: string; from: string; to: string }
  | { kind: 'rename-table'; from: string; to: string }
  | { kind: 'change-type'; table: string; column: string; type: string[] }
  | { kind: 'set-not-null'; table: string; column: string }
  | { kind: 'drop-not-null'; table: string; column: string }
  | { kind: 'backfill'; table: string; column: string }
  | { kind: 'create-enum'; type: string }
  | { kind: 'add-enum-column'; table: string; column: string }
  | { kind: 'add-enum-value'; type: string; value: string };

export type IntentKind = Intent['kind'];

export interface Shape {
  kind: IntentKind;
  /** The grammar, as documented. */
  pattern: string;
  example: string;
  /** Whether resolving it needs the project's schema (a shadow replay). */
  needsSchema: boolean;
  matches(words: string[]): boolean;
  resolve(words: string[], schema: SchemaView, warnings: string[]): Intent;
}

function startsWith(words: string[], ...prefix: string[]): boolean {
  return prefix.every((w, i) => words[i] === w);
}

function endsWith(words: string[], ...suffix: string[]): boolean {
  return suffix.every((w, i) => words[words.length - suffix.length + i] === w);
}

function contains(words: string[], word: string): boolean {
  return words.includes(word);
}

/** Every way to cut `words` at one occurrence of `separator`, both sides non-empty; rightmost cut first. */
function cuts(words: string[], separator: string): [string[], string[]][] {
  const out: [string[], string[]][] = [];
  for (let i = words.length - 2; i >= 1; i--) if (words[i] === separator) out.push([words.slice(0, i), words.slice(i + 1)]);
  return out;
}

/** Splits on `_and_`: `first_name_and_last_name` → first_name, last_name. */
function splitAnd(words: string[]): string[] {
  const parts: string[][] = [[]];
  for (const w of words) {
    if (w === 'and' && parts[parts.length - 1]!.length > 0) parts.push([]);
    else parts[parts.length - 1]!.push(w);
  }
  return parts.filter((p) => p.length > 0).map((p) => p.join('_'));
}

/**
 * Every way to read `words` as a list of existing columns of `table` (optionally separated by
 * `and`), fewest columns first: `user_id_created_at` → [user_id, created_at].
 */
export function segmentColumns(words: string[], table: TableInfo, limit = 20): string[][] {
  const results: string[][] = [];
  const walk = (start: number, acc: string[]) => {
    if (results.length >= limit) return;
    if (start === words.length) {
      if (acc.length) results.push(acc);
      return;
    }
    if (words[start] === 'and' && acc.length > 0 && start + 1 < words.length) walk(start + 1, acc);
    for (let end = words.length; end > start; end--) {
      const name = words.slice(start, end).join('_');
      if (table.columns[name] && !acc.includes(name)) walk(end, [...acc, name]);
    }
  };
  walk(0, []);
  return results.sort((a, b) => a.length - b.length);
}

interface TableAndColumns {
  table: TableInfo;
  columns: string[];
}

/** `<table>_<columns>` read against the schema; longest table name first, then fewest columns. */
function tableThenColumns(words: string[], schema: SchemaView, columnCount?: number): TableAndColumns[] {
  const out: TableAndColumns[] = [];
  for (let i = words.length - 1; i >= 1; i--) {
    const table = schema.table(words.slice(0, i).join('_'));
    if (!table) continue;
    for (const columns of segmentColumns(words.slice(i), table)) {
      if (columnCount === undefined || columns.length === columnCount) out.push({ table, columns });
    }
  }
  return out;
}

function unresolved(message: string, hint: string): KnexsafeError {
  return new KnexsafeError('MAKE_UNRESOLVED', message, { hint });
}

function knownTables(schema: SchemaView): string {
  const names = schema.tableNames().sort();
  if (names.length === 0) return 'The migrations create no tables yet.';
  return `Tables the migrations create: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', …' : ''}.`;
}

function columnsOf(table: TableInfo): string {
  return Object.keys(table.columns).sort().join(', ');
}

function pickOne<T>(candidates: T[], describe: (c: T) => string, warnings: string[], name: string): T | undefined {
  if (candidates.length > 1) {
    warnings.push(`"${name}" can be read ${candidates.length} ways (${candidates.slice(0, 3).map(describe).join('; ')}); knexsafe took the first. Rename the migration if that is not what you meant.`);
  }
  return candidates[0];
}

/** `<old>_to_<new>` where old is a column of `table` and new is not. */
function resolveRename(words: string[], table: TableInfo, name: string): { from: string; to: string } {
  for (const [left, right] of cuts(words, 'to')) {
    const from = left.join('_');
    if (table.columns[from]) {
      const to = right.join('_');
      if (table.columns[to]) {
        throw unresolved(`"${name}": ${table.name} already has a column ${to}.`, `Columns of ${table.name}: ${columnsOf(table)}.`);
      }
      return { from, to };
    }
  }
  const guess = cuts(words, 'to')[0];
  throw unresolved(`"${name}": ${table.name} has no column ${guess ? guess[0].join('_') : words.join('_')} to rename.`, `Columns of ${table.name}: ${columnsOf(table)}.`);
}

/** The right-hand `_in_<table>` (or `_on_<table>`) of a name, resolved against the schema. */
function inTable(words: string[], schema: SchemaView, name: string, separators = ['in', 'on']): { left: string[]; table: TableInfo } {
  const options = separators.flatMap((s) => cuts(words, s));
  for (const [left, right] of options.sort((a, b) => b[0].length - a[0].length)) {
    const table = schema.table(right.join('_'));
    if (table) return { left, table };
  }
  const last = options[0];
  throw unresolved(last ? `"${name}" names the table ${last[1].join('_')}, which the project's migrations do not create.` : `"${name}" does not say which table (…_in_<table>).`, knownTables(schema));
}

function existingColumn(table: TableInfo, column: string, name: string, verb: string): string {
  if (!table.columns[column]) {
    throw unresolved(`"${name}": ${table.name} has no column ${column} to ${verb}.`, `Columns of ${table.name}: ${columnsOf(table)}.`);
  }
  return column;
}

/** The table a `<x>_id` column refers to: `user_id` → users (when the schema has it). */
export function referencedTableOf(column: string, schema: SchemaView): TableInfo | undefined {
  if (!column.endsWith('_id')) return undefined;
  const base = column.slice(0, -3);
  for (const candidate of pluralCandidates(base)) {
    const t = schema.table(candidate);
    if (t) return t;
  }
  return undefined;
}

export const SHAPES: Shape[] = [
  {
    kind: 'create-table',
    pattern: 'create_<a>_and_<b>[_and_<c>…]_tables',
    example: 'create_posts_and_comments_tables',
    needsSchema: false,
    matches: (w) => startsWith(w, 'create') && endsWith(w, 'tables') && w.length >= 5 && contains(w.slice(1, -1), 'and'),
    resolve: (w) => ({ kind: 'create-table', tables: splitAnd(w.slice(1, -1)) }),
  },
  {
    kind: 'create-table',
    pattern: 'create_<table>_table',
    example: 'create_users_table',
    needsSchema: false,
    matches: (w) => startsWith(w, 'create') && endsWith(w, 'table') && w.length >= 3,
    resolve: (w) => ({ kind: 'create-table', tables: [w.slice(1, -1).join('_')] }),
  },
  {
    kind: 'create-enum',
    pattern: 'create_<type>_enum  (--values a,b,c)',
    example: 'create_order_status_enum --values pending,shipped',
    needsSchema: false,
    matches: (w) => startsWith(w, 'create') && endsWith(w, 'enum') && w.length >= 3,
    resolve: (w) => ({ kind: 'create-enum', type: w.slice(1, -1).join('_') }),
  },
  {
    kind: 'add-index',
    pattern: 'add_index_on_<table>_<columns>',
    example: 'add_index_on_orders_user_id',
    needsSchema: true,
    matches: (w) => startsWith(w, 'add', 'index', 'on') && w.length >= 5,
    resolve: (w, schema, warnings) => {
      const name = w.join('_');
      const found = pickOne(tableThenColumns(w.slice(3), schema), (c) => `${c.table.name} (${c.columns.join(', ')})`, warnings, name);
      if (!found) throw unresolvedTableColumns(w.slice(3), schema, name);
      return { kind: 'add-index', table: found.table.name, columns: found.columns };
    },
  },
  {
    kind: 'add-unique',
    pattern: 'add_unique_on_<table>_<columns>',
    example: 'add_unique_on_users_email',
    needsSchema: true,
    matches: (w) => startsWith(w, 'add', 'unique') && (w[2] === 'on' || ((w[2] === 'index' || w[2] === 'constraint') && w[3] === 'on')) && w.length >= 5,
    resolve: (w, schema, warnings) => {
      const name = w.join('_');
      const rest = w.slice(w[2] === 'on' ? 3 : 4);
      const found = pickOne(tableThenColumns(rest, schema), (c) => `${c.table.name} (${c.columns.join(', ')})`, warnings, name);
      if (!found) throw unresolvedTableColumns(rest, schema, name);
      return { kind: 'add-unique', table: found.table.name, columns: found.columns };
    },
  },
  {
    kind: 'add-foreign-key',
    pattern: 'add_foreign_key_on_<table>_<column>[_to_<table>[_<column>]]',
    example: 'add_foreign_key_on_orders_user_id_to_users',
    needsSchema: true,
    matches: (w) => (startsWith(w, 'add', 'foreign', 'key', 'on') && w.length >= 6) || (startsWith(w, 'add', 'fk', 'on') && w.length >= 5),
    resolve: (w, schema, warnings) => resolveForeignKey(w.slice(w[1] === 'fk' ? 3 : 4), schema, warnings, w.join('_')),
  },
  {
    kind: 'add-enum-value',
    pattern: 'add_<value>_to_<type>_enum',
    example: 'add_refunded_to_order_status_enum',
    needsSchema: true,
    matches: (w) => startsWith(w, 'add') && endsWith(w, 'enum') && contains(w.slice(2, -2), 'to'),
    resolve: (w, schema) => {
      const name = w.join('_');
      for (const [left, right] of cuts(w.slice(1, -1), 'to')) {
        const type = schema.enumType(right.join('_'));
        if (type) {
          const value = left.join('_');
          if (type.values.includes(value)) throw unresolved(`"${name}": the enum ${type.name} already has the value ${value}.`, `Its values: ${type.values.join(', ')}.`);
          return { kind: 'add-enum-value', type: type.name, value };
        }
      }
      throw unresolved(`"${name}" names an enum type the project's migrations do not create.`, `Enum types: ${schema.enumNames().join(', ') || '(none)'}.`);
    },
  },
  {
    kind: 'add-enum-column',
    pattern: 'add_<column>_enum_to_<table>  (--values a,b,c)',
    example: 'add_status_enum_to_orders --values pending,shipped',
    needsSchema: true,
    matches: (w) => startsWith(w, 'add') && cuts(w, 'to').some(([left]) => left.length >= 3 && left[left.length - 1] === 'enum'),
    resolve: (w, schema, warnings) => {
      const name = w.join('_');
      for (const [left, right] of cuts(w, 'to')) {
        if (left[left.length - 1] !== 'enum') continue;
        const table = schema.table(right.join('_'));
        if (!table) continue;
        const column = left.slice(1, -1).join('_');
        if (table.columns[column]) throw unresolved(`"${name}": ${table.name} already has a column ${column}.`, `Columns of ${table.name}: ${columnsOf(table)}.`);
        return { kind: 'add-enum-column', table: table.name, column };
      }
      const [left, right] = cuts(w, 'to').find(([l]) => l[l.length - 1] === 'enum')!;
      warnings.push(`${right.join('_')} is not a table the project's migrations create; the migration assumes it exists.`);
      return { kind: 'add-enum-column', table: right.join('_'), column: left.slice(1, -1).join('_') };
    },
  },
  {
    kind: 'add-columns',
    pattern: 'add_<column>[_and_<column>…]_to_<table>',
    example: 'add_first_name_and_last_name_to_users',
    needsSchema: true,
    matches: (w) => startsWith(w, 'add') && contains(w.slice(2, -1), 'to'),
    resolve: (w, schema, warnings) => {
      const name = w.join('_');
      const options = cuts(w.slice(1), 'to');
      const chosen = options.find(([, right]) => schema.table(right.join('_'))) ?? options[0]!;
      const [left, right] = chosen;
      const columns = splitAnd(left[left.length - 1] === 'column' || left[left.length - 1] === 'columns' ? left.slice(0, -1) : left);
      const table = schema.table(right.join('_'));
      if (!table) {
        warnings.push(`${right.join('_')} is not a table the project's migrations create; the migration assumes it exists. ${knownTables(schema)}`);
      } else {
        for (const c of columns) {
          if (table.columns[c]) throw unresolved(`"${name}": ${table.name} already has a column ${c}.`, `Columns of ${table.name}: ${columnsOf(table)}.`);
        }
      }
      return { kind: 'add-columns', table: table?.name ?? right.join('_'), columns };
    },
  },
  {
    kind: 'drop-columns',
    pattern: 'drop_<column>[_and_<column>…]_from_<table>',
    example: 'drop_legacy_status_from_orders',
    needsSchema: true,
    matches: (w) => (startsWith(w, 'drop') || startsWith(w, 'remove')) && contains(w.slice(2, -1), 'from'),
    resolve: (w, schema, warnings) => {
      const name = w.join('_');
      const options = cuts(w.slice(1), 'from');
      const chosen = options.find(([, right]) => schema.table(right.join('_')));
      if (!chosen) throw unresolved(`"${name}" names the table ${options[0]![1].join('_')}, which the project's migrations do not create.`, knownTables(schema));
      const [left, right] = chosen;
      const table = schema.table(right.join('_'))!;
      const words = left[left.length - 1] === 'column' || left[left.length - 1] === 'columns' ? left.slice(0, -1) : left;
      const segmentations = segmentColumns(words, table);
      const columns = pickOne(segmentations, (s) => s.join(', '), warnings, name);
      if (!columns) {
        throw unresolved(`"${name}": ${table.name} has no column ${splitAnd(words).join(' or ')} to drop.`, `Columns of ${table.name}: ${columnsOf(table)}.`);
      }
      return { kind: 'drop-columns', table: table.name, columns };
    },
  },
  {
    kind: 'rename-table',
    pattern: 'rename_<old>_table_to_<new>  |  rename_table_<old>_to_<new>',
    example: 'rename_customers_table_to_clients',
    needsSchema: true,
    matches: (w) => startsWith(w, 'rename') && (w[1] === 'table' || cuts(w, 'to').some(([l]) => l[l.length - 1] === 'table')) && !contains(w, 'in'),
    resolve: (w, schema) => {
      const name = w.join('_');
      for (const [left, right] of cuts(w.slice(1), 'to')) {
        const old = (left[0] === 'table' ? left.slice(1) : left[left.length - 1] === 'table' ? left.slice(0, -1) : left).join('_');
        const table = schema.table(old);
        if (!table) continue;
        const to = right.join('_');
        if (schema.nameTaken(to)) throw unresolved(`"${name}": a relation named ${to} already exists.`, 'Pick another name.');
        return { kind: 'rename-table', from: table.name, to };
      }
      throw unresolved(`"${name}" names a table the project's migrations do not create.`, knownTables(schema));
    },
  },
  {
    kind: 'rename-column',
    pattern: 'rename_<old>_to_<new>_in_<table>',
    example: 'rename_name_to_full_name_in_users',
    needsSchema: true,
    matches: (w) => startsWith(w, 'rename') && contains(w.slice(2), 'to'),
    resolve: (w, schema) => {
      const name = w.join('_');
      if (!contains(w, 'in')) {
        // rename_<old>_to_<new>: a table, when old is one.
        for (const [left, right] of cuts(w.slice(1), 'to')) {
          const table = schema.table(left.join('_'));
          if (table) {
            const to = right.join('_');
            if (schema.nameTaken(to)) throw unresolved(`"${name}": a relation named ${to} already exists.`, 'Pick another name.');
            return { kind: 'rename-table', from: table.name, to };
          }
        }
        throw unresolved(`"${name}" does not say which table the column is in.`, 'Name it rename_<old>_to_<new>_in_<table> (or rename_<old>_table_to_<new> for a table).');
      }
      const { left, table } = inTable(w.slice(1), schema, name, ['in']);
      return { kind: 'rename-column', table: table.name, ...resolveRename(left, table, name) };
    },
  },
  {
    kind: 'change-type',
    pattern: 'change_<column>_to_<type>_in_<table>',
    example: 'change_price_to_decimal_10_2_in_products',
    needsSchema: true,
    matches: (w) => (startsWith(w, 'change') || startsWith(w, 'alter')) && contains(w.slice(2), 'to') && contains(w.slice(3), 'in'),
    resolve: (w, schema) => {
      const name = w.join('_');
      const { left, table } = inTable(w.slice(1), schema, name, ['in']);
      for (const [colWords, typeWords] of cuts(left, 'to')) {
        const column = (colWords[colWords.length - 1] === 'type' ? colWords.slice(0, -1) : colWords).join('_');
        if (table.columns[column]) return { kind: 'change-type', table: table.name, column, type: typeWords };
      }
      const guess = cuts(left, 'to')[0];
      throw unresolved(`"${name}": ${table.name} has no column ${guess ? guess[0].join('_') : left.join('_')} to change.`, `Columns of ${table.name}: ${columnsOf(table)}.`);
    },
  },
  {
    kind: 'set-not-null',
    pattern: 'set_<column>_not_null_in_<table>',
    example: 'set_email_not_null_in_users',
    needsSchema: true,
    matches: (w) => (startsWith(w, 'set') || startsWith(w, 'make')) && cuts(w, 'in').some(([l]) => endsWith(l, 'not', 'null') && l.length >= 4),
    resolve: (w, schema) => {
      const name = w.join('_');
      const { left, table } = inTable(w.slice(1), schema, name, ['in', 'on']);
      const column = existingColumn(table, left.slice(0, -2).join('_'), name, 'make NOT NULL');
      if (!table.columns[column]!.nullable) throw unresolved(`"${name}": ${table.name}.${column} is already NOT NULL.`, 'Nothing to do.');
      return { kind: 'set-not-null', table: table.name, column };
    },
  },
  {
    kind: 'drop-not-null',
    pattern: 'set_<column>_nullable_in_<table>',
    example: 'set_phone_nullable_in_users',
    needsSchema: true,
    matches: (w) => (startsWith(w, 'set') || startsWith(w, 'make')) && cuts(w, 'in').some(([l]) => endsWith(l, 'nullable') && l.length >= 3),
    resolve: (w, schema) => {
      const name = w.join('_');
      const { left, table } = inTable(w.slice(1), schema, name, ['in', 'on']);
      const column = existingColumn(table, left.slice(0, -1).join('_'), name, 'make nullable');
      if (table.columns[column]!.nullable) throw unresolved(`"${name}": ${table.name}.${column} is already nullable.`, 'Nothing to do.');
      return { kind: 'drop-not-null', table: table.name, column };
    },
  },
  {
    kind: 'backfill',
    pattern: 'backfill_<table>_<column>  (--set "<SQL expression>")',
    example: 'backfill_users_display_name --set "first_name || \' \' || last_name"',
    needsSchema: true,
    matches: (w) => startsWith(w, 'backfill') && w.length >= 3,
    resolve: (w, schema, warnings) => {
      const name = w.join('_');
      const found = pickOne(tableThenColumns(w.slice(1), schema, 1), (c) => `${c.table.name}.${c.columns[0]}`, warnings, name);
      if (!found) throw unresolvedTableColumns(w.slice(1), schema, name);
      return { kind: 'backfill', table: found.table.name, column: found.columns[0]! };
    },
  },
];

function unresolvedTableColumns(words: string[], schema: SchemaView, name: string): KnexsafeError {
  for (let i = words.length - 1; i >= 1; i--) {
    const table = schema.table(words.slice(0, i).join('_'));
    if (table) {
      return unresolved(`"${name}": ${table.name} has no column(s) ${words.slice(i).join('_')}.`, `Columns of ${table.name}: ${columnsOf(table)}.`);
    }
  }
  return unresolved(`"${name}": no table of the project starts the part ${words.join('_')}.`, knownTables(schema));
}

function resolveForeignKey(words: string[], schema: SchemaView, warnings: string[], name: string): Intent {
  type Candidate = { table: TableInfo; columns: string[]; ref: TableInfo; refColumns: string[] };
  const candidates: Candidate[] = [];
  const refKey = (ref: TableInfo, count: number): string[] | undefined => {
    const pk = schema.primaryKey(ref);
    if (pk && pk.columns.length === count) return pk.columns;
    if (count === 1 && ref.columns.id) return ['id'];
    return undefined;
  };
  for (const [left, right] of cuts(words, 'to')) {
    for (const { table, columns } of tableThenColumns(left, schema)) {
      const whole = schema.table(right.join('_'));
      if (whole) {
        const key = refKey(whole, columns.length);
        if (key) candidates.push({ table, columns, ref: whole, refColumns: key });
      }
      for (const r of tableThenColumns(right, schema, columns.length)) candidates.push({ table, columns, ref: r.table, refColumns: r.columns });
    }
  }
  if (candidates.length === 0) {
    for (const { table, columns } of tableThenColumns(words, schema, 1)) {
      const ref = referencedTableOf(columns[0]!, schema);
      const key = ref ? refKey(ref, 1) : undefined;
      if (ref && key) candidates.push({ table, columns, ref, refColumns: key });
    }
  }
  const found = pickOne(candidates, (c) => `${c.table.name}(${c.columns.join(', ')}) → ${c.ref.name}(${c.refColumns.join(', ')})`, warnings, name);
  if (!found) {
    const plain = tableThenColumns(words, schema)[0];
    if (plain) {
      throw unresolved(
        `"${name}": knexsafe cannot tell which table ${plain.table.name}.${plain.columns.join(', ')} should refer to.`,
        `Say it: add_foreign_key_on_${plain.table.name}_${plain.columns.join('_')}_to_<table>. ${knownTables(schema)}`,
      );
    }
    throw unresolvedTableColumns(cuts(words, 'to')[0]?.[0] ?? words, schema, name);
  }
  return { kind: 'add-foreign-key', table: found.table.name, columns: found.columns, references: { table: found.ref.name, columns: found.refColumns } };
}

/** The shape a name has, or undefined (knex's plain stub then). */
export function matchShape(words: string[]): Shape | undefined {
  return SHAPES.find((s) => s.matches(words));
}

/** The grammar, one line per shape, for --help, docs and the unknown-name warning. */
export function grammarLines(): string[] {
  return SHAPES.map((s) => s.pattern);
}

/** The intent of a snake_case name against a schema; undefined when no shape matches. */
export function understand(name: string, schema: SchemaView, warnings: string[] = []): { shape: Shape; intent: Intent } | undefined {
  const words = name.split('_').filter(Boolean);
  const shape = matchShape(words);
  return shape ? { shape, intent: shape.resolve(words, schema, warnings) } : undefined;
}
