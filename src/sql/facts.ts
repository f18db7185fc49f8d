import type { AlterTableStmt, CreateStmt, IndexStmt, Node } from 'libpg-query';
import { unwrap } from './ast.js';
import { createExtension, createFunction, createSchema, createSequence, createTrigger, createView } from './facts/definitions.js';
import { deleteFrom, insert, merge, select, update } from './facts/dml.js';
import { comment, drop, rename } from './facts/generic.js';
import { createIndex, reindex } from './facts/indexes.js';
import { cluster, lockTable, refreshMaterializedView, truncate, vacuum } from './facts/maintenance.js';
import { doBlock, set, transaction } from './facts/session.js';
import { alterTable, createTable, createTableAs } from './facts/tables.js';
import { alterEnum, createCompositeType, createDomain, createEnum, createRange, defineType } from './facts/user-types.js';
import { FactReader } from './facts/reader.js';
import type { StatementFacts, StatementFactsOptions } from './facts/types.js';

// Statement facts: what a statement does, read from its AST. Each statement family reads in its own
// module under facts/; this module dispatches on the node kind and keeps the exports in one place.

export * from './facts/types.js';
export { objectTypeName, relationsRead } from './facts/common.js';
export { timeSettingMilliseconds } from './facts/session.js';

/**
 * What a statement does, read from its libpg-query AST. `sql` is the statement's own text; it is
 * used to quote expressions the built-in printer does not spell (e.g. `DEFAULT CASE ... END`).
 */
export function statementFacts(ast: Node, sql: string, options: StatementFactsOptions = {}): StatementFacts {
  const r = new FactReader(ast, sql, options);
  const entry = unwrap(ast);
  if (!entry) return { kind: 'other', nodeKind: 'Unknown' };
  const [kind, body] = entry;
  switch (kind) {
    case 'CreateStmt':
      return createTable(r, body as CreateStmt);
    case 'CreateTableAsStmt':
      return createTableAs(body);
    case 'AlterTableStmt':
      return alterTable(r, body as AlterTableStmt);
    case 'IndexStmt':
      return createIndex(r, body as IndexStmt);
    case 'DropStmt':
      return drop(body);
    case 'RenameStmt':
      return rename(body);
    case 'CreateEnumStmt':
      return createEnum(body);
    case 'CompositeTypeStmt':
      return createCompositeType(r, body);
    case 'CreateRangeStmt':
      return createRange(body);
    case 'DefineStmt':
      return defineType(body);
    case 'CreateDomainStmt':
      return createDomain(r, body);
    case 'AlterEnumStmt':
      return alterEnum(body);
    case 'CreateExtensionStmt':
      return createExtension(body);
    case 'ViewStmt':
      return createView(body);
    case 'CreateFunctionStmt':
      return createFunction(body);
    case 'CreateTrigStmt':
      return createTrigger(body);
    case 'CreateSchemaStmt':
      return createSchema(body);
    case 'CreateSeqStmt':
      return createSequence(body);
    case 'UpdateStmt':
      return update(body);
    case 'DeleteStmt':
      return deleteFrom(body);
    case 'InsertStmt':
      return insert(body);
    case 'MergeStmt':
      return merge(body);
    case 'SelectStmt':
      return select(body);
    case 'CommentStmt':
      return comment(body);
    case 'VariableSetStmt':
      return set(body);
    case 'TransactionStmt':
      return transaction(body);
    case 'VacuumStmt':
      return vacuum(body);
    case 'LockStmt':
      return lockTable(body);
    case 'TruncateStmt':
      return truncate(body);
    case 'RefreshMatViewStmt':
      return refreshMaterializedView(body);
    case 'ClusterStmt':
      return cluster(body);
    case 'ReindexStmt':
      return reindex(body);
    case 'DoStmt':
      return doBlock(body);
    default:
      return { kind: 'other', nodeKind: kind };
  }
}
