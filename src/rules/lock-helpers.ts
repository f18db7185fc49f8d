import { lockBlocks, type LockedObject, type LockMode } from '../sql/locks.js';
import { lockedObject } from './helpers.js';
import type { AnalyzedStatement, EffectiveLock, MigrationUnit } from './types.js';

// What several rules ask of a statement's locks and rewrites; no rule owns it.

/**
 * Whether other sessions' reads or writes of the object wait for a lock in this mode (on a table:
 * ACCESS EXCLUSIVE, EXCLUSIVE, SHARE ROW EXCLUSIVE, SHARE; on a materialized view, which nobody
 * writes: ACCESS EXCLUSIVE only).
 */
export function blocksTraffic(mode: LockMode, object: LockedObject = 'table'): boolean {
  const impact = lockBlocks(mode, object);
  return impact.reads || impact.writes;
}

/** Locks of a statement that stop reads or writes of a table (or view) that existed before the migration. */
export function trafficLocks(statement: AnalyzedStatement): EffectiveLock[] {
  return statement.locks.filter(
    (l) => l.age === 'existing' && (l.relationKind === 'table' || l.relationKind === 'view' || l.relationKind === 'materialized-view') && blocksTraffic(l.mode, lockedObject(l)),
  );
}

/**
 * Static analysis of a .sql file cannot name the table of an index the file does not create
 * (`DROP INDEX`, `REINDEX INDEX`): a blocking lock on such an index stands for its table. Queries on
 * the table queue behind it all the same, since planning a query locks every index of the table.
 */
export function unknownTableIndexLocks(statement: AnalyzedStatement): EffectiveLock[] {
  if (statement.captured || statement.locks.some((l) => l.relationKind === 'table')) return [];
  return statement.locks.filter((l) => l.relationKind === 'index' && !l.table && l.age === 'existing' && blocksTraffic(l.mode));
}

function lockTimeoutSetting(statement: AnalyzedStatement): { active: boolean; local: boolean } | undefined {
  const f = statement.facts;
  if (f.kind === 'set') {
    if (f.name === 'all' && f.action === 'reset-all') return { active: false, local: false };
    if (f.name !== 'lock_timeout') return undefined;
    if (f.action === 'reset' || f.action === 'set-default') return { active: false, local: f.local };
    return { active: (f.milliseconds ?? 0) > 0, local: f.local };
  }
  if (f.kind === 'select') {
    const entry = [...f.setConfig].reverse().find((c) => c.name === 'lock_timeout');
    if (entry) return { active: (entry.milliseconds ?? 0) > 0, local: entry.local };
  }
  return undefined;
}

/**
 * Whether a positive lock_timeout is in force when `target` runs: set earlier in this migration
 * (SET LOCAL / set_config(..., true) only count inside the same transaction), or earlier in the
 * same knex batch transaction.
 */
export function lockTimeoutInForce(target: AnalyzedStatement, unit: MigrationUnit, batch: MigrationUnit[]): boolean {
  let active = false;
  const apply = (s: AnalyzedStatement, setting: { active: boolean; local: boolean }) => {
    const applies = setting.local ? s.transactionId !== undefined && s.transactionId === target.transactionId : true;
    if (applies) active = setting.active;
  };
  if (target.transactionId) {
    for (const other of batch) {
      if (other === unit) break;
      for (const [s, setting] of settingsOf(other)) if (s.transactionId === target.transactionId) apply(s, setting);
    }
  }
  for (const [s, setting] of settingsOf(unit)) if (s.index < target.index) apply(s, setting);
  return active;
}

// The statements of a migration that set or reset lock_timeout, in order, read once per migration:
// scanning every earlier statement again for each statement asked about made a 1,000-statement
// SQL file quadratic.
const settingsByStatements = new WeakMap<readonly AnalyzedStatement[], { count: number; settings: [AnalyzedStatement, { active: boolean; local: boolean }][] }>();
function settingsOf(unit: MigrationUnit): [AnalyzedStatement, { active: boolean; local: boolean }][] {
  const known = settingsByStatements.get(unit.statements);
  if (known && known.count === unit.statements.length) return known.settings;
  const settings: [AnalyzedStatement, { active: boolean; local: boolean }][] = [];
  for (const s of unit.statements) {
    const setting = lockTimeoutSetting(s);
    if (setting) settings.push([s, setting]);
  }
  settingsByStatements.set(unit.statements, { count: unit.statements.length, settings });
  return settings;
}

/** Whether the statement rewrote `table` (qualified): observed on the shadow, or predicted in static mode. */
export function rewroteTable(statement: AnalyzedStatement, table: string): boolean {
  if (statement.rewrites.some((r) => r.table === table)) return true;
  return (statement.captured?.rewrites ?? []).some((r) => `${r.schema}.${r.name}` === table && (r.kind === 'r' || r.kind === 'p' || r.kind === 'm'));
}
