import type {
  A_Const,
  AlterTableCmd,
  AlterTableStmt,
  ColumnDef,
  Constraint,
  CreateStmt,
  IndexElem,
  IndexStmt,
  Node,
  ObjectType,
  RangeVar,
  TypeName,
} from 'libpg-query';
import { scanSync } from 'libpg-query';
import {
  constantValue,
  defElemText,
  defElems,
  integerOf,
  nameFromNode,
  nameFromParts,
  nodeOf,
  relationName,
  stringList,
  unwrap,
  walk,
  type QualifiedName,
} from './ast.js';
import { typeRefFromTypeName, type TypeRef } from './datatypes.js';
import { expressionFacts, expressionText, type ExpressionFacts, type FunctionVolatilityLookup } from './expr.js';
import { LOCK_MODES, type LockMode } from './lock-modes.js';
import { parseSqlSync } from './parse.js';

export type { QualifiedName } from './ast.js';
export type { TypeRef } from './datatypes.js';
export type { ExpressionFacts, Volatility } from './expr.js';

// ---------------------------------------------------------------------------------------------
// Columns and constraints

export type ForeignKeyAction = 'no action' | 'restrict' | 'cascade' | 'set null' | 'set default';

export interface ForeignKeyTarget {
  table: QualifiedName;
  /** Empty when the SQL relies on the referenced table's primary key. */
  columns: string[];
  onDelete: ForeignKeyAction;
  onUpdate: ForeignKeyAction;
  match: 'simple' | 'full' | 'partial';
}

export type ConstraintKind = 'primary' | 'unique' | 'foreign' | 'check' | 'exclusion' | 'not-null';

export interface ConstraintFacts {
  kind: ConstraintKind;
  name?: string;
  /** Constrained columns (for a column constraint: that column). Empty for CHECK. */
  columns: string[];
  /** `NOT VALID`: existing rows are not checked now (CHECK, FOREIGN KEY; NOT NULL on PostgreSQL ≥ 18). */
  notValid: boolean;
  /** `... USING INDEX name` (PRIMARY KEY / UNIQUE over an existing index). */
  usingIndex?: string;
  deferrable: boolean;
  initiallyDeferred: boolean;
  /** `NOT ENFORCED` (PostgreSQL ≥ 18). */
  notEnforced: boolean;
  noInherit: boolean;
  references?: ForeignKeyTarget;
  /** The CHECK expression. */
  expression?: ExpressionFacts;
  /** For `CHECK (col IS NOT NULL)`: the column; such a validated check lets SET NOT NULL skip its scan (PostgreSQL ≥ 12). */
  checksNotNullOf?: string;
  /** Covering columns (`INCLUDE (...)`). */
  include: string[];
  nullsNotDistinct: boolean;
  /** Index method of an EXCLUDE constraint, e.g. `gist`. */
  indexMethod?: string;
}

export interface ColumnFacts {
  name: string;
  type: TypeRef;
  /** `NOT NULL` or `PRIMARY KEY`. */
  notNull: boolean;
  default?: ExpressionFacts;
  identity?: 'always' | 'by default';
  generated?: { kind: 'stored' | 'virtual'; expression: ExpressionFacts };
  /** `serial`, `bigserial`, `smallserial`: an implicit sequence and `nextval()` default. */
  serial: boolean;
  primaryKey: boolean;
  unique: boolean;
  references?: ForeignKeyTarget;
  collation?: string;
  /** The column's PRIMARY KEY / UNIQUE / CHECK / REFERENCES constraints, with `columns: [name]`. */
  constraints: ConstraintFacts[];
}

// ---------------------------------------------------------------------------------------------
// Statements

export interface CreateTableFacts {
  kind: 'create-table';
  table: QualifiedName;
  columns: ColumnFacts[];
  /** Table constraints and the columns' own constraints, in statement order. */
  constraints: ConstraintFacts[];
  ifNotExists: boolean;
  temporary: boolean;
  unlogged: boolean;
  partitionOf?: QualifiedName;
  partitionBy?: 'range' | 'list' | 'hash';
  inherits: QualifiedName[];
  /** Tables copied with `LIKE`. */
  like: QualifiedName[];
}

export interface CreateTableAsFacts {
  kind: 'create-table-as';
  table: QualifiedName;
  ifNotExists: boolean;
  withData: boolean;
  temporary: boolean;
  readsFrom: QualifiedName[];
}

/** One variant per action, so `Extract<AlterTableCommand, { action: 'x' }>` narrows. */
type Each<A extends string, T> = A extends string ? { action: A } & T : never;

export type AlterTableCommand =
  | { action: 'add-column'; column: ColumnFacts; ifNotExists: boolean }
  | { action: 'drop-column'; column: string; ifExists: boolean; cascade: boolean }
  | { action: 'alter-column-type'; column: string; type: TypeRef; using?: ExpressionFacts; collation?: string }
  | { action: 'set-default'; column: string; default: ExpressionFacts }
  | { action: 'drop-default'; column: string }
  | { action: 'set-not-null'; column: string }
  | { action: 'drop-not-null'; column: string }
  | { action: 'add-constraint'; constraint: ConstraintFacts }
  | { action: 'validate-constraint'; name: string }
  | { action: 'drop-constraint'; name: string; ifExists: boolean; cascade: boolean }
  | { action: 'alter-constraint'; name: string }
  | { action: 'set-logged' }
  | { action: 'set-unlogged' }
  | { action: 'enable-trigger'; trigger?: string; scope: 'named' | 'all' | 'user'; mode: 'origin' | 'always' | 'replica' }
  | { action: 'disable-trigger'; trigger?: string; scope: 'named' | 'all' | 'user' }
  | Each<'enable-rule' | 'disable-rule', { rule: string }>
  | { action: 'attach-partition'; partition: QualifiedName; isDefault: boolean; bound?: PartitionBoundFacts }
  | { action: 'detach-partition'; partition: QualifiedName; concurrently: boolean; finalize: boolean }
  | { action: 'set-statistics'; column: string; target?: number }
  | Each<'set-column-options' | 'reset-column-options', { column: string; options: string[] }>
  | { action: 'set-storage'; column: string; storage: string }
  | { action: 'set-compression'; column: string; method: string }
  | Each<'set-options' | 'reset-options', { options: string[] }>
  | { action: 'set-tablespace'; tablespace: string }
  | { action: 'set-access-method'; method: string }
  | { action: 'owner'; owner: string }
  | { action: 'cluster-on'; index: string }
  | { action: 'set-without-cluster' }
  | Each<'add-identity' | 'set-identity', { column: string; identity?: 'always' | 'by default' }>
  | { action: 'drop-identity'; column: string; ifExists: boolean }
  | { action: 'set-expression'; column: string; expression?: ExpressionFacts }
  | { action: 'drop-expression'; column: string }
  | Each<'inherit' | 'no-inherit', { parent: QualifiedName }>
  | { action: 'replica-identity'; identity: 'default' | 'full' | 'nothing' | 'index'; index?: string }
  | Each<'enable-row-security' | 'disable-row-security' | 'force-row-security' | 'no-force-row-security', object>
  | { action: 'other'; subtype: string };

export type AlterTableAction = AlterTableCommand['action'];

/**
 * `FOR VALUES …` of ATTACH PARTITION, each datum printed back as SQL (`'2026-01-01'`, `NULL`;
 * range bounds also `MINVALUE` / `MAXVALUE`). Hash bounds keep only the strategy.
 */
export type PartitionBoundFacts =
  | { strategy: 'range'; from: string[]; to: string[] }
  | { strategy: 'list'; values: string[] }
  | { strategy: 'hash' };

export interface AlterTableFacts {
  kind: 'alter-table';
  table: QualifiedName;
  /** What the statement said it alters: `ALTER TABLE`, `ALTER INDEX`, `ALTER VIEW`, ... */
  objectType: string;
  ifExists: boolean;
  /** `ALTER TABLE ONLY`: no recursion to inheritance children / partitions. */
  only: boolean;
  commands: AlterTableCommand[];
}

export interface IndexColumnFacts {
  column?: string;
  expression?: ExpressionFacts;
  descending: boolean;
  opclass?: string;
  collation?: string;
}

export interface CreateIndexFacts {
  kind: 'create-index';
  /** Undefined when PostgreSQL picks the name. */
  name?: string;
  table: QualifiedName;
  unique: boolean;
  concurrently: boolean;
  ifNotExists: boolean;
  /** `ON ONLY` (partitioned parent without its partitions). */
  only: boolean;
  method: string;
  columns: IndexColumnFacts[];
  include: string[];
  where?: ExpressionFacts;
  nullsNotDistinct: boolean;
}

export interface DropFacts {
  kind: 'drop';
  /** `table`, `index`, `view`, `materialized-view`, `type`, `domain`, `schema`, `sequence`, `function`, `trigger`, `extension`, ... */
  objectType: string;
  names: QualifiedName[];
  /** For objects that live on a table (trigger, policy, rule): that table. */
  table?: QualifiedName;
  ifExists: boolean;
  cascade: boolean;
  concurrently: boolean;
}

export interface RenameFacts {
  kind: 'rename';
  /** What is renamed: `table`, `column`, `index`, `constraint`, `type`, `view`, `sequence`, `schema`, `trigger`, ... */
  objectType: string;
  /** The renamed object (for column, constraint and trigger renames: the table). */
  target: QualifiedName;
  /** For column, constraint, trigger, policy renames: the table. */
  table?: QualifiedName;
  from: string;
  to: string;
  ifExists: boolean;
}

export interface CreateTypeFacts {
  kind: 'create-type';
  name: QualifiedName;
  variant: 'enum' | 'composite' | 'range' | 'domain' | 'base';
  /** Enum labels. */
  values?: string[];
  /** Composite attributes. */
  attributes?: ColumnFacts[];
  /** Domain base type. */
  baseType?: TypeRef;
  /** Domain constraints. */
  constraints?: ConstraintFacts[];
}

export interface AlterTypeFacts {
  kind: 'alter-type';
  name: QualifiedName;
  action: 'add-value' | 'rename-value';
  value: string;
  /** For rename-value: the old label. */
  oldValue?: string;
  before?: string;
  after?: string;
  ifNotExists: boolean;
}

export interface CreateExtensionFacts {
  kind: 'create-extension';
  name: string;
  ifNotExists: boolean;
  schema?: string;
  version?: string;
  cascade: boolean;
}

export interface CreateViewFacts {
  kind: 'create-view';
  view: QualifiedName;
  replace: boolean;
  materialized: boolean;
  temporary: boolean;
  ifNotExists: boolean;
  /** Materialized views: `WITH NO DATA` leaves it empty. */
  withData: boolean;
  readsFrom: QualifiedName[];
}

export interface CreateFunctionFacts {
  kind: 'create-function';
  name: QualifiedName;
  replace: boolean;
  procedure: boolean;
  language?: string;
  returns?: TypeRef;
  volatility?: 'immutable' | 'stable' | 'volatile';
  securityDefiner: boolean;
}

export type TriggerEvent = 'insert' | 'update' | 'delete' | 'truncate';

export interface CreateTriggerFacts {
  kind: 'create-trigger';
  name: string;
  table: QualifiedName;
  replace: boolean;
  constraint: boolean;
  function: QualifiedName;
  timing: 'before' | 'after' | 'instead of';
  events: TriggerEvent[];
  forEachRow: boolean;
}

export interface CreateSchemaFacts {
  kind: 'create-schema';
  name: string;
  ifNotExists: boolean;
}

export interface CreateSequenceFacts {
  kind: 'create-sequence';
  name: QualifiedName;
  ifNotExists: boolean;
}

/** How a data-changing statement limits itself to a batch of rows. */
export type BatchFacts =
  /** `WHERE id IN (SELECT ... LIMIT n)`, a CTE or FROM subquery with LIMIT. */
  | { kind: 'limit'; limit?: number }
  /** `WHERE id BETWEEN a AND b`, `WHERE id >= a AND id < b`. */
  | { kind: 'range'; column: string }
  /** `WHERE id IN (1, 2, 3)`, `WHERE id = ANY(ARRAY[...])`. */
  | { kind: 'key-list'; column: string; size: number };

export interface UpdateFacts {
  kind: 'update';
  table: QualifiedName;
  columns: string[];
  hasWhere: boolean;
  batch?: BatchFacts;
  /** Other tables read (FROM, subqueries), CTE names excluded. */
  readsFrom: QualifiedName[];
  returning: boolean;
}

export interface DeleteFacts {
  kind: 'delete';
  table: QualifiedName;
  hasWhere: boolean;
  batch?: BatchFacts;
  readsFrom: QualifiedName[];
  returning: boolean;
}

export interface InsertFacts {
  kind: 'insert';
  table: QualifiedName;
  columns: string[];
  /** Number of VALUES rows; undefined for INSERT ... SELECT. */
  rows?: number;
  fromQuery: boolean;
  onConflict?: 'nothing' | 'update';
  readsFrom: QualifiedName[];
  returning: boolean;
}

export interface MergeFacts {
  kind: 'merge';
  table: QualifiedName;
  readsFrom: QualifiedName[];
}

export interface SelectFacts {
  kind: 'select';
  readsFrom: QualifiedName[];
  /** `FOR UPDATE` and friends. */
  locking?: 'for update' | 'for no key update' | 'for share' | 'for key share';
  /** `set_config(name, value, is_local)` calls with literal arguments. */
  setConfig: { name: string; value: string; local: boolean; milliseconds?: number }[];
  functions: string[];
}

export interface CommentFacts {
  kind: 'comment';
  objectType: string;
  /** The commented object; for a column, constraint or trigger: the table. */
  target: QualifiedName;
  /** For column / constraint / trigger comments: its name. */
  member?: string;
  text: string | null;
}

export interface SetFacts {
  kind: 'set';
  action: 'set' | 'set-default' | 'reset' | 'reset-all' | 'set-multi';
  /** Lower-case setting name (`lock_timeout`, `statement_timeout`, `search_path`, `timezone`, `transaction`). */
  name: string;
  /** The value as text; lists joined with `, `. */
  value?: string;
  /** `SET LOCAL`: until the end of the transaction. */
  local: boolean;
  /** Time settings (`*_timeout`): the value in milliseconds (0 = disabled). */
  milliseconds?: number;
}

export interface TransactionFacts {
  kind: 'transaction';
  action: 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollback-to' | 'prepare' | 'commit-prepared' | 'rollback-prepared';
  savepoint?: string;
  isolation?: string;
  readOnly?: boolean;
}

export interface VacuumFacts {
  kind: 'vacuum' | 'analyze';
  /** Empty: the whole database. */
  tables: QualifiedName[];
  full: boolean;
  analyze: boolean;
  freeze: boolean;
  verbose: boolean;
}

export interface LockTableFacts {
  kind: 'lock-table';
  tables: QualifiedName[];
  mode: LockMode;
  nowait: boolean;
}

export interface TruncateFacts {
  kind: 'truncate';
  tables: QualifiedName[];
  cascade: boolean;
  restartIdentity: boolean;
}

export interface RefreshMaterializedViewFacts {
  kind: 'refresh-materialized-view';
  view: QualifiedName;
  concurrently: boolean;
  withData: boolean;
}

export interface ClusterFacts {
  kind: 'cluster';
  /** Undefined: every previously clustered table. */
  table?: QualifiedName;
  index?: string;
}

export interface ReindexFacts {
  kind: 'reindex';
  target: 'index' | 'table' | 'schema' | 'database' | 'system';
  name: QualifiedName;
  concurrently: boolean;
}

export interface DoFacts {
  kind: 'do';
  language: string;
  body: string;
}

export interface OtherFacts {
  kind: 'other';
  /** The AST node type, e.g. `GrantStmt`. */
  nodeKind: string;
}

export type StatementFacts =
  | CreateTableFacts
  | CreateTableAsFacts
  | AlterTableFacts
  | CreateIndexFacts
  | DropFacts
  | RenameFacts
  | CreateTypeFacts
  | AlterTypeFacts
  | CreateExtensionFacts
  | CreateViewFacts
  | CreateFunctionFacts
  | CreateTriggerFacts
  | CreateSchemaFacts
  | CreateSequenceFacts
  | UpdateFacts
  | DeleteFacts
  | InsertFacts
  | MergeFacts
  | SelectFacts
  | CommentFacts
  | SetFacts
  | TransactionFacts
  | VacuumFacts
  | LockTableFacts
  | TruncateFacts
  | RefreshMaterializedViewFacts
  | ClusterFacts
  | ReindexFacts
  | DoFacts
  | OtherFacts;

export type StatementKind = StatementFacts['kind'];

export interface StatementFactsOptions {
  /** Volatility of functions the built-in table does not know (e.g. from `pg_proc.provolatile`). */
  functionVolatility?: FunctionVolatilityLookup;
}

// ---------------------------------------------------------------------------------------------

/**
 * What a statement does, read from its libpg-query AST. `sql` is the statement's own text; it is
 * used to quote expressions the built-in printer does not spell (e.g. `DEFAULT CASE ... END`).
 */
export function statementFacts(ast: Node, sql: string, options: StatementFactsOptions = {}): StatementFacts {
  return new FactReader(ast, sql, options).read();
}

class FactReader {
  private sourceDelta: number | null | undefined;

  constructor(
    private readonly ast: Node,
    private readonly sql: string,
    private readonly options: StatementFactsOptions,
  ) {}

  read(): StatementFacts {
    const entry = unwrap(this.ast);
    if (!entry) return { kind: 'other', nodeKind: 'Unknown' };
    const [kind, body] = entry;
    switch (kind) {
      case 'CreateStmt':
        return this.createTable(body as CreateStmt);
      case 'CreateTableAsStmt':
        return this.createTableAs(body);
      case 'AlterTableStmt':
        return this.alterTable(body as AlterTableStmt);
      case 'IndexStmt':
        return this.createIndex(body as IndexStmt);
      case 'DropStmt':
        return this.drop(body);
      case 'RenameStmt':
        return this.rename(body);
      case 'CreateEnumStmt':
        return {
          kind: 'create-type',
          name: nameFromParts(stringList((body as { typeName?: Node[] }).typeName)),
          variant: 'enum',
          values: stringList((body as { vals?: Node[] }).vals),
        };
      case 'CompositeTypeStmt': {
        const composite = body as { typevar?: RangeVar; coldeflist?: Node[] };
        const attributes = (composite.coldeflist ?? [])
          .map((node) => nodeOf<ColumnDef>(node, 'ColumnDef'))
          .filter((def): def is ColumnDef => def !== undefined)
          .map((def) => this.column(def));
        return { kind: 'create-type', name: relationName(composite.typevar), variant: 'composite', attributes };
      }
      case 'CreateRangeStmt':
        return { kind: 'create-type', name: nameFromParts(stringList((body as { typeName?: Node[] }).typeName)), variant: 'range' };
      case 'DefineStmt': {
        const define = body as { kind?: ObjectType; defnames?: Node[] };
        if (define.kind === 'OBJECT_TYPE') return { kind: 'create-type', name: nameFromParts(stringList(define.defnames)), variant: 'base' };
        return { kind: 'other', nodeKind: kind };
      }
      case 'CreateDomainStmt': {
        const domain = body as { domainname?: Node[]; typeName?: TypeName; constraints?: Node[] };
        const constraints = (domain.constraints ?? [])
          .map((node) => nodeOf<Constraint>(node, 'Constraint'))
          .filter((c): c is Constraint => c !== undefined && (c.contype === 'CONSTR_CHECK' || c.contype === 'CONSTR_NOTNULL'))
          .map((c) => this.constraint(c, []));
        return {
          kind: 'create-type',
          name: nameFromParts(stringList(domain.domainname)),
          variant: 'domain',
          baseType: typeRefFromTypeName(domain.typeName),
          constraints,
        };
      }
      case 'AlterEnumStmt':
        return this.alterEnum(body);
      case 'CreateExtensionStmt': {
        const ext = body as { extname?: string; if_not_exists?: boolean; options?: Node[] };
        const opts = defElems(ext.options);
        const schema = defElemText(opts.get('schema'));
        const version = defElemText(opts.get('new_version'));
        return {
          kind: 'create-extension',
          name: ext.extname ?? '',
          ifNotExists: ext.if_not_exists ?? false,
          ...(schema !== undefined ? { schema } : {}),
          ...(version !== undefined ? { version } : {}),
          cascade: opts.has('cascade'),
        };
      }
      case 'ViewStmt': {
        const view = body as { view?: RangeVar; replace?: boolean; query?: Node };
        return {
          kind: 'create-view',
          view: relationName(view.view),
          replace: view.replace ?? false,
          materialized: false,
          temporary: view.view?.relpersistence === 't',
          ifNotExists: false,
          withData: true,
          readsFrom: relationsRead(view.query),
        };
      }
      case 'CreateFunctionStmt':
        return this.createFunction(body);
      case 'CreateTrigStmt':
        return this.createTrigger(body);
      case 'CreateSchemaStmt': {
        const schema = body as { schemaname?: string; if_not_exists?: boolean; authrole?: { rolename?: string } };
        return { kind: 'create-schema', name: schema.schemaname ?? schema.authrole?.rolename ?? '', ifNotExists: schema.if_not_exists ?? false };
      }
      case 'CreateSeqStmt': {
        const seq = body as { sequence?: RangeVar; if_not_exists?: boolean };
        return { kind: 'create-sequence', name: relationName(seq.sequence), ifNotExists: seq.if_not_exists ?? false };
      }
      case 'UpdateStmt':
        return this.update(body);
      case 'DeleteStmt':
        return this.delete(body);
      case 'InsertStmt':
        return this.insert(body);
      case 'MergeStmt': {
        const merge = body as { relation?: RangeVar };
        const table = relationName(merge.relation);
        return { kind: 'merge', table, readsFrom: relationsRead(body) };
      }
      case 'SelectStmt':
        return this.select(body);
      case 'CommentStmt':
        return this.comment(body);
      case 'VariableSetStmt':
        return this.set(body);
      case 'TransactionStmt':
        return this.transaction(body);
      case 'VacuumStmt':
        return this.vacuum(body);
      case 'LockStmt': {
        const lock = body as { relations?: Node[]; mode?: number; nowait?: boolean };
        return {
          kind: 'lock-table',
          tables: (lock.relations ?? []).map((node) => relationName(nodeOf<RangeVar>(node, 'RangeVar'))),
          mode: LOCK_MODES[(lock.mode ?? 8) - 1] ?? 'AccessExclusiveLock',
          nowait: lock.nowait ?? false,
        };
      }
      case 'TruncateStmt': {
        const truncate = body as { relations?: Node[]; restart_seqs?: boolean; behavior?: string };
        return {
          kind: 'truncate',
          tables: (truncate.relations ?? []).map((node) => relationName(nodeOf<RangeVar>(node, 'RangeVar'))),
          cascade: truncate.behavior === 'DROP_CASCADE',
          restartIdentity: truncate.restart_seqs ?? false,
        };
      }
      case 'RefreshMatViewStmt': {
        const refresh = body as { concurrent?: boolean; skipData?: boolean; relation?: RangeVar };
        return {
          kind: 'refresh-materialized-view',
          view: relationName(refresh.relation),
          concurrently: refresh.concurrent ?? false,
          withData: !(refresh.skipData ?? false),
        };
      }
      case 'ClusterStmt': {
        const cluster = body as { relation?: RangeVar; indexname?: string };
        return {
          kind: 'cluster',
          ...(cluster.relation ? { table: relationName(cluster.relation) } : {}),
          ...(cluster.indexname ? { index: cluster.indexname } : {}),
        };
      }
      case 'ReindexStmt': {
        const reindex = body as { kind?: string; relation?: RangeVar; name?: string; params?: Node[] };
        const target = (reindex.kind ?? 'REINDEX_OBJECT_INDEX').replace('REINDEX_OBJECT_', '').toLowerCase() as ReindexFacts['target'];
        const opts = defElems(reindex.params);
        return {
          kind: 'reindex',
          target,
          name: reindex.relation ? relationName(reindex.relation) : { name: reindex.name ?? '' },
          concurrently: opts.has('concurrently') && defElemText(opts.get('concurrently')) !== 'false',
        };
      }
      case 'DoStmt': {
        const opts = defElems((body as { args?: Node[] }).args);
        return { kind: 'do', language: defElemText(opts.get('language')) ?? 'plpgsql', body: defElemText(opts.get('as')) ?? '' };
      }
      default:
        return { kind: 'other', nodeKind: kind };
    }
  }

  // -- expressions ------------------------------------------------------------------------------

  private expression(ast: Node): ExpressionFacts {
    const facts = expressionFacts(ast, this.options.functionVolatility);
    if (facts.text === undefined) {
      const text = this.sourceOf(ast);
      if (text !== undefined) facts.text = text;
    }
    return facts;
  }

  /**
   * The source text of an expression node, cut from `sql` by token: AST locations count bytes
   * from the start of the text that was parsed, which need not be `sql`, so `sql` is parsed again
   * and the two trees' first locations give the shift.
   */
  private sourceOf(ast: Node): string | undefined {
    const start = firstLocation(ast);
    if (start === undefined) return undefined;
    if (this.sourceDelta === undefined) {
      this.sourceDelta = null;
      try {
        const [statement] = parseSqlSync(this.sql);
        const mine = firstLocation(this.ast);
        const theirs = statement ? firstLocation(statement.ast) : undefined;
        if (mine !== undefined && theirs !== undefined) this.sourceDelta = mine - theirs;
      } catch {
        this.sourceDelta = null;
      }
    }
    if (this.sourceDelta === null) return undefined;
    return cutExpression(this.sql, start - this.sourceDelta);
  }

  // -- columns and constraints -------------------------------------------------------------------

  private column(def: ColumnDef): ColumnFacts {
    const name = def.colname ?? '';
    const type = typeRefFromTypeName(def.typeName);
    const column: ColumnFacts = {
      name,
      type,
      notNull: def.is_not_null ?? false,
      serial: type.schema === undefined && (type.name === 'serial' || type.name === 'bigserial' || type.name === 'smallserial'),
      primaryKey: false,
      unique: false,
      constraints: [],
    };
    if (def.raw_default) column.default = this.expression(def.raw_default);
    const collation = def.collClause ? stringList(def.collClause.collname).join('.') : undefined;
    if (collation) column.collation = collation;
    for (const node of def.constraints ?? []) {
      const con = nodeOf<Constraint>(node, 'Constraint');
      if (!con) continue;
      switch (con.contype) {
        case 'CONSTR_NOTNULL':
          column.notNull = true;
          break;
        case 'CONSTR_NULL':
          column.notNull = false;
          break;
        case 'CONSTR_DEFAULT':
          if (con.raw_expr) column.default = this.expression(con.raw_expr);
          break;
        case 'CONSTR_IDENTITY':
          column.identity = con.generated_when === 'd' ? 'by default' : 'always';
          column.notNull = true;
          break;
        case 'CONSTR_GENERATED':
          if (con.raw_expr) column.generated = { kind: con.generated_kind === 'v' ? 'virtual' : 'stored', expression: this.expression(con.raw_expr) };
          break;
        case 'CONSTR_PRIMARY':
          column.primaryKey = true;
          column.notNull = true;
          column.constraints.push(this.constraint(con, [name]));
          break;
        case 'CONSTR_UNIQUE':
          column.unique = true;
          column.constraints.push(this.constraint(con, [name]));
          break;
        case 'CONSTR_FOREIGN': {
          const fk = this.constraint(con, [name]);
          if (fk.references) column.references = fk.references;
          column.constraints.push(fk);
          break;
        }
        case 'CONSTR_CHECK':
        case 'CONSTR_EXCLUSION':
          column.constraints.push(this.constraint(con, [name]));
          break;
        default:
          break;
      }
    }
    return column;
  }

  private constraint(con: Constraint, columnsOfColumn: string[]): ConstraintFacts {
    const kind = constraintKind(con.contype);
    const keys = stringList(con.keys);
    const columns =
      kind === 'foreign' ? (stringList(con.fk_attrs).length ? stringList(con.fk_attrs) : columnsOfColumn) : keys.length ? keys : kind === 'check' ? [] : columnsOfColumn;
    const facts: ConstraintFacts = {
      kind,
      columns,
      notValid: con.skip_validation ?? false,
      deferrable: con.deferrable ?? false,
      initiallyDeferred: con.initdeferred ?? false,
      notEnforced: (kind === 'check' || kind === 'foreign') && con.is_enforced === false,
      noInherit: con.is_no_inherit ?? false,
      include: stringList(con.including),
      nullsNotDistinct: con.nulls_not_distinct ?? false,
    };
    if (con.conname) facts.name = con.conname;
    if (con.indexname) facts.usingIndex = con.indexname;
    if (kind === 'exclusion') {
      facts.indexMethod = con.access_method ?? 'btree';
      const exclusionColumns: string[] = [];
      for (const item of con.exclusions ?? []) {
        const pair = nodeOf<{ items?: Node[] }>(item, 'List')?.items;
        const elem = nodeOf<IndexElem>(pair?.[0], 'IndexElem');
        if (elem?.name) exclusionColumns.push(elem.name);
      }
      facts.columns = exclusionColumns;
    }
    if (kind === 'foreign' && con.pktable) {
      facts.references = {
        table: relationName(con.pktable),
        columns: stringList(con.pk_attrs),
        onDelete: foreignKeyAction(con.fk_del_action),
        onUpdate: foreignKeyAction(con.fk_upd_action),
        match: con.fk_matchtype === 'f' ? 'full' : con.fk_matchtype === 'p' ? 'partial' : 'simple',
      };
    }
    if (kind === 'check' && con.raw_expr) {
      facts.expression = this.expression(con.raw_expr);
      const nullTest = nodeOf<{ arg?: Node; nulltesttype?: string }>(con.raw_expr, 'NullTest');
      const ref = nodeOf<{ fields?: Node[] }>(nullTest?.arg, 'ColumnRef');
      const fields = stringList(ref?.fields);
      if (nullTest?.nulltesttype === 'IS_NOT_NULL' && fields.length === 1) facts.checksNotNullOf = fields[0]!;
    }
    return facts;
  }

  // -- statements --------------------------------------------------------------------------------

  private createTable(stmt: CreateStmt): CreateTableFacts {
    const columns: ColumnFacts[] = [];
    const constraints: ConstraintFacts[] = [];
    const like: QualifiedName[] = [];
    for (const element of stmt.tableElts ?? []) {
      const entry = unwrap(element);
      if (!entry) continue;
      if (entry[0] === 'ColumnDef') {
        const column = this.column(entry[1] as ColumnDef);
        columns.push(column);
        constraints.push(...column.constraints);
      } else if (entry[0] === 'Constraint') {
        constraints.push(this.constraint(entry[1] as Constraint, []));
      } else if (entry[0] === 'TableLikeClause') {
        like.push(relationName((entry[1] as { relation?: RangeVar }).relation));
      }
    }
    const parents = (stmt.inhRelations ?? []).map((node) => relationName(nodeOf<RangeVar>(node, 'RangeVar')));
    const facts: CreateTableFacts = {
      kind: 'create-table',
      table: relationName(stmt.relation),
      columns,
      constraints,
      ifNotExists: stmt.if_not_exists ?? false,
      temporary: stmt.relation?.relpersistence === 't',
      unlogged: stmt.relation?.relpersistence === 'u',
      inherits: stmt.partbound ? [] : parents,
      like,
    };
    if (stmt.partbound && parents[0]) facts.partitionOf = parents[0];
    const strategy = stmt.partspec?.strategy;
    if (strategy) facts.partitionBy = strategy === 'PARTITION_STRATEGY_LIST' ? 'list' : strategy === 'PARTITION_STRATEGY_HASH' ? 'hash' : 'range';
    return facts;
  }

  private createTableAs(body: Record<string, unknown>): CreateTableAsFacts | CreateViewFacts {
    const stmt = body as { query?: Node; into?: { rel?: RangeVar; skipData?: boolean }; objtype?: ObjectType; if_not_exists?: boolean };
    const readsFrom = relationsRead(stmt.query);
    const name = relationName(stmt.into?.rel);
    const withData = !(stmt.into?.skipData ?? false);
    if (stmt.objtype === 'OBJECT_MATVIEW') {
      return {
        kind: 'create-view',
        view: name,
        replace: false,
        materialized: true,
        temporary: false,
        ifNotExists: stmt.if_not_exists ?? false,
        withData,
        readsFrom,
      };
    }
    return {
      kind: 'create-table-as',
      table: name,
      ifNotExists: stmt.if_not_exists ?? false,
      withData,
      temporary: stmt.into?.rel?.relpersistence === 't',
      readsFrom,
    };
  }

  private alterTable(stmt: AlterTableStmt): AlterTableFacts {
    const commands: AlterTableCommand[] = [];
    for (const node of stmt.cmds ?? []) {
      const cmd = nodeOf<AlterTableCmd>(node, 'AlterTableCmd');
      if (cmd) commands.push(this.alterTableCommand(cmd));
    }
    return {
      kind: 'alter-table',
      table: relationName(stmt.relation),
      objectType: objectTypeName(stmt.objtype ?? 'OBJECT_TABLE'),
      ifExists: stmt.missing_ok ?? false,
      only: stmt.relation ? !(stmt.relation.inh ?? false) : false,
      commands,
    };
  }

  private alterTableCommand(cmd: AlterTableCmd): AlterTableCommand {
    const column = cmd.name ?? '';
    const cascade = cmd.behavior === 'DROP_CASCADE';
    const ifExists = cmd.missing_ok ?? false;
    switch (cmd.subtype) {
      case 'AT_AddColumn': {
        const def = nodeOf<ColumnDef>(cmd.def, 'ColumnDef');
        return { action: 'add-column', column: this.column(def ?? {}), ifNotExists: ifExists };
      }
      case 'AT_DropColumn':
        return { action: 'drop-column', column, ifExists, cascade };
      case 'AT_AlterColumnType': {
        const def = nodeOf<ColumnDef>(cmd.def, 'ColumnDef') ?? {};
        const result: AlterTableCommand = { action: 'alter-column-type', column, type: typeRefFromTypeName(def.typeName) };
        if (def.raw_default) result.using = this.expression(def.raw_default);
        if (def.collClause) result.collation = stringList(def.collClause.collname).join('.');
        return result;
      }
      case 'AT_ColumnDefault':
        return cmd.def ? { action: 'set-default', column, default: this.expression(cmd.def) } : { action: 'drop-default', column };
      case 'AT_SetNotNull':
        return { action: 'set-not-null', column };
      case 'AT_DropNotNull':
        return { action: 'drop-not-null', column };
      case 'AT_AddConstraint': {
        const con = nodeOf<Constraint>(cmd.def, 'Constraint') ?? {};
        return { action: 'add-constraint', constraint: this.constraint(con, []) };
      }
      case 'AT_ValidateConstraint':
        return { action: 'validate-constraint', name: column };
      case 'AT_DropConstraint':
        return { action: 'drop-constraint', name: column, ifExists, cascade };
      case 'AT_AlterConstraint': {
        const alter = nodeOf<{ conname?: string }>(cmd.def, 'ATAlterConstraint') ?? nodeOf<{ conname?: string }>(cmd.def, 'Constraint');
        return { action: 'alter-constraint', name: alter?.conname ?? column };
      }
      case 'AT_SetLogged':
        return { action: 'set-logged' };
      case 'AT_SetUnLogged':
        return { action: 'set-unlogged' };
      case 'AT_EnableTrig':
      case 'AT_EnableAlwaysTrig':
      case 'AT_EnableReplicaTrig':
        return {
          action: 'enable-trigger',
          trigger: column,
          scope: 'named',
          mode: cmd.subtype === 'AT_EnableAlwaysTrig' ? 'always' : cmd.subtype === 'AT_EnableReplicaTrig' ? 'replica' : 'origin',
        };
      case 'AT_EnableTrigAll':
        return { action: 'enable-trigger', scope: 'all', mode: 'origin' };
      case 'AT_EnableTrigUser':
        return { action: 'enable-trigger', scope: 'user', mode: 'origin' };
      case 'AT_DisableTrig':
        return { action: 'disable-trigger', trigger: column, scope: 'named' };
      case 'AT_DisableTrigAll':
        return { action: 'disable-trigger', scope: 'all' };
      case 'AT_DisableTrigUser':
        return { action: 'disable-trigger', scope: 'user' };
      case 'AT_EnableRule':
      case 'AT_EnableAlwaysRule':
      case 'AT_EnableReplicaRule':
        return { action: 'enable-rule', rule: column };
      case 'AT_DisableRule':
        return { action: 'disable-rule', rule: column };
      case 'AT_AttachPartition':
      case 'AT_DetachPartition':
      case 'AT_DetachPartitionFinalize': {
        const part = nodeOf<{ name?: RangeVar; bound?: RawPartitionBound; concurrent?: boolean }>(cmd.def, 'PartitionCmd') ?? {};
        if (cmd.subtype === 'AT_AttachPartition') {
          const isDefault = part.bound?.is_default ?? false;
          const bound = isDefault ? undefined : partitionBound(part.bound);
          return { action: 'attach-partition', partition: relationName(part.name), isDefault, ...(bound ? { bound } : {}) };
        }
        return {
          action: 'detach-partition',
          partition: relationName(part.name),
          concurrently: part.concurrent ?? false,
          finalize: cmd.subtype === 'AT_DetachPartitionFinalize',
        };
      }
      case 'AT_SetStatistics': {
        const target = integerOf(cmd.def);
        return target !== undefined ? { action: 'set-statistics', column, target } : { action: 'set-statistics', column };
      }
      case 'AT_SetOptions':
      case 'AT_ResetOptions':
        return {
          action: cmd.subtype === 'AT_SetOptions' ? 'set-column-options' : 'reset-column-options',
          column,
          options: optionNames(cmd.def),
        };
      case 'AT_SetStorage':
        return { action: 'set-storage', column, storage: defElemText(cmd.def) ?? '' };
      case 'AT_SetCompression':
        return { action: 'set-compression', column, method: defElemText(cmd.def) ?? '' };
      case 'AT_SetRelOptions':
      case 'AT_ReplaceRelOptions':
        return { action: 'set-options', options: optionNames(cmd.def) };
      case 'AT_ResetRelOptions':
        return { action: 'reset-options', options: optionNames(cmd.def) };
      case 'AT_SetTableSpace':
        return { action: 'set-tablespace', tablespace: column };
      case 'AT_SetAccessMethod':
        return { action: 'set-access-method', method: column };
      case 'AT_ChangeOwner':
        return { action: 'owner', owner: cmd.newowner?.rolename ?? (cmd.newowner?.roletype ?? '').replace('ROLESPEC_', '').toLowerCase() };
      case 'AT_ClusterOn':
        return { action: 'cluster-on', index: column };
      case 'AT_DropCluster':
        return { action: 'set-without-cluster' };
      case 'AT_AddIdentity':
      case 'AT_SetIdentity': {
        const con = nodeOf<Constraint>(cmd.def, 'Constraint');
        const identity = con?.generated_when === 'd' ? 'by default' : con?.generated_when === 'a' ? 'always' : undefined;
        if (cmd.subtype === 'AT_AddIdentity') return { action: 'add-identity', column, identity: identity ?? 'always' };
        const set = defElems(nodeOf<{ items?: Node[] }>(cmd.def, 'List')?.items);
        const generated = defElemText(set.get('generated'));
        return generated === undefined
          ? { action: 'set-identity', column }
          : { action: 'set-identity', column, identity: generated === '1' || generated === 'a' ? 'always' : 'by default' };
      }
      case 'AT_DropIdentity':
        return { action: 'drop-identity', column, ifExists };
      case 'AT_SetExpression':
        return cmd.def ? { action: 'set-expression', column, expression: this.expression(cmd.def) } : { action: 'set-expression', column };
      case 'AT_DropExpression':
        return { action: 'drop-expression', column };
      case 'AT_AddInherit':
      case 'AT_DropInherit':
        return { action: cmd.subtype === 'AT_AddInherit' ? 'inherit' : 'no-inherit', parent: relationName(nodeOf<RangeVar>(cmd.def, 'RangeVar')) };
      case 'AT_ReplicaIdentity': {
        const identity = nodeOf<{ identity_type?: string; name?: string }>(cmd.def, 'ReplicaIdentityStmt');
        const kind = identity?.identity_type === 'f' ? 'full' : identity?.identity_type === 'n' ? 'nothing' : identity?.identity_type === 'i' ? 'index' : 'default';
        return identity?.name ? { action: 'replica-identity', identity: kind, index: identity.name } : { action: 'replica-identity', identity: kind };
      }
      case 'AT_EnableRowSecurity':
        return { action: 'enable-row-security' };
      case 'AT_DisableRowSecurity':
        return { action: 'disable-row-security' };
      case 'AT_ForceRowSecurity':
        return { action: 'force-row-security' };
      case 'AT_NoForceRowSecurity':
        return { action: 'no-force-row-security' };
      default:
        return { action: 'other', subtype: cmd.subtype ?? 'unknown' };
    }
  }

  private createIndex(stmt: IndexStmt): CreateIndexFacts {
    const columns: IndexColumnFacts[] = [];
    for (const node of stmt.indexParams ?? []) {
      const elem = nodeOf<IndexElem>(node, 'IndexElem');
      if (!elem) continue;
      const column: IndexColumnFacts = { descending: elem.ordering === 'SORTBY_DESC' };
      if (elem.name) column.column = elem.name;
      if (elem.expr) column.expression = this.expression(elem.expr);
      const opclass = stringList(elem.opclass).join('.');
      if (opclass) column.opclass = opclass;
      const collation = stringList(elem.collation).join('.');
      if (collation) column.collation = collation;
      columns.push(column);
    }
    const include = (stmt.indexIncludingParams ?? []).map((node) => nodeOf<IndexElem>(node, 'IndexElem')?.name ?? '').filter(Boolean);
    const facts: CreateIndexFacts = {
      kind: 'create-index',
      table: relationName(stmt.relation),
      unique: stmt.unique ?? false,
      concurrently: stmt.concurrent ?? false,
      ifNotExists: stmt.if_not_exists ?? false,
      only: stmt.relation ? !(stmt.relation.inh ?? false) : false,
      method: stmt.accessMethod ?? 'btree',
      columns,
      include,
      nullsNotDistinct: stmt.nulls_not_distinct ?? false,
    };
    if (stmt.idxname) facts.name = stmt.idxname;
    if (stmt.whereClause) facts.where = this.expression(stmt.whereClause);
    return facts;
  }

  private drop(body: Record<string, unknown>): DropFacts {
    const stmt = body as { objects?: Node[]; removeType?: ObjectType; behavior?: string; missing_ok?: boolean; concurrent?: boolean };
    const objectType = objectTypeName(stmt.removeType ?? 'OBJECT_TABLE');
    const onTable = objectType === 'trigger' || objectType === 'policy' || objectType === 'rule';
    const names: QualifiedName[] = [];
    let table: QualifiedName | undefined;
    for (const object of stmt.objects ?? []) {
      if (onTable) {
        const parts = stringList(nodeOf<{ items?: Node[] }>(object, 'List')?.items);
        names.push({ name: parts[parts.length - 1] ?? '' });
        table = nameFromParts(parts.slice(0, -1));
      } else {
        const name = nameFromNode(object);
        if (name) names.push(name);
      }
    }
    return {
      kind: 'drop',
      objectType,
      names,
      ...(table ? { table } : {}),
      ifExists: stmt.missing_ok ?? false,
      cascade: stmt.behavior === 'DROP_CASCADE',
      concurrently: stmt.concurrent ?? false,
    };
  }

  private rename(body: Record<string, unknown>): RenameFacts {
    const stmt = body as { renameType?: ObjectType; relation?: RangeVar; object?: Node; subname?: string; newname?: string; missing_ok?: boolean };
    const objectType = objectTypeName(stmt.renameType ?? 'OBJECT_TABLE');
    const ifExists = stmt.missing_ok ?? false;
    const to = stmt.newname ?? '';
    if (stmt.relation) {
      const relation = relationName(stmt.relation);
      if (stmt.subname !== undefined) {
        return { kind: 'rename', objectType, target: relation, table: relation, from: stmt.subname, to, ifExists };
      }
      return { kind: 'rename', objectType, target: relation, from: relation.name, to, ifExists };
    }
    if (objectType === 'schema' || stmt.object === undefined) {
      const from = stmt.subname ?? '';
      return { kind: 'rename', objectType, target: { name: from }, from, to, ifExists };
    }
    const target = nameFromNode(stmt.object) ?? { name: '' };
    return { kind: 'rename', objectType, target, from: target.name, to, ifExists };
  }

  private alterEnum(body: Record<string, unknown>): AlterTypeFacts {
    const stmt = body as { typeName?: Node[]; oldVal?: string; newVal?: string; newValNeighbor?: string; newValIsAfter?: boolean; skipIfNewValExists?: boolean };
    const name = nameFromParts(stringList(stmt.typeName));
    if (stmt.oldVal !== undefined) {
      return { kind: 'alter-type', name, action: 'rename-value', value: stmt.newVal ?? '', oldValue: stmt.oldVal, ifNotExists: false };
    }
    const facts: AlterTypeFacts = { kind: 'alter-type', name, action: 'add-value', value: stmt.newVal ?? '', ifNotExists: stmt.skipIfNewValExists ?? false };
    if (stmt.newValNeighbor !== undefined) {
      if (stmt.newValIsAfter) facts.after = stmt.newValNeighbor;
      else facts.before = stmt.newValNeighbor;
    }
    return facts;
  }

  private createFunction(body: Record<string, unknown>): CreateFunctionFacts {
    const stmt = body as { is_procedure?: boolean; replace?: boolean; funcname?: Node[]; returnType?: TypeName; options?: Node[] };
    const opts = defElems(stmt.options);
    const facts: CreateFunctionFacts = {
      kind: 'create-function',
      name: nameFromParts(stringList(stmt.funcname)),
      replace: stmt.replace ?? false,
      procedure: stmt.is_procedure ?? false,
      securityDefiner: defElemText(opts.get('security')) === 'true',
    };
    const language = defElemText(opts.get('language'));
    if (language) facts.language = language;
    if (stmt.returnType) facts.returns = typeRefFromTypeName(stmt.returnType);
    const volatility = defElemText(opts.get('volatility'));
    if (volatility === 'immutable' || volatility === 'stable' || volatility === 'volatile') facts.volatility = volatility;
    return facts;
  }

  private createTrigger(body: Record<string, unknown>): CreateTriggerFacts {
    const stmt = body as { replace?: boolean; isconstraint?: boolean; trigname?: string; relation?: RangeVar; funcname?: Node[]; row?: boolean; timing?: number; events?: number };
    // Bits from PostgreSQL's trigger.h (TRIGGER_TYPE_*).
    const timing = stmt.timing ?? 0;
    const events = stmt.events ?? 0;
    const eventList: TriggerEvent[] = [];
    if (events & 4) eventList.push('insert');
    if (events & 16) eventList.push('update');
    if (events & 8) eventList.push('delete');
    if (events & 32) eventList.push('truncate');
    return {
      kind: 'create-trigger',
      name: stmt.trigname ?? '',
      table: relationName(stmt.relation),
      replace: stmt.replace ?? false,
      constraint: stmt.isconstraint ?? false,
      function: nameFromParts(stringList(stmt.funcname)),
      timing: timing & 64 ? 'instead of' : timing & 2 ? 'before' : 'after',
      events: eventList,
      forEachRow: stmt.row ?? false,
    };
  }

  private update(body: Record<string, unknown>): UpdateFacts {
    const stmt = body as { relation?: RangeVar; targetList?: Node[]; whereClause?: Node; fromClause?: Node[]; returningClause?: unknown; returningList?: Node[]; withClause?: unknown };
    const columns = (stmt.targetList ?? []).map((node) => nodeOf<{ name?: string }>(node, 'ResTarget')?.name ?? '').filter(Boolean);
    const facts: UpdateFacts = {
      kind: 'update',
      table: relationName(stmt.relation),
      columns: [...new Set(columns)],
      hasWhere: stmt.whereClause !== undefined,
      readsFrom: relationsRead(body),
      returning: hasReturning(stmt),
    };
    const batch = batchOf(stmt.whereClause, [stmt.fromClause, stmt.withClause]);
    if (batch) facts.batch = batch;
    return facts;
  }

  private delete(body: Record<string, unknown>): DeleteFacts {
    const stmt = body as { relation?: RangeVar; whereClause?: Node; usingClause?: Node[]; withClause?: unknown; returningClause?: unknown; returningList?: Node[] };
    const facts: DeleteFacts = {
      kind: 'delete',
      table: relationName(stmt.relation),
      hasWhere: stmt.whereClause !== undefined,
      readsFrom: relationsRead(body),
      returning: hasReturning(stmt),
    };
    const batch = batchOf(stmt.whereClause, [stmt.usingClause, stmt.withClause]);
    if (batch) facts.batch = batch;
    return facts;
  }

  private insert(body: Record<string, unknown>): InsertFacts {
    const stmt = body as { relation?: RangeVar; cols?: Node[]; selectStmt?: Node; onConflictClause?: { action?: string }; returningClause?: unknown; returningList?: Node[] };
    const select = nodeOf<{ valuesLists?: Node[]; fromClause?: Node[] }>(stmt.selectStmt, 'SelectStmt');
    const values = select?.valuesLists;
    const facts: InsertFacts = {
      kind: 'insert',
      table: relationName(stmt.relation),
      columns: (stmt.cols ?? []).map((node) => nodeOf<{ name?: string }>(node, 'ResTarget')?.name ?? ''),
      fromQuery: stmt.selectStmt !== undefined && values === undefined,
      readsFrom: relationsRead(body),
      returning: hasReturning(stmt),
    };
    if (values) facts.rows = values.length;
    const action = stmt.onConflictClause?.action;
    if (action === 'ONCONFLICT_NOTHING') facts.onConflict = 'nothing';
    else if (action === 'ONCONFLICT_UPDATE') facts.onConflict = 'update';
    return facts;
  }

  private select(body: Record<string, unknown>): SelectFacts | CreateTableAsFacts {
    const stmt = body as { intoClause?: { rel?: RangeVar; skipData?: boolean }; lockingClause?: Node[] };
    const readsFrom = relationsRead(body);
    if (stmt.intoClause?.rel) {
      return {
        kind: 'create-table-as',
        table: relationName(stmt.intoClause.rel),
        ifNotExists: false,
        withData: !(stmt.intoClause.skipData ?? false),
        temporary: stmt.intoClause.rel.relpersistence === 't',
        readsFrom,
      };
    }
    const setConfig: SelectFacts['setConfig'] = [];
    const functions = new Set<string>();
    walk(body, (kind, node) => {
      if (kind !== 'FuncCall') return;
      const call = node as { funcname?: Node[]; args?: Node[] };
      const name = stringList(call.funcname).join('.').toLowerCase();
      functions.add(name);
      if (name === 'set_config' || name === 'pg_catalog.set_config') {
        const [setting, value, local] = (call.args ?? []).map(literalArgument);
        if (typeof setting === 'string' && (typeof value === 'string' || typeof value === 'number')) {
          const entry: SelectFacts['setConfig'][number] = { name: setting.toLowerCase(), value: String(value), local: local === true || local === 'true' || local === 't' };
          const ms = timeSettingMilliseconds(entry.name, entry.value);
          if (ms !== undefined) entry.milliseconds = ms;
          setConfig.push(entry);
        }
      }
    });
    const facts: SelectFacts = { kind: 'select', readsFrom, setConfig, functions: [...functions] };
    let strongest = -1;
    const strengths = ['LCS_FORKEYSHARE', 'LCS_FORSHARE', 'LCS_FORNOKEYUPDATE', 'LCS_FORUPDATE'];
    const names = ['for key share', 'for share', 'for no key update', 'for update'] as const;
    for (const node of stmt.lockingClause ?? []) {
      const strength = strengths.indexOf(nodeOf<{ strength?: string }>(node, 'LockingClause')?.strength ?? '');
      strongest = Math.max(strongest, strength);
    }
    if (strongest >= 0) facts.locking = names[strongest]!;
    return facts;
  }

  private comment(body: Record<string, unknown>): CommentFacts {
    const stmt = body as { objtype?: ObjectType; object?: Node; comment?: string };
    const objectType = objectTypeName(stmt.objtype ?? 'OBJECT_TABLE');
    const text = stmt.comment ?? null;
    const memberOfTable = objectType === 'column' || objectType === 'tabconstraint' || objectType === 'trigger' || objectType === 'policy' || objectType === 'rule';
    if (memberOfTable) {
      const parts = stringList(nodeOf<{ items?: Node[] }>(stmt.object, 'List')?.items);
      return { kind: 'comment', objectType: objectType === 'tabconstraint' ? 'constraint' : objectType, target: nameFromParts(parts.slice(0, -1)), member: parts[parts.length - 1] ?? '', text };
    }
    return { kind: 'comment', objectType, target: nameFromNode(stmt.object) ?? { name: '' }, text };
  }

  private set(body: Record<string, unknown>): SetFacts {
    const stmt = body as { kind?: string; name?: string; args?: Node[]; is_local?: boolean };
    const name = (stmt.name ?? '').toLowerCase();
    const local = stmt.is_local ?? false;
    switch (stmt.kind) {
      case 'VAR_RESET':
        return { kind: 'set', action: 'reset', name, local };
      case 'VAR_RESET_ALL':
        return { kind: 'set', action: 'reset-all', name: 'all', local };
      case 'VAR_SET_DEFAULT':
        return { kind: 'set', action: 'set-default', name, local };
      case 'VAR_SET_MULTI': {
        const opts = [...defElems(stmt.args).entries()].map(([key, arg]) => `${key} ${defElemText(arg) ?? ''}`.trim());
        return { kind: 'set', action: 'set-multi', name, value: opts.join(', '), local };
      }
      default: {
        const values = (stmt.args ?? []).map((arg) => {
          const literal = literalArgument(arg);
          return literal === undefined || literal === null ? (defElemText(arg) ?? '') : String(literal);
        });
        const value = values.join(', ');
        const facts: SetFacts = { kind: 'set', action: 'set', name, value, local };
        const ms = timeSettingMilliseconds(name, value);
        if (ms !== undefined) facts.milliseconds = ms;
        return facts;
      }
    }
  }

  private transaction(body: Record<string, unknown>): TransactionFacts {
    const stmt = body as { kind?: string; savepoint_name?: string; options?: Node[]; gid?: string };
    const actions: Record<string, TransactionFacts['action']> = {
      TRANS_STMT_BEGIN: 'begin',
      TRANS_STMT_START: 'begin',
      TRANS_STMT_COMMIT: 'commit',
      TRANS_STMT_ROLLBACK: 'rollback',
      TRANS_STMT_SAVEPOINT: 'savepoint',
      TRANS_STMT_RELEASE: 'release',
      TRANS_STMT_ROLLBACK_TO: 'rollback-to',
      TRANS_STMT_PREPARE: 'prepare',
      TRANS_STMT_COMMIT_PREPARED: 'commit-prepared',
      TRANS_STMT_ROLLBACK_PREPARED: 'rollback-prepared',
    };
    const facts: TransactionFacts = { kind: 'transaction', action: actions[stmt.kind ?? ''] ?? 'begin' };
    if (stmt.savepoint_name) facts.savepoint = stmt.savepoint_name;
    const opts = defElems(stmt.options);
    const isolation = defElemText(opts.get('transaction_isolation'));
    if (isolation) facts.isolation = isolation;
    if (opts.has('transaction_read_only')) {
      const value = literalArgument(opts.get('transaction_read_only'));
      facts.readOnly = value === 1 || value === true || value === 'true';
    }
    return facts;
  }

  private vacuum(body: Record<string, unknown>): VacuumFacts {
    const stmt = body as { options?: Node[]; rels?: Node[]; is_vacuumcmd?: boolean };
    const opts = defElems(stmt.options);
    const flag = (name: string) => opts.has(name) && !['false', 'off', '0'].includes((defElemText(opts.get(name)) ?? 'true').toLowerCase());
    const tables = (stmt.rels ?? []).map((node) => relationName(nodeOf<{ relation?: RangeVar }>(node, 'VacuumRelation')?.relation));
    const isVacuum = stmt.is_vacuumcmd ?? false;
    return {
      kind: isVacuum ? 'vacuum' : 'analyze',
      tables,
      full: flag('full'),
      analyze: isVacuum ? flag('analyze') : true,
      freeze: flag('freeze'),
      verbose: flag('verbose'),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function constraintKind(contype: string | undefined): ConstraintKind {
  switch (contype) {
    case 'CONSTR_PRIMARY':
      return 'primary';
    case 'CONSTR_UNIQUE':
      return 'unique';
    case 'CONSTR_FOREIGN':
      return 'foreign';
    case 'CONSTR_EXCLUSION':
      return 'exclusion';
    case 'CONSTR_NOTNULL':
      return 'not-null';
    default:
      return 'check';
  }
}

function foreignKeyAction(code: string | undefined): ForeignKeyAction {
  switch (code) {
    case 'r':
      return 'restrict';
    case 'c':
      return 'cascade';
    case 'n':
      return 'set null';
    case 'd':
      return 'set default';
    default:
      return 'no action';
  }
}

/** `OBJECT_MATVIEW` → `materialized-view`, `OBJECT_FOREIGN_TABLE` → `foreign-table`. */
export function objectTypeName(type: ObjectType | string): string {
  if (type === 'OBJECT_MATVIEW') return 'materialized-view';
  return type.replace(/^OBJECT_/, '').toLowerCase().replace(/_/g, '-');
}

function optionNames(def: Node | undefined): string[] {
  const names: string[] = [];
  for (const node of nodeOf<{ items?: Node[] }>(def, 'List')?.items ?? []) {
    const option = nodeOf<{ defnamespace?: string; defname?: string }>(node, 'DefElem');
    if (option?.defname) names.push(option.defnamespace ? `${option.defnamespace}.${option.defname}` : option.defname);
  }
  return names;
}

function hasReturning(stmt: { returningClause?: unknown; returningList?: Node[] }): boolean {
  const clause = stmt.returningClause as { exprs?: Node[] } | undefined;
  return (clause?.exprs?.length ?? 0) > 0 || (stmt.returningList?.length ?? 0) > 0;
}

function literalArgument(node: Node | undefined): string | number | boolean | null | undefined {
  const constant = nodeOf<A_Const>(node, 'A_Const');
  if (constant) return constantValue(constant);
  const cast = nodeOf<{ arg?: Node }>(node, 'TypeCast');
  if (cast) return literalArgument(cast.arg);
  return undefined;
}

const TIME_SETTINGS = new Set([
  'lock_timeout',
  'statement_timeout',
  'idle_in_transaction_session_timeout',
  'idle_session_timeout',
  'transaction_timeout',
  'deadlock_timeout',
]);

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** A `*_timeout` setting's value in milliseconds (bare numbers are milliseconds, as PostgreSQL reads them). */
export function timeSettingMilliseconds(name: string, value: string | undefined): number | undefined {
  if (!TIME_SETTINGS.has(name.toLowerCase()) || value === undefined) return undefined;
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/i.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (UNIT_MS[(match[2] ?? 'ms').toLowerCase()] ?? 1);
}

/**
 * Tables a statement reads (FROM, USING, JOIN, subqueries), CTE names excluded. A DML target is a
 * plain field, not a `RangeVar` node, so it is listed only when a subquery reads it too.
 */
export function relationsRead(root: unknown): QualifiedName[] {
  const cteNames = new Set<string>();
  walk(root, (kind, body) => {
    if (kind === 'CommonTableExpr') cteNames.add((body as { ctename?: string }).ctename ?? '');
  });
  const out: QualifiedName[] = [];
  const seen = new Set<string>();
  walk(root, (kind, body) => {
    if (kind !== 'RangeVar') return;
    const range = body as RangeVar;
    if (!range.schemaname && cteNames.has(range.relname ?? '')) return;
    const name = relationName(range);
    const key = `${name.schema ?? ''}.${name.name}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(name);
  });
  return out;
}

function columnOf(node: Node | undefined): string | undefined {
  const ref = nodeOf<{ fields?: Node[] }>(node, 'ColumnRef');
  const fields = stringList(ref?.fields);
  return fields[fields.length - 1];
}

/** Recognises the usual batch shapes of a backfill's WHERE clause (and its FROM / WITH / USING parts). */
function batchOf(where: Node | undefined, extra: unknown[]): BatchFacts | undefined {
  let limit: BatchFacts | undefined;
  const findLimit = (root: unknown) =>
    walk(root, (kind, body) => {
      if (limit) return false;
      if (kind === 'SelectStmt' && (body as { limitCount?: Node }).limitCount) {
        const count = integerOf((body as { limitCount?: Node }).limitCount);
        limit = count !== undefined ? { kind: 'limit', limit: count } : { kind: 'limit' };
        return false;
      }
      return true;
    });
  findLimit(where);
  for (const part of extra) findLimit(part);
  if (limit) return limit;
  if (!where) return undefined;
  return conjunctBatch(where);
}

function conjunctBatch(where: Node): BatchFacts | undefined {
  const conjuncts: Node[] = [];
  const bool = nodeOf<{ boolop?: string; args?: Node[] }>(where, 'BoolExpr');
  if (bool?.boolop === 'AND_EXPR') conjuncts.push(...(bool.args ?? []));
  else conjuncts.push(where);
  const lower = new Set<string>();
  const upper = new Set<string>();
  for (const conjunct of conjuncts) {
    const expr = nodeOf<{ kind?: string; name?: Node[]; lexpr?: Node; rexpr?: Node }>(conjunct, 'A_Expr');
    if (!expr) continue;
    const column = columnOf(expr.lexpr);
    if (!column) continue;
    const op = stringList(expr.name)[0];
    if (expr.kind === 'AEXPR_BETWEEN' || expr.kind === 'AEXPR_BETWEEN_SYM') return { kind: 'range', column };
    if (expr.kind === 'AEXPR_IN' && op === '=') {
      const size = nodeOf<{ items?: Node[] }>(expr.rexpr, 'List')?.items?.length ?? 0;
      return { kind: 'key-list', column, size };
    }
    if (expr.kind === 'AEXPR_OP_ANY' && op === '=') {
      const array = nodeOf<{ elements?: Node[] }>(expr.rexpr, 'A_ArrayExpr');
      if (array) return { kind: 'key-list', column, size: array.elements?.length ?? 0 };
      const literal = literalArgument(expr.rexpr);
      if (typeof literal === 'string' && literal.startsWith('{')) return { kind: 'key-list', column, size: literal.slice(1, -1).split(',').filter(Boolean).length };
    }
    if (expr.kind === 'AEXPR_OP') {
      if (op === '>' || op === '>=') lower.add(column);
      if (op === '<' || op === '<=') upper.add(column);
    }
  }
  for (const column of lower) if (upper.has(column)) return { kind: 'range', column };
  return undefined;
}

/** The smallest non-negative `location` in a tree (node bodies and plain fields such as `relation`). */
function firstLocation(root: unknown): number | undefined {
  let min: number | undefined;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (!value || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (key === 'location' && typeof child === 'number' && child >= 0 && (min === undefined || child < min)) min = child;
      else visit(child);
    }
  };
  visit(root);
  return min;
}

// Words that end a default / generated / USING expression inside a column definition.
const EXPRESSION_END_WORDS = new Set([
  'not', 'null', 'constraint', 'check', 'unique', 'primary', 'references', 'default', 'collate', 'generated', 'deferrable',
  'initially', 'with', 'where', 'returning', 'stored', 'virtual',
]);

/**
 * Cuts the expression that starts at byte `start` of `sql`, up to a top-level `,`, `;`, an
 * unbalanced `)` or a constraint keyword, using PostgreSQL's own scanner for the tokens.
 */
function cutExpression(sql: string, start: number): string | undefined {
  const bytes = Buffer.from(sql, 'utf8');
  if (start < 0 || start >= bytes.length) return undefined;
  let tokens;
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    return undefined;
  }
  let depth = 0;
  let end = bytes.length;
  let previous = '';
  for (const token of tokens) {
    if (token.start < start) continue;
    if (token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT') continue;
    const text = token.text.toLowerCase();
    if (text === '(' || text === '[') depth += 1;
    else if (text === ')' || text === ']') {
      if (depth === 0) {
        end = token.start;
        break;
      }
      depth -= 1;
    } else if ((text === ',' || text === ';') && depth === 0) {
      end = token.start;
      break;
    } else if (depth === 0 && token.start > start && token.keywordKind !== 0 && EXPRESSION_END_WORDS.has(text) && !(previous === 'is' && (text === 'null' || text === 'not'))) {
      end = token.start;
      break;
    }
    previous = text;
  }
  const text = bytes.subarray(start, end).toString('utf8').trim();
  return text.length ? text : undefined;
}

interface RawPartitionBound {
  is_default?: boolean;
  strategy?: string;
  listdatums?: Node[];
  lowerdatums?: Node[];
  upperdatums?: Node[];
}

/** A range datum: MINVALUE / MAXVALUE come out of the raw parse as column references. */
function boundDatum(node: Node): string | undefined {
  const ref = nodeOf<{ fields?: Node[] }>(node, 'ColumnRef');
  const names = ref ? stringList(ref.fields) : [];
  if (names.length === 1 && (names[0] === 'minvalue' || names[0] === 'maxvalue')) return names[0].toUpperCase();
  const constant = nodeOf<A_Const>(node, 'A_Const');
  if (constant?.isnull) return 'NULL';
  return expressionText(node);
}

function partitionBound(bound: RawPartitionBound | undefined): PartitionBoundFacts | undefined {
  if (!bound) return undefined;
  const datums = (nodes: Node[] | undefined): string[] | undefined => {
    const texts = (nodes ?? []).map(boundDatum);
    return texts.every((t) => t !== undefined) ? (texts as string[]) : undefined;
  };
  if (bound.strategy === 'h') return { strategy: 'hash' };
  if (bound.strategy === 'l') {
    const values = datums(bound.listdatums);
    return values ? { strategy: 'list', values } : undefined;
  }
  if (bound.strategy === 'r') {
    const from = datums(bound.lowerdatums);
    const to = datums(bound.upperdatums);
    return from && to ? { strategy: 'range', from, to } : undefined;
  }
  return undefined;
}
