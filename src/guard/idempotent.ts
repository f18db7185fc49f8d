import type { Node } from 'libpg-query';
import { parseSqlSync, statementKind } from '../sql/parse.js';

/**
 * Whether running `sql` a second time, after it already ran once, leaves the same state and does
 * not fail: what makes a migration without a transaction safe to re-run after a lock timeout.
 * Conservative: anything not known to be idempotent is not (UPDATE, INSERT, DO blocks, ...).
 * Needs `ensureParser()` to have resolved.
 */
export function isIdempotentSql(sql: string): boolean {
  let asts: Node[];
  try {
    asts = parseSqlSync(sql).map((s) => s.ast);
  } catch {
    return false;
  }
  return asts.every(isIdempotentStatement);
}

const SAFE_ALTER_SUBTYPES = new Set([
  'AT_ColumnDefault',
  'AT_SetNotNull',
  'AT_DropNotNull',
  'AT_ValidateConstraint',
  'AT_SetStatistics',
  'AT_SetStorage',
  'AT_SetCompression',
  'AT_SetLogged',
  'AT_SetUnLogged',
  'AT_ChangeOwner',
  'AT_EnableTrig',
  'AT_DisableTrig',
  'AT_EnableTrigAll',
  'AT_DisableTrigAll',
  'AT_EnableTrigUser',
  'AT_DisableTrigUser',
  'AT_ReplicaIdentity',
  'AT_SetRelOptions',
  'AT_ResetRelOptions',
]);

function isIdempotentStatement(ast: Node): boolean {
  const kind = statementKind(ast);
  const body = ((ast as unknown as Record<string, Record<string, unknown>>)[kind] ?? {}) as Record<string, unknown>;
  switch (kind) {
    case 'VariableSetStmt':
    case 'VariableShowStmt':
    case 'SelectStmt':
    case 'ExplainStmt':
    case 'VacuumStmt':
    case 'CommentStmt':
    case 'GrantStmt':
    case 'GrantRoleStmt':
    case 'NotifyStmt':
    case 'ListenStmt':
    case 'RefreshMatViewStmt':
    case 'ReindexStmt':
      return true;
    case 'CreateStmt':
    case 'CreateSchemaStmt':
    case 'CreateExtensionStmt':
    case 'CreateSeqStmt':
    case 'CreateTableAsStmt':
      return body.if_not_exists === true;
    case 'IndexStmt':
      // A failed CREATE INDEX CONCURRENTLY leaves an invalid index that IF NOT EXISTS then skips:
      // only a plain (transactional) one is known to be all-or-nothing.
      return body.if_not_exists === true && body.concurrent !== true;
    case 'DropStmt':
      return body.missing_ok === true;
    case 'ViewStmt':
    case 'CreateFunctionStmt':
    case 'CreateTrigStmt':
    case 'RuleStmt':
      return body.replace === true;
    case 'AlterTableStmt': {
      const cmds = (body.cmds as { AlterTableCmd?: { subtype?: string; missing_ok?: boolean; def?: unknown } }[] | undefined) ?? [];
      return cmds.every((c) => {
        const cmd = c.AlterTableCmd;
        if (!cmd?.subtype) return false;
        if (cmd.subtype === 'AT_AddColumn' || cmd.subtype === 'AT_DropColumn' || cmd.subtype === 'AT_DropConstraint') return cmd.missing_ok === true;
        return SAFE_ALTER_SUBTYPES.has(cmd.subtype);
      });
    }
    case 'TransactionStmt':
      return true;
    default:
      return false;
  }
}
