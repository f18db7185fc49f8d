import type { Node } from 'libpg-query';
import { TRANSACTION_ACTIONS } from '../sql/facts/session.js';
import type { TransactionFacts } from '../sql/facts/types.js';
import { parseSqlSync, statementKind } from '../sql/parse.js';

/** What a lone transaction-control statement does; 'other' for a kind the parser gives that is not listed. */
export type TransactionControl = TransactionFacts['action'] | 'other';

export interface StatementShape {
  /** Parsed top-level statements (empty when the text did not parse). */
  asts: Node[];
  parsed: boolean;
  /** Set when the text is a single transaction-control statement. */
  control?: TransactionControl;
  /** False for statements PostgreSQL refuses inside a transaction block (CONCURRENTLY, VACUUM, …). */
  allowedInTransactionBlock: boolean;
  /**
   * True for a text PostgreSQL refuses outside a transaction block (25P01): a lone LOCK TABLE or
   * DECLARE CURSOR without HOLD. With other statements in one simple query it runs in that
   * query's implicit block and passes.
   */
  requiresTransactionBlock: boolean;
}

/** Reads a statement with the real parser to decide how the capture engine may run it. */
export function statementShape(sql: string): StatementShape {
  let asts: Node[];
  try {
    asts = parseSqlSync(sql).map((s) => s.ast);
  } catch {
    return { asts: [], parsed: false, allowedInTransactionBlock: false, requiresTransactionBlock: false };
  }
  const first = asts[0];
  let control: TransactionControl | undefined;
  if (asts.length === 1 && first && statementKind(first) === 'TransactionStmt') {
    const kind = (first as { TransactionStmt: { kind?: string } }).TransactionStmt.kind ?? '';
    control = TRANSACTION_ACTIONS[kind] ?? 'other';
  }
  return {
    asts,
    parsed: true,
    ...(control ? { control } : {}),
    allowedInTransactionBlock: asts.every(allowedInBlock),
    requiresTransactionBlock: asts.length === 1 && first !== undefined && requiresBlock(first),
  };
}

/** DECLARE's CURSOR_OPT_HOLD (parsenodes.h). */
const CURSOR_OPT_HOLD = 0x0020;

function requiresBlock(ast: Node): boolean {
  const kind = statementKind(ast);
  if (kind === 'LockStmt') return true;
  if (kind === 'DeclareCursorStmt') {
    const options = Number((ast as unknown as { DeclareCursorStmt: { options?: number } }).DeclareCursorStmt.options ?? 0);
    return (options & CURSOR_OPT_HOLD) === 0;
  }
  return false;
}

function allowedInBlock(ast: Node): boolean {
  const kind = statementKind(ast);
  const body = (ast as unknown as Record<string, Record<string, unknown>>)[kind] ?? {};
  switch (kind) {
    case 'IndexStmt':
    case 'DropStmt':
      return body.concurrent !== true;
    case 'ReindexStmt':
      return !hasOption(body.params, 'concurrently');
    case 'VacuumStmt':
      return body.is_vacuumcmd !== true;
    case 'CreatedbStmt':
    case 'DropdbStmt':
    case 'AlterSystemStmt':
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
    case 'CreateSubscriptionStmt':
    case 'DropSubscriptionStmt':
    case 'TransactionStmt':
      return false;
    case 'AlterTableStmt': {
      const cmds = (body.cmds as { AlterTableCmd?: { subtype?: string; def?: { PartitionCmd?: { concurrent?: boolean } } } }[] | undefined) ?? [];
      return !cmds.some((c) => c.AlterTableCmd?.subtype === 'AT_DetachPartition' && c.AlterTableCmd.def?.PartitionCmd?.concurrent === true);
    }
    default:
      return true;
  }
}

function hasOption(params: unknown, name: string): boolean {
  if (!Array.isArray(params)) return false;
  return params.some((p) => (p as { DefElem?: { defname?: string } }).DefElem?.defname === name);
}
