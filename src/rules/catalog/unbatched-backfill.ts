import type { Node } from 'libpg-query';
import { nodeOf, stringList, unwrap } from '../../sql/ast.js';
import { severityForTable } from '../engine.js';
import { shortName, tableName } from '../helpers.js';
import type { Rule, RuleContext } from '../types.js';
import { formatCount } from '../../util/format-count.js';
import { batchedLoop } from '../backfill-loop.js';
import { BATCH_PREAMBLE, BATCH_SIZE, migrationCode } from '../../codegen/index.js';

/** Columns (sets) whose equality pins one row: primary key, unique constraints, unique indexes. */
function uniqueKeys(context: RuleContext, table: string): string[][] {
  const before = context.migration.schemaBefore;
  const info = before?.tables[table];
  if (!before || !info) return [];
  const keys = Object.values(info.constraints)
    .filter((c) => c.kind === 'primary' || c.kind === 'unique')
    .map((c) => c.columns);
  for (const index of Object.values(before.indexes)) if (index.table === table && index.unique && !index.predicate && index.columns.length) keys.push(index.columns);
  return keys;
}

/** `WHERE key = value [AND ...]` on a unique key: the statement changes one row, not a backfill. */
function targetsOneRow(where: Node | undefined, keys: string[][]): boolean {
  if (!where || keys.length === 0) return false;
  const conjuncts: Node[] = [];
  const bool = nodeOf<{ boolop?: string; args?: Node[] }>(where, 'BoolExpr');
  if (bool?.boolop === 'AND_EXPR') conjuncts.push(...(bool.args ?? []));
  else conjuncts.push(where);
  const pinned = new Set<string>();
  for (const c of conjuncts) {
    const expr = nodeOf<{ kind?: string; name?: Node[]; lexpr?: Node; rexpr?: Node }>(c, 'A_Expr');
    if (!expr || expr.kind !== 'AEXPR_OP' || stringList(expr.name)[0] !== '=') continue;
    const sides = [expr.lexpr, expr.rexpr];
    const column = sides.map((n) => stringList(nodeOf<{ fields?: Node[] }>(n, 'ColumnRef')?.fields).pop()).find((x) => x !== undefined);
    const value = sides.find((n) => {
      const kind = unwrap(n)?.[0];
      return kind === 'A_Const' || kind === 'ParamRef' || kind === 'TypeCast';
    });
    if (column && value) pinned.add(column);
  }
  return keys.some((key) => key.every((col) => pinned.has(col)));
}

/** An integer constant, or a `$n` parameter bound to an integer. */
function integerValue(node: Node | undefined, bindings: readonly unknown[]): number | undefined {
  const constant = nodeOf<{ ival?: { ival?: number } }>(node, 'A_Const');
  if (constant) return constant.ival ? (constant.ival.ival ?? 0) : undefined;
  const param = nodeOf<{ number?: number }>(node, 'ParamRef');
  const value = param?.number !== undefined ? bindings[param.number - 1] : undefined;
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/**
 * `WHERE 1 = 0` (as a top-level conjunct): what knex sends for `.whereIn(column, [])`. The list was
 * empty on the shadow; with data it is a list of keys (`IN ($1, …)`), which is a batch, not a backfill.
 */
function matchesNothing(where: Node | undefined, bindings: readonly unknown[]): boolean {
  if (!where) return false;
  const bool = nodeOf<{ boolop?: string; args?: Node[] }>(where, 'BoolExpr');
  const conjuncts = bool?.boolop === 'AND_EXPR' ? (bool.args ?? []) : [where];
  return conjuncts.some((c) => {
    const expr = nodeOf<{ kind?: string; name?: Node[]; lexpr?: Node; rexpr?: Node }>(c, 'A_Expr');
    if (!expr || expr.kind !== 'AEXPR_OP' || stringList(expr.name)[0] !== '=') return false;
    const left = integerValue(expr.lexpr, bindings);
    const right = integerValue(expr.rexpr, bindings);
    return left !== undefined && right !== undefined && left !== right;
  });
}

/**
 * UPDATE / DELETE of a whole existing table (or of an unbounded part of it) in one statement: every
 * touched row stays locked until the statement — inside knex's transaction, until the whole
 * migration batch — commits, and the burst of WAL lags replicas.
 */
export const unbatchedBackfill: Rule = {
  meta: {
    id: 'unbatched-backfill',
    category: 'lock',
    severity: 'warning',
    summary: 'UPDATE / DELETE of an existing table in one statement instead of in batches',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'update' && f.kind !== 'delete') return;
    if (f.batch) return;
    const table = tableName(context, f.table);
    if (context.tableAge(table) !== 'existing') return;
    const where = (unwrap(statement.ast)?.[1] as { whereClause?: Node } | undefined)?.whereClause;
    if (targetsOneRow(where, uniqueKeys(context, table))) return;
    if (matchesNothing(where, statement.captured?.bindings ?? [])) return;
    const verb = f.kind === 'update' ? 'UPDATE' : 'DELETE';
    const rows = context.stats(table)?.rows;
    const scope = f.hasWhere ? `the matching rows of ${shortName(table)}` : `every row of ${shortName(table)}`;
    const loop = batchedLoop(statement, context, table);
    const others = context.migration.statements.filter((s) => s !== statement && s.facts.kind !== 'set' && s.facts.kind !== 'transaction');
    context.report({
      statement,
      table,
      message: `${verb} of ${scope} in one statement, not in batches${rows !== undefined ? ` (about ${formatCount(rows)} rows)` : ''}`,
      why:
        `One ${verb} locks every row it touches until it commits: concurrent updates and deletes of those rows (and of rows referencing them) wait` +
        (statement.transactionId !== undefined
          ? `, and inside knex's migration transaction the locks are held until the whole migration${context.batch.length > 1 ? ' batch' : ''} commits, together with every other lock it took`
          : '') +
        `. It writes all the WAL at once (replicas fall behind) and leaves ${f.kind === 'update' ? 'a dead copy of every updated row' : 'every deleted row dead'} for autovacuum; if it fails half-way, all of it rolls back.`,
      severity: severityForTable(context, table, 'warning'),
      ...(loop
        ? {
            fix: {
              description:
                `Run it in batches of ${BATCH_SIZE} rows by primary key in a migration that opts out of knex's transaction, so each batch commits on its own and locks only its rows for milliseconds; it is safe to re-run.` +
                (others.length ? ' Move the other statements of this migration (schema changes) into their own migration before it.' : ''),
              code: migrationCode({
                comment: [`${verb} ${shortName(table)} in batches of ${BATCH_SIZE} rows; each statement commits on its own (no transaction around the loop).`],
                noTransaction: true,
                preamble: BATCH_PREAMBLE,
                up: loop,
                down: ['// A data change: nothing to undo here (restore from a backup, `knexsafe backup`, if needed).'],
              }),
            },
          }
        : {}),
    });
  },
};
