import type { Node } from 'libpg-query';
import { defElemText, defElems } from '../ast.js';
import type { DoFacts, SetFacts, TransactionFacts } from './types.js';
import { literalArgument } from './common.js';

// SET, transaction control, DO blocks, and the *_timeout settings they carry.

export function set(body: Record<string, unknown>): SetFacts {
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

/** libpg-query's TransactionStmt kinds, by what they do (capture reads them too). */
export const TRANSACTION_ACTIONS: Readonly<Record<string, TransactionFacts['action']>> = {
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

export function transaction(body: Record<string, unknown>): TransactionFacts {
  const stmt = body as { kind?: string; savepoint_name?: string; options?: Node[]; gid?: string };
  const facts: TransactionFacts = { kind: 'transaction', action: TRANSACTION_ACTIONS[stmt.kind ?? ''] ?? 'begin' };
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

/** DO (DoStmt). */
export function doBlock(body: Record<string, unknown>): DoFacts {
  const opts = defElems((body as { args?: Node[] }).args);
  return { kind: 'do', language: defElemText(opts.get('language')) ?? 'plpgsql', body: defElemText(opts.get('as')) ?? '' };
}

const TIME_SETTINGS = new Set(['lock_timeout', 'statement_timeout', 'idle_in_transaction_session_timeout', 'idle_session_timeout', 'transaction_timeout', 'deadlock_timeout']);

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** A `*_timeout` setting's value in milliseconds (bare numbers are milliseconds, as PostgreSQL reads them). */
export function timeSettingMilliseconds(name: string, value: string | undefined): number | undefined {
  if (!TIME_SETTINGS.has(name.toLowerCase()) || value === undefined) return undefined;
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/i.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (UNIT_MS[(match[2] ?? 'ms').toLowerCase()] ?? 1);
}
