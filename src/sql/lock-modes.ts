// The lock modes alone, below both facts.ts (LOCK TABLE's mode) and locks.ts (what a statement
// takes), so neither imports the other for them.

/** Table-level lock modes, weakest to strongest, spelled as `pg_locks.mode` spells them. */
export const LOCK_MODES = ['AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'] as const;

export type LockMode = (typeof LOCK_MODES)[number];
