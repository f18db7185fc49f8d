import { displayMember, displayName, displaySql } from './names.js';
import { compareText } from '../util/compare-text.js';
import type { ColumnInfo, ConstraintInfo, FunctionInfo, IndexInfo, SchemaChange, SchemaDiff, SchemaObjectKind, SchemaSnapshot, TableInfo } from './types.js';
import { sqlString } from '../codegen/sql.js';

/**
 * Compares two snapshots the way a reviewer reads a schema change. `expected` is the schema that
 * should be there (e.g. before `up`, when checking that `down` restored it), `actual` the one that
 * is. Objects only in `expected` are "missing", objects only in `actual` are "left behind".
 *
 * Differences are reported once, at the highest level: a missing table is one change, not one per
 * column; the indexes, triggers, policies, owned sequences and comments that go with a missing
 * or left-behind table or column are not repeated. Column order is not a difference (PostgreSQL
 * cannot reorder columns; a drop and re-add moves one to the end); it is mentioned in `notes`.
 * The order of changes is stable: by object kind, then by name.
 */
export interface DiffOptions {
  /**
   * Extension versions that differ become a note instead of a change. For comparing databases of
   * different PostgreSQL builds (a PostgreSQL 15 server and PGlite's 18 ship citext 1.6 and 1.8).
   */
  ignoreExtensionVersions?: boolean;
}

export function diffSchemas(expected: SchemaSnapshot, actual: SchemaSnapshot, options: DiffOptions = {}): SchemaDiff {
  const context = new DiffContext();

  diffSchemaNames(context, expected, actual);
  diffExtensions(context, expected, actual, options);
  diffTables(context, expected, actual);
  diffEnums(context, expected, actual);
  diffComposites(context, expected, actual);
  diffDomains(context, expected, actual);
  diffSequences(context, expected, actual);
  diffIndexes(context, expected, actual);
  diffViews(context, expected, actual);
  diffFunctions(context, expected, actual);
  diffTriggers(context, expected, actual);
  diffPolicies(context, expected, actual);
  diffComments(context, expected, actual);

  const changes = SECTION_ORDER.flatMap((section) => context.sections.get(section) ?? []);
  return { equal: changes.length === 0, changes, notes: context.notes };
}

/** Output order: containers first, then tables and what hangs off them, then code, then comments. */
const SECTION_ORDER: readonly SchemaObjectKind[] = ['schema', 'extension', 'enum', 'composite', 'domain', 'sequence', 'table', 'index', 'view', 'function', 'trigger', 'policy', 'comment'];

class DiffContext {
  readonly sections = new Map<SchemaObjectKind, SchemaChange[]>();
  readonly notes: string[] = [];
  /** Tables only in one of the snapshots: what belongs to them is not reported again. */
  readonly tablesAbsentOnOneSide = new Set<string>();
  /** Columns (`schema.table.column`) only in one snapshot, for the same reason (owned sequences). */
  readonly columnsAbsentOnOneSide = new Set<string>();
  /** Comment keys whose object is reported missing or left behind. */
  readonly commentsCovered = new Set<string>();

  /** `section` decides where the change is listed; tables list their columns and constraints with them. */
  add(section: SchemaObjectKind, change: SchemaChange): void {
    const list = this.sections.get(section);
    if (list) list.push(change);
    else this.sections.set(section, [change]);
  }

  missing(section: SchemaObjectKind, kind: SchemaObjectKind, object: string, label: string, expected: unknown): void {
    this.add(section, { kind, object, change: 'missing', expected, message: `${label}: missing` });
  }

  extra(section: SchemaObjectKind, kind: SchemaObjectKind, object: string, label: string, actual: unknown): void {
    this.add(section, { kind, object, change: 'extra', actual, message: `${label}: left behind` });
  }

  changed(section: SchemaObjectKind, kind: SchemaObjectKind, object: string, attribute: string, expected: unknown, actual: unknown, message: string): void {
    this.add(section, { kind, object, change: 'changed', attribute, expected, actual, message });
  }
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareText);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Walks the union of two keyed collections, calling back for missing, extra and common entries. */
function walk<T>(expected: Record<string, T>, actual: Record<string, T>, handlers: { missing(key: string, e: T): void; extra(key: string, a: T): void; both(key: string, e: T, a: T): void }): void {
  for (const key of unionKeys(expected, actual)) {
    const e = expected[key];
    const a = actual[key];
    if (e !== undefined && a === undefined) handlers.missing(key, e);
    else if (e === undefined && a !== undefined) handlers.extra(key, a);
    else if (e !== undefined && a !== undefined) handlers.both(key, e, a);
  }
}

function list(values: readonly string[]): string {
  return `(${values.join(', ')})`;
}

function quoteValues(values: readonly string[]): string {
  return list(values.map(sqlString));
}

function diffSchemaNames(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  const e = Object.fromEntries(expected.schemas.map((s) => [s, true]));
  const a = Object.fromEntries(actual.schemas.map((s) => [s, true]));
  walk(e, a, {
    missing: (name) => {
      context.missing('schema', 'schema', name, `schema ${name}`, name);
      context.commentsCovered.add(`schema ${name}`);
    },
    extra: (name) => {
      context.extra('schema', 'schema', name, `schema ${name}`, name);
      context.commentsCovered.add(`schema ${name}`);
    },
    both: () => undefined,
  });
}

function diffExtensions(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot, options: DiffOptions): void {
  walk(expected.extensions, actual.extensions, {
    missing: (name, e) => context.missing('extension', 'extension', name, `extension ${name}`, e),
    extra: (name, a) => context.extra('extension', 'extension', name, `extension ${name}`, a),
    both: (name, e, a) => {
      if (e.version !== a.version && options.ignoreExtensionVersions) {
        context.notes.push(`extension ${name}: version ${e.version} → ${a.version} (ignored)`);
      } else if (e.version !== a.version) {
        context.changed('extension', 'extension', name, 'version', e.version, a.version, `extension ${name}: version ${e.version} → ${a.version}`);
      }
      if (e.schema !== a.schema) {
        context.changed('extension', 'extension', name, 'schema', e.schema, a.schema, `extension ${name}: schema ${e.schema} → ${a.schema}`);
      }
    },
  });
}

function coverTable(context: DiffContext, key: string, table: TableInfo): void {
  context.tablesAbsentOnOneSide.add(key);
  context.commentsCovered.add(`table ${key}`);
  for (const column of Object.keys(table.columns)) {
    context.columnsAbsentOnOneSide.add(`${key}.${column}`);
    context.commentsCovered.add(`column ${key}.${column}`);
  }
  for (const constraint of Object.keys(table.constraints)) context.commentsCovered.add(`constraint ${key}.${constraint}`);
}

function diffTables(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  walk(expected.tables, actual.tables, {
    missing: (key, e) => {
      coverTable(context, key, e);
      context.missing('table', 'table', key, `table ${displayName(key)}`, e);
    },
    extra: (key, a) => {
      coverTable(context, key, a);
      context.extra('table', 'table', key, `table ${displayName(key)}`, a);
    },
    both: (key, e, a) => diffTable(context, key, e, a),
  });
}

function partitionText(info: TableInfo['partitionOf']): string {
  return info ? `partition of ${displayName(info.parent)} ${info.bound}` : 'none';
}

function diffTable(context: DiffContext, key: string, e: TableInfo, a: TableInfo): void {
  const name = displayName(key);
  const tableChange = (attribute: string, ev: unknown, av: unknown, text: string) => context.changed('table', 'table', key, attribute, ev, av, `table ${name}: ${text}`);

  if (e.kind !== a.kind) tableChange('kind', e.kind, a.kind, `kind ${e.kind} → ${a.kind}`);
  if (!same(e.partitionOf ?? null, a.partitionOf ?? null)) {
    tableChange('partitionOf', e.partitionOf ?? null, a.partitionOf ?? null, `${partitionText(e.partitionOf)} → ${partitionText(a.partitionOf)}`);
  }
  if ((e.partitionKey ?? null) !== (a.partitionKey ?? null)) {
    tableChange('partitionKey', e.partitionKey ?? null, a.partitionKey ?? null, `partition key ${e.partitionKey ?? 'none'} → ${a.partitionKey ?? 'none'}`);
  }
  if (!same(e.inherits ?? [], a.inherits ?? [])) {
    const parents = (list_: string[] | undefined) => (list_?.length ? list_.map(displayName).join(', ') : 'none');
    tableChange('inherits', e.inherits ?? [], a.inherits ?? [], `inherits ${parents(e.inherits)} → ${parents(a.inherits)}`);
  }
  if ((e.unlogged ?? false) !== (a.unlogged ?? false)) {
    const persistence = (unlogged: boolean | undefined) => (unlogged ? 'UNLOGGED' : 'logged');
    tableChange('unlogged', e.unlogged ?? false, a.unlogged ?? false, `${persistence(e.unlogged)} → ${persistence(a.unlogged)}`);
  }
  if (e.rowSecurity !== a.rowSecurity) {
    tableChange('rowSecurity', e.rowSecurity, a.rowSecurity, `row level security ${onOff(e.rowSecurity)} → ${onOff(a.rowSecurity)}`);
  }
  if (e.forceRowSecurity !== a.forceRowSecurity) {
    tableChange('forceRowSecurity', e.forceRowSecurity, a.forceRowSecurity, `forced row level security ${onOff(e.forceRowSecurity)} → ${onOff(a.forceRowSecurity)}`);
  }

  if ((e.replicaIdentity ?? 'default') !== (a.replicaIdentity ?? 'default')) {
    tableChange('replicaIdentity', e.replicaIdentity ?? 'default', a.replicaIdentity ?? 'default', `replica identity ${e.replicaIdentity ?? 'default'} → ${a.replicaIdentity ?? 'default'}`);
  }
  if ((e.clusterOn ?? null) !== (a.clusterOn ?? null)) {
    tableChange('clusterOn', e.clusterOn ?? null, a.clusterOn ?? null, `cluster on ${e.clusterOn ?? 'none'} → ${a.clusterOn ?? 'none'}`);
  }
  if (!same(e.options ?? [], a.options ?? [])) {
    tableChange('options', e.options ?? [], a.options ?? [], `storage parameters ${settingList(e.options)} → ${settingList(a.options)}`);
  }

  // Columns in the expected physical order, then the left-behind ones in theirs.
  const columnNames = [...e.columnOrder, ...a.columnOrder.filter((c) => !(c in e.columns))];
  for (const column of columnNames) {
    const object = `${key}.${column}`;
    const label = displayMember(key, column);
    const ec = e.columns[column];
    const ac = a.columns[column];
    if (ec && !ac) {
      context.columnsAbsentOnOneSide.add(object);
      context.commentsCovered.add(`column ${object}`);
      context.missing('table', 'column', object, `column ${label}`, ec);
    } else if (!ec && ac) {
      context.columnsAbsentOnOneSide.add(object);
      context.commentsCovered.add(`column ${object}`);
      context.extra('table', 'column', object, `column ${label}`, ac);
    } else if (ec && ac) {
      diffColumn(context, object, label, ec, ac);
    }
  }

  const commonExpected = e.columnOrder.filter((c) => c in a.columns);
  const commonActual = a.columnOrder.filter((c) => c in e.columns);
  if (!same(commonExpected, commonActual)) {
    context.notes.push(`${name}: column order differs, ${list(commonExpected)} → ${list(commonActual)} (not a difference: order does not change behaviour)`);
  }

  diffConstraints(context, key, e.constraints, a.constraints);
}

function settingList(values: readonly string[] | undefined): string {
  return values?.length ? list(values) : 'none';
}

function onOff(value: boolean): string {
  return value ? 'enabled' : 'disabled';
}

function nullability(nullable: boolean): string {
  return nullable ? 'nullable' : 'NOT NULL';
}

function diffColumn(context: DiffContext, object: string, label: string, e: ColumnInfo, a: ColumnInfo): void {
  const change = (attribute: string, ev: unknown, av: unknown, text: string) => context.changed('table', 'column', object, attribute, ev, av, `${label}: ${text}`);
  if (e.type !== a.type) change('type', e.type, a.type, `type ${displayName(e.type)} → ${displayName(a.type)}`);
  if (e.nullable !== a.nullable) change('nullable', e.nullable, a.nullable, `${nullability(e.nullable)} → ${nullability(a.nullable)}`);
  if (e.default !== a.default) change('default', e.default, a.default, `default ${displaySql(e.default)} → ${displaySql(a.default)}`);
  if (e.identity !== a.identity) {
    change('identity', e.identity, a.identity, `identity ${e.identity ? `generated ${e.identity}` : 'none'} → ${a.identity ? `generated ${a.identity}` : 'none'}`);
  }
  if (e.generated !== a.generated) {
    change('generated', e.generated, a.generated, `generated ${displaySql(e.generated)} → ${displaySql(a.generated)}`);
  }
  if (e.collation !== a.collation) {
    change('collation', e.collation, a.collation, `collation ${e.collation ?? 'default'} → ${a.collation ?? 'default'}`);
  }
  if ((e.storage ?? null) !== (a.storage ?? null)) {
    change('storage', e.storage ?? null, a.storage ?? null, `storage ${e.storage ?? 'default'} → ${a.storage ?? 'default'}`);
  }
  if ((e.statistics ?? null) !== (a.statistics ?? null)) {
    change('statistics', e.statistics ?? null, a.statistics ?? null, `statistics ${e.statistics ?? 'default'} → ${a.statistics ?? 'default'}`);
  }
  if (!same(e.options ?? [], a.options ?? [])) {
    change('options', e.options ?? [], a.options ?? [], `options ${settingList(e.options)} → ${settingList(a.options)}`);
  }
  if ((e.compression ?? null) !== (a.compression ?? null)) {
    change('compression', e.compression ?? null, a.compression ?? null, `compression ${e.compression ?? 'default'} → ${a.compression ?? 'default'}`);
  }
}

/** pg_get_constraintdef ends with NOT VALID for unvalidated constraints: compared separately. */
function definitionWithoutValidation(constraint: ConstraintInfo): string {
  return constraint.definition.replace(/ NOT VALID$/, '');
}

function diffConstraints(context: DiffContext, tableKey: string, expected: Record<string, ConstraintInfo>, actual: Record<string, ConstraintInfo>): void {
  const missing: ConstraintInfo[] = [];
  const extra: ConstraintInfo[] = [];
  walk(expected, actual, {
    missing: (_, e) => missing.push(e),
    extra: (_, a) => extra.push(a),
    both: (name, e, a) => {
      const object = `${tableKey}.${name}`;
      const label = `constraint ${name}`;
      if (e.kind !== a.kind || definitionWithoutValidation(e) !== definitionWithoutValidation(a)) {
        context.changed(
          'table',
          'constraint',
          object,
          'definition',
          e.definition,
          a.definition,
          `${label}: ${displaySql(definitionWithoutValidation(e))} → ${displaySql(definitionWithoutValidation(a))}`,
        );
      } else if (e.validated !== a.validated) {
        context.changed('table', 'constraint', object, 'validated', e.validated, a.validated, `${label}: ${validity(e.validated)} → ${validity(a.validated)}`);
      }
    },
  });
  // The same constraint under another name (knex's users_email_unique vs PostgreSQL's users_email_key).
  const renamed = pairRenames(missing, extra, (c) => `${c.kind} ${c.definition}`);
  for (const [e, a] of renamed) {
    context.changed('table', 'constraint', `${tableKey}.${e.name}`, 'name', e.name, a.name, `constraint ${e.name}: renamed to ${a.name}`);
  }
  for (const e of missing.filter((c) => !renamed.some(([m]) => m === c))) {
    context.commentsCovered.add(`constraint ${tableKey}.${e.name}`);
    context.missing('table', 'constraint', `${tableKey}.${e.name}`, `constraint ${e.name}`, e);
  }
  for (const a of extra.filter((c) => !renamed.some(([, x]) => x === c))) {
    context.commentsCovered.add(`constraint ${tableKey}.${a.name}`);
    context.extra('table', 'constraint', `${tableKey}.${a.name}`, `constraint ${a.name}`, a);
  }
}

function validity(validated: boolean): string {
  return validated ? 'validated' : 'NOT VALID';
}

/** Pairs missing and extra objects with the same name-independent shape, one to one, in name order. */
function pairRenames<T>(missing: readonly T[], extra: readonly T[], shape: (item: T) => string): [T, T][] {
  const pairs: [T, T][] = [];
  const taken = new Set<T>();
  for (const m of missing) {
    const match = extra.find((x) => !taken.has(x) && shape(x) === shape(m));
    if (match) {
      taken.add(match);
      pairs.push([m, match]);
    }
  }
  return pairs;
}

function diffEnums(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  walk(expected.enums, actual.enums, {
    missing: (key, e) => {
      context.commentsCovered.add(`type ${key}`);
      context.missing('enum', 'enum', key, `type ${displayName(key)}`, e);
    },
    extra: (key, a) => {
      context.commentsCovered.add(`type ${key}`);
      context.extra('enum', 'enum', key, `type ${displayName(key)}`, a);
    },
    both: (key, e, a) => {
      if (!same(e.values, a.values)) {
        context.changed('enum', 'enum', key, 'values', e.values, a.values, `type ${displayName(key)}: values ${quoteValues(e.values)} → ${quoteValues(a.values)}`);
      }
    },
  });
}

function diffComposites(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  const attributes = (attrs: { name: string; type: string }[]) => list(attrs.map((x) => `${x.name} ${displayName(x.type)}`));
  walk(expected.composites, actual.composites, {
    missing: (key, e) => {
      context.commentsCovered.add(`type ${key}`);
      context.missing('composite', 'composite', key, `type ${displayName(key)}`, e);
    },
    extra: (key, a) => {
      context.commentsCovered.add(`type ${key}`);
      context.extra('composite', 'composite', key, `type ${displayName(key)}`, a);
    },
    both: (key, e, a) => {
      if (!same(e.attributes, a.attributes)) {
        context.changed('composite', 'composite', key, 'attributes', e.attributes, a.attributes, `type ${displayName(key)}: attributes ${attributes(e.attributes)} → ${attributes(a.attributes)}`);
      }
    },
  });
}

function diffDomains(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  walk(expected.domains, actual.domains, {
    missing: (key, e) => {
      context.commentsCovered.add(`domain ${key}`);
      context.missing('domain', 'domain', key, `domain ${displayName(key)}`, e);
    },
    extra: (key, a) => {
      context.commentsCovered.add(`domain ${key}`);
      context.extra('domain', 'domain', key, `domain ${displayName(key)}`, a);
    },
    both: (key, e, a) => {
      const label = `domain ${displayName(key)}`;
      const change = (attribute: string, ev: unknown, av: unknown, text: string) => context.changed('domain', 'domain', key, attribute, ev, av, `${label}: ${text}`);
      if (e.type !== a.type) change('type', e.type, a.type, `type ${displayName(e.type)} → ${displayName(a.type)}`);
      if (e.nullable !== a.nullable) change('nullable', e.nullable, a.nullable, `${nullability(e.nullable)} → ${nullability(a.nullable)}`);
      if (e.default !== a.default) change('default', e.default, a.default, `default ${displaySql(e.default)} → ${displaySql(a.default)}`);
      if (!same(e.checks, a.checks)) {
        change('checks', e.checks, a.checks, `checks ${e.checks.map(displaySql).join(', ') || 'none'} → ${a.checks.map(displaySql).join(', ') || 'none'}`);
      }
    },
  });
}

function ownerGone(context: DiffContext, ownedBy: string | null): boolean {
  return ownedBy !== null && context.columnsAbsentOnOneSide.has(ownedBy);
}

function diffSequences(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  walk(expected.sequences, actual.sequences, {
    missing: (key, e) => {
      context.commentsCovered.add(`sequence ${key}`);
      if (!ownerGone(context, e.ownedBy)) context.missing('sequence', 'sequence', key, `sequence ${displayName(key)}`, e);
    },
    extra: (key, a) => {
      context.commentsCovered.add(`sequence ${key}`);
      if (!ownerGone(context, a.ownedBy)) context.extra('sequence', 'sequence', key, `sequence ${displayName(key)}`, a);
    },
    both: (key, e, a) => {
      const label = `sequence ${displayName(key)}`;
      const change = (attribute: string, ev: unknown, av: unknown, text: string) => context.changed('sequence', 'sequence', key, attribute, ev, av, `${label}: ${text}`);
      if (e.type !== a.type) change('type', e.type, a.type, `type ${e.type} → ${a.type}`);
      if (e.ownedBy !== a.ownedBy) {
        change('ownedBy', e.ownedBy, a.ownedBy, `owned by ${e.ownedBy ? displayName(e.ownedBy) : 'none'} → ${a.ownedBy ? displayName(a.ownedBy) : 'none'}`);
      }
      if (e.increment !== a.increment) change('increment', e.increment, a.increment, `increment ${e.increment} → ${a.increment}`);
      if (e.start !== a.start) change('start', e.start, a.start, `start ${e.start} → ${a.start}`);
    },
  });
}

/** The index definition from ` ON ` on: everything but the index's own name. */
function indexShape(index: IndexInfo): string {
  const from = index.definition.indexOf(' ON ', index.definition.indexOf(' INDEX ') + ' INDEX '.length + index.name.length);
  return `${index.table} ${from >= 0 ? index.definition.slice(from) : index.definition}`;
}

function diffIndexes(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  const missing: [string, IndexInfo][] = [];
  const extra: [string, IndexInfo][] = [];
  walk(expected.indexes, actual.indexes, {
    missing: (key, e) => {
      context.commentsCovered.add(`index ${key}`);
      if (!context.tablesAbsentOnOneSide.has(e.table)) missing.push([key, e]);
    },
    extra: (key, a) => {
      context.commentsCovered.add(`index ${key}`);
      if (!context.tablesAbsentOnOneSide.has(a.table)) extra.push([key, a]);
    },
    both: (key, e, a) => {
      const label = `index ${displayName(key)}`;
      if (e.definition !== a.definition) {
        context.changed('index', 'index', key, 'definition', e.definition, a.definition, `${label}: ${displaySql(e.definition)} → ${displaySql(a.definition)}`);
      } else if (e.valid !== a.valid) {
        context.changed('index', 'index', key, 'valid', e.valid, a.valid, `${label}: ${e.valid ? 'valid' : 'INVALID'} → ${a.valid ? 'valid' : 'INVALID'}`);
      }
    },
  });
  const renamed = pairRenames(missing, extra, ([, index]) => indexShape(index));
  for (const [[key], [actualKey]] of renamed) {
    context.changed('index', 'index', key, 'name', key, actualKey, `index ${displayName(key)}: renamed to ${displayName(actualKey)}`);
  }
  for (const entry of missing) {
    if (!renamed.some(([m]) => m === entry)) context.missing('index', 'index', entry[0], `index ${displayName(entry[0])}`, entry[1]);
  }
  for (const entry of extra) {
    if (!renamed.some(([, x]) => x === entry)) context.extra('index', 'index', entry[0], `index ${displayName(entry[0])}`, entry[1]);
  }
  // Rename pairs can interleave with other changes: keep the section in name order.
  context.sections.get('index')?.sort((x, y) => compareText(x.object, y.object));
}

function viewLabel(key: string, materialized: boolean): string {
  return `${materialized ? 'materialized view' : 'view'} ${displayName(key)}`;
}

function diffViews(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  walk(expected.views, actual.views, {
    missing: (key, e) => {
      context.commentsCovered.add(`${e.materialized ? 'materialized view' : 'view'} ${key}`);
      context.missing('view', 'view', key, viewLabel(key, e.materialized), e);
    },
    extra: (key, a) => {
      context.commentsCovered.add(`${a.materialized ? 'materialized view' : 'view'} ${key}`);
      context.extra('view', 'view', key, viewLabel(key, a.materialized), a);
    },
    both: (key, e, a) => {
      const label = viewLabel(key, e.materialized);
      if (e.materialized !== a.materialized) {
        context.changed('view', 'view', key, 'materialized', e.materialized, a.materialized, `${label}: ${e.materialized ? 'materialized' : 'plain'} → ${a.materialized ? 'materialized' : 'plain'}`);
      } else if (e.definition !== a.definition) {
        context.changed('view', 'view', key, 'definition', e.definition, a.definition, `${label}: definition differs`);
      }
    },
  });
}

function functionLabel(fn: FunctionInfo): string {
  const kind = fn.kind === 'window' ? 'function' : fn.kind;
  return `${kind} ${fn.schema === 'public' ? fn.signature : `${fn.schema}.${fn.signature}`}`;
}

function functionCommentKey(key: string, fn: FunctionInfo): string {
  return `${fn.kind === 'procedure' ? 'procedure' : 'function'} ${key}`;
}

function diffFunctions(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  walk(expected.functions, actual.functions, {
    missing: (key, e) => {
      context.commentsCovered.add(functionCommentKey(key, e));
      context.missing('function', 'function', key, functionLabel(e), e);
    },
    extra: (key, a) => {
      context.commentsCovered.add(functionCommentKey(key, a));
      context.extra('function', 'function', key, functionLabel(a), a);
    },
    both: (key, e, a) => {
      const label = functionLabel(e);
      const change = (attribute: string, ev: unknown, av: unknown, text: string) => context.changed('function', 'function', key, attribute, ev, av, `${label}: ${text}`);
      if (e.kind !== a.kind) change('kind', e.kind, a.kind, `kind ${e.kind} → ${a.kind}`);
      if (e.returns !== a.returns) change('returns', e.returns, a.returns, `returns ${displaySql(e.returns)} → ${displaySql(a.returns)}`);
      if (e.language !== a.language) change('language', e.language, a.language, `language ${e.language} → ${a.language}`);
      // The definition repeats kind, result and language: only worth its own line when they agree.
      if (e.kind === a.kind && e.returns === a.returns && e.language === a.language && e.definition !== a.definition) {
        change('definition', e.definition, a.definition, 'definition differs');
      }
    },
  });
}

function memberLabel(kind: string, table: string, name: string): string {
  return `${kind} ${name} on ${displayName(table)}`;
}

function diffTriggers(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  walk(expected.triggers, actual.triggers, {
    missing: (key, e) => {
      context.commentsCovered.add(`trigger ${key}`);
      if (!context.tablesAbsentOnOneSide.has(e.table)) context.missing('trigger', 'trigger', key, memberLabel('trigger', e.table, e.name), e);
    },
    extra: (key, a) => {
      context.commentsCovered.add(`trigger ${key}`);
      if (!context.tablesAbsentOnOneSide.has(a.table)) context.extra('trigger', 'trigger', key, memberLabel('trigger', a.table, a.name), a);
    },
    both: (key, e, a) => {
      const label = memberLabel('trigger', e.table, e.name);
      if (e.definition !== a.definition) {
        context.changed('trigger', 'trigger', key, 'definition', e.definition, a.definition, `${label}: ${displaySql(e.definition)} → ${displaySql(a.definition)}`);
      }
      if (e.enabled !== a.enabled) {
        context.changed('trigger', 'trigger', key, 'enabled', e.enabled, a.enabled, `${label}: ${onOff(e.enabled)} → ${onOff(a.enabled)}`);
      }
    },
  });
}

function diffPolicies(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  walk(expected.policies, actual.policies, {
    missing: (key, e) => {
      context.commentsCovered.add(`policy ${key}`);
      if (!context.tablesAbsentOnOneSide.has(e.table)) context.missing('policy', 'policy', key, memberLabel('policy', e.table, e.name), e);
    },
    extra: (key, a) => {
      context.commentsCovered.add(`policy ${key}`);
      if (!context.tablesAbsentOnOneSide.has(a.table)) context.extra('policy', 'policy', key, memberLabel('policy', a.table, a.name), a);
    },
    both: (key, e, a) => {
      const label = memberLabel('policy', e.table, e.name);
      const change = (attribute: string, ev: unknown, av: unknown, text: string) => context.changed('policy', 'policy', key, attribute, ev, av, `${label}: ${text}`);
      if (e.command !== a.command) change('command', e.command, a.command, `command ${e.command} → ${a.command}`);
      if (e.permissive !== a.permissive) {
        change('permissive', e.permissive, a.permissive, `${e.permissive ? 'permissive' : 'restrictive'} → ${a.permissive ? 'permissive' : 'restrictive'}`);
      }
      if (!same(e.roles, a.roles)) change('roles', e.roles, a.roles, `roles ${e.roles.join(', ')} → ${a.roles.join(', ')}`);
      if (e.using !== a.using) change('using', e.using, a.using, `using ${displaySql(e.using)} → ${displaySql(a.using)}`);
      if (e.withCheck !== a.withCheck) change('withCheck', e.withCheck, a.withCheck, `with check ${displaySql(e.withCheck)} → ${displaySql(a.withCheck)}`);
    },
  });
}

/** `column public.users.email` → `column users.email`. */
function commentLabel(key: string): string {
  return key.replace(/^((?:materialized )?\w+) public\./, '$1 ');
}

function diffComments(context: DiffContext, expected: SchemaSnapshot, actual: SchemaSnapshot): void {
  for (const key of unionKeys(expected.comments, actual.comments)) {
    if (context.commentsCovered.has(key)) continue;
    const e = expected.comments[key] ?? null;
    const a = actual.comments[key] ?? null;
    if (e === a) continue;
    const text = `comment on ${commentLabel(key)}: ${e === null ? 'none' : sqlString(e)} → ${a === null ? 'none' : sqlString(a)}`;
    if (e !== null && a === null) context.add('comment', { kind: 'comment', object: key, change: 'missing', expected: e, message: text });
    else if (e === null && a !== null) context.add('comment', { kind: 'comment', object: key, change: 'extra', actual: a, message: text });
    else context.changed('comment', 'comment', key, 'text', e, a, text);
  }
}
