import { severityForTable } from '../engine.js';
import { lockBlocks } from '../../sql/locks.js';
import { heldBefore, shortName, strongestLock, tableName } from '../helpers.js';
import { partitionedIndexMigration, partitionedTable, partitionsOf } from '../partitions.js';
import type { Rule } from '../types.js';
import { lazyFix } from '../lazy-fix.js';
import { concurrentIndexLines, ident, limitName, migrationCode, rawCall, sqlName, sqlNameBeside } from '../../codegen/index.js';

/**
 * CREATE INDEX without CONCURRENTLY on an existing table takes a SHARE lock: reads go on, every
 * INSERT / UPDATE / DELETE waits until the whole index is built (3.1 s stalls on a 3M-row table
 * here; minutes on big ones).
 */
export const indexNotConcurrent: Rule = {
  meta: {
    id: 'index-not-concurrent',
    category: 'lock',
    severity: 'error',
    summary: 'CREATE INDEX on an existing table without CONCURRENTLY blocks all writes while the index builds',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'create-index' || f.concurrently) return;
    const table = tableName(context, f.table);
    if (context.tableAge(table) === 'new') return;
    const partitioned = partitionedTable(context.migration.schemaBefore, table);
    // ON ONLY a partitioned parent reads no rows: an INVALID index in the catalog, nothing more.
    if (partitioned && f.only) return;
    const lock = strongestLock(statement, table);
    const name = limitName(f.name ?? `${f.table.name}_${f.columns.map((c) => c.column ?? 'expr').join('_')}_idx`);
    const columnList = () => f.columns.map((c) => (c.column ? ident(c.column) : (c.expression?.text ?? '?'))).join(', ');
    const unique = f.unique ? 'UNIQUE ' : '';
    // An earlier statement of the transaction may hold a stronger lock (ACCESS EXCLUSIVE after an ALTER): then reads wait too.
    const held = heldBefore(statement, context.migration, context.batch, table);
    const readsWait = held !== undefined && lockBlocks(held.mode).reads;
    const where = f.where ? ` WHERE ${f.where.text}` : '';
    const using = f.method && f.method !== 'btree' ? ` USING ${f.method}` : '';
    if (partitioned) {
      const partitions = partitionsOf(context.migration.schemaBefore, table);
      context.report({
        statement,
        table,
        message: `${f.unique ? 'Unique index' : 'Index'} ${name} on partitioned ${shortName(table)} is built on its ${partitions.length} partition(s) at once, without CONCURRENTLY`,
        why: `CREATE INDEX on a partitioned table builds the index of every partition in one transaction, each partition under a SHARE lock held until the last one is built: ${readsWait ? `reads wait too (the transaction already holds ${held!.mode} on it)` : 'reads continue'}, but every INSERT, UPDATE and DELETE on ${shortName(table)} waits for the whole build. CONCURRENTLY is refused on a partitioned table.`,
        lock: { mode: lock?.mode ?? 'ShareLock', relation: table },
        severity: severityForTable(context, table),
        fix: {
          description:
            'Create the index ON ONLY the parent (catalog only), then build each partition’s index with CREATE INDEX CONCURRENTLY and attach it with ALTER INDEX … ATTACH PARTITION, in a migration that opts out of knex’s transaction. Works on every supported PostgreSQL version.',
          code: partitionedIndexMigration({
            parent: table,
            name,
            unique: f.unique,
            definitionTail: `${using} (${columnList()})${where}`,
            schema: context.migration.schemaBefore,
          }),
        },
      });
      return;
    }
    context.report({
      statement,
      table,
      message: `${f.unique ? 'Unique index' : 'Index'} ${name} on ${shortName(table)} is built without CONCURRENTLY`,
      why: `CREATE INDEX holds a SHARE lock on ${shortName(table)} until the index is built: ${readsWait ? 'every SELECT, INSERT, UPDATE and DELETE' : 'reads continue, but every INSERT, UPDATE and DELETE'} waits for the whole build — seconds to minutes on a large table.`,
      lock: { mode: lock?.mode ?? 'ShareLock', relation: table },
      severity: severityForTable(context, table),
      fix: lazyFix(
        {
          description:
            'Build the index with CREATE INDEX CONCURRENTLY in a migration of its own that opts out of knex’s transaction (CONCURRENTLY cannot run inside one); drop it CONCURRENTLY in down.',
        },
        () =>
          migrationCode({
            comment: ['CONCURRENTLY cannot run inside a transaction.'],
            noTransaction: true,
            up: concurrentIndexLines(table, name, `CREATE ${unique}INDEX CONCURRENTLY IF NOT EXISTS ${ident(name)} ON ${sqlName(table)}${using} (${columnList()})${where}`),
            down: [rawCall(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlNameBeside(table, name)}`)],
          }),
      ),
    });
  },
};
