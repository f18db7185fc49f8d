import { predictsRewrite } from '../../sql/rewrite.js';
import { severityForTable } from '../engine.js';
import { shortName, tableName } from '../helpers.js';
import type { AnalyzedStatement, Fix, Rule, RuleContext } from '../types.js';
import { volatileDefaultHazards } from '../hazards.js';
import { typeRewriteHazards } from '../hazards.js';
import { guardedTransaction, migrationCode, rawCall, sqlName } from '../../codegen/index.js';

/** Tables (qualified) the statement rewrote that a more specific rule already reports. */
export function explainedRewrites(statement: AnalyzedStatement, context: RuleContext): Set<string> {
  return new Set([...volatileDefaultHazards(statement, context), ...typeRewriteHazards(statement, context)].map((h) => h.table));
}

function existedBefore(context: RuleContext, relation: string): boolean {
  if (context.migration.schemaBefore?.views[relation]) return true;
  return context.tableAge(relation) === 'existing';
}

function what(statement: AnalyzedStatement): string {
  const f = statement.facts;
  switch (f.kind) {
    case 'vacuum':
      return 'VACUUM FULL';
    case 'cluster':
      return 'CLUSTER';
    case 'refresh-materialized-view':
      return 'REFRESH MATERIALIZED VIEW';
    case 'alter-table': {
      const actions = f.commands.map((c) =>
        c.action === 'set-logged'
          ? 'SET LOGGED'
          : c.action === 'set-unlogged'
            ? 'SET UNLOGGED'
            : c.action === 'set-tablespace'
              ? 'SET TABLESPACE'
              : c.action === 'set-access-method'
                ? 'SET ACCESS METHOD'
                : c.action === 'set-expression'
                  ? 'SET EXPRESSION'
                  : c.action === 'add-column' && c.column.generated
                    ? 'ADD COLUMN ... GENERATED ... STORED'
                    : undefined,
      );
      const named = actions.find((a) => a !== undefined);
      return named ? `ALTER TABLE ... ${named}` : 'ALTER TABLE';
    }
    default:
      return 'This statement';
  }
}

function fixFor(statement: AnalyzedStatement, relation: string): Fix {
  const f = statement.facts;
  const t = sqlName(relation);
  if (f.kind === 'vacuum' || f.kind === 'cluster') {
    return {
      description: `Don't rewrite a live table from a migration. A plain VACUUM (ANALYZE) takes only SHARE UPDATE EXCLUSIVE (reads and writes go on) and makes the space reusable; to give space back to the operating system or re-order rows, use pg_repack (or pg_squeeze), which rebuilds the table online and takes ACCESS EXCLUSIVE only for a moment at the end.`,
      code: migrationCode({
        comment: [`VACUUM cannot run inside a transaction. A plain VACUUM does not block reads or writes.`],
        noTransaction: true,
        up: [rawCall(`VACUUM (ANALYZE) ${t}`)],
        down: [],
      }),
    };
  }
  if (f.kind === 'refresh-materialized-view') {
    return {
      description: `REFRESH MATERIALIZED VIEW CONCURRENTLY computes the new contents and applies the difference under EXCLUSIVE (reads of the view go on). It needs a unique index on the view (without a WHERE clause) covering all rows.`,
      code: migrationCode({
        comment: [`Needs a unique index on ${shortName(relation)}, e.g. CREATE UNIQUE INDEX CONCURRENTLY ... ON ${shortName(relation)} (id).`],
        up: [rawCall(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${t}`)],
        down: [],
      }),
    };
  }
  return {
    description: `There is no online form of this change. Keep it out of knex's batch transaction in a migration of its own with a lock_timeout, and run it in a quiet period — or rebuild the table online with pg_repack, or create a new table, copy the rows in batches and swap the names.`,
    code: migrationCode({
      comment: [
        `Its own migration: the ACCESS EXCLUSIVE lock is held only for this statement, and the lock_timeout stops it`,
        `from queueing traffic behind it. Run it in a quiet period: the table is still rewritten.`,
      ],
      noTransaction: true,
      up: guardedTransaction([statement.sql]),
      down: ['// Write the inverse statement here (e.g. SET LOGGED ↔ SET UNLOGGED).'],
    }),
  };
}

/** Static (.sql) mode: VACUUM FULL, CLUSTER and REFRESH name their tables, which the generic analysis does not record. */
function staticMaintenanceRewrites(statement: AnalyzedStatement, context: RuleContext): AnalyzedStatement['rewrites'] {
  if (statement.captured) return [];
  const f = statement.facts;
  const prediction = predictsRewrite(f, { pgVersion: context.pgVersion });
  if (!prediction?.rewrite) return [];
  const names = f.kind === 'vacuum' ? f.tables : f.kind === 'cluster' ? (f.table ? [f.table] : []) : f.kind === 'refresh-materialized-view' ? [f.view] : [];
  return names.map((n) => ({ table: tableName(context, n), observed: false, reason: prediction.reason }));
}

/**
 * Any observed (or, for SQL files, predicted) rewrite of a table that existed before, that no more
 * specific rule explains: VACUUM FULL, CLUSTER, SET LOGGED / UNLOGGED, SET TABLESPACE, stored
 * generated columns, REFRESH MATERIALIZED VIEW, rewrites inside DO blocks or functions ...
 */
export const tableRewrite: Rule = {
  meta: {
    id: 'table-rewrite',
    category: 'lock',
    severity: 'error',
    summary: 'A statement rewrites an existing table (its storage is copied) while holding ACCESS EXCLUSIVE',
  },
  statement(statement, context) {
    if (statement.facts.kind === 'truncate') return;
    const rewrites = [...statement.rewrites, ...staticMaintenanceRewrites(statement, context)];
    if (rewrites.length === 0) return;
    const explained = explainedRewrites(statement, context);
    const seen = new Set<string>();
    for (const rewrite of rewrites) {
      const relation = rewrite.table;
      if (seen.has(relation) || explained.has(relation)) continue;
      seen.add(relation);
      if (!existedBefore(context, relation)) continue;
      const prediction = predictsRewrite(statement.facts, { pgVersion: context.pgVersion });
      const reason = rewrite.reason ?? (prediction?.rewrite ? prediction.reason : undefined);
      const kind = what(statement);
      const view = Boolean(context.migration.schemaBefore?.views[relation]) || statement.facts.kind === 'refresh-materialized-view';
      context.report({
        statement,
        table: relation,
        lock: { mode: 'AccessExclusiveLock', relation },
        message: `${kind} rewrites ${view ? 'the materialized view ' : ''}${shortName(relation)} under ACCESS EXCLUSIVE`,
        why:
          `${rewrite.observed ? `Observed on the shadow: the storage of ${shortName(relation)} was replaced (relfilenode changed), so every row was copied` : 'Every row is copied into a new file'}${reason ? ` (${reason})` : ''}. ` +
          `While the copy and the index rebuilds run, ACCESS EXCLUSIVE blocks every SELECT, INSERT, UPDATE and DELETE on ${shortName(relation)} — for minutes on a large table — and the table needs twice its disk space.`,
        severity: view && context.tableAge(relation) !== 'existing' ? 'error' : severityForTable(context, relation),
        fix: fixFor(statement, relation),
      });
    }
  },
};
