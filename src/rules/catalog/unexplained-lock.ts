import { lockBlocks, lockModeSql, lockRank, waitsFor, type LockedObject, type LockMode } from '../../sql/locks.js';
import type { StatementFacts } from '../../sql/facts.js';
import { inferredLocks, observedLocks, qualify } from '../analyze.js';
import { lockedObject, shortName } from '../helpers.js';
import type { AnalyzedStatement, EffectiveLock, MigrationUnit, Rule, RuleContext } from '../types.js';
import { awaitable, insertLines, knexVariableOn } from '../js-source.js';
import { lockTimeoutInForce } from '../lock-helpers.js';
import { jsSql, LOCK_TIMEOUT } from '../../codegen/index.js';

/**
 * Statements whose locks knexsafe reads from their text (src/sql/locks.ts): when what PostgreSQL
 * took is what the text says, the statement is understood, and the specific rules (or
 * missing-lock-timeout, for a brief lock) speak for it. Anything else — DO blocks, function and
 * procedure calls, REINDEX, statements knexsafe does not model — and any lock beyond what the text
 * says (a trigger or rule firing DDL) is judged by what was observed.
 */
const UNDERSTOOD: ReadonlySet<StatementFacts['kind']> = new Set([
  'alter-table',
  'create-table',
  'create-table-as',
  'create-view',
  'create-index',
  'create-trigger',
  'drop',
  'rename',
  'comment',
  'lock-table',
  'truncate',
  'vacuum',
  'analyze',
  'cluster',
  'refresh-materialized-view',
  'insert',
  'update',
  'delete',
  'merge',
  'select',
]);

/** The strongest blocking lock per table (an index's lock counts for its table), in first-seen order. */
interface TableLock {
  table: string;
  mode: LockMode;
  object: LockedObject;
}

/** Whether other sessions' reads or writes of the object wait for `mode` (SHARE or stronger on a table). */
function blocksTraffic(mode: LockMode, object: LockedObject): boolean {
  const impact = lockBlocks(mode, object);
  return impact.reads || impact.writes;
}

function byTable(locks: readonly EffectiveLock[], onlyExisting: boolean): Map<string, TableLock> {
  const tables = new Map<string, TableLock>();
  for (const l of locks) {
    if (onlyExisting && l.age !== 'existing') continue;
    // Queries plan with every index of their table locked: a blocking lock on an index stops the table's traffic.
    const table = l.relationKind === 'index' ? l.table : l.relationKind === 'sequence' ? undefined : l.relation;
    if (!table) continue;
    const object: LockedObject = l.relationKind === 'index' ? 'table' : lockedObject(l);
    const known = tables.get(table);
    if (!known || lockRank(l.mode) > lockRank(known.mode)) tables.set(table, { table, mode: l.mode, object: known?.object ?? object });
  }
  return tables;
}

/** Tables linked to `table` by a foreign key, either way (ALTER / DROP of a key column locks them). */
function linkedByForeignKey(unit: MigrationUnit, table: string): Set<string> {
  const linked = new Set<string>();
  const tables = unit.schemaBefore?.tables ?? {};
  for (const [name, t] of Object.entries(tables)) {
    for (const c of Object.values(t.constraints)) {
      if (c.kind !== 'foreign' || !c.references) continue;
      if (name === table) linked.add(c.references.table);
      if (c.references.table === table) linked.add(name);
    }
  }
  return linked;
}

/** How to name the statement in a message. */
function label(facts: StatementFacts, sql: string): string {
  switch (facts.kind) {
    case 'do':
      return 'A DO block';
    case 'select':
      return facts.functions.length ? `A call of ${facts.functions.map((f) => `${f}()`).join(', ')}` : 'A SELECT';
    case 'insert':
    case 'update':
    case 'delete':
    case 'merge':
      return `${facts.kind.toUpperCase()} on ${shortName(facts.table.schema ? `${facts.table.schema}.${facts.table.name}` : facts.table.name)} (through a trigger or rule it fired)`;
    default: {
      const words = sql
        .trim()
        .split(/\s+/)
        .slice(0, 2)
        .join(' ')
        .toUpperCase()
        .replace(/[^A-Z ]/g, '');
      return words === 'CALL' || words.startsWith('CALL ') ? `A procedure call (${sql.trim().split(/\s+/).slice(0, 2).join(' ')})` : words || 'A statement';
    }
  }
}

/** The parts of one captured statement (a multi-statement knex.raw is split into several). */
function groups(unit: MigrationUnit): AnalyzedStatement[][] {
  const out: AnalyzedStatement[][] = [];
  for (const s of unit.statements) {
    const last = out[out.length - 1];
    if (last && s.captured && last[0]!.captured === s.captured) last.push(s);
    else out.push([s]);
  }
  return out;
}

/**
 * The safety net: a lock that blocks writes (SHARE or stronger; reads too from EXCLUSIVE / ACCESS
 * EXCLUSIVE) observed on a relation that existed before the migration, taken by a statement no
 * specific rule explains — DDL inside a DO block, a function or procedure, a trigger or a rule.
 */
export const unexplainedLock: Rule = {
  meta: {
    id: 'unexplained-lock',
    category: 'lock',
    severity: 'warning',
    summary: 'A statement took a lock that blocks writes on an existing table, and no specific rule explains it (DO blocks, functions, triggers)',
    net: true,
  },
  migration(unit, context) {
    // What each statement's own text says it locks: a statement knexsafe understands that shows a lock
    // another statement of the migration says it takes was most likely sent alongside it
    // (Promise.all on one connection) and credited with that statement's lock.
    // Read on first need: a SQL file checked statically has no observed locks, so never needs it.
    let saidCache: Map<string, TableLock>[] | undefined;
    const said = () =>
      (saidCache ??= unit.statements.map((s) =>
        byTable(
          inferredLocks(s.facts, context.pgVersion, unit.schemaBefore, () => 'existing'),
          false,
        ),
      ));
    const saidElsewhere = (parts: AnalyzedStatement[], lock: TableLock) =>
      unit.statements.some((s, i) => !parts.includes(s) && !s.error && lockRank(said()[i]?.get(lock.table)?.mode ?? 'AccessShareLock') >= lockRank(lock.mode) && said()[i]?.has(lock.table));
    for (const parts of groups(unit)) {
      const first = parts[0]!;
      const captured = first.captured;
      // Observed locks only: what the text says is the specific rules' business.
      if (!captured?.locksObserved || captured.error) continue;
      // A multi-statement knex.raw is observed as a whole (its parts carry inferred locks).
      const observed = byTable(parts.length === 1 ? first.locks : observedLocks(captured, 'existing'), true);
      if (observed.size === 0) continue;
      const understood = parts.every((p) => UNDERSTOOD.has(p.facts.kind));
      const inferred = byTable(
        parts.flatMap((p) => inferredLocks(p.facts, context.pgVersion, unit.schemaBefore, () => 'existing')),
        false,
      );
      const subjects = parts.flatMap((p) => subjectTables(p.facts, unit));
      for (const lock of observed.values()) {
        if (!blocksTraffic(lock.mode, lock.object)) continue;
        if (parts.some((p) => context.explained(p, lock.table))) continue;
        if (understood) {
          const said = inferred.get(lock.table);
          if (said && lockRank(said.mode) >= lockRank(lock.mode)) continue;
          // ALTER / DROP of a foreign-key column locks the table at the other end of the key.
          if (parts.some((p) => p.facts.kind === 'alter-table' || p.facts.kind === 'drop') && subjects.some((t) => linkedByForeignKey(unit, t).has(lock.table))) continue;
          if (saidElsewhere(parts, lock)) continue;
        }
        report(parts[parts.length - 1]!, parts, lock, context, unit);
      }
    }
  },
};

function subjectTables(facts: StatementFacts, unit: MigrationUnit): string[] {
  switch (facts.kind) {
    case 'alter-table':
      return [qualify(facts.table, unit.schemaBefore)];
    case 'drop':
      return facts.names.map((n) => qualify(n, unit.schemaBefore));
    default:
      return [];
  }
}

function report(statement: AnalyzedStatement, parts: AnalyzedStatement[], lock: TableLock, context: RuleContext, unit: MigrationUnit): void {
  const mode = lockModeSql(lock.mode);
  const impact = lockBlocks(lock.mode, lock.object);
  const table = shortName(lock.table);
  const what = label(parts.length === 1 ? statement.facts : (parts.find((p) => !UNDERSTOOD.has(p.facts.kind))?.facts ?? statement.facts), statement.captured?.sql ?? statement.sql);
  const inTransaction = statement.transactionId !== undefined;
  const timeout = lockTimeoutInForce(parts[0]!, unit, context.batch);
  context.report({
    statement,
    table: lock.table,
    lock: { mode: lock.mode, relation: lock.table, object: lock.object },
    message: `${what} took ${mode} on ${table}, which ${impact.reads ? 'blocks reads and writes' : 'blocks writes'}; no specific rule explains it`,
    why:
      `Observed on the shadow (pg_locks): this statement locked ${table} in ${mode} mode, which ${impact.description}, ` +
      (inTransaction ? `until the migration's transaction commits` : 'for as long as it runs') +
      ` — with production data, DDL such as an index build or a validation inside it runs for seconds to minutes. ` +
      `The request also waits for ${waitsFor(lock.mode, lock.object)}, and every later conflicting query on ${table} queues behind it. ` +
      `knexsafe reads what a statement locks from its SQL; the work done inside a DO block, a function, a procedure, a trigger or a rule is only seen when it runs, so no specific rule judged it. ` +
      (timeout ? 'A lock_timeout is in force, which bounds the wait but not the time the lock is held.' : 'No lock_timeout is in force.'),
    fix: fixFor(statement, unit, inTransaction, timeout),
  });
}

function fixFor(statement: AnalyzedStatement, unit: MigrationUnit, inTransaction: boolean, timeout: boolean) {
  const description =
    `Run the DDL inside it in its online form where one exists (CREATE INDEX CONCURRENTLY outside a transaction, constraints NOT VALID then VALIDATE, …), ` +
    `or in a migration of its own at a quiet time` +
    (timeout ? '.' : `, with a lock_timeout so that it gives up after ${LOCK_TIMEOUT} instead of queueing traffic behind it.`);
  const line = statement.site?.line;
  // SET LOCAL lasts until the transaction commits; outside one, a session setting to RESET afterwards.
  const setting = inTransaction ? `SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'` : `SET lock_timeout = '${LOCK_TIMEOUT}'`;
  if (!timeout && line && statement.site?.file === unit.file && unit.source) {
    const knexVar = knexVariableOn(unit.source, line);
    const lines = [`// knexsafe: give up after ${LOCK_TIMEOUT} instead of queueing every query on the table behind this statement.`, `await ${knexVar}.raw(${jsSql(setting)});`];
    if (!inTransaction) lines.push(`// ... and \`await ${knexVar}.raw('RESET lock_timeout')\` in a finally block after it.`);
    const edited = awaitable(insertLines(unit.source, line, lines), line);
    if (edited) return { description, code: edited };
  }
  return { description, code: `// First, in the same transaction as the statement:\nawait knex.raw(${jsSql(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`)});` };
}
