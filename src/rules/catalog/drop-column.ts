import { shortName, tableName } from '../helpers.js';
import type { Rule } from '../types.js';
import { jsString } from '../../codegen/index.js';

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
    for (const command of f.commands) {
      if (command.action !== 'drop-column') continue;
      const column = context.migration.schemaBefore?.tables[table]?.columns[command.column];
      context.report({
        statement,
        table,
        message: `Column ${shortName(table)}.${command.column} is dropped`,
        why: 'Its data is gone for good (down can re-create the column, not its values), and app servers still running the previous release fail on queries that name it — a deploy always has a moment when old code runs against the new schema.',
        fix: {
          description:
            'Expand / contract: first ship code that no longer reads or writes the column, then drop it in a later migration, after a backup (`knexsafe backup`). The down should re-create the column as it was.',
          code: [
            `// Ship this only after no deployed code uses ${shortName(table)}.${command.column}.`,
            `exports.up = async function (knex) {`,
            `  await knex.schema.alterTable(${jsString(shortName(table))}, (table) => {`,
            `    table.dropColumn(${jsString(command.column)});`,
            `  });`,
            `};`,
            ``,
            `exports.down = async function (knex) {`,
            `  await knex.schema.alterTable(${jsString(shortName(table))}, (table) => {`,
            `    table.specificType(${jsString(command.column)}, ${jsString(column?.type ?? 'text')})${column && !column.nullable ? '.notNullable()' : ''}${column?.default ? `.defaultTo(knex.raw(${jsString(column.default)}))` : ''};`,
            `  });`,
            `};`,
          ].join('\n'),
        },
      });
    }
  },
};
