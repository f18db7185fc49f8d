import type { Node, RangeVar } from 'libpg-query';
import { defElemText, defElems, nodeOf, relationName } from '../ast.js';
import { LOCK_MODES } from '../lock-modes.js';
import type { ClusterFacts, LockTableFacts, RefreshMaterializedViewFacts, TruncateFacts, VacuumFacts } from './types.js';

// VACUUM, TRUNCATE, LOCK TABLE, REFRESH MATERIALIZED VIEW, CLUSTER.

export function vacuum(body: Record<string, unknown>): VacuumFacts {
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

/** LOCK TABLE (LockStmt). */
export function lockTable(body: Record<string, unknown>): LockTableFacts {
  const lock = body as { relations?: Node[]; mode?: number; nowait?: boolean };
  return {
    kind: 'lock-table',
    tables: (lock.relations ?? []).map((node) => relationName(nodeOf<RangeVar>(node, 'RangeVar'))),
    mode: LOCK_MODES[(lock.mode ?? 8) - 1] ?? 'AccessExclusiveLock',
    nowait: lock.nowait ?? false,
  };
}

/** TRUNCATE (TruncateStmt). */
export function truncate(body: Record<string, unknown>): TruncateFacts {
  const truncate = body as { relations?: Node[]; restart_seqs?: boolean; behavior?: string };
  return {
    kind: 'truncate',
    tables: (truncate.relations ?? []).map((node) => relationName(nodeOf<RangeVar>(node, 'RangeVar'))),
    cascade: truncate.behavior === 'DROP_CASCADE',
    restartIdentity: truncate.restart_seqs ?? false,
  };
}

/** REFRESH MATERIALIZED VIEW (RefreshMatViewStmt). */
export function refreshMaterializedView(body: Record<string, unknown>): RefreshMaterializedViewFacts {
  const refresh = body as { concurrent?: boolean; skipData?: boolean; relation?: RangeVar };
  return {
    kind: 'refresh-materialized-view',
    view: relationName(refresh.relation),
    concurrently: refresh.concurrent ?? false,
    withData: !(refresh.skipData ?? false),
  };
}

/** CLUSTER (ClusterStmt). */
export function cluster(body: Record<string, unknown>): ClusterFacts {
  const cluster = body as { relation?: RangeVar; indexname?: string };
  return {
    kind: 'cluster',
    ...(cluster.relation ? { table: relationName(cluster.relation) } : {}),
    ...(cluster.indexname ? { index: cluster.indexname } : {}),
  };
}
