import { formatName, type QualifiedName } from './ast.js';
import type { AlterTableCommand, StatementFacts } from './facts.js';
import { LOCK_MODES, type LockMode } from './lock-modes.js';

export { LOCK_MODES, type LockMode } from './lock-modes.js';

/** PostgreSQL's default for statements when no version is given. */
export const DEFAULT_PG_VERSION = 18;

// "Conflicting Lock Modes" table of the PostgreSQL documentation (Explicit Locking, 13.3.1).
const CONFLICTS: Record<LockMode, readonly LockMode[]> = {
  AccessShareLock: ['AccessExclusiveLock'],
  RowShareLock: ['ExclusiveLock', 'AccessExclusiveLock'],
  RowExclusiveLock: ['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ShareUpdateExclusiveLock: ['ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ShareLock: ['RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ShareRowExclusiveLock: ['RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ExclusiveLock: ['RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  AccessExclusiveLock: [...LOCK_MODES],
};

export function isLockMode(value: string): value is LockMode {
  return (LOCK_MODES as readonly string[]).includes(value);
}

/** Whether a lock in mode `a` held by one transaction blocks a request for mode `b` by another. Symmetric. */
export function conflicts(a: LockMode, b: LockMode): boolean {
  return CONFLICTS[a].includes(b);
}

export function lockRank(mode: LockMode): number {
  return LOCK_MODES.indexOf(mode);
}

/** The strongest mode (by PostgreSQL's numbering); undefined for none. */
export function strongest(modes: Iterable<LockMode>): LockMode | undefined {
  let best: LockMode | undefined;
  for (const mode of modes) if (best === undefined || lockRank(mode) > lockRank(best)) best = mode;
  return best;
}

// lockModeSql, lockBlocks and waitsFor are asked the same few questions (eight modes, a few kinds
// of object) for every finding and rule: hundreds of times on a long SQL file. Answered once each.
const lockModeSqls = new Map<string, string>();
const lockImpacts = new Map<string, LockImpact>();
const waits = new Map<string, string>();

/** `AccessExclusiveLock` → `ACCESS EXCLUSIVE`, as `LOCK TABLE ... IN ... MODE` and the documentation spell it. */
export function lockModeSql(mode: LockMode): string {
  let sql = lockModeSqls.get(mode);
  if (sql === undefined) {
    sql = mode
      .replace(/Lock$/, '')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toUpperCase();
    lockModeSqls.set(mode, sql);
  }
  return sql;
}

/** Reads `AccessExclusiveLock`, `ACCESS EXCLUSIVE`, `access exclusive mode`, `access_exclusive`. */
export function parseLockMode(text: string): LockMode | undefined {
  const key = text
    .replace(/\bmode\b/i, '')
    .replace(/lock$/i, '')
    .replace(/[\s_-]+/g, '')
    .toLowerCase();
  return LOCK_MODES.find((mode) => mode.replace(/Lock$/, '').toLowerCase() === key);
}

export interface LockImpact {
  /** Blocks plain SELECT. */
  reads: boolean;
  /** Blocks INSERT / UPDATE / DELETE (never, on an object that cannot be written: a materialized view, an index). */
  writes: boolean;
  /** Blocks other schema changes and maintenance (ALTER TABLE, CREATE INDEX [CONCURRENTLY], VACUUM, ANALYZE). */
  ddl: boolean;
  /** "blocks …; … continue", worked out from the conflict table for the object. */
  description: string;
}

/** The kind of relation a lock is on: what other sessions can ask of it depends on it. */
export type LockedObject = 'table' | 'view' | 'materialized-view' | 'index' | 'sequence';

/**
 * The modes other sessions can request on an object: nobody writes a materialized view or locks its
 * rows (DML and FOR UPDATE are refused on it); nobody writes an index or creates one on a view.
 */
function requestable(object: LockedObject): readonly LockMode[] {
  switch (object) {
    case 'materialized-view':
      return ['AccessShareLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ExclusiveLock', 'AccessExclusiveLock'];
    case 'view':
      return ['AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'AccessExclusiveLock'];
    default:
      return LOCK_MODES;
  }
}

/** Joins `a`, `b and c`. */
function list(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** What a lock held in `mode` on `object` blocks for other sessions, from the conflict table. */
export function lockBlocks(mode: LockMode, object: LockedObject = 'table'): LockImpact {
  const key = `${mode} ${object}`;
  let impact = lockImpacts.get(key);
  if (!impact) lockImpacts.set(key, (impact = impactOf(mode, object)));
  // A copy: findings carry it, and what one finding's reader does to it stays with that finding.
  return { ...impact };
}

function impactOf(mode: LockMode, object: LockedObject): LockImpact {
  const can = requestable(object);
  // In words, grouped: reads, row locks, writes, then every schema change and maintenance mode as one.
  const groups: { label: string; modes: LockMode[] }[] = [
    { label: 'reads', modes: ['AccessShareLock'] },
    { label: 'SELECT ... FOR UPDATE/SHARE', modes: ['RowShareLock'] },
    { label: 'writes', modes: ['RowExclusiveLock'] },
    conflicts(mode, 'ShareUpdateExclusiveLock')
      ? { label: 'schema changes (ALTER TABLE, CREATE INDEX, VACUUM, ANALYZE)', modes: ['ShareUpdateExclusiveLock'] }
      : conflicts(mode, 'ShareLock')
        ? { label: 'CREATE INDEX and most schema changes', modes: ['ShareLock'] }
        : { label: 'most ALTER TABLE, DROP and TRUNCATE', modes: ['AccessExclusiveLock'] },
  ];
  const blocked: string[] = [];
  const open: string[] = [];
  for (const g of groups) {
    const asked = g.modes.filter((m) => can.includes(m));
    if (asked.length === 0) continue;
    if (asked.some((m) => conflicts(mode, m))) blocked.push(g.label);
    else if (g.label === 'reads' || g.label === 'writes') open.push(g.label);
  }
  const description = `${blocked.length ? `blocks ${list(blocked)}` : 'blocks nothing'}${open.length ? `; ${list(open)} continue` : ''}`;
  return {
    reads: conflicts(mode, 'AccessShareLock'),
    writes: can.includes('RowExclusiveLock') && conflicts(mode, 'RowExclusiveLock'),
    ddl: conflicts(mode, 'ShareUpdateExclusiveLock'),
    description,
  };
}

/**
 * What a request for `mode` waits for: the locks other open transactions may hold that conflict
 * with it, as words ("open transactions that ran writes (INSERT/UPDATE/DELETE), …"). A request that
 * waits makes every later conflicting request queue behind it.
 */
export function waitsFor(mode: LockMode, object: LockedObject = 'table'): string {
  const key = `${mode} ${object}`;
  let words = waits.get(key);
  if (words === undefined) waits.set(key, (words = waitsForUncached(mode, object)));
  return words;
}

function waitsForUncached(mode: LockMode, object: LockedObject): string {
  const held = requestable(object).filter((other) => conflicts(mode, other));
  if (held.includes('AccessShareLock')) return `any open transaction that touched it, even one that only read it (a long report, a session idle in transaction)`;
  const words = [
    held.includes('RowShareLock') ? 'locked rows of it (SELECT ... FOR UPDATE/SHARE)' : '',
    held.includes('RowExclusiveLock') ? 'wrote to it (INSERT/UPDATE/DELETE)' : '',
    held.includes('ShareUpdateExclusiveLock')
      ? 'ran VACUUM, ANALYZE or a schema change on it'
      : held.some((m) => lockRank(m) >= lockRank('ShareLock'))
        ? 'ran CREATE INDEX or a schema change on it'
        : '',
  ].filter(Boolean);
  const either = words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
  return `open transactions that ${either} (a session idle in transaction after a write, autovacuum); plain reads do not hold it up`;
}

/** How the locked relation relates to the statement. */
export type LockRole = 'table' | 'index' | 'view' | 'materialized-view' | 'sequence' | 'referenced-table' | 'parent' | 'partition' | 'source';

export interface InferredLock {
  relation: QualifiedName;
  mode: LockMode;
  reason: string;
  role: LockRole;
}

export interface LockContext {
  /** Server major version (e.g. 15); several lock levels changed in 12 and 14. */
  pgVersion?: number;
  /** The table of an index (DROP INDEX, REINDEX INDEX, ALTER INDEX): knexsafe otherwise knows only the index. */
  tableOfIndex?: (index: QualifiedName) => QualifiedName | undefined;
  /**
   * Tables referenced by the foreign keys of `table` (only the named constraint when given): for
   * VALIDATE / DROP CONSTRAINT and DROP TABLE, which also lock the referenced tables.
   */
  foreignKeyTargets?: (table: QualifiedName, constraint?: string) => QualifiedName[];
}

// Storage parameters that ALTER TABLE / ALTER INDEX ... SET (...) changes under SHARE UPDATE EXCLUSIVE
// (AlterTableGetRelOptionsLockLevel); any other parameter takes ACCESS EXCLUSIVE.
const LIGHT_RELOPTIONS = new Set(['fillfactor', 'toast_tuple_target', 'parallel_workers', 'vacuum_index_cleanup', 'vacuum_truncate', 'log_autovacuum_min_duration', 'autovacuum_enabled']);

function lightReloption(name: string): boolean {
  const bare = name.startsWith('toast.') ? name.slice('toast.'.length) : name;
  return LIGHT_RELOPTIONS.has(bare) || bare.startsWith('autovacuum_');
}

interface CommandLock {
  mode: LockMode;
  reason: string;
  /** Locks on other relations (referenced tables, partitions, parents). */
  others?: InferredLock[];
}

function alterTableCommandLock(command: AlterTableCommand, version: number, table: QualifiedName, context: LockContext): CommandLock {
  const ae = (reason: string): CommandLock => ({ mode: 'AccessExclusiveLock', reason });
  switch (command.action) {
    case 'add-column': {
      const others = command.column.constraints
        .filter((c) => c.kind === 'foreign' && c.references)
        .map((c) => referenced(c.references!.table, `ADD COLUMN ${command.column.name} REFERENCES adds triggers on the referenced table`));
      return { mode: 'AccessExclusiveLock', reason: `ADD COLUMN ${command.column.name} takes ACCESS EXCLUSIVE`, others };
    }
    case 'drop-column':
      return ae(`DROP COLUMN ${command.column} takes ACCESS EXCLUSIVE`);
    case 'alter-column-type':
      return ae(`ALTER COLUMN ${command.column} TYPE takes ACCESS EXCLUSIVE`);
    case 'set-default':
    case 'drop-default':
      return ae(`ALTER COLUMN ${command.column} ${command.action === 'set-default' ? 'SET' : 'DROP'} DEFAULT takes ACCESS EXCLUSIVE`);
    case 'set-not-null':
    case 'drop-not-null':
      return ae(`ALTER COLUMN ${command.column} ${command.action === 'set-not-null' ? 'SET' : 'DROP'} NOT NULL takes ACCESS EXCLUSIVE`);
    case 'add-constraint': {
      const c = command.constraint;
      const label = `ADD ${c.kind === 'foreign' ? 'FOREIGN KEY' : c.kind === 'primary' ? 'PRIMARY KEY' : c.kind === 'not-null' ? 'NOT NULL' : c.kind.toUpperCase()}${c.name ? ` ${c.name}` : ''}`;
      if (c.kind === 'foreign') {
        const others = c.references ? [referenced(c.references.table, `${label} adds triggers on the referenced table (SHARE ROW EXCLUSIVE)`)] : [];
        return { mode: 'ShareRowExclusiveLock', reason: `${label} takes SHARE ROW EXCLUSIVE on both tables`, others };
      }
      return ae(`${label} takes ACCESS EXCLUSIVE`);
    }
    case 'validate-constraint': {
      const others = (context.foreignKeyTargets?.(table, command.name) ?? []).map<InferredLock>((target) => ({
        relation: target,
        mode: 'RowShareLock',
        reason: `VALIDATE CONSTRAINT ${command.name} reads the referenced table (ROW SHARE)`,
        role: 'referenced-table',
      }));
      return { mode: 'ShareUpdateExclusiveLock', reason: `VALIDATE CONSTRAINT ${command.name} takes SHARE UPDATE EXCLUSIVE`, others };
    }
    case 'drop-constraint': {
      const others = (context.foreignKeyTargets?.(table, command.name) ?? []).map<InferredLock>((target) => ({
        relation: target,
        mode: 'AccessExclusiveLock',
        reason: `DROP CONSTRAINT ${command.name} removes the foreign key's triggers from the referenced table`,
        role: 'referenced-table',
      }));
      return { mode: 'AccessExclusiveLock', reason: `DROP CONSTRAINT ${command.name} takes ACCESS EXCLUSIVE`, others };
    }
    case 'alter-constraint':
      return ae(`ALTER CONSTRAINT ${command.name} takes ACCESS EXCLUSIVE`);
    case 'set-logged':
    case 'set-unlogged':
      return ae(`SET ${command.action === 'set-logged' ? 'LOGGED' : 'UNLOGGED'} rewrites the table under ACCESS EXCLUSIVE`);
    case 'enable-trigger':
    case 'disable-trigger':
      return { mode: 'ShareRowExclusiveLock', reason: `${command.action === 'enable-trigger' ? 'ENABLE' : 'DISABLE'} TRIGGER takes SHARE ROW EXCLUSIVE` };
    case 'enable-rule':
    case 'disable-rule':
      return ae(`${command.action === 'enable-rule' ? 'ENABLE' : 'DISABLE'} RULE takes ACCESS EXCLUSIVE`);
    case 'attach-partition': {
      const partition: InferredLock = {
        relation: command.partition,
        mode: 'AccessExclusiveLock',
        reason: `ATTACH PARTITION takes ACCESS EXCLUSIVE on the partition being attached`,
        role: 'partition',
      };
      if (version >= 12) return { mode: 'ShareUpdateExclusiveLock', reason: 'ATTACH PARTITION takes SHARE UPDATE EXCLUSIVE on the parent (PostgreSQL ≥ 12)', others: [partition] };
      return { mode: 'AccessExclusiveLock', reason: 'ATTACH PARTITION takes ACCESS EXCLUSIVE on the parent before PostgreSQL 12', others: [partition] };
    }
    case 'detach-partition': {
      if ((command.concurrently || command.finalize) && version >= 14) {
        const label = command.finalize ? 'DETACH PARTITION ... FINALIZE' : 'DETACH PARTITION CONCURRENTLY';
        return {
          mode: 'ShareUpdateExclusiveLock',
          reason: `${label} takes SHARE UPDATE EXCLUSIVE on the parent`,
          others: [{ relation: command.partition, mode: 'ShareUpdateExclusiveLock', reason: `${label} takes SHARE UPDATE EXCLUSIVE on the partition`, role: 'partition' }],
        };
      }
      return {
        mode: 'AccessExclusiveLock',
        reason: 'DETACH PARTITION takes ACCESS EXCLUSIVE on the parent',
        others: [{ relation: command.partition, mode: 'AccessExclusiveLock', reason: 'DETACH PARTITION takes ACCESS EXCLUSIVE on the partition', role: 'partition' }],
      };
    }
    case 'set-statistics':
      return { mode: 'ShareUpdateExclusiveLock', reason: `ALTER COLUMN ${command.column} SET STATISTICS takes SHARE UPDATE EXCLUSIVE` };
    case 'set-column-options':
    case 'reset-column-options':
      return { mode: 'ShareUpdateExclusiveLock', reason: `ALTER COLUMN ${command.column} ${command.action === 'set-column-options' ? 'SET' : 'RESET'} (...) takes SHARE UPDATE EXCLUSIVE` };
    case 'set-storage':
      return ae(`ALTER COLUMN ${command.column} SET STORAGE takes ACCESS EXCLUSIVE`);
    case 'set-compression':
      return ae(`ALTER COLUMN ${command.column} SET COMPRESSION takes ACCESS EXCLUSIVE`);
    case 'set-options':
    case 'reset-options': {
      const verb = command.action === 'set-options' ? 'SET' : 'RESET';
      if (command.options.length > 0 && command.options.every(lightReloption)) {
        return { mode: 'ShareUpdateExclusiveLock', reason: `${verb} (${command.options.join(', ')}) takes SHARE UPDATE EXCLUSIVE` };
      }
      return ae(`${verb} (${command.options.join(', ')}) takes ACCESS EXCLUSIVE`);
    }
    case 'set-tablespace':
      return ae('SET TABLESPACE copies the relation under ACCESS EXCLUSIVE');
    case 'set-access-method':
      return ae('SET ACCESS METHOD rewrites the table under ACCESS EXCLUSIVE');
    case 'owner':
      return ae('OWNER TO takes ACCESS EXCLUSIVE');
    case 'cluster-on':
    case 'set-without-cluster':
      return { mode: 'ShareUpdateExclusiveLock', reason: `${command.action === 'cluster-on' ? 'CLUSTER ON' : 'SET WITHOUT CLUSTER'} takes SHARE UPDATE EXCLUSIVE` };
    case 'add-identity':
    case 'set-identity':
    case 'drop-identity':
      return ae(`ALTER COLUMN ${command.column} ${command.action.replace('-', ' ').toUpperCase()} takes ACCESS EXCLUSIVE`);
    case 'set-expression':
    case 'drop-expression':
      return ae(`ALTER COLUMN ${command.column} ${command.action === 'set-expression' ? 'SET' : 'DROP'} EXPRESSION takes ACCESS EXCLUSIVE`);
    case 'inherit':
      return {
        mode: 'AccessExclusiveLock',
        reason: 'INHERIT takes ACCESS EXCLUSIVE on the child',
        others: [{ relation: command.parent, mode: 'ShareUpdateExclusiveLock', reason: 'INHERIT takes SHARE UPDATE EXCLUSIVE on the new parent', role: 'parent' }],
      };
    case 'no-inherit':
      return {
        mode: 'AccessExclusiveLock',
        reason: 'NO INHERIT takes ACCESS EXCLUSIVE on the child',
        others: [{ relation: command.parent, mode: 'ShareUpdateExclusiveLock', reason: 'NO INHERIT takes SHARE UPDATE EXCLUSIVE on the parent', role: 'parent' }],
      };
    case 'replica-identity':
      return ae('REPLICA IDENTITY takes ACCESS EXCLUSIVE');
    case 'enable-row-security':
    case 'disable-row-security':
    case 'force-row-security':
    case 'no-force-row-security':
      return ae(`${command.action.replace(/-/g, ' ').toUpperCase()} takes ACCESS EXCLUSIVE`);
    case 'other':
      return ae(`${command.subtype} takes ACCESS EXCLUSIVE (PostgreSQL's default for ALTER TABLE)`);
  }
}

function referenced(table: QualifiedName, reason: string): InferredLock {
  return { relation: table, mode: 'ShareRowExclusiveLock', reason, role: 'referenced-table' };
}

function roleOfObject(objectType: string): LockRole {
  if (objectType === 'index') return 'index';
  if (objectType === 'view') return 'view';
  if (objectType === 'materialized-view') return 'materialized-view';
  if (objectType === 'sequence') return 'sequence';
  return 'table';
}

const RELATION_OBJECTS = new Set(['table', 'view', 'materialized-view', 'sequence', 'foreign-table', 'index']);

/**
 * The table-level locks a statement takes, per relation (strongest mode per relation), following
 * PostgreSQL's documentation (Explicit Locking; ALTER TABLE) and `AlterTableGetLockLevel`.
 * Relations the statement does not name (an index's table, tables referenced by foreign keys that
 * are dropped, partitions of a partitioned table) are only listed when `context` can name them.
 */
export function inferLocks(facts: StatementFacts, pgVersionOrContext?: number | LockContext): InferredLock[] {
  const context: LockContext = typeof pgVersionOrContext === 'number' ? { pgVersion: pgVersionOrContext } : (pgVersionOrContext ?? {});
  const version = context.pgVersion ?? DEFAULT_PG_VERSION;
  const locks: InferredLock[] = [];
  const add = (relation: QualifiedName, mode: LockMode, reason: string, role: LockRole) => locks.push({ relation, mode, reason, role });
  const indexTable = (index: QualifiedName, mode: LockMode, reason: string) => {
    const table = context.tableOfIndex?.(index);
    if (table) add(table, mode, reason, 'table');
  };

  switch (facts.kind) {
    case 'create-table': {
      for (const constraint of facts.constraints) {
        const target = constraint.references?.table;
        if (constraint.kind === 'foreign' && target && !sameRelation(target, facts.table)) {
          add(target, 'ShareRowExclusiveLock', `the foreign key of new table ${formatName(facts.table)} adds triggers on ${formatName(target)} (SHARE ROW EXCLUSIVE)`, 'referenced-table');
        }
      }
      if (facts.partitionOf) add(facts.partitionOf, 'AccessExclusiveLock', 'CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the parent', 'parent');
      for (const parent of facts.inherits) add(parent, 'ShareUpdateExclusiveLock', 'CREATE TABLE ... INHERITS takes SHARE UPDATE EXCLUSIVE on the parent', 'parent');
      for (const source of facts.like) add(source, 'AccessShareLock', 'CREATE TABLE ... LIKE reads the source table definition', 'source');
      break;
    }
    case 'create-table-as':
      for (const source of facts.readsFrom) add(source, 'AccessShareLock', 'the query reads this table', 'source');
      break;
    case 'create-view':
      for (const source of facts.readsFrom) add(source, 'AccessShareLock', 'the view query reads this table', 'source');
      if (facts.replace) add(facts.view, 'AccessExclusiveLock', 'CREATE OR REPLACE VIEW takes ACCESS EXCLUSIVE on an existing view', 'view');
      break;
    case 'alter-table': {
      const role = roleOfObject(facts.objectType);
      let best: CommandLock | undefined;
      for (const command of facts.commands) {
        const lock = alterTableCommandLock(command, version, facts.table, context);
        if (!best || lockRank(lock.mode) > lockRank(best.mode)) best = lock;
        locks.push(...(lock.others ?? []));
      }
      if (best) {
        const reason = facts.commands.length > 1 ? `${best.reason} (the strongest of ${facts.commands.length} sub-commands)` : best.reason;
        add(facts.table, best.mode, reason, role);
      }
      break;
    }
    case 'create-index':
      if (facts.concurrently) add(facts.table, 'ShareUpdateExclusiveLock', 'CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE: writes continue', 'table');
      else add(facts.table, 'ShareLock', 'CREATE INDEX takes SHARE: writes wait until the index is built', 'table');
      break;
    case 'drop': {
      if (facts.objectType === 'index') {
        const mode: LockMode = facts.concurrently ? 'ShareUpdateExclusiveLock' : 'AccessExclusiveLock';
        const label = facts.concurrently ? 'DROP INDEX CONCURRENTLY' : 'DROP INDEX';
        for (const index of facts.names) {
          add(index, mode, `${label} takes ${lockModeSql(mode)} on the index and its table`, 'index');
          indexTable(index, mode, `${label} ${formatName(index)} takes ${lockModeSql(mode)} on the index's table`);
        }
      } else if (RELATION_OBJECTS.has(facts.objectType)) {
        for (const name of facts.names) {
          add(name, 'AccessExclusiveLock', `DROP ${facts.objectType.replace('-', ' ').toUpperCase()} takes ACCESS EXCLUSIVE`, roleOfObject(facts.objectType));
          if (facts.objectType === 'table') {
            for (const target of context.foreignKeyTargets?.(name) ?? []) {
              add(target, 'AccessExclusiveLock', `dropping ${formatName(name)} removes its foreign keys' triggers from ${formatName(target)}`, 'referenced-table');
            }
          }
        }
      } else if ((facts.objectType === 'trigger' || facts.objectType === 'policy' || facts.objectType === 'rule') && facts.table) {
        add(facts.table, 'AccessExclusiveLock', `DROP ${facts.objectType.toUpperCase()} takes ACCESS EXCLUSIVE on the table`, 'table');
      }
      break;
    }
    case 'rename': {
      const type = facts.objectType;
      if (type === 'index') {
        const mode: LockMode = version >= 12 ? 'ShareUpdateExclusiveLock' : 'AccessExclusiveLock';
        add(facts.target, mode, `ALTER INDEX ... RENAME takes ${lockModeSql(mode)}${version >= 12 ? ' (PostgreSQL ≥ 12)' : ''}`, 'index');
      } else if (RELATION_OBJECTS.has(type)) {
        add(facts.target, 'AccessExclusiveLock', `RENAME of a ${type.replace('-', ' ')} takes ACCESS EXCLUSIVE`, roleOfObject(type));
      } else if (facts.table && (type === 'column' || type === 'tabconstraint' || type === 'trigger' || type === 'policy' || type === 'rule')) {
        const what = type === 'tabconstraint' ? 'CONSTRAINT' : type.toUpperCase();
        add(facts.table, 'AccessExclusiveLock', `RENAME ${what} takes ACCESS EXCLUSIVE on the table`, 'table');
      }
      break;
    }
    case 'create-trigger':
      add(facts.table, 'ShareRowExclusiveLock', 'CREATE TRIGGER takes SHARE ROW EXCLUSIVE: writes wait', 'table');
      break;
    case 'update':
    case 'delete':
    case 'insert':
    case 'merge': {
      for (const source of facts.readsFrom) add(source, 'AccessShareLock', 'read by the statement', 'source');
      add(facts.table, 'RowExclusiveLock', `${facts.kind.toUpperCase()} takes ROW EXCLUSIVE (and row locks on the rows it changes)`, 'table');
      break;
    }
    case 'select':
      for (const source of facts.readsFrom) {
        if (facts.locking) add(source, 'RowShareLock', `SELECT ... ${facts.locking.toUpperCase()} takes ROW SHARE (and row locks)`, 'table');
        else add(source, 'AccessShareLock', 'SELECT takes ACCESS SHARE', 'table');
      }
      break;
    case 'comment': {
      const onTable = ['column', 'constraint', 'trigger', 'policy', 'rule'].includes(facts.objectType);
      if (onTable || RELATION_OBJECTS.has(facts.objectType)) {
        add(facts.target, 'ShareUpdateExclusiveLock', 'COMMENT ON takes SHARE UPDATE EXCLUSIVE', onTable ? 'table' : roleOfObject(facts.objectType));
      }
      break;
    }
    case 'vacuum':
    case 'analyze':
      for (const table of facts.tables) {
        if (facts.kind === 'vacuum' && facts.full) add(table, 'AccessExclusiveLock', 'VACUUM FULL rewrites the table under ACCESS EXCLUSIVE', 'table');
        else add(table, 'ShareUpdateExclusiveLock', `${facts.kind.toUpperCase()} takes SHARE UPDATE EXCLUSIVE`, 'table');
      }
      break;
    case 'lock-table':
      for (const table of facts.tables) add(table, facts.mode, `LOCK TABLE ... IN ${lockModeSql(facts.mode)} MODE`, 'table');
      break;
    case 'truncate':
      for (const table of facts.tables) add(table, 'AccessExclusiveLock', 'TRUNCATE takes ACCESS EXCLUSIVE', 'table');
      break;
    case 'refresh-materialized-view':
      if (facts.concurrently) add(facts.view, 'ExclusiveLock', 'REFRESH MATERIALIZED VIEW CONCURRENTLY takes EXCLUSIVE: reads continue', 'materialized-view');
      else add(facts.view, 'AccessExclusiveLock', 'REFRESH MATERIALIZED VIEW takes ACCESS EXCLUSIVE: reads wait', 'materialized-view');
      break;
    case 'cluster':
      if (facts.table) add(facts.table, 'AccessExclusiveLock', 'CLUSTER rewrites the table under ACCESS EXCLUSIVE', 'table');
      break;
    case 'reindex': {
      const concurrent = facts.concurrently && version >= 12;
      if (facts.target === 'index') {
        const mode: LockMode = concurrent ? 'ShareUpdateExclusiveLock' : 'AccessExclusiveLock';
        add(facts.name, mode, concurrent ? 'REINDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE' : 'REINDEX INDEX takes ACCESS EXCLUSIVE on the index', 'index');
        indexTable(
          facts.name,
          concurrent ? 'ShareUpdateExclusiveLock' : 'ShareLock',
          concurrent ? 'REINDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE on the table' : 'REINDEX INDEX takes SHARE on the table: writes wait',
        );
      } else if (facts.target === 'table') {
        if (concurrent) add(facts.name, 'ShareUpdateExclusiveLock', 'REINDEX TABLE CONCURRENTLY takes SHARE UPDATE EXCLUSIVE', 'table');
        else add(facts.name, 'ShareLock', 'REINDEX TABLE takes SHARE on the table (and ACCESS EXCLUSIVE on each index): writes wait', 'table');
      }
      break;
    }
    default:
      break;
  }
  return mergeLocks(locks);
}

function sameRelation(a: QualifiedName, b: QualifiedName): boolean {
  return a.name === b.name && (a.schema ?? '') === (b.schema ?? '');
}

/** One entry per relation: the strongest mode, with its reason. */
function mergeLocks(locks: InferredLock[]): InferredLock[] {
  const byRelation = new Map<string, InferredLock>();
  for (const lock of locks) {
    const key = `${lock.relation.schema ?? ''}\u0000${lock.relation.name}`;
    const existing = byRelation.get(key);
    const secondary = (role: LockRole) => role === 'referenced-table' || role === 'source';
    const stronger = !existing || lockRank(lock.mode) > lockRank(existing.mode);
    const sameButPrimary = existing && lockRank(lock.mode) === lockRank(existing.mode) && secondary(existing.role) && !secondary(lock.role);
    if (stronger || sameButPrimary) byRelation.set(key, lock);
  }
  return [...byRelation.values()];
}
