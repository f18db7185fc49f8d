import type { QualifiedName } from '../sql/facts.js';
import { qualify } from './analyze.js';
import type { AnalyzedStatement, EffectiveLock, RuleContext } from './types.js';
import type { LockMode } from '../sql/locks.js';
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

/** The single-column primary key of a table that existed before the migration. */
export function primaryKeyColumn(context: RuleContext, table: string): string | undefined {
  const info = context.migration.schemaBefore?.tables[table];
  const pk = info ? Object.values(info.constraints).find((c) => c.kind === 'primary') : undefined;
  return pk?.columns.length === 1 ? pk.columns[0] : undefined;
}
