import { awaitable, insertLines, knexVariableOn } from '../js-source.js';
import { lockTimeoutInForce, trafficLocks, unknownTableIndexLocks } from '../lock-helpers.js';
import { lockBlocks, lockModeSql, lockRank, waitsFor, type LockedObject, type LockMode } from '../../sql/locks.js';
import { lockedObject, shortName } from '../helpers.js';
import type { AnalyzedStatement, EffectiveLock, MigrationUnit, Rule, RuleContext } from '../types.js';
import { jsSql, LOCK_TIMEOUT } from '../../codegen/index.js';

/**
 * A lock that blocks reads or writes taken without a lock_timeout: while the migration waits for
 * it (behind a long query, an idle-in-transaction session, autovacuum ...), every later query on
 * the table queues behind the waiting migration — an outage that lasts as long as the wait.
 */
export const missingLockTimeout: Rule = {
  meta: {
    id: 'missing-lock-timeout',
    category: 'lock',
    severity: 'warning',
    summary: 'A lock that blocks reads or writes is requested without a lock_timeout, so queries queue behind the waiting migration',
    general: true,
  },
  migration(unit, context) {
    let first: { statement: AnalyzedStatement; locks: EffectiveLock[] } | undefined;
    let stronger: { mode: LockMode; statement: AnalyzedStatement } | undefined;
    // Relations locked by later statements, in execution order (those of the first statement aside).
    // The knex call of the first statement (one .alter() sends several statements) locks these too.
    const sameCall = new Map<string, LockMode>();
    const later = new Map<string, LockMode>();
    const note = (into: Map<string, LockMode>, l: EffectiveLock) => {
      const known = into.get(l.relation);
      if (!known || lockRank(l.mode) > lockRank(known)) into.set(l.relation, l.mode);
    };
    for (const statement of unit.statements) {
      const locks = [...trafficLocks(statement), ...unknownTableIndexLocks(statement)];
      if (locks.length === 0 || lockTimeoutInForce(statement, unit, context.batch)) continue;
      if (!first) {
        first = { statement, locks: inStatementOrder(statement, locks) };
        for (const l of first.locks.slice(1)) note(sameCall, l);
        continue;
      }
      const site = statement.site;
      const same = site !== undefined && first.statement.site !== undefined && site.file === first.statement.site.file && site.line === first.statement.site.line;
      const own = first.locks[0]!;
      for (const l of inStatementOrder(statement, locks)) {
        if (l.relation === own.relation) {
          // The first table itself, locked harder later (a DROP TABLE or .alter() whose foreign key references it):
          // from then until commit that is what other sessions meet.
          if (lockRank(l.mode) <= lockRank(own.mode)) continue;
          if (!stronger || lockRank(l.mode) > lockRank(stronger.mode)) stronger = { mode: l.mode, statement };
        }
        note(same && !later.has(l.relation) ? sameCall : later, l);
      }
    }
    if (!first) return;
    const { statement } = first;
    const lock = first.locks[0]!;
    const described = (m: Map<string, LockMode>) => [...m].map(([relation, mode]) => `${shortName(relation)} in ${lockModeSql(mode)} mode`).join(', ');
    for (const relation of sameCall.keys()) later.delete(relation);
    const others = [sameCall.size ? `the same call also locks ${described(sameCall)}` : '', later.size ? `later statements lock ${described(later)}` : ''].filter(Boolean);
    const index = lock.relationKind === 'index';
    const subject = index ? `Index ${shortName(lock.relation)} (and so its table)` : shortName(lock.relation);
    const table = index ? `the table of ${shortName(lock.relation)}` : shortName(lock.relation);
    // Queries on a table plan with every index of it locked: a lock on an index stops its table's readers.
    const object: LockedObject = index ? 'table' : lockedObject(lock);
    const impact = index ? { reads: true, writes: true } : lockBlocks(lock.mode, object);
    const queued = impact.reads && impact.writes ? 'read and write' : impact.reads ? 'read' : 'write';
    context.report({
      statement,
      table: lock.relation,
      lock: { mode: lock.mode, relation: lock.relation, ...(stronger ? { later: stronger } : {}) },
      message: `${subject} is locked in ${lockModeSql(lock.mode)} mode without a lock_timeout${others.length ? ` (${others.join('; ')})` : ''}`,
      why:
        `${/^[AEIOU]/.test(lockModeSql(lock.mode)) ? 'An' : 'A'} ${lockModeSql(lock.mode)} request on ${table} waits for ${index ? waitsFor('AccessExclusiveLock', 'table') : waitsFor(lock.mode, object)} — and while it waits, every later ${queued} of ${table} queues behind it. ` +
        (stronger
          ? `Later in the same transaction, \`${oneLine(stronger.statement.sql)}\`${stronger.statement.site ? ` (line ${stronger.statement.site.line})` : ''} takes ${lockModeSql(stronger.mode)} on ${table} too: from then until the migration commits it ${lockBlocks(stronger.mode, object).description}. `
          : '') +
        `The outage lasts as long as the wait, not as long as the statement. A lock_timeout makes the migration fail fast instead; retry it later. ` +
        '`knexsafe latest` sets lock_timeout (default 5 s) for the migrations it runs; `npx knex migrate:latest` does not.',
      fix: fixFor(unit, statement, context),
    });
  },
};

/**
 * A statement's locks in the order it takes them: the relation it names first (its table), then the
 * others (referenced tables, partitions) as observed; pg_locks does not say which came first.
 */
function inStatementOrder(statement: AnalyzedStatement, locks: EffectiveLock[]): EffectiveLock[] {
  const named = subjectOf(statement);
  const rank = (l: EffectiveLock) => (named && (l.relation === named || l.relation.endsWith(`.${named}`)) ? 0 : 1);
  return [...locks].sort((a, b) => rank(a) - rank(b) || lockRank(b.mode) - lockRank(a.mode));
}

function subjectOf(statement: AnalyzedStatement): string | undefined {
  const f = statement.facts as { table?: { schema?: string; name: string }; view?: { schema?: string; name: string } };
  const n = f.table ?? f.view;
  return n ? (n.schema ? `${n.schema}.${n.name}` : n.name) : undefined;
}

function fixFor(unit: MigrationUnit, statement: AnalyzedStatement, context: RuleContext) {
  // A real transaction has an id; the capture also marks autocommit statements it wrapped to observe their locks.
  const inTransaction = statement.transactionId !== undefined;
  const setting = inTransaction ? `SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'` : `SET lock_timeout = '${LOCK_TIMEOUT}'`;
  const description = inTransaction
    ? `Set a lock_timeout first, in the same transaction: \`SET LOCAL\` lasts until it commits (knex's migration transaction${context.batch.length > 1 ? ', shared by the whole batch' : ''}). If the lock cannot be had within ${LOCK_TIMEOUT} the migration fails (SQLSTATE 55P03) and can simply be run again.`
    : `This statement runs outside a transaction: set a session lock_timeout before it and RESET it afterwards (in a finally block), or better, run the locking statements in \`knex.transaction(...)\` with \`SET LOCAL lock_timeout\`. If the lock cannot be had within ${LOCK_TIMEOUT} the statement fails (SQLSTATE 55P03); run the migration again later.`;
  const line = statement.site?.line;
  const sameFile = statement.site && statement.site.file === unit.file;
  if (unit.sqlFile && line) {
    return { wholeMigration: true, description, code: insertLines(unit.source, line, [`${setting};`]) };
  }
  if (unit.source && line && sameFile) {
    const knexVar = knexVariableOn(unit.source, line);
    const lines = [
      `// knexsafe: give up after ${LOCK_TIMEOUT} instead of queueing every query on ${shortName(statement.locks[0]?.relation ?? 'the table')} behind this migration.`,
      `await ${knexVar}.raw(${jsSql(setting)});`,
    ];
    if (!inTransaction) lines.push(`// ... and \`await ${knexVar}.raw('RESET lock_timeout')\` in a finally block after the locking statements.`);
    const edited = awaitable(insertLines(unit.source, line, lines), line);
    if (edited) return { wholeMigration: true, description, code: edited };
  }
  // No source to edit (the statement comes from a helper module): a template.
  return {
    description,
    code: [
      `// First statement of exports.up${inTransaction ? '' : ', inside knex.transaction(async (trx) => { ... })'}:`,
      `await ${inTransaction ? 'knex' : 'trx'}.raw(${jsSql(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`)});`,
    ].join('\n'),
  };
}

function oneLine(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}
