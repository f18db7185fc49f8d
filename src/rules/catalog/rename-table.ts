import { shortName, tableName } from '../helpers.js';
import type { Rule } from '../types.js';
import { NEXT_MIGRATION, jsString, rawCall, schemaBuilder, sqlName } from '../../codegen/index.js';

/**
 * Renaming a table breaks every running instance of the previous release: their queries name the
 * old table. Unless the migration leaves a view under the old name (the compatibility view this
 * rule suggests), which keeps reads and simple writes working for one release.
 */
export const renameTable: Rule = {
  meta: {
    id: 'rename-table',
    category: 'breaking',
    severity: 'warning',
    summary: 'Renaming a table breaks the code of the release still running during the deploy',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'rename' || f.objectType !== 'table') return;
    const table = tableName(context, f.target);
    if (context.tableAge(table) !== 'existing') return;
    const schema = table.slice(0, table.length - f.target.name.length - 1) || 'public';
    const from = `${schema}.${f.from}`;
    const to = `${schema}.${f.to}`;
    // A view under the old name after the migration: the compatibility view is there.
    if (context.migration.schemaAfter?.views[from]) return;
    context.report({
      statement,
      table,
      message: `Table ${shortName(from)} is renamed to ${f.to}`,
      why: `App servers still running the previous release keep querying ${shortName(from)} and fail (relation "${f.from}" does not exist, SQLSTATE 42P01) from the moment this commits until every one of them is replaced — a deploy always has that window.`,
      fix: {
        description: `Rename and, in the same migration, create a view named ${f.from} over the new table: a simple view is updatable, so the previous release keeps reading and writing through it. Drop the view a release later, when no deployed code uses the old name.`,
        code: [
          `exports.up = async function (knex) {`,
          `  await ${schemaBuilder(from)}.renameTable(${jsString(f.from)}, ${jsString(f.to)});`,
          `  // The previous release still says ${f.from}: INSERT / UPDATE / DELETE go through this view.`,
          `  ${rawCall(`CREATE VIEW ${sqlName(from)} AS SELECT * FROM ${sqlName(to)}`)}`,
          `};`,
          ``,
          `exports.down = async function (knex) {`,
          `  ${rawCall(`DROP VIEW ${sqlName(from)}`)}`,
          `  await ${schemaBuilder(from)}.renameTable(${jsString(f.to)}, ${jsString(f.from)});`,
          `};`,
          NEXT_MIGRATION,
          `// A release later, once no deployed code uses ${f.from}:`,
          `exports.up = async function (knex) {`,
          `  ${rawCall(`DROP VIEW ${sqlName(from)}`)}`,
          `};`,
          ``,
          `exports.down = async function (knex) {`,
          `  ${rawCall(`CREATE VIEW ${sqlName(from)} AS SELECT * FROM ${sqlName(to)}`)}`,
          `};`,
        ].join('\n'),
      },
    });
  },
};
