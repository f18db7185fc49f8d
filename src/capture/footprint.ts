import type { Node } from 'libpg-query';
import { statementKind } from '../sql/parse.js';

/**
 * Statements whose catalog changes stay within relations they lock (or create): an incremental
 * schema snapshot may re-read just those. Everything else — types, functions, schemas, extensions,
 * renames (other objects print the new name), DO blocks and procedure calls (they may do anything)
 * — asks for a read of what changed since the last MVCC snapshot (CATALOG_CHANGES_SQL). Data
 * statements are listed: a function they call could run DDL, but DDL on a relation locks it, which
 * the footprint sees (a type or function such a call creates would not be seen: a blind spot
 * accepted for the cost of counting every catalog row after every insert).
 */
const RELATION_SCOPED = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'CopyStmt',
  'CreateStmt',
  'CreateTableAsStmt',
  'AlterTableStmt',
  'IndexStmt',
  'CreateSeqStmt',
  'AlterSeqStmt',
  'ViewStmt',
  'RefreshMatViewStmt',
  'CreateTrigStmt',
  'CreatePolicyStmt',
  'AlterPolicyStmt',
  'TruncateStmt',
  'LockStmt',
  'TransactionStmt',
  'VariableSetStmt',
  'VariableShowStmt',
  'GrantStmt',
  'ExplainStmt',
  'NotifyStmt',
  'ClusterStmt',
  'VacuumStmt',
  'ReindexStmt',
]);

/** Objects of COMMENT ON and DROP that belong to a relation. */
const RELATION_OBJECTS = new Set([
  'OBJECT_TABLE',
  'OBJECT_COLUMN',
  'OBJECT_INDEX',
  'OBJECT_SEQUENCE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_TABCONSTRAINT',
  'OBJECT_TRIGGER',
  'OBJECT_POLICY',
]);

/** True when `ast`'s catalog effects are confined to the relations it locks or creates. */
export function isRelationScoped(ast: Node): boolean {
  const kind = statementKind(ast);
  const body = (ast as unknown as Record<string, { objtype?: string; removeType?: string }>)[kind] ?? {};
  // ALTER TYPE … ADD ATTRIBUTE parses as ALTER TABLE on the composite type: a schema-wide kind.
  if (kind === 'AlterTableStmt') return body.objtype !== 'OBJECT_TYPE';
  if (RELATION_SCOPED.has(kind)) return true;
  if (kind === 'CommentStmt') return RELATION_OBJECTS.has(body.objtype ?? '');
  if (kind === 'DropStmt') return RELATION_OBJECTS.has(body.removeType ?? '');
  return false;
}
