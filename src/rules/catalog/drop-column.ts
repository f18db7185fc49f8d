import { shortName, tableName } from '../helpers.js';
import type { Rule } from '../types.js';
import { inverseOf } from '../statement-helpers.js';
import { jsString, replayLine } from '../../codegen/index.js';

/** Dropping a column deletes its data and breaks every running instance of the app that still reads it. */
export const dropColumn: Rule = {
  meta: {
    id: 'drop-column',
    category: 'breaking',
    severity: 'warning',
    summary: 'Dropping a column destroys its data and breaks code that still uses it',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'alter-table') return;
    const table = tableName(context, f.table);
    if (context.tableAge(table) === 'new') return;
    const dropped = f.commands.flatMap((c) => (c.action === 'drop-column' ? [c.column] : []));
    // Most ALTER TABLEs drop nothing: the down below (the statement's inverse, which follows the
    // renames before it) is not worth writing for them.
    if (dropped.length === 0) return;
    const columns = context.migration.schemaBefore?.tables[table]?.columns ?? {};
    // The down re-creates every column the statement drops, in their order.
    const recreate = dropped.map((name) => {
      const column = columns[name];
      return `    table.specificType(${jsString(name)}, ${jsString(column?.type ?? 'text')})${column && !column.nullable ? '.notNullable()' : ''}${column?.default ? `.defaultTo(knex.raw(${jsString(column.default)}))` : ''};`;
    });
    // The fix stands for the whole statement: one ALTER TABLE dropping several columns (knex's
    // dropColumns) keeps dropping them all, and other commands of it are sent as they were.
    const only = dropped.length === f.commands.length;
    const up = only
      ? [`  await knex.schema.alterTable(${jsString(shortName(table))}, (table) => {`, ...dropped.map((name) => `    table.dropColumn(${jsString(name)});`), `  });`]
      : [replayLine(statement.sql, statement.captured?.bindings ?? [])];
    // With other commands in the statement, its inverse as a whole (the dropped columns re-added too).
    const mixedDown = only
      ? []
      : (inverseOf(statement, context.migration).down ?? [
          `  // TODO: undo the other changes of \`${statement.sql.replace(/\s+/g, ' ').slice(0, 100)}\``,
          `  await knex.schema.alterTable(${jsString(shortName(table))}, (table) => {`,
          ...recreate,
          `  });`,
        ]);
    for (const name of dropped) {
      context.report({
        statement,
        table,
        message: `Column ${shortName(table)}.${name} is dropped`,
        why: 'Its data is gone for good (down can re-create the column, not its values), and app servers still running the previous release fail on queries that name it — a deploy always has a moment when old code runs against the new schema.',
        fix: {
          byHand: 'is a deploy order: drop only after the code that uses it is gone',
          description:
            'Expand / contract: first ship code that no longer reads or writes the column, then drop it in a later migration, after a backup (`knexsafe backup`). The down should re-create the column as it was.' +
            (dropped.length > 1 ? ` The same statement drops ${dropped.filter((c) => c !== name).join(', ')} too: the fix drops them together.` : ''),
          code: [
            `// Ship this only after no deployed code uses ${dropped.map((c) => `${shortName(table)}.${c}`).join(', ')}.`,
            `exports.up = async function (knex) {`,
            ...up,
            `};`,
            ``,
            `exports.down = async function (knex) {`,
            ...(only ? [`  await knex.schema.alterTable(${jsString(shortName(table))}, (table) => {`, ...recreate, `  });`] : mixedDown),
            `};`,
          ].join('\n'),
        },
      });
    }
  },
};
