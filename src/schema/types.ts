/**
 * A canonical, deterministic model of a database schema, read from the catalogs. Two snapshots of
 * equal schemas are deep-equal (after `canonical` ordering), whatever PostgreSQL version produced
 * them and in whatever order objects were created. Keys are qualified names: `schema.name`
 * (the schema part is kept even for `public`).
 */
export interface SchemaSnapshot {
  schemas: string[];
  extensions: Record<string, ExtensionInfo>;
  tables: Record<string, TableInfo>;
  /** Indexes that do not back a constraint are listed here; constraint indexes are implied by the constraint. */
  indexes: Record<string, IndexInfo>;
  sequences: Record<string, SequenceInfo>;
  enums: Record<string, EnumInfo>;
  composites: Record<string, CompositeInfo>;
  domains: Record<string, DomainInfo>;
  views: Record<string, ViewInfo>;
  functions: Record<string, FunctionInfo>;
  triggers: Record<string, TriggerInfo>;
  policies: Record<string, PolicyInfo>;
  comments: Record<string, string>;
}

export interface ExtensionInfo {
  name: string;
  schema: string;
  version: string;
}

export interface TableInfo {
  schema: string;
  name: string;
  /** 'table' | 'partitioned' | 'foreign' … */
  kind: 'table' | 'partitioned' | 'foreign';
  /** For partitions: the parent's qualified name and the bound expression. */
  partitionOf?: { parent: string; bound: string };
  partitionKey?: string;
  /** Parents of a table created with INHERITS (not partitions), qualified, in order; absent when none. */
  inherits?: string[];
  /** Present (true) only for UNLOGGED tables. */
  unlogged?: true;
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  /** REPLICA IDENTITY when not DEFAULT: `full`, `nothing` or `index <index name>`. */
  replicaIdentity?: string;
  /** The index named by CLUSTER ON (or by the last CLUSTER … USING), when there is one. */
  clusterOn?: string;
  /** Storage parameters (`fillfactor=70`, `autovacuum_enabled=false`), sorted; absent when none. */
  options?: string[];
  columns: Record<string, ColumnInfo>;
  /** Column names in physical order: order differences are reported as a note, not a change. */
  columnOrder: string[];
  constraints: Record<string, ConstraintInfo>;
}

export interface ColumnInfo {
  name: string;
  /** `format_type` output, e.g. `character varying(255)`, `numeric(10,2)`, `public.order_status`. */
  type: string;
  nullable: boolean;
  /** Default expression as PostgreSQL prints it (objects schema-qualified), or null; serial: `nextval('public.users_id_seq'::regclass)`. */
  default: string | null;
  identity: 'always' | 'by default' | null;
  /** Generation expression followed by STORED or VIRTUAL (PostgreSQL 18), e.g. `(price * 2) STORED`; null if not generated. */
  generated: string | null;
  /** Only when it differs from the type's default collation, e.g. `C`; schema-qualified outside pg_catalog. */
  collation: string | null;
  /** SET STORAGE when it differs from the type's default: `plain`, `external`, `extended` or `main`. */
  storage?: string;
  /** SET STATISTICS target, when one is set. */
  statistics?: number;
  /** SET (n_distinct = …, n_distinct_inherited = …), sorted; absent when none. */
  options?: string[];
  /** SET COMPRESSION method (`pglz`, `lz4`), when one is set. */
  compression?: string;
}

export type ConstraintKind = 'primary' | 'unique' | 'foreign' | 'check' | 'exclusion';

export interface ConstraintInfo {
  name: string;
  kind: ConstraintKind;
  /** `pg_get_constraintdef` text, the full definition. */
  definition: string;
  columns: string[];
  validated: boolean;
  deferrable: boolean;
  /** Foreign keys: referenced table (qualified) and columns, actions. */
  references?: { table: string; columns: string[]; onUpdate: string; onDelete: string };
}

export interface IndexInfo {
  schema: string;
  name: string;
  table: string;
  /** `pg_get_indexdef` text. */
  definition: string;
  unique: boolean;
  /** Partial index predicate, or null. */
  predicate: string | null;
  valid: boolean;
  columns: string[];
}

export interface SequenceInfo {
  schema: string;
  name: string;
  type: string;
  /** `table.column` that owns it (serial / identity), or null. */
  ownedBy: string | null;
  increment: string;
  start: string;
}

export interface EnumInfo {
  schema: string;
  name: string;
  values: string[];
}

export interface CompositeInfo {
  schema: string;
  name: string;
  attributes: { name: string; type: string }[];
}

export interface DomainInfo {
  schema: string;
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
  checks: string[];
}

export interface ViewInfo {
  schema: string;
  name: string;
  materialized: boolean;
  definition: string;
}

export interface FunctionInfo {
  schema: string;
  name: string;
  /** `name(argtypes)`: overloads are distinct objects. */
  signature: string;
  kind: 'function' | 'procedure' | 'aggregate' | 'window';
  returns: string | null;
  language: string;
  definition: string;
}

export interface TriggerInfo {
  table: string;
  name: string;
  definition: string;
  enabled: boolean;
}

export interface PolicyInfo {
  table: string;
  name: string;
  command: string;
  permissive: boolean;
  roles: string[];
  using: string | null;
  withCheck: string | null;
}

export type SchemaObjectKind =
  | 'schema'
  | 'extension'
  | 'table'
  | 'column'
  | 'constraint'
  | 'index'
  | 'sequence'
  | 'enum'
  | 'composite'
  | 'domain'
  | 'view'
  | 'function'
  | 'trigger'
  | 'policy'
  | 'comment';

/** One difference between two snapshots, phrased the way a reviewer would write it. */
export interface SchemaChange {
  kind: SchemaObjectKind;
  /** Qualified object name, e.g. `public.users.status` (column), `public.users_email_unique` (index), `public.orders.orders_user_id_foreign` (constraint). */
  object: string;
  /** 'missing' = in the expected (before) schema, not in the actual; 'extra' = left behind; 'changed' = both, different. */
  change: 'missing' | 'extra' | 'changed';
  /** Which attribute changed, for 'changed' (e.g. 'default', 'type', 'nullable'). */
  attribute?: string;
  expected?: unknown;
  actual?: unknown;
  /** e.g. `users.status: default 'new' → none`, `index users_email_unique: missing`, `type shipment_state: left behind`. */
  message: string;
}

export interface SchemaDiff {
  equal: boolean;
  changes: SchemaChange[];
  /** Differences that do not count (column order), mentioned for information. */
  notes: string[];
}
