import type { Node } from 'libpg-query';
import type { SchemaSnapshot, TableInfo } from '../schema/types.js';
import { nodeOf } from '../sql/ast.js';
import type { PartitionBoundFacts } from '../sql/facts.js';
import { parseSqlSync } from '../sql/parse.js';
import { compareText } from '../util/compare-text.js';
import { shortName } from './helpers.js';
import { ident, jsString, migrationFile, rawLine, sqlName, transactionLines } from '../codegen/index.js';

/**
 * What rules need to know about partitioned tables (parents, their partitions, the DEFAULT
 * partition) and the online recipe for an index on a partitioned parent. Behaviour checked on
 * PostgreSQL 15 and PGlite's 18: CREATE INDEX CONCURRENTLY on a partitioned table fails ("cannot
 * create index on partitioned table … concurrently"), so does DROP INDEX CONCURRENTLY of a
 * partitioned index; CREATE INDEX … ON ONLY parent is catalog only (an INVALID index, SHARE on the
 * parent alone); ALTER INDEX … ATTACH PARTITION of an index already attached is a no-op, and the
 * parent index turns valid once every partition has one attached.
 */

/** The table when it is a partitioned parent. */
export function partitionedTable(schema: SchemaSnapshot | undefined, table: string): TableInfo | undefined {
  const info = schema?.tables[table];
  return info?.kind === 'partitioned' ? info : undefined;
}

/** The direct partitions of `parent` (qualified), in name order. */
export function partitionsOf(schema: SchemaSnapshot | undefined, parent: string): string[] {
  if (!schema) return [];
  return Object.entries(schema.tables)
    .filter(([, t]) => t.partitionOf?.parent === parent)
    .map(([key]) => key)
    .sort(compareText);
}

/** The DEFAULT partition of `parent`, when it has one. */
export function defaultPartitionOf(schema: SchemaSnapshot | undefined, parent: string): string | undefined {
  if (!schema) return undefined;
  return partitionsOf(schema, parent).find((key) => schema.tables[key]?.partitionOf?.bound === 'DEFAULT');
}

/** An index name for a partition's index: `<partition>_<what the parent's index adds to its table's name>`, cut to 63 bytes. */
function partitionIndexName(parent: string, partition: string, index: string): string {
  const parentName = parent.slice(parent.indexOf('.') + 1);
  const partitionName = partition.slice(partition.indexOf('.') + 1);
  const suffix = index.startsWith(`${parentName}_`) ? index.slice(parentName.length + 1) : index;
  let name = `${partitionName}_${suffix}`;
  while (Buffer.byteLength(name) > 63) name = name.slice(0, -1);
  return name;
}

export interface PartitionedIndex {
  /** The partitioned parent (qualified). */
  parent: string;
  name: string;
  unique: boolean;
  /** Everything after the table name: ` USING gin (…) WHERE …`, ` (email)`. */
  definitionTail: string;
  schema: SchemaSnapshot | undefined;
}

/** The ON ONLY index on a partitioned table, then each partition's index built and attached, depth first. */
function indexLines(index: PartitionedIndex, table: string, name: string, lines: string[]): void {
  const unique = index.unique ? 'UNIQUE ' : '';
  lines.push(...transactionLines([`CREATE ${unique}INDEX IF NOT EXISTS ${ident(name)} ON ONLY ${sqlName(table)}${index.definitionTail}`]));
  for (const partition of partitionsOf(index.schema, table)) {
    const child = partitionIndexName(table, partition, name);
    if (partitionedTable(index.schema, partition)) {
      indexLines(index, partition, child, lines);
    } else {
      const qualified = partition.startsWith('public.') ? ident(child) : `${ident(partition.split('.')[0]!)}.${ident(child)}`;
      lines.push(
        `  // ${shortName(partition)}: built without blocking its writes, then attached (attaching twice is a no-op).`,
        `  if ((await knex.raw(${jsString(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('${qualified.replace(/'/g, "''")}') AND NOT indisvalid`)})).rows.length > 0) {`,
        `    await knex.raw(${jsString(`DROP INDEX CONCURRENTLY ${qualified}`)});`,
        `  }`,
        rawLine(`CREATE ${unique}INDEX CONCURRENTLY IF NOT EXISTS ${ident(child)} ON ${sqlName(partition)}${index.definitionTail}`),
      );
    }
    lines.push(rawLine(`ALTER INDEX ${sqlName(`${table.split('.')[0]}.${name}`)} ATTACH PARTITION ${sqlName(`${partition.split('.')[0]}.${child}`)}`));
  }
}

/** The steps of partitionedIndexMigration's up, for a migration without a transaction. */
export function partitionedIndexLines(index: PartitionedIndex): string[] {
  const lines: string[] = [];
  indexLines(index, index.parent, index.name, lines);
  return lines;
}

/**
 * One migration without a transaction: the parent's index ON ONLY (catalog only), then on each
 * partition CREATE INDEX CONCURRENTLY and ALTER INDEX … ATTACH PARTITION. Every step can run again
 * after a failure; down drops the parent's index, which drops the attached ones with it.
 */
export function partitionedIndexMigration(index: PartitionedIndex): string {
  const up = partitionedIndexLines(index);
  return migrationFile({
    comment: [
      `${shortName(index.parent)} is partitioned: CREATE INDEX CONCURRENTLY is refused on it. Create the index ON ONLY`,
      `the parent (catalog only, INVALID until every partition has its index), build each partition's`,
      `index CONCURRENTLY and attach it. Re-runnable after a failure.`,
    ],
    up,
    down: [
      `  // Dropping the parent's index drops the partitions' attached indexes (CONCURRENTLY is refused on a partitioned index).`,
      rawLine(`DROP INDEX IF EXISTS ${sqlName(`${index.parent.split('.')[0]}.${index.name}`)}`),
    ],
    noTransaction: 'CREATE INDEX CONCURRENTLY cannot run inside a transaction block.',
  });
}

/**
 * The partition key's columns, from pg_get_partkeydef's text (`RANGE (at)`, `LIST (lower(code))`)
 * read with PostgreSQL's parser; undefined for an element that is an expression.
 */
export function partitionKeyColumns(partitionKey: string | undefined): (string | undefined)[] {
  if (!partitionKey) return [];
  try {
    const [statement] = parseSqlSync(`CREATE TABLE knexsafe_key () PARTITION BY ${partitionKey}`);
    const spec = nodeOf<{ partspec?: { partParams?: Node[] } }>(statement?.ast, 'CreateStmt')?.partspec;
    return (spec?.partParams ?? []).map((p) => nodeOf<{ name?: string }>(p, 'PartitionElem')?.name);
  } catch {
    return [];
  }
}

/**
 * A CHECK expression equivalent to the partition constraint PostgreSQL derives from `bound`, for a
 * single-column key (what lets ATTACH PARTITION skip its scan once validated); undefined for
 * multi-column, expression and hash keys.
 */
export function boundCheck(keyColumns: readonly (string | undefined)[], bound: PartitionBoundFacts | undefined): string | undefined {
  const [column, ...more] = keyColumns;
  if (!bound || !column || more.length > 0) return undefined;
  const k = ident(column);
  if (bound.strategy === 'range') {
    const [from, to] = [bound.from[0], bound.to[0]];
    if (bound.from.length !== 1 || bound.to.length !== 1 || from === undefined || to === undefined) return undefined;
    return [`${k} IS NOT NULL`, ...(from !== 'MINVALUE' ? [`${k} >= ${from}`] : []), ...(to !== 'MAXVALUE' ? [`${k} < ${to}`] : [])].join(' AND ');
  }
  if (bound.strategy === 'list') {
    const values = bound.values.filter((v) => v !== 'NULL');
    const inList = values.length > 0 ? `${k} IN (${values.join(', ')})` : undefined;
    if (values.length === bound.values.length) return `${k} IS NOT NULL AND ${inList}`;
    return inList ? `${k} IS NULL OR ${inList}` : `${k} IS NULL`;
  }
  return undefined;
}

/** Whether `table` has a validated CHECK on every key column (what PostgreSQL may use to skip an ATTACH scan). */
export function hasValidatedKeyCheck(schema: SchemaSnapshot | undefined, table: string, keyColumns: readonly (string | undefined)[]): boolean {
  const info = schema?.tables[table];
  if (!info) return false;
  const known = keyColumns.filter((c): c is string => c !== undefined);
  return Object.values(info.constraints).some((c) => c.kind === 'check' && c.validated && known.every((k) => c.columns.includes(k)));
}

/** The partitions of `parent` at every level: leaves (ordinary tables) and, after their own partitions, the partitioned ones. */
export function partitionTree(schema: SchemaSnapshot | undefined, parent: string): { leaves: string[]; partitioned: string[] } {
  const leaves: string[] = [];
  const partitioned: string[] = [];
  const visit = (table: string) => {
    for (const partition of partitionsOf(schema, table)) {
      if (partitionedTable(schema, partition)) {
        visit(partition);
        partitioned.push(partition);
      } else leaves.push(partition);
    }
  };
  visit(parent);
  return { leaves, partitioned };
}

/**
 * A foreign key on a partitioned table before PostgreSQL 18, which refuses NOT VALID there
 * (“cannot add NOT VALID foreign key on partitioned table”, PostgreSQL 15): the key NOT VALID on
 * each partition, validated in a migration of its own, then added to the partitioned tables, bottom
 * up. Checked on PostgreSQL 15: adding it to the parent then attaches the validated partition keys
 * without checking a row again (no “validating foreign key constraint” at debug1). Dropping the
 * parent's key drops the attached ones, hence step 3's down adds them back.
 */
export function partitionedForeignKeyMigrations(parent: string, name: string, definition: string, schema: SchemaSnapshot | undefined): string[] {
  const { leaves, partitioned } = partitionTree(schema, parent);
  const n = ident(name);
  const add = (table: string, notValid: boolean) => `ALTER TABLE ${sqlName(table)} ADD CONSTRAINT ${n} ${definition}${notValid ? ' NOT VALID' : ''}`;
  const drop = (table: string) => `ALTER TABLE ${sqlName(table)} DROP CONSTRAINT IF EXISTS ${n}`;
  return [
    migrationFile({
      comment: [`Step 1 of 3: the key on each partition of partitioned ${shortName(parent)}, not yet checked (brief SHARE ROW EXCLUSIVE, no scan).`],
      up: transactionLines(leaves.map((t) => add(t, true))),
      down: transactionLines(leaves.map(drop)),
      noTransaction: 'Its own short transaction with a lock timeout (above), never shared with step 2.',
    }),
    migrationFile({
      comment: [`Step 2 of 3: check each partition's rows under SHARE UPDATE EXCLUSIVE: reads and writes go on.`],
      up: leaves.flatMap((t) => transactionLines([`ALTER TABLE ${sqlName(t)} VALIDATE CONSTRAINT ${n}`])),
      down: ['  // Back to NOT VALID: drop and re-add without checking the rows.', ...transactionLines(leaves.flatMap((t) => [drop(t), add(t, true)]))],
      noTransaction: 'One transaction per partition: never the one that added the keys.',
    }),
    migrationFile({
      comment: [`Step 3 of 3: the key on ${shortName(parent)} attaches the validated partition keys: no row is checked again.`],
      up: transactionLines([...partitioned, parent].map((t) => add(t, false))),
      down: [`  // Dropping the parent's key drops the partitions' keys attached to it: they are added back, validated.`, ...transactionLines([drop(parent), ...leaves.map((t) => add(t, false))])],
      noTransaction: 'Its own short transaction with a lock timeout (above).',
    }),
  ];
}
