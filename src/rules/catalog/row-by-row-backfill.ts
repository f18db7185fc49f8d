import type { Node } from 'libpg-query';
import { nodeOf, stringList, unwrap } from '../../sql/ast.js';
import { lockBlocks, lockModeSql, lockRank, type LockMode } from '../../sql/locks.js';
import { severityForTable } from '../engine.js';
import { callAt, chainOf, isIdent, isPunct, matchingClose, methodCalls, migrationFunction, stringArg, tokensOf, type JsCall, type JsToken } from '../js-source.js';
import { lockedObject, shortName, tableName } from '../helpers.js';
import type { AnalyzedStatement, MigrationUnit, Rule, RuleContext } from '../types.js';
import { jsSql, jsString, sqlName } from '../../codegen/index.js';

/** Single-row writes from one call site on one table, at least this many times: a loop. */
const LOOP_MIN = 2;

const WRITES = new Set(['update', 'del', 'delete', 'increment', 'decrement']);
const TABLE_METHODS = new Set(['table', 'from', 'into', 'update']);

/** Token ranges [first, last] of loop bodies in `tokens` between `from` and `to`. */
function loopBodies(tokens: JsToken[], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k = from; k < to; k++) {
    const t = tokens[k]!;
    if ((isIdent(t, 'for') || isIdent(t, 'while')) && (isPunct(tokens[k + 1], '(') || (isIdent(tokens[k + 1], 'await') && isPunct(tokens[k + 2], '(')))) {
      const open = isPunct(tokens[k + 1], '(') ? k + 1 : k + 2;
      const close = matchingClose(tokens, open);
      if (close < 0) continue;
      if (isPunct(tokens[close + 1], '{')) {
        const end = matchingClose(tokens, close + 1);
        if (end > 0) out.push([close + 1, end]);
      } else {
        let end = close + 1;
        while (end < to && !isPunct(tokens[end], ';')) end++;
        out.push([close + 1, end]);
      }
    } else if ((isIdent(t, 'forEach') || isIdent(t, 'map')) && isPunct(tokens[k - 1], '.')) {
      const call = callAt(tokens, k);
      if (call) out.push([call.open, call.close]);
    }
  }
  return out;
}

interface StaticWrite {
  table: string;
  line: number;
}

/** knex writes (`knex('t').where(…).update(…)`) written inside a loop of `up`. */
function writesInLoops(unit: MigrationUnit, context: RuleContext): StaticWrite[] {
  if (!unit.source || unit.sqlFile) return [];
  let tokens: JsToken[];
  try {
    tokens = tokensOf(unit.source);
  } catch {
    return [];
  }
  const up = migrationFunction(tokens, 'up');
  const body = up?.body;
  if (!body) return [];
  const loops = loopBodies(tokens, body[0], body[1]);
  if (loops.length === 0) return [];
  const out: StaticWrite[] = [];
  for (const call of methodCalls(tokens, WRITES)) {
    if (!loops.some(([a, b]) => call.nameIndex > a && call.nameIndex < b)) continue;
    const chain = chainOf(tokens, call);
    let table: string | undefined;
    for (const c of chain.calls) {
      if (c === call && c.name !== 'update') continue;
      const isRoot = c.nameIndex === chain.root;
      if (isRoot || TABLE_METHODS.has(c.name)) table ??= stringArg(tokens, c, 0);
    }
    if (!table) continue;
    const qualified = tableName(context, table);
    // One row picked by its key (`.where({ id: row.id })`, `.where('id', row.id)`): a loop over a
    // lookup table writing groups of rows (`.where({ role: role.key })`), over id ranges
    // (`.whereBetween('id', …)`, `.where('id', '>=', a)`) or over a join is not row by row.
    const key = keyOf(unit, qualified);
    const pinned = chain.calls.some((c) => pinsKeyCall(tokens, c, key, shortName(qualified)));
    if (!pinned) continue;
    out.push({ table: qualified, line: call.line });
  }
  return out;
}

/** `name` is the key column of `table`: unqualified, or qualified by the table itself (not a joined table's `links.id`). */
function isKeyColumn(name: string | undefined, key: string, table: string): boolean {
  if (name === undefined) return false;
  const parts = name.split('.');
  if (parts.pop() !== key) return false;
  return parts.length === 0 || parts.pop() === table;
}

/** Argument `[first, last]` is a column reference or raw SQL (`knex.ref('link_id')`, `knex.raw(…)`): a join, not one value. */
function isColumnValue(tokens: JsToken[], arg: [number, number] | undefined): boolean {
  if (!arg) return false;
  for (let k = arg[0]; k <= arg[1]; k++) {
    if ((isIdent(tokens[k], 'ref') || isIdent(tokens[k], 'raw')) && isPunct(tokens[k - 1], '.') && isPunct(tokens[k + 1], '(')) return true;
  }
  return false;
}

/** `.where(key, value)`, `.where(key, '=', value)` or `.where({ key: value })`: the call picks one row of `table` by its key. */
function pinsKeyCall(tokens: JsToken[], c: JsCall, key: string, table: string): boolean {
  if (c.name !== 'where' && c.name !== 'andWhere') return false;
  const first = c.args[0];
  if (!first) return false;
  if (isKeyColumn(stringArg(tokens, c, 0), key, table)) {
    if (c.args.length === 2) return !isColumnValue(tokens, c.args[1]);
    // `.where('id', '>=', from)`: a range of rows, not one.
    return c.args.length === 3 && stringArg(tokens, c, 1) === '=' && !isColumnValue(tokens, c.args[2]);
  }
  if (!isPunct(tokens[first[0]], '{')) return false;
  for (let k = first[0] + 1; k < first[1]; k++) {
    const t = tokens[k]!;
    // A key of the object (`{ id: … }`, `{ id }`), not a property read in a value (`role.id`).
    const keyPlace = isPunct(tokens[k - 1], '{') || isPunct(tokens[k - 1], ',');
    if (!keyPlace || ![':', ',', '}'].some((p) => isPunct(tokens[k + 1], p))) continue;
    const name = t.type === 'ident' ? t.text : t.type === 'string' ? t.value : undefined;
    if (!isKeyColumn(name, key, table)) continue;
    if (!isPunct(tokens[k + 1], ':')) return true;
    // The value runs to the next `,` or `}` at this depth.
    let end = k + 2;
    for (let depth = 0; end < first[1]; end++) {
      const e = tokens[end]!;
      if (isPunct(e, '(') || isPunct(e, '[') || isPunct(e, '{')) depth++;
      else if (isPunct(e, ')') || isPunct(e, ']') || isPunct(e, '}')) depth--;
      else if (depth === 0 && isPunct(e, ',')) break;
      if (depth < 0) break;
    }
    if (!isColumnValue(tokens, [k + 2, end - 1])) return true;
  }
  return false;
}

/** The blocking locks the transaction holds on existing tables when `statement` runs, strongest per table. */
function heldLocks(unit: MigrationUnit, context: RuleContext, before: (s: AnalyzedStatement) => boolean): Map<string, LockMode> {
  const held = new Map<string, LockMode>();
  const take = (s: AnalyzedStatement) => {
    if (s.error) return;
    for (const l of s.locks) {
      if (l.age !== 'existing' || l.relationKind === 'index' || l.relationKind === 'sequence') continue;
      const impact = lockBlocks(l.mode, lockedObject(l));
      if (!impact.reads && !impact.writes) continue;
      const known = held.get(l.relation);
      if (!known || lockRank(l.mode) > lockRank(known)) held.set(l.relation, l.mode);
    }
  };
  if (unit.transactional) {
    for (const other of context.batch) {
      if (other === unit) break;
      if (other.batchTransactionId !== undefined && other.batchTransactionId === unit.batchTransactionId) other.statements.forEach(take);
    }
  }
  for (const s of unit.statements) if (before(s) && (s.transactionId !== undefined || !unit.transactional)) take(s);
  return held;
}

/** The table's single-column primary key before the migration (`id` when unknown). */
function keyOf(unit: MigrationUnit, table: string): string {
  const info = unit.schemaBefore?.tables[table];
  const pk = info ? Object.values(info.constraints).find((c) => c.kind === 'primary') : undefined;
  return pk?.columns.length === 1 ? pk.columns[0]! : 'id';
}

/**
 * `WHERE key = value [AND …]`: the statement picks one row by its key (a loop over rows, not over groups,
 * ranges or a join's `links.id = link_id`). `names` are the names the target table goes by (its name, its alias).
 */
function pinsKey(where: Node | undefined, key: string, names: ReadonlySet<string>): boolean {
  if (!where) return false;
  const bool = nodeOf<{ boolop?: string; args?: Node[] }>(where, 'BoolExpr');
  const conjuncts = bool?.boolop === 'AND_EXPR' ? (bool.args ?? []) : [where];
  const isKey = (n: Node | undefined) => {
    const fields = stringList(nodeOf<{ fields?: Node[] }>(n, 'ColumnRef')?.fields);
    if (fields.pop() !== key) return false;
    return fields.length === 0 || names.has(fields.pop()!);
  };
  const isColumn = (n: Node | undefined) => nodeOf(n, 'ColumnRef') !== undefined;
  return conjuncts.some((c) => {
    const expr = nodeOf<{ kind?: string; name?: Node[]; lexpr?: Node; rexpr?: Node }>(c, 'A_Expr');
    if (!expr || expr.kind !== 'AEXPR_OP' || stringList(expr.name)[0] !== '=') return false;
    return (isKey(expr.lexpr) && !isColumn(expr.rexpr)) || (isKey(expr.rexpr) && !isColumn(expr.lexpr));
  });
}

/** An UPDATE / DELETE of one row picked by its key, that touched at most one row. */
function singleRow(s: AnalyzedStatement, key: string): boolean {
  if ((s.facts.kind !== 'update' && s.facts.kind !== 'delete') || s.error || (s.rowCount ?? 0) > 1) return false;
  const stmt = unwrap(s.ast)?.[1] as { whereClause?: Node; relation?: { relname?: string; alias?: { aliasname?: string } } } | undefined;
  const names = new Set([stmt?.relation?.relname, stmt?.relation?.alias?.aliasname].filter((n): n is string => n !== undefined));
  return pinsKey(stmt?.whereClause, key, names);
}

/**
 * Writes issued one row at a time from a JavaScript loop on a table that existed before: the whole
 * table goes through Node.js row by row, one round trip each, inside the migration's transaction —
 * every lock taken before the loop is held until the last row is written.
 */
export const rowByRowBackfill: Rule = {
  meta: {
    id: 'row-by-row-backfill',
    category: 'lock',
    severity: 'warning',
    summary: 'UPDATE / DELETE of an existing table one row at a time from a JavaScript loop, inside the migration transaction',
  },
  migration(unit, context) {
    // Observed: the same knex call wrote single rows of one table several times.
    const groups = new Map<string, AnalyzedStatement[]>();
    for (const s of unit.statements) {
      if ((s.facts.kind !== 'update' && s.facts.kind !== 'delete') || !s.site) continue;
      const table = tableName(context, s.facts.table);
      if (context.tableAge(table) !== 'existing' || !singleRow(s, keyOf(unit, table))) continue;
      const key = `${table}\u0000${s.site.file}:${s.site.line}`;
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    const reported = new Set<string>();
    for (const [key, statements] of groups) {
      if (statements.length < LOOP_MIN) continue;
      const table = key.split('\u0000')[0]!;
      const first = statements[0]!;
      reported.add(`${first.site!.file}:${first.site!.line}`);
      report(
        context,
        unit,
        table,
        first,
        statements.length,
        heldLocks(unit, context, (s) => s.index < first.index),
      );
    }
    // Static: a write inside a loop that ran fewer than twice on the shadow (its tables are nearly empty).
    for (const write of writesInLoops(unit, context)) {
      if (reported.has(`${unit.file}:${write.line}`) || context.tableAge(write.table) !== 'existing') continue;
      reported.add(`${unit.file}:${write.line}`);
      const ran = unit.statements.find((s) => s.site?.line === write.line && s.site.file === unit.file);
      const before = unit.statements.filter((s) => (s.site?.line ?? 0) < write.line && s.site?.file === unit.file);
      const last = before[before.length - 1];
      report(
        context,
        unit,
        write.table,
        ran,
        ran ? 1 : 0,
        heldLocks(unit, context, (s) => last !== undefined && s.index <= last.index),
        write.line,
      );
    }
  },
};

function report(context: RuleContext, unit: MigrationUnit, table: string, statement: AnalyzedStatement | undefined, times: number, held: Map<string, LockMode>, line?: number): void {
  const rows = context.stats(table)?.rows;
  const locks = [...held].map(([relation, mode]) => `${lockModeSql(mode)} on ${shortName(relation)} (${lockBlocks(mode).reads ? 'reads and writes wait' : 'writes wait'})`);
  const inTransaction = unit.transactional;
  context.report({
    ...(statement ? { statement } : { site: { file: unit.file, line: line ?? 1, column: 1 } }),
    table,
    ...(held.size
      ? { lock: { mode: [...held.values()].reduce((a, b) => (lockRank(b) > lockRank(a) ? b : a)), relation: [...held].reduce((a, b) => (lockRank(b[1]) > lockRank(a[1]) ? b : a))[0] } }
      : {}),
    message:
      `Rows of ${shortName(table)} are written one at a time from a loop` +
      (times >= LOOP_MIN
        ? ` (${times} single-row statements from this call on the shadow)`
        : ` (the loop ran ${times === 0 ? 'no' : 'one'} time${times === 1 ? '' : 's'} on the nearly empty shadow)`) +
      (rows !== undefined ? `, about ${rows} rows` : ''),
    why:
      `With production data the loop sends one statement per row: a table of a million rows is a million round trips, minutes to hours. ` +
      (inTransaction
        ? `It runs inside knex's migration transaction, so every row it changes stays locked until the migration commits${locks.length ? `, and so do the locks taken before it: ${locks.join(', ')} — held for the whole loop` : ''}. If any row fails, all of it rolls back. `
        : '') +
      `Reading the table into memory first also costs the migration's process as much memory as the table.`,
    severity: severityForTable(context, table, 'warning'),
    fix: {
      description:
        'Do it in SQL, set-based and in batches: one UPDATE ... FROM (or a CASE) per batch of keys, in a migration with `transaction: false` so each batch commits on its own; keep schema changes (and their locks) in a migration of their own before it.',
      byHand: 'is a template with parts to write by hand',
      code: [
        `// A template: write the set-based UPDATE of one batch where marked.`,
        `exports.config = { transaction: false };`,
        ``,
        `const BATCH_SIZE = 1000;`,
        ``,
        `exports.up = async function (knex) {`,
        `  let last = 0;`,
        `  for (;;) {`,
        `    // One set-based statement per batch of keys, committing on its own.`,
        `    const { rows } = await knex.raw(${jsSql(`SELECT id FROM ${sqlName(table)} WHERE id > ? ORDER BY id LIMIT ?`)}, [last, BATCH_SIZE]);`,
        `    if (rows.length === 0) break;`,
        `    // await knex(${jsString(shortName(table))}).whereBetween('id', [rows[0].id, rows[rows.length - 1].id]).update({ ... });`,
        `    last = rows[rows.length - 1].id;`,
        `  }`,
        `};`,
        ``,
        `exports.down = async function () {};`,
      ].join('\n'),
    },
  });
}
