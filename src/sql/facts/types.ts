import type { QualifiedName } from '../ast.js';
import type { TypeRef } from '../datatypes.js';
import type { ExpressionFacts, FunctionVolatilityLookup } from '../expr.js';
import type { LockMode } from '../lock-modes.js';

// What a statement does, by kind: the shapes every statement family in this folder returns.

export type { QualifiedName } from '../ast.js';
export type { TypeRef } from '../datatypes.js';
export type { ExpressionFacts, Volatility } from '../expr.js';

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
export type PartitionBoundFacts = { strategy: 'range'; from: string[]; to: string[] } | { strategy: 'list'; values: string[] } | { strategy: 'hash' };

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
