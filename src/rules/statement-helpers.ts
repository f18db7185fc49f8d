import type { ColumnInfo, ConstraintInfo, ConstraintKind, SchemaSnapshot } from '../schema/types.js';
import type { ConstraintFacts, QualifiedName, StatementFacts } from '../sql/facts.js';
import { shortName, tableName } from './helpers.js';
import type { AnalyzedStatement, Fix, MigrationUnit, RuleContext } from './types.js';
import { addColumnClause, bareName, columnList, concurrentIndexDefinition, ident, pgObjectName, rawLine, replayLine, sqlName } from '../codegen/index.js';
import { expressionText } from '../sql/expr.js';
import type { Node } from 'libpg-query';

/**
 * Code generation shared by the lock rules of `locks-a.ts` (drop-index-not-concurrent,
 * concurrently-in-transaction, unique-constraint-locks, add-primary-key-locks,
 * foreign-key-not-valid, check-not-valid, validate-in-same-transaction). The shapes follow the
 * write-stall benchmark's fixes (bench/stall/cases/<case>/fix/): each step in a short transaction of
 * its own with a lock timeout, so a step that cannot get its lock fails fast instead of queueing
 * every other query on the table behind it.
 */

/** The table of the snapshot with this qualified name. */
function tableOf(schema: SchemaSnapshot | undefined, table: string) {
  return schema?.tables[table];
}

/**
 * The constraints of the given kinds an ALTER TABLE adds to an existing table, in statement order:
 * `ADD CONSTRAINT …`, and those written inline on an `ADD COLUMN` (given that column).
 */
export function constraintsAddedToExistingTable(statement: AnalyzedStatement, context: RuleContext, kinds: readonly ConstraintFacts['kind'][]): { table: string; constraint: ConstraintFacts }[] {
  const f = statement.facts;
  if (f.kind !== 'alter-table') return [];
  const table = tableName(context, f.table);
  if (context.tableAge(table) === 'new') return [];
  const added: { table: string; constraint: ConstraintFacts }[] = [];
  for (const command of f.commands) {
    if (command.action === 'add-constraint' && kinds.includes(command.constraint.kind)) added.push({ table, constraint: command.constraint });
    else if (command.action === 'add-column') {
      for (const c of command.column.constraints) if (kinds.includes(c.kind)) added.push({ table, constraint: { ...c, columns: [command.column.name] } });
    }
  }
  return added;
}

/**
 * Columns of `columns` that the migration itself adds to `table` (absent before it), with their
 * definition: from the schema after the migration, else from the ADD COLUMN statements.
 */
export function columnsAddedHere(context: RuleContext, table: string, columns: string[]): ColumnInfo[] {
  const unit = context.migration;
  const before = tableOf(unit.schemaBefore, table);
  if (!before) return [];
  const out: ColumnInfo[] = [];
  for (const name of columns) {
    if (before.columns[name]) continue;
    const after = tableOf(unit.schemaAfter, table)?.columns[name];
    if (after) {
      out.push(after);
      continue;
    }
    const added = addedColumnFacts(unit, table, name);
    out.push({ name, type: added?.type ?? 'text', nullable: added?.nullable ?? true, default: added?.default ?? null, identity: null, generated: null, collation: null });
  }
  return out;
}

function addedColumnFacts(unit: MigrationUnit, table: string, column: string): { type: string; nullable: boolean; default: string | null } | undefined {
  for (const s of unit.statements) {
    const f = s.facts;
    if (f.kind !== 'alter-table' || shortName(qualifyLike(f.table, table)) !== shortName(table)) continue;
    for (const c of f.commands) {
      if (c.action === 'add-column' && c.column.name === column) {
        return { type: c.column.type.text ?? 'text', nullable: !c.column.notNull, default: c.column.default?.text ?? null };
      }
    }
  }
  return undefined;
}

function qualifyLike(name: QualifiedName, table: string): string {
  if (name.schema) return `${name.schema}.${name.name}`;
  return table.includes('.') ? `${table.split('.')[0]}.${name.name}` : name.name;
}

/**
 * The constraint as PostgreSQL stored it after the migration (name and `pg_get_constraintdef`
 * definition), matched by name, else as the one new constraint of that kind on those columns.
 */
export function constraintAfter(context: RuleContext, table: string, kind: ConstraintKind, constraint: Pick<ConstraintFacts, 'name' | 'columns'>): ConstraintInfo | undefined {
  const after = tableOf(context.migration.schemaAfter, table);
  if (!after) return undefined;
  if (constraint.name) return after.constraints[constraint.name] ?? Object.values(after.constraints).find((c) => c.name === constraint.name);
  const before = tableOf(context.migration.schemaBefore, table);
  const fresh = Object.values(after.constraints).filter((c) => c.kind === kind && !before?.constraints[c.name]);
  const sameColumns = (c: ConstraintInfo) => constraint.columns.length > 0 && c.columns.length === constraint.columns.length && c.columns.every((x, i) => x === constraint.columns[i]);
  return fresh.find(sameColumns) ?? (fresh.length === 1 ? fresh[0] : undefined);
}

/** PostgreSQL's default constraint name (ChooseConstraintName, cut to 63 bytes as PostgreSQL cuts it). */
export function defaultConstraintName(table: string, columns: string[], suffix: 'key' | 'pkey' | 'fkey' | 'check' | 'excl'): string {
  const bare = bareName(table);
  if (suffix === 'pkey') return pgObjectName(bare, undefined, 'pkey');
  return pgObjectName(bare, columns.length ? columns.join('_') : undefined, suffix);
}

/** The concurrent statements rules care about, with the words for messages. */
export function concurrentStatementLabel(facts: StatementFacts): string | undefined {
  switch (facts.kind) {
    case 'create-index':
      return facts.concurrently ? `CREATE ${facts.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY` : undefined;
    case 'drop':
      return facts.objectType === 'index' && facts.concurrently ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'reindex':
      return facts.concurrently ? `REINDEX ${facts.target.toUpperCase()} CONCURRENTLY` : undefined;
    case 'alter-table':
      return facts.commands.some((c) => c.action === 'detach-partition' && c.concurrently) ? 'DETACH PARTITION CONCURRENTLY' : undefined;
    default:
      return undefined;
  }
}

/** The index of `name` (qualified or bare) in a snapshot. */
export function findIndex(schema: SchemaSnapshot | undefined, name: QualifiedName) {
  if (!schema) return undefined;
  const all = Object.values(schema.indexes).filter((i) => i.name === name.name && (!name.schema || i.schema === name.schema));
  return all.find((i) => i.schema === 'public') ?? all[0];
}

/** The down of a rename: the same rename back (ALTER INDEX b RENAME TO a: the catalog entry, nothing rebuilt). */
function renameInverse(f: Extract<StatementFacts, { kind: 'rename' }>): { down?: string[] } {
  const renamed = { ...(f.target.schema ? { schema: f.target.schema } : {}), name: f.to };
  switch (f.objectType) {
    case 'table':
    case 'index':
    case 'sequence':
    case 'view':
    case 'materialized-view': {
      const keyword = f.objectType === 'materialized-view' ? 'MATERIALIZED VIEW' : f.objectType.toUpperCase();
      return { down: [rawLine(`ALTER ${keyword} ${sqlName(renamed)} RENAME TO ${ident(f.from)}`)] };
    }
    case 'column':
    case 'tabconstraint':
      if (!f.table) return {};
      return { down: [rawLine(`ALTER TABLE ${sqlName(f.table)} RENAME ${f.objectType === 'column' ? 'COLUMN' : 'CONSTRAINT'} ${ident(f.to)} TO ${ident(f.from)}`)] };
    default:
      return {};
  }
}

/**
 * The down of an INSERT … VALUES: a DELETE of each row it inserted, matched on every value it gave
 * (json columns left out: json has no equality). Values bound as parameters are bound again.
 * Nothing for INSERT … SELECT, ON CONFLICT (rows may have existed before) or DEFAULT values.
 */
function insertInverse(statement: AnalyzedStatement, unit: MigrationUnit): { down?: string[] } {
  const f = statement.facts;
  if (f.kind !== 'insert' || f.fromQuery || !f.rows || f.onConflict || f.columns.length === 0) return {};
  type ValuesList = { List?: { items?: Node[] } };
  const insert = (statement.ast as { InsertStmt?: { selectStmt?: { SelectStmt?: { valuesLists?: ValuesList[] } } } }).InsertStmt;
  const rows = insert?.selectStmt?.SelectStmt?.valuesLists;
  if (!rows?.length) return {};
  const qualified = f.table.schema ? `${f.table.schema}.${f.table.name}` : `public.${f.table.name}`;
  const types = unit.schemaAfter?.tables[qualified]?.columns ?? {};
  const compared = f.columns.map((column, at) => ({ column, at })).filter(({ column }) => types[column]?.type !== 'json');
  if (compared.length === 0) return {};
  const bindings = statement.captured?.bindings ?? [];
  const down: string[] = [];
  for (const row of rows) {
    const items = row.List?.items ?? [];
    const values: string[] = [];
    const bound: unknown[] = [];
    for (const { at } of compared) {
      const item = items[at] as (Node & { ParamRef?: { number?: number }; SetToDefault?: unknown }) | undefined;
      if (!item || item.SetToDefault !== undefined) return {};
      const param = item.ParamRef?.number;
      if (param !== undefined) {
        if (param < 1 || param > bindings.length) return {};
        bound.push(bindings[param - 1]);
        values.push(`$${bound.length}`);
        continue;
      }
      const text = expressionText(item);
      if (text === undefined) return {};
      values.push(text);
    }
    down.unshift(replayLine(`DELETE FROM ${sqlName(f.table)} WHERE (${columnList(compared.map((c) => c.column))}) IS NOT DISTINCT FROM (${values.join(', ')})`, bound));
  }
  return { down };
}

/**
 * Up and down lines that undo / redo one statement, for splitting a migration into parts. Returns
 * `undefined` down when knexsafe cannot write the inverse (the caller says so in the fix).
 */
export function inverseOf(statement: AnalyzedStatement, unit: MigrationUnit): { down?: string[] } {
  const f = statement.facts;
  const before = unit.schemaBefore;
  const after = unit.schemaAfter;
  const table = (name: QualifiedName) => (name.schema ? `${name.schema}.${name.name}` : `public.${name.name}`);
  switch (f.kind) {
    case 'select':
    case 'set':
    case 'analyze':
    case 'vacuum':
    case 'reindex':
    case 'comment':
      return { down: [] };
    case 'create-table':
      return { down: [rawLine(`DROP TABLE IF EXISTS ${sqlName(f.table)}`)] };
    case 'insert':
      return insertInverse(statement, unit);
    case 'rename':
      return renameInverse(f);
    case 'create-index': {
      const name = f.name ?? Object.values(after?.indexes ?? {}).find((i) => i.table === table(f.table) && !before?.indexes[`${i.schema}.${i.name}`])?.name;
      if (!name) return {};
      const qualified = f.table.schema ? `${ident(f.table.schema)}.${ident(name)}` : ident(name);
      return { down: [rawLine(`DROP INDEX ${f.concurrently ? 'CONCURRENTLY ' : ''}IF EXISTS ${qualified}`)] };
    }
    case 'drop': {
      if (f.objectType !== 'index') return {};
      const lines: string[] = [];
      for (const n of f.names) {
        const index = findIndex(before, n);
        if (!index) return {};
        lines.push(rawLine(f.concurrently ? concurrentIndexDefinition(index.definition) : index.definition));
      }
      return { down: lines };
    }
    case 'create-extension':
      return { down: [rawLine(`DROP EXTENSION IF EXISTS ${ident(f.name)}`)] };
    case 'create-type':
      return { down: [rawLine(`DROP TYPE IF EXISTS ${sqlName(f.name)}`)] };
    case 'create-trigger':
      return f.replace ? {} : { down: [rawLine(`DROP TRIGGER IF EXISTS ${ident(f.name)} ON ${sqlName(f.table)}`)] };
    case 'create-view':
      return f.replace ? {} : { down: [rawLine(`DROP ${f.materialized ? 'MATERIALIZED ' : ''}VIEW IF EXISTS ${sqlName(f.view)}`)] };
    case 'alter-table': {
      // The table and its columns as they were before the migration, through renames earlier in it.
      const { name: beforeName, column: columnBefore } = namesBefore(statement, unit, f.table);
      const old = before?.tables[table(beforeName)];
      const oldColumn = (c: string) => old?.columns[columnBefore(c)];
      const clauses: string[] = [];
      for (const c of [...f.commands].reverse()) {
        switch (c.action) {
          case 'add-column':
            clauses.push(`DROP COLUMN IF EXISTS ${ident(c.column.name)}`);
            break;
          case 'add-constraint': {
            const name = c.constraint.name ?? c.constraint.usingIndex;
            if (!name) return {};
            clauses.push(`DROP CONSTRAINT IF EXISTS ${ident(name)}`);
            break;
          }
          // Undone only when it changed something (knex's .alter() drops NOT NULL and defaults the column may not have had).
          case 'set-not-null':
            if (oldColumn(c.column)?.nullable !== false) clauses.push(`ALTER COLUMN ${ident(c.column)} DROP NOT NULL`);
            break;
          case 'drop-not-null':
            if (oldColumn(c.column)?.nullable === false) clauses.push(`ALTER COLUMN ${ident(c.column)} SET NOT NULL`);
            break;
          case 'set-default':
          case 'drop-default': {
            const previous = oldColumn(c.column)?.default;
            clauses.push(previous ? `ALTER COLUMN ${ident(c.column)} SET DEFAULT ${previous}` : `ALTER COLUMN ${ident(c.column)} DROP DEFAULT`);
            break;
          }
          case 'drop-column': {
            const column = oldColumn(c.column);
            if (!column) return {};
            clauses.push(addColumnClause({ ...column, name: c.column }));
            break;
          }
          case 'drop-constraint': {
            const constraint = old?.constraints[c.name];
            if (!constraint) return {};
            clauses.push(`ADD CONSTRAINT ${ident(c.name)} ${constraint.definition}`);
            break;
          }
          case 'detach-partition': {
            const partition = before?.tables[table(c.partition)]?.partitionOf;
            if (!partition) return {};
            clauses.push(`ATTACH PARTITION ${sqlName(c.partition)} ${partition.bound}`);
            break;
          }
          default:
            return {};
        }
      }
      return { down: clauses.length ? [rawLine(`ALTER TABLE ${sqlName(f.table)} ${clauses.join(', ')}`)] : [] };
    }
    default:
      return {};
  }
}

/**
 * What `name` (a table `statement` alters) and its columns were called before `unit` ran, following
 * the table and column renames of the statements before it: after knex's renameTable in the same
 * migration, the state to restore is the old table's.
 */
function namesBefore(statement: AnalyzedStatement, unit: MigrationUnit, name: QualifiedName): { name: QualifiedName; column: (column: string) => string } {
  let current = name;
  const columnRenames: { from: string; to: string }[] = [];
  const same = (a: QualifiedName, b: QualifiedName) => a.name === b.name && (a.schema ?? 'public') === (b.schema ?? 'public');
  for (const s of [...unit.statements].reverse()) {
    const r = s.facts;
    if (s.index >= statement.index || r.kind !== 'rename') continue;
    if (r.objectType === 'table' && same({ ...(r.target.schema ? { schema: r.target.schema } : {}), name: r.to }, current)) current = { ...current, name: r.from };
    else if (r.objectType === 'column' && r.table && same(r.table, current)) columnRenames.push({ from: r.from, to: r.to });
  }
  return {
    name: current,
    // Renames seen latest-first: undo them in that order.
    column: (column) => columnRenames.reduce((c, r) => (c === r.to ? r.from : c), column),
  };
}

/** The definition of a constraint without its trailing ` NOT VALID` (as pg_get_constraintdef prints it). */
export function withoutNotValid(definition: string): string {
  return definition.endsWith(' NOT VALID') ? definition.slice(0, -' NOT VALID'.length) : definition;
}

/**
 * The statements of the migration that add `columns` to `table` (knex's `ADD COLUMN` of a column
 * the constraint is on): a fix that adds those columns itself stands for them (see coverAddedColumns).
 */
export function statementsAddingColumns(context: RuleContext, table: string, columns: ColumnInfo[]): Pick<Fix, 'covers' | 'coversAddedColumns'> {
  return coverAddedColumns(
    context,
    table,
    columns.map((c) => c.name),
  );
}

/**
 * What a fix that adds `columns` again covers: the statements that add only them (replaced), and
 * those that add them among other columns (knex's `alterTable` adds every column of the callback in
 * one ALTER TABLE), which keep adding the others.
 */
export function coverAddedColumns(context: RuleContext, table: string, columns: string[]): Pick<Fix, 'covers' | 'coversAddedColumns'> {
  const names = new Set(columns);
  const covers: AnalyzedStatement[] = [];
  const coversAddedColumns: { statement: AnalyzedStatement; columns: string[] }[] = [];
  if (names.size === 0) return {};
  for (const s of context.migration.statements) {
    const f = s.facts;
    if (f.kind !== 'alter-table' || tableName(context, f.table) !== table || f.commands.length === 0) continue;
    const adds = f.commands.filter((c) => c.action === 'add-column' && names.has(c.column.name));
    if (adds.length === 0) continue;
    if (adds.length === f.commands.length) covers.push(s);
    else coversAddedColumns.push({ statement: s, columns: adds.map((c) => (c.action === 'add-column' ? c.column.name : '')) });
  }
  return { covers, ...(coversAddedColumns.length ? { coversAddedColumns } : {}) };
}
