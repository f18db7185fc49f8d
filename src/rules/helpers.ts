import type { QualifiedName } from '../sql/facts.js';
import { qualify } from './analyze.js';
import type { AnalyzedStatement, EffectiveLock, MigrationUnit, RuleContext } from './types.js';
import type { LockedObject, LockMode } from '../sql/locks.js';
import { lockRank } from '../sql/locks.js';

/** `public.users` → `users` for messages and generated code; other schemas stay qualified. */
export function shortName(name: QualifiedName | string): string {
  const q = typeof name === 'string' ? name : name.schema ? `${name.schema}.${name.name}` : name.name;
  return q.startsWith('public.') ? q.slice('public.'.length) : q;
}

/** The qualified name of a table as the migration's schema knows it. */
export function tableName(context: RuleContext, name: QualifiedName | string): string {
  return qualify(name, context.migration.schemaBefore);
}

/** The strongest lock the statement holds on `table` (or on any relation when omitted). */
export function strongestLock(statement: AnalyzedStatement, table?: string): EffectiveLock | undefined {
  let best: EffectiveLock | undefined;
  for (const l of statement.locks) {
    if (table && l.relation !== table && l.table !== table) continue;
    if (!best || lockRank(l.mode) > lockRank(best.mode)) best = l;
  }
  return best;
}

export function holdsAtLeast(statement: AnalyzedStatement, table: string, mode: LockMode): boolean {
  const l = strongestLock(statement, table);
  return l !== undefined && lockRank(l.mode) >= lockRank(mode);
}

/** The kind of object a lock is on, as the lock conflict table reads it (src/sql/locks.ts). */
export function lockedObject(lock: Pick<EffectiveLock, 'relationKind'>): LockedObject {
  return lock.relationKind === 'other' ? 'table' : lock.relationKind;
}

/** A lock an earlier statement of the same transaction took, still held. */
export interface HeldLock {
  mode: LockMode;
  /** The statement that took it, and its migration. */
  statement: AnalyzedStatement;
  migration: MigrationUnit;
}

/**
 * The strongest lock on `relation` (qualified; a lock on one of its indexes counts) that earlier
 * statements of the transaction `statement` runs in still hold when it runs: knex's migration
 * transaction (shared by a whole batch) keeps every lock until it commits. Undefined outside a
 * transaction, or when nothing earlier locked the relation.
 */
export function heldBefore(statement: AnalyzedStatement, unit: MigrationUnit, batch: readonly MigrationUnit[], relation: string): HeldLock | undefined {
  const tx = statement.transactionId;
  if (tx === undefined) return undefined;
  let best: HeldLock | undefined;
  const consider = (s: AnalyzedStatement, migration: MigrationUnit) => {
    if (s.transactionId !== tx || s.error) return;
    for (const l of s.locks) {
      if (l.relation !== relation && l.table !== relation) continue;
      if (!best || lockRank(l.mode) > lockRank(best.mode)) best = { mode: l.mode, statement: s, migration };
    }
  };
  for (const other of batch) {
    if (other === unit) break;
    for (const s of other.statements) consider(s, other);
  }
  for (const s of unit.statements) {
    if (s.index >= statement.index) break;
    consider(s, unit);
  }
  return best;
}

/** The single-column primary key of a table that existed before the migration. */
export function primaryKeyColumn(context: RuleContext, table: string): string | undefined {
  const info = context.migration.schemaBefore?.tables[table];
  const pk = info ? Object.values(info.constraints).find((c) => c.kind === 'primary') : undefined;
  return pk?.columns.length === 1 ? pk.columns[0] : undefined;
}
