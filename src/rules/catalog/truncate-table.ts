import type { SchemaSnapshot } from '../../schema/types.js';
import { shortName, tableName } from '../helpers.js';
import type { Rule } from '../types.js';
import { rawCall, sqlName } from '../../codegen/index.js';

/** The tables TRUNCATE … CASCADE also empties: every table whose foreign keys point at one it empties, transitively. */
function cascadeClosure(snapshot: SchemaSnapshot, tables: string[]): string[] {
  const emptied = new Set(tables);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, t] of Object.entries(snapshot.tables)) {
      if (emptied.has(name)) continue;
      if (Object.values(t.constraints).some((c) => c.kind === 'foreign' && c.references && emptied.has(c.references.table))) {
        emptied.add(name);
        grew = true;
      }
    }
  }
  return [...emptied].filter((name) => !tables.includes(name));
}

/** The fix's migration: back up first, then one TRUNCATE; down can only point at the backup. */
function truncateMigration(backup: string, sql: string, comment?: string): string {
  return [
    `// Back up first: ${backup}`,
    `exports.up = async function (knex) {`,
    ...(comment ? [`  ${comment}`] : []),
    `  ${rawCall(sql)}`,
    `};`,
    ``,
    `exports.down = async function () {`,
    `  // TRUNCATE cannot be undone: restore the rows from the backup if needed.`,
    `};`,
  ].join('\n');
}

/**
 * TRUNCATE in a migration empties a table that holds production data, for good (down cannot bring
 * the rows back); with CASCADE it also empties, silently, every table whose foreign keys point at it
 * — tables the migration never names, including ones a later migration adds a foreign key from.
 */
export const truncateTable: Rule = {
  meta: {
    id: 'truncate-table',
    category: 'breaking',
    severity: 'warning',
    summary: 'TRUNCATE empties an existing table for good; with CASCADE also every table that references it',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'truncate') return;
    const named = f.tables.map((t) => tableName(context, t));
    const existing = named.filter((t) => context.tableAge(t) === 'existing');
    if (existing.length === 0) return;
    const before = context.migration.schemaBefore;
    const also = f.cascade && before ? cascadeClosure(before, named).filter((t) => context.tableAge(t) === 'existing') : [];
    const list = existing.map(shortName).join(', ');
    const restart = f.restartIdentity ? ' RESTART IDENTITY' : '';
    const backup = `knexsafe backup ${[...existing, ...also].map((t) => `--table ${shortName(t)}`).join(' ')}`;
    if (f.cascade) {
      const explicit = [...named, ...also];
      context.report({
        statement,
        table: existing[0]!,
        severity: 'error',
        message: `TRUNCATE … CASCADE empties ${list}${also.length ? ` and, through foreign keys, ${also.map(shortName).join(', ')}` : ' and every table whose foreign keys point at it'}`,
        why:
          `CASCADE empties every table that references ${list} by a foreign key, and the tables referencing those, without naming them: the migration's effect depends on the schema it meets, and a foreign key added later by anyone widens it. ` +
          'The rows are gone for good (down cannot bring them back), and every table involved is locked ACCESS EXCLUSIVE (reads and writes wait) until the migration commits.',
        fix: {
          description: `Name every table to empty, without CASCADE: the statement then says what it destroys, fails if a new foreign key would widen it, and \`${backup}\` can copy exactly those tables first.${before ? '' : ' (A static check does not know which tables reference these: list them yourself.)'}`,
          code: truncateMigration(backup, `TRUNCATE ${explicit.map(sqlName).join(', ')}${restart}`),
        },
      });
      return;
    }
    context.report({
      statement,
      table: existing[0]!,
      message: `Table${existing.length > 1 ? 's' : ''} ${list} ${existing.length > 1 ? 'are' : 'is'} emptied by TRUNCATE`,
      why: `Every row of ${list} is gone for good: down can re-create the schema, never the data. TRUNCATE also takes ACCESS EXCLUSIVE on ${list} (reads and writes wait) until the migration commits, and running app servers that still expect the rows see them vanish.`,
      fix: {
        description: `Make sure the rows are disposable (a cache, a staging import) and back them up first (\`${backup}\`). To empty a table that is in use, delete in small batches instead (see unbatched-backfill), which keeps reads and writes going.`,
        code: truncateMigration(backup, `TRUNCATE ${existing.map(sqlName).join(', ')}${restart}`, '// knexsafe-ignore truncate-table: <why these rows are disposable>'),
        // Its suppression's reason is a blank only a person can fill (and the backup is theirs to take).
        byHand: 'is a backup to take and a reason only you can give',
      },
    });
  },
};
