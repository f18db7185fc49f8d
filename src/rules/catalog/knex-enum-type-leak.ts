import { shortName } from '../helpers.js';
import { applyEdits, callAt, enclosingCall, functionRange, insertAfterStatement, isPunct, migrationFunction, stringArg, stringListArg, tokensOf, type JsToken } from '../js-source.js';
import { parseSqlSync } from '../../sql/parse.js';
import { statementFacts } from '../../sql/facts.js';
import type { SchemaSnapshot } from '../../schema/types.js';
import type { AnalyzedStatement, MigrationUnit, Rule, RuleContext } from '../types.js';
import { bareName, enumUsers, jsSql, sqlName } from '../../codegen/index.js';

/** Tables (bare and qualified) and `table.column`s a statement drops. */
function droppedBy(statement: AnalyzedStatement, context: RuleContext): { tables: string[]; columns: string[] } {
  const f = statement.facts;
  const qualify = (n: { schema?: string; name: string }) =>
    n.schema
      ? `${n.schema}.${n.name}`
      : (Object.keys(context.migration.schemaBefore?.tables ?? {}).find((t) => bareName(t) === n.name && t.startsWith('public.')) ??
        Object.keys(context.migration.schemaBefore?.tables ?? {}).find((t) => bareName(t) === n.name) ??
        `public.${n.name}`);
  if (f.kind === 'drop' && f.objectType === 'table') return { tables: f.names.map(qualify), columns: [] };
  if (f.kind === 'alter-table') {
    const table = qualify(f.table);
    return { tables: [], columns: f.commands.flatMap((c) => (c.action === 'drop-column' ? [`${table}.${c.column}`] : [])) };
  }
  return { tables: [], columns: [] };
}

function dropTypeCode(types: string[]): (root: string) => string {
  return (root) => types.map((t, i) => `${i ? 'await ' : ''}${root}.raw(${jsSql(`DROP TYPE IF EXISTS ${sqlName(t)}`)})`).join(';\n');
}

/** What the `down` function drops, read from its knex calls and the SQL strings it passes to knex.raw. */
interface DownDrops {
  /** Bare table names. */
  tables: Map<string, number>;
  /** `table.column` with bare table names. */
  columns: Map<string, number>;
  /** Type names (bare). */
  types: Set<string>;
}

function readDown(tokens: JsToken[]): DownDrops | undefined {
  const down = migrationFunction(tokens, 'down');
  if (!down) return undefined;
  const [from, to] = functionRange(down);
  const drops: DownDrops = { tables: new Map(), columns: new Map(), types: new Set() };
  for (let k = from; k <= to; k++) {
    const t = tokens[k]!;
    if (t.type === 'ident' && (isPunct(tokens[k - 1], '.') || isPunct(tokens[k - 1], '?.'))) {
      const call = callAt(tokens, k);
      if (!call) continue;
      if (call.name === 'dropTable' || call.name === 'dropTableIfExists') {
        const name = stringArg(tokens, call, 0);
        if (name !== undefined) drops.tables.set(bareName(name), k);
      } else if (call.name === 'dropColumn' || call.name === 'dropColumns') {
        const table = enclosingCall(tokens, k, new Set(['alterTable', 'table']));
        const tableName = table ? stringArg(tokens, table, 0) : undefined;
        if (tableName === undefined) continue;
        const columns = call.args.flatMap((_, i) => stringListArg(tokens, call, i) ?? []);
        for (const c of columns) drops.columns.set(`${bareName(tableName)}.${c}`, k);
      }
    } else if ((t.type === 'string' || t.type === 'template') && t.value !== undefined && t.value.trim().includes(' ')) {
      let parsed;
      try {
        parsed = parseSqlSync(t.value);
      } catch {
        continue;
      }
      for (const p of parsed) {
        const f = statementFacts(p.ast, p.sql);
        if (f.kind === 'drop' && f.objectType === 'table') for (const n of f.names) drops.tables.set(n.name, k);
        else if (f.kind === 'drop' && f.objectType === 'type') for (const n of f.names) drops.types.add(n.name);
        else if (f.kind === 'alter-table') for (const c of f.commands) if (c.action === 'drop-column') drops.columns.set(`${f.table.name}.${c.column}`, k);
      }
    }
  }
  return drops;
}

const WHY =
  'knex drops the table (or column) but never the native enum type it created; the type stays behind. The next migration that creates it again (`enu(…, { useNative: true })` runs CREATE TYPE) fails with "type … already exists" — typically when the migration is rolled back and run again — and verify reports the schema after down as different from before up.';

/**
 * A native enum type (knex `enu(…, { useNative: true, enumName })`, or CREATE TYPE … AS ENUM) left
 * behind when the table or column that used it is dropped: in up (seen on the shadow) or in down
 * (read from the migration's source, since check only runs up; verify proves it by running down).
 */
export const knexEnumTypeLeak: Rule = {
  meta: {
    id: 'knex-enum-type-leak',
    category: 'knex',
    severity: 'warning',
    summary: 'A native enum type is left behind when dropTable / dropColumn removes its last user',
  },
  migration(unit, context) {
    const before = unit.schemaBefore;
    const after = unit.schemaAfter;
    if (!before || !after || unit.sqlFile) return;
    leakInUp(unit, context, before, after);
    leakInDown(unit, context, before, after);
  },
};

function leakInUp(unit: MigrationUnit, context: RuleContext, before: SchemaSnapshot, after: SchemaSnapshot): void {
  const leaked = Object.keys(after.enums).filter((e) => before.enums[e] && enumUsers(after, e).length === 0 && enumUsers(before, e).length > 0);
  const byStatement = new Map<AnalyzedStatement, string[]>();
  for (const e of leaked) {
    const users = enumUsers(before, e);
    let last: AnalyzedStatement | undefined;
    for (const s of unit.statements) {
      const d = droppedBy(s, context);
      if (users.some((u) => d.columns.includes(u) || d.tables.some((t) => u.startsWith(`${t}.`)))) last = s;
    }
    if (last) byStatement.set(last, [...(byStatement.get(last) ?? []), e]);
  }
  const tokens = byStatement.size ? tokensOf(unit.source) : [];
  for (const [statement, types] of byStatement) {
    const d = droppedBy(statement, context);
    const what = d.tables.length ? `table ${d.tables.map(shortName).join(', ')} is dropped` : `column ${d.columns.map(shortName).join(', ')} is dropped`;
    const names = types.map(shortName).join(', ');
    let code: string | undefined;
    if (statement.site) {
      const start = tokens.findIndex((t) => t.line === statement.site!.line && t.type === 'ident' && ['dropTable', 'dropTableIfExists', 'alterTable', 'table', 'raw', 'dropColumn'].includes(t.text));
      const edit = start >= 0 ? insertAfterStatement(unit.source, tokens, start, dropTypeCode(types)) : undefined;
      if (edit) code = applyEdits(unit.source, [edit]);
    }
    context.report({
      statement,
      ...(d.tables[0] ? { table: d.tables[0] } : {}),
      message: `Enum type ${names} is left behind: ${what}, nothing uses the type any more`,
      why: WHY,
      fix: {
        ...(code ? { wholeMigration: true } : {}),
        description: `Drop the type right after its last user: await knex.raw('DROP TYPE IF EXISTS ${sqlName(types[0]!)}'). The down that re-creates the table with enu(…, { useNative: true }) then re-creates the type too.`,
        code:
          code ??
          [`// After the dropTable / dropColumn:`, `exports.up = async function (knex) {`, ...types.map((t) => `  await knex.raw(${jsSql(`DROP TYPE IF EXISTS ${sqlName(t)}`)});`), `};`].join('\n'),
      },
    });
  }
}

function leakInDown(unit: MigrationUnit, context: RuleContext, before: SchemaSnapshot, after: SchemaSnapshot): void {
  const created = Object.keys(after.enums).filter((e) => !before.enums[e] && enumUsers(after, e).length > 0);
  if (!created.length || !unit.hasDown) return;
  const tokens = tokensOf(unit.source);
  const drops = readDown(tokens);
  if (!drops) return;
  const leaks = new Map<number, string[]>();
  for (const e of created) {
    if (drops.types.has(bareName(e))) continue;
    let at = -1;
    const covered = enumUsers(after, e).every((user) => {
      const [table, column] = [user.slice(0, user.lastIndexOf('.')), user.slice(user.lastIndexOf('.') + 1)];
      const k = drops.tables.get(bareName(table)) ?? drops.columns.get(`${bareName(table)}.${column}`);
      if (k === undefined) return false;
      at = Math.max(at, k);
      return true;
    });
    if (covered && at >= 0) leaks.set(at, [...(leaks.get(at) ?? []), e]);
  }
  for (const [k, types] of leaks) {
    const creator = unit.statements.find((s) => s.facts.kind === 'create-type' && types.some((t) => bareName(t) === (s.facts as { name: { name: string } }).name.name)) ?? unit.statements[0];
    if (!creator) continue;
    const edit = insertAfterStatement(unit.source, tokens, k, dropTypeCode(types));
    const names = types.map(shortName).join(', ');
    context.report({
      statement: { ...creator, site: { file: unit.file, line: tokens[k]!.line, column: 1 } },
      message: `down drops what uses enum type ${names} but not the type: rolling back leaves it behind`,
      why: `${WHY} check runs only up; this is read from the down function (knexsafe verify runs it and shows the type left behind).`,
      fix: {
        ...(edit ? { wholeMigration: true } : {}),
        description: `In down, drop the type after the table: await knex.raw('DROP TYPE IF EXISTS ${sqlName(types[0]!)}').`,
        code: edit
          ? applyEdits(unit.source, [edit])
          : [`exports.down = async function (knex) {`, `  // … drop the table, then:`, ...types.map((t) => `  await knex.raw(${jsSql(`DROP TYPE IF EXISTS ${sqlName(t)}`)});`), `};`].join('\n'),
      },
    });
  }
}
