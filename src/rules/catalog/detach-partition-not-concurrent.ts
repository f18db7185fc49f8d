import { severityForTable } from '../engine.js';
import { shortName, tableName } from '../helpers.js';
import { defaultPartitionOf } from '../partitions.js';
import type { Rule } from '../types.js';
import { jsString, migrationFile, rawLine, sqlName, transactionLines } from '../../codegen/index.js';

/**
 * DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent (and the partition, and
 * a DEFAULT partition): every read and write of the whole partitioned table waits for it, and —
 * queued behind one long query — so does everything after it. PostgreSQL 14+ detaches CONCURRENTLY
 * under SHARE UPDATE EXCLUSIVE, outside a transaction block, and refuses to when the parent has a
 * DEFAULT partition (“cannot detach partitions concurrently when a default partition exists”,
 * checked on PostgreSQL 15).
 */
export const detachPartitionNotConcurrent: Rule = {
  meta: {
    id: 'detach-partition-not-concurrent',
    category: 'lock',
    severity: 'warning',
    summary: 'DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table: all its reads and writes wait',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'alter-table' || f.objectType !== 'table') return;
    for (const c of f.commands) {
      if (c.action !== 'detach-partition' || c.concurrently || c.finalize) continue;
      const parent = tableName(context, f.table);
      if (context.tableAge(parent) !== 'existing') continue;
      const partition = tableName(context, c.partition);
      const before = context.migration.schemaBefore;
      const bound = before?.tables[partition]?.partitionOf?.bound;
      const defaultPartition = defaultPartitionOf(before, parent);
      // Refused also when the partition detached is the DEFAULT one (checked on PostgreSQL 15).
      const hasDefault = defaultPartition !== undefined;
      const canConcurrently = context.pgVersion >= 14 && !hasDefault;
      const concurrent = `ALTER TABLE ${sqlName(parent)} DETACH PARTITION ${sqlName(partition)} CONCURRENTLY`;
      const finalize = `ALTER TABLE ${sqlName(parent)} DETACH PARTITION ${sqlName(partition)} FINALIZE`;
      const regclass = sqlName(partition).replace(/'/g, "''");
      const reattach = bound ? `ALTER TABLE ${sqlName(parent)} ATTACH PARTITION ${sqlName(partition)} ${bound}` : undefined;
      context.report({
        statement,
        table: parent,
        message: `DETACH PARTITION ${shortName(partition)} takes ACCESS EXCLUSIVE on ${shortName(parent)}${canConcurrently ? ' without CONCURRENTLY' : ''}`,
        why: `DETACH PARTITION holds ACCESS EXCLUSIVE on ${shortName(parent)} and ${shortName(partition)}${hasDefault ? ` and on the DEFAULT partition ${shortName(defaultPartition!)}` : ''} until the transaction ends: every read and write of the partitioned table waits, and while the DETACH itself waits behind a long query, every query after it queues too.`,
        lock: { mode: 'AccessExclusiveLock', relation: parent },
        severity: severityForTable(context, parent, 'warning'),
        fix: canConcurrently
          ? {
              description:
                'Detach with CONCURRENTLY (PostgreSQL 14+): SHARE UPDATE EXCLUSIVE on the parent and the partition, reads and writes go on. It cannot run in a transaction block: give it a migration of its own without knex’s transaction. If it is interrupted, the partition is left “detach pending”: the generated migration finishes it with FINALIZE when run again.',
              code: migrationFile({
                up: [
                  `  const pending = await knex.raw(${jsString(`SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass('${regclass}') AND inhdetachpending`)});`,
                  `  if (pending.rows.length > 0) await knex.raw(${jsString(finalize)});`,
                  `  else await knex.raw(${jsString(concurrent)});`,
                ],
                down: reattach ? [`  // ATTACH scans the partition unless a validated CHECK proves the bound (see attach-partition-scan).`, rawLine(reattach)] : [],
                noTransaction: 'DETACH PARTITION … CONCURRENTLY cannot run inside a transaction block.',
              }),
            }
          : {
              description: hasDefault
                ? `${shortName(parent)} has a DEFAULT partition, and PostgreSQL refuses DETACH … CONCURRENTLY then. Keep the ACCESS EXCLUSIVE short: a migration of its own with a lock_timeout, so the DETACH gives up instead of queueing every query behind it, retried at a quiet time.`
                : `DETACH … CONCURRENTLY needs PostgreSQL 14+ (advice is for PostgreSQL ${context.pgVersion}: the target's version when it was read, else knexsafe's \`pgVersion\` setting). Until then keep the ACCESS EXCLUSIVE short: a migration of its own with a lock_timeout, so the DETACH gives up instead of queueing every query behind it.`,
              code: migrationFile({
                up: transactionLines([`ALTER TABLE ${sqlName(parent)} DETACH PARTITION ${sqlName(partition)}`]),
                down: reattach ? transactionLines([reattach]) : [],
                noTransaction: 'Its own short transaction with a lock timeout (above).',
              }),
            },
      });
    }
  },
};
