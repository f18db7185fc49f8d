import { shortName, tableName } from '../helpers.js';
import type { ColumnInfo, SchemaSnapshot } from '../../schema/types.js';
import type { Rule, RuleContext } from '../types.js';
import { firstTokenOnOrAfterLine, methodCalls, stringArg, tokensOf } from '../js-source.js';
import { formatCount } from '../../util/format-count.js';
import {
  NEXT_MIGRATION,
  bareName,
  columnSql,
  concurrentIndexLines,
  constraintOnRenamedColumn,
  guardedTransaction,
  ident,
  indexOnRenamedColumn,
  indexUsesColumn,
  jsString,
  limitName,
  pgObjectName,
  rawCall,
  schemaBuilder,
  sqlName,
  sqlNameBeside,
} from '../../codegen/index.js';

const BATCH_SIZE = 10_000;

function syncFunctionSql(fn: string, from: string, to: string): string {
  const o = ident(from);
  const n = ident(to);
  return [
    `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$`,
    `BEGIN`,
    `  IF TG_OP = 'INSERT' THEN`,
    `    NEW.${n} := COALESCE(NEW.${n}, NEW.${o});`,
    `    NEW.${o} := COALESCE(NEW.${o}, NEW.${n});`,
    `  ELSIF NEW.${o} IS DISTINCT FROM OLD.${o} THEN`,
    `    NEW.${n} := NEW.${o};`,
    `  ELSIF NEW.${n} IS DISTINCT FROM OLD.${n} THEN`,
    `    NEW.${o} := NEW.${n};`,
    `  ELSE`,
    `    NEW.${n} := COALESCE(NEW.${n}, NEW.${o});`,
    `  END IF;`,
    `  RETURN NEW;`,
    `END $$`,
  ].join('\n');
}

/** The indexes on `column` of `table` (not backing a constraint): as a key column, in an expression or in the predicate. */
function indexesOf(before: SchemaSnapshot, table: string, column: string) {
  return Object.values(before.indexes).filter((i) => i.table === table && (i.columns.includes(column) || indexUsesColumn(i.definition, column) === true));
}

/** Indexes and constraints of the old column, re-created by the contract step's down. */
function dependents(before: SchemaSnapshot, table: string, column: string): { indexes: string[]; constraints: string[] } {
  const info = before.tables[table]!;
  return {
    indexes: indexesOf(before, table, column).map((i) => i.definition),
    constraints: Object.values(info.constraints)
      .filter((c) => c.columns.includes(column))
      .map((c) => `ALTER TABLE ${sqlName(table)} ADD CONSTRAINT ${ident(c.name)} ${c.definition}`),
  };
}

/**
 * The old column's indexes and constraints, built again on the new one: under a temporary name in
 * the backfill step (indexes CONCURRENTLY, foreign keys and checks NOT VALID then VALIDATE), given
 * the old names in the contract step once the old column (and what hung on it) is gone. Those the
 * recipe cannot build this way (primary keys, exclusion or deferrable constraints) are left as
 * comments.
 */
interface Rebuilt {
  /** Backfill step, after the copy (body lines, unindented). */
  build: string[];
  /** Backfill step's down. */
  unbuild: string[];
  /** Contract step, after the old column is dropped. */
  rename: string[];
  /** Contract step's down, before the old column's own are re-created. */
  unrename: string[];
  /** What is left to the user. */
  notes: string[];
}

function rebuildDependents(before: SchemaSnapshot, after: SchemaSnapshot | undefined, table: string, from: string, to: string): Rebuilt {
  const t = sqlName(table);
  // The definitions as they stand once the migration ran (already on the new column), when the
  // object is still there: statements before the rename may have renamed what they name (a
  // referenced table); the snapshot before the migration still has the old names.
  const afterIndex = (name: string) => Object.values(after?.indexes ?? {}).find((i) => i.table === table && i.name === name && indexUsesColumn(i.definition, to) === true);
  const afterConstraint = (name: string) => Object.values(after?.tables[table]?.constraints ?? {}).find((c) => c.name === name && c.columns.includes(to) && !c.columns.includes(from));
  const out: Rebuilt = { build: [], unbuild: [], rename: [], unrename: [], notes: [] };
  // Temporary names as PostgreSQL would shorten them (a 63-byte name plus a suffix cut back to 63
  // bytes would be the name itself), numbered so that two long names cut alike stay apart.
  let made = 0;
  const temporary = (name: string) => pgObjectName(name, undefined, made++ === 0 ? 'new' : `new${made}`);
  // Each build in a block of its own: concurrentIndexLines declares a constant.
  const block = (lines: string[]) => ['{', ...lines.map((l) => `  ${l}`), '}'];
  for (const index of indexesOf(before, table, from)) {
    const tmp = temporary(index.name);
    const current = afterIndex(index.name);
    const create = current ? indexOnRenamedColumn(current.definition, to, to, tmp) : indexOnRenamedColumn(index.definition, from, to, tmp);
    if (!create) {
      out.notes.push(`${index.definition} — create the same on ${to} (CONCURRENTLY) before the contract step.`);
      continue;
    }
    out.build.push(...block(concurrentIndexLines(table, tmp, create)));
    out.unbuild.push(rawCall(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlNameBeside(table, tmp)}`));
    out.rename.push(rawCall(`ALTER INDEX ${sqlNameBeside(table, tmp)} RENAME TO ${ident(index.name)}`));
    out.unrename.push(rawCall(`ALTER INDEX ${sqlNameBeside(table, index.name)} RENAME TO ${ident(tmp)}`));
  }
  for (const c of Object.values(before.tables[table]!.constraints).filter((c) => c.columns.includes(from))) {
    const tmp = temporary(c.name);
    const current = afterConstraint(c.name);
    const rebuilt = c.kind === 'primary' ? undefined : current ? constraintOnRenamedColumn(table, current.definition, to, to, tmp) : constraintOnRenamedColumn(table, c.definition, from, to, tmp);
    if (!rebuilt) {
      out.notes.push(`ALTER TABLE ${t} ADD CONSTRAINT ${ident(c.name)} ${c.definition} — create the same on ${to} before the contract step.`);
      continue;
    }
    if (rebuilt.kind === 'unique') {
      out.build.push(...block(concurrentIndexLines(table, tmp, rebuilt.createIndex)));
      out.unbuild.push(rawCall(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlNameBeside(table, tmp)}`));
      // Attaching the index renames it to the constraint's name.
      out.rename.push(rawCall(`ALTER TABLE ${t} ADD CONSTRAINT ${ident(c.name)} UNIQUE USING INDEX ${ident(tmp)}`));
      out.unrename.push(rawCall(`ALTER TABLE ${t} DROP CONSTRAINT ${ident(c.name)}`), rawCall(rebuilt.createIndex.replace(' CONCURRENTLY IF NOT EXISTS ', ' ')));
    } else {
      out.build.push(...guardedTransaction([rebuilt.add]), ...guardedTransaction([`ALTER TABLE ${t} VALIDATE CONSTRAINT ${ident(tmp)}`]));
      out.unbuild.push(...guardedTransaction([`ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${ident(tmp)}`]));
      out.rename.push(rawCall(`ALTER TABLE ${t} RENAME CONSTRAINT ${ident(tmp)} TO ${ident(c.name)}`));
      out.unrename.push(rawCall(`ALTER TABLE ${t} RENAME CONSTRAINT ${ident(c.name)} TO ${ident(tmp)}`));
    }
  }
  return out;
}

/** Expand / contract in three migrations: add + sync trigger, batched backfill, drop the old column. */
function expandContract(context: RuleContext, table: string, from: string, to: string, column: ColumnInfo): string {
  const before = context.migration.schemaBefore!;
  const t = sqlName(table);
  const o = ident(from);
  const n = ident(to);
  const bare = bareName(table);
  const fn = sqlName(`${table.slice(0, table.length - bare.length)}${limitName(`${bare}_sync_${from}_${to}`)}`);
  const trigger = ident(limitName(`${bare}_sync_${from}_${to}`));
  const check = ident(limitName(`${bare}_${to}_not_null`));
  const notNull = !column.nullable;
  const primary = Object.values(before.tables[table]!.constraints).find((c) => c.kind === 'primary');
  const key = primary?.columns.length === 1 ? ident(primary.columns[0]!) : 'ctid';
  const { indexes, constraints } = dependents(before, table, from);
  const rebuilt = rebuildDependents(before, context.migration.schemaAfter, table, from, to);
  const body = (lines: string[]) => lines.map((l) => `  ${l}`.replace(/\n/g, '\n  '));
  const oldColumn = { ...column, nullable: true, default: null, identity: null };

  const expandUp = [
    `  await ${schemaBuilder(table)}.alterTable(${jsString(bare)}, (table) => {`,
    `    table.specificType(${jsString(to)}, ${jsString(column.type)});`,
    `  });`,
    ...(column.default !== null ? [`  ${rawCall(`ALTER TABLE ${t} ALTER COLUMN ${n} SET DEFAULT ${column.default}`)}`] : []),
    ...(notNull
      ? [`  // Enforced for new rows at once; existing rows are checked after the backfill.`, `  ${rawCall(`ALTER TABLE ${t} ADD CONSTRAINT ${check} CHECK (${n} IS NOT NULL) NOT VALID`)}`]
      : []),
    `  // Keeps ${from} and ${to} equal while the old release (writing ${from}) and the new one (writing ${to}) run side by side.`,
    `  ${rawCall(syncFunctionSql(fn, from, to)).replace(/\n/g, '\n  ')}`,
    `  ${rawCall(`CREATE TRIGGER ${trigger} BEFORE INSERT OR UPDATE ON ${t} FOR EACH ROW EXECUTE PROCEDURE ${fn}()`)}`,
    ...rebuilt.notes.map((note) => `  // ${shortName(table)}.${from} also has: ${note}`),
  ];
  const expandDown = [
    `  ${rawCall(`DROP TRIGGER ${trigger} ON ${t}`)}`,
    `  ${rawCall(`DROP FUNCTION ${fn}()`)}`,
    `  await ${schemaBuilder(table)}.alterTable(${jsString(bare)}, (table) => {`,
    `    table.dropColumn(${jsString(to)});`,
    `  });`,
  ];
  const backfillUp = [
    `  // Batches of ${formatCount(BATCH_SIZE)} rows, each its own short transaction: no long lock on ${shortName(table)}.`,
    `  for (;;) {`,
    `    const result = await knex.raw(${jsString(`UPDATE ${t} SET ${n} = ${o} WHERE ${key} IN (SELECT ${key} FROM ${t} WHERE ${n} IS NULL AND ${o} IS NOT NULL LIMIT ${BATCH_SIZE})`)});`,
    `    if (!result.rowCount) break;`,
    `  }`,
    ...(notNull ? [`  // Scans without blocking writes (SHARE UPDATE EXCLUSIVE).`, `  ${rawCall(`ALTER TABLE ${t} VALIDATE CONSTRAINT ${check}`)}`] : []),
    ...(rebuilt.build.length ? [`  // The indexes and constraints of ${from}, built on ${to} without blocking writes; the contract step gives them their names.`, ...body(rebuilt.build)] : []),
  ];
  const backfillDown = [
    ...body(rebuilt.unbuild),
    ...(notNull
      ? [`  ${rawCall(`ALTER TABLE ${t} DROP CONSTRAINT ${check}`)}`, `  ${rawCall(`ALTER TABLE ${t} ADD CONSTRAINT ${check} CHECK (${n} IS NOT NULL) NOT VALID`)}`]
      : rebuilt.unbuild.length
        ? []
        : [`  // Nothing to undo: the copies go with ${to} when the expand migration is rolled back.`]),
  ];
  const contractUp = [
    ...(notNull
      ? [
          `  // Instant: the validated CHECK proves there are no NULLs (PostgreSQL 12+).`,
          `  ${rawCall(`ALTER TABLE ${t} ALTER COLUMN ${n} SET NOT NULL`)}`,
          `  ${rawCall(`ALTER TABLE ${t} DROP CONSTRAINT ${check}`)}`,
        ]
      : []),
    `  ${rawCall(`DROP TRIGGER ${trigger} ON ${t}`)}`,
    `  ${rawCall(`DROP FUNCTION ${fn}()`)}`,
    // The drop is the point of this step; drop-column would only ask for it again, a release later.
    `  // knexsafe-ignore drop-column: contract step, ${to} holds the same data and nothing uses ${from} any more`,
    `  await ${schemaBuilder(table)}.alterTable(${jsString(bare)}, (table) => {`,
    `    table.dropColumn(${jsString(from)});`,
    `  });`,
    ...(rebuilt.rename.length ? [`  // ${to}'s indexes and constraints take the names ${from}'s had.`, ...body(rebuilt.rename)] : []),
  ];
  const contractDown = [
    ...body(rebuilt.unrename),
    `  ${rawCall(`ALTER TABLE ${t} ADD COLUMN ${columnSql(oldColumn)}`)}`,
    ...(column.default !== null ? [`  ${rawCall(`ALTER TABLE ${t} ALTER COLUMN ${o} SET DEFAULT ${column.default}`)}`] : []),
    `  ${rawCall(`UPDATE ${t} SET ${o} = ${n}`)}`,
    ...(notNull ? [`  ${rawCall(`ALTER TABLE ${t} ALTER COLUMN ${o} SET NOT NULL`)}`] : []),
    ...[...constraints, ...indexes].map((sql) => `  ${rawCall(sql)}`),
    `  ${rawCall(syncFunctionSql(fn, from, to)).replace(/\n/g, '\n  ')}`,
    `  ${rawCall(`CREATE TRIGGER ${trigger} BEFORE INSERT OR UPDATE ON ${t} FOR EACH ROW EXECUTE PROCEDURE ${fn}()`)}`,
    ...(notNull ? [`  ${rawCall(`ALTER TABLE ${t} ADD CONSTRAINT ${check} CHECK (${n} IS NOT NULL)`)}`, `  ${rawCall(`ALTER TABLE ${t} ALTER COLUMN ${n} DROP NOT NULL`)}`] : []),
  ];
  return [
    `// 1. Expand: add ${shortName(table)}.${to} next to ${from}, kept in step by a trigger.`,
    `exports.up = async function (knex) {`,
    ...expandUp,
    `};`,
    ``,
    `exports.down = async function (knex) {`,
    ...expandDown,
    `};`,
    NEXT_MIGRATION,
    `// 2. Backfill ${to} from ${from} in batches, outside a transaction.`,
    `exports.up = async function (knex) {`,
    ...backfillUp,
    `};`,
    ``,
    `exports.down = async function (knex) {`,
    ...backfillDown,
    `};`,
    ``,
    `exports.config = { transaction: false };`,
    NEXT_MIGRATION,
    `// 3. Contract — only after every deployed release reads and writes ${to}: drop ${from}.`,
    `exports.up = async function (knex) {`,
    ...contractUp,
    `};`,
    ``,
    `exports.down = async function (knex) {`,
    ...contractDown,
    `};`,
  ].join('\n');
}

/** Renaming a column breaks the previous release, still running while the deploy rolls out. */
export const renameColumn: Rule = {
  meta: {
    id: 'rename-column',
    category: 'breaking',
    severity: 'warning',
    summary: 'Renaming a column breaks the code of the release still running during the deploy',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'rename' || f.objectType !== 'column') return;
    const table = tableName(context, f.table ?? f.target);
    if (context.tableAge(table) !== 'existing') return;
    const column = context.migration.schemaBefore?.tables[table]?.columns[f.from];
    // The line of the renameColumn() call itself, when the statement came from a schema-builder callback.
    let line = statement.site?.line;
    if (statement.site && !context.migration.sqlFile) {
      const tokens = tokensOf(context.migration.source);
      const from = firstTokenOnOrAfterLine(tokens, statement.site.line);
      const call = methodCalls(tokens, new Set(['renameColumn'])).find((c) => c.nameIndex >= from && stringArg(tokens, c, 0) === f.from && stringArg(tokens, c, 1) === f.to);
      if (call) line = call.line;
    }
    context.report({
      statement: statement.site && line !== undefined ? { ...statement, site: { ...statement.site, line } } : statement,
      table,
      message: `Column ${shortName(table)}.${f.from} is renamed to ${f.to}`,
      why: `App servers still running the previous release keep using ${f.from} and fail (column "${f.from}" does not exist, SQLSTATE 42703) from the moment this commits until every one of them is replaced; ORMs that select every column break even on reads.`,
      fix: column
        ? {
            description: `Expand / contract instead of renaming: add ${f.to}, keep both columns equal with a trigger while old and new code run side by side, backfill in batches, and drop ${f.from} a release later, once nothing uses it.`,
            code: expandContract(context, table, f.from, f.to, column),
          }
        : {
            description: `Expand / contract instead of renaming: add ${f.to}, write both columns, backfill in batches, switch reads to ${f.to}, and drop ${f.from} in a later migration.`,
            code: [
              `exports.up = async function (knex) {`,
              `  await ${schemaBuilder(table)}.alterTable(${jsString(bareName(table))}, (table) => {`,
              `    table.text(${jsString(f.to)}); // same type as ${f.from}`,
              `  });`,
              `};`,
              ``,
              `exports.down = async function (knex) {`,
              `  await ${schemaBuilder(table)}.alterTable(${jsString(bareName(table))}, (table) => {`,
              `    table.dropColumn(${jsString(f.to)});`,
              `  });`,
              `};`,
            ].join('\n'),
          },
    });
  },
};
