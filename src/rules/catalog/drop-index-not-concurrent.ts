import { severityForTable } from '../engine.js';
import { shortName } from '../helpers.js';
import { partitionedIndexLines } from '../partitions.js';
import type { Rule } from '../types.js';
import { findIndex } from '../statement-helpers.js';
import { concurrentIndexDefinition, migrationFile, rawLine, sqlName, transactionLines } from '../../codegen/index.js';

/**
 * DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table: it waits for every
 * running query on the table, and every query queued behind it waits too — reads included.
 */
export const dropIndexNotConcurrent: Rule = {
  meta: {
    id: 'drop-index-not-concurrent',
    category: 'lock',
    severity: 'error',
    summary: 'DROP INDEX without CONCURRENTLY locks its table against reads and writes',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'drop' || f.objectType !== 'index' || f.concurrently) return;
    const unit = context.migration;
    for (const name of f.names) {
      const index = findIndex(unit.schemaBefore, name);
      if (unit.schemaBefore && !index) continue; // created by this migration, or not an index we know
      // Static mode: an index the same file created is new.
      if (!unit.schemaBefore && unit.statements.some((s) => s.index < statement.index && s.facts.kind === 'create-index' && s.facts.name === name.name)) {
        continue;
      }
      const table = index?.table;
      if (table && context.tableAge(table) === 'new') continue;
      const partitioned = table ? unit.schemaBefore?.tables[table]?.kind === 'partitioned' : false;
      const indexSql = index ? (index.schema === 'public' ? sqlName(index.name) : sqlName(`${index.schema}.${index.name}`)) : sqlName(name);
      const on = table ? ` on ${shortName(table)}` : '';
      const recreate = index ? concurrentIndexDefinition(index.definition) : undefined;
      const why = `DROP INDEX takes an ACCESS EXCLUSIVE lock on ${table ? shortName(table) : 'the index’s table'}: it first waits for every running query on the table, and while it waits and runs, every other query on the table — SELECTs included — queues behind it.`;
      // pg_get_indexdef prints a partitioned index ON ONLY its table: re-running that would leave an
      // INVALID parent index; down rebuilds it partition by partition instead.
      const onOnly = index && table ? ` ON ONLY ${sqlName(table).includes('.') ? sqlName(table) : `public.${sqlName(table)}`}` : undefined;
      const tail = index && onOnly && index.definition.includes(onOnly) ? index.definition.slice(index.definition.indexOf(onOnly) + onOnly.length) : undefined;
      const fix = partitioned
        ? {
            description:
              'PostgreSQL cannot drop an index of a partitioned table CONCURRENTLY. Drop it in a short transaction with a lock timeout, so it gives up instead of queueing every query on the table, and retry at a quiet moment. Down rebuilds it ON ONLY the parent, then CONCURRENTLY on each partition, attached.',
            code: migrationFile({
              up: transactionLines([`DROP INDEX IF EXISTS ${indexSql}`]),
              down:
                index && table && tail !== undefined
                  ? partitionedIndexLines({ parent: table, name: index.name, unique: index.unique, definitionTail: tail, schema: unit.schemaBefore })
                  : [`  // Re-create ${shortName(name)} as it was.`],
              noTransaction: 'Down builds indexes CONCURRENTLY, which cannot run inside a transaction block; up has its own short transaction.',
            }),
          }
        : {
            description: `Drop it with DROP INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE: reads and writes go on) in a migration that opts out of knex’s transaction; ${recreate ? 'down re-creates it CONCURRENTLY with its original definition' : 'down must re-create it CONCURRENTLY with its original definition (unknown to a static check)'}.${f.cascade ? ' CONCURRENTLY does not support CASCADE: drop the dependent objects first.' : ''}`,
            code: migrationFile({
              up: [rawLine(`DROP INDEX CONCURRENTLY IF EXISTS ${indexSql}`)],
              down: recreate
                ? [rawLine(recreate)]
                : [
                    `  // Re-create ${shortName(name)} with its original definition, e.g.:`,
                    `  // await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS ${shortName(name)} ON <table> (<columns>)');`,
                  ],
              noTransaction: 'CONCURRENTLY cannot run inside a transaction.',
            }),
          };
      context.report({
        statement,
        ...(table ? { table } : {}),
        message: `Index ${shortName(name)}${on} is dropped without CONCURRENTLY`,
        why,
        lock: { mode: 'AccessExclusiveLock', relation: table ?? (index ? `${index.schema}.${index.name}` : shortName(name)) },
        // A partitioned index has no CONCURRENTLY drop: the catalog-only DROP is the way, its risk the lock queue (a warning).
        severity: table ? severityForTable(context, table, partitioned ? 'warning' : 'error') : 'error',
        fix,
      });
    }
  },
};
