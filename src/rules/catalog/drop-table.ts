import { shortName, tableName } from '../helpers.js';
import type { Rule, RuleContext } from '../types.js';
import type { SchemaSnapshot } from '../../schema/types.js';
import { NEXT_MIGRATION, bareName, createEnumSql, createTableSql, enumOfType, enumUsers, indent, jsString, limitName, rawCall, schemaBuilder, sqlName } from '../../codegen/index.js';

/** Foreign keys of other tables that point at `table`, as `orders.user_id → users`. */
function referencedBy(snapshot: SchemaSnapshot | undefined, table: string): string[] {
  const out: string[] = [];
  for (const [name, t] of Object.entries(snapshot?.tables ?? {})) {
    if (name === table) continue;
    for (const c of Object.values(t.constraints)) if (c.kind === 'foreign' && c.references?.table === table) out.push(`${shortName(name)}.${c.columns.join(', ')}`);
  }
  return out;
}

/** Enum types that only this table uses: dropping the table should drop them too. */
export function enumsOnlyUsedBy(snapshot: SchemaSnapshot, table: string): string[] {
  const info = snapshot.tables[table];
  if (!info) return [];
  const enums = new Set<string>();
  for (const c of Object.values(info.columns)) {
    const e = enumOfType(snapshot, c.type);
    if (e) enums.add(e);
  }
  return [...enums].filter((e) => enumUsers(snapshot, e).every((user) => user.startsWith(`${table}.`)));
}

/** Rename-then-drop: two migrations, the second with a down that re-creates the table as it was. */
function dropFix(context: RuleContext, table: string): string {
  const before = context.migration.schemaBefore!;
  const bare = bareName(table);
  const retired = limitName(`${bare}_to_drop`);
  const retiredQualified = `${table.slice(0, table.length - bare.length)}${retired}`;
  const enums = enumsOnlyUsedBy(before, table);
  const ddl = createTableSql(before, table, { as: retiredQualified });
  const down = ddl
    ? [...enums.map((e) => rawCall(createEnumSql(before, e)!)), ...ddl.map((sql) => rawCall(sql))]
    : [`// ${shortName(table)} is partitioned or a partition: re-create it from your backup (knexsafe backup --table ${shortName(table)}).`];
  return [
    `// Step 1 — once no deployed code reads or writes ${shortName(table)}, and after a backup`,
    `// (knexsafe backup --table ${shortName(table)}): rename it away. Anything that still uses it fails`,
    `// loudly, and rolling back brings it back at once, data intact.`,
    `exports.up = async function (knex) {`,
    `  // knexsafe-ignore rename-table: step 1 of dropping ${shortName(table)}; no deployed code uses it`,
    `  await ${schemaBuilder(table)}.renameTable(${jsString(bare)}, ${jsString(retired)});`,
    `};`,
    ``,
    `exports.down = async function (knex) {`,
    `  await ${schemaBuilder(table)}.renameTable(${jsString(retired)}, ${jsString(bare)});`,
    `};`,
    NEXT_MIGRATION,
    `// Step 2 — a release later, when nothing broke: drop it for good. down re-creates it, empty.`,
    `exports.up = async function (knex) {`,
    `  // knexsafe-ignore drop-table: renamed away a release ago and backed up`,
    `  await ${schemaBuilder(table)}.dropTable(${jsString(retired)});`,
    ...enums.map((e) => `  ${rawCall(`DROP TYPE IF EXISTS ${sqlName(e)}`)}`),
    `};`,
    ``,
    `exports.down = async function (knex) {`,
    ...indent(down),
    `};`,
  ].join('\n');
}

/** Dropping a table destroys its data and breaks every running instance of the app that still uses it. */
export const dropTable: Rule = {
  meta: {
    id: 'drop-table',
    category: 'breaking',
    severity: 'warning',
    summary: 'Dropping a table destroys its data and breaks code that still uses it',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'drop' || f.objectType !== 'table') return;
    for (const name of f.names) {
      const table = tableName(context, name);
      if (context.tableAge(table) !== 'existing') continue;
      const before = context.migration.schemaBefore;
      if (before && !before.tables[table]) continue;
      const referrers = referencedBy(before, table);
      const cascade = f.cascade ? ' with CASCADE' : '';
      context.report({
        statement,
        table,
        message: `Table ${shortName(table)} is dropped${cascade}`,
        why:
          `Every row of ${shortName(table)} is gone for good (down can re-create the table, not its data), and app servers still running the previous release fail on every query that uses it — a deploy always has a moment when old code runs against the new schema.` +
          (f.cascade ? ' CASCADE also silently drops the views and foreign keys that depend on it.' : '') +
          (referrers.length ? ` Foreign keys point at it from ${referrers.join('; ')}.` : ''),
        ...(before
          ? {
              fix: {
                byHand: 'is a deploy order: drop only after the code that uses it is gone',
                description:
                  'Retire it in steps: ship code that no longer uses the table, back it up, rename it away in one migration (instantly reversible if something still needed it), and drop the renamed table a release later with a down that re-creates it.',
                code: dropFix(context, table),
                // Step 2 drops the enum types only this table used: the migration's own DROP TYPE of them is in it.
                covers: context.migration.statements.filter(
                  (s) => s.facts.kind === 'drop' && s.facts.objectType === 'type' && s.facts.names.some((n) => enumsOnlyUsedBy(before, table).includes(tableName(context, n))),
                ),
              },
            }
          : {
              fix: {
                byHand: 'is a deploy order: drop only after the code that uses it is gone',
                description: 'Ship code that no longer uses the table, back it up (knexsafe backup), then drop it in a later migration whose down re-creates it.',
                code: [
                  `exports.up = async function (knex) {`,
                  `  await ${schemaBuilder(table)}.dropTable(${jsString(bareName(table))});`,
                  `};`,
                  ``,
                  `exports.down = async function (knex) {`,
                  `  // Re-create ${shortName(table)} exactly as it was (columns, constraints, indexes).`,
                  `};`,
                ].join('\n'),
              },
            }),
      });
    }
  },
};
