import { shortName, tableName } from '../helpers.js';
import { applyEdits, enclosingCall, findColumnDefinition, isIdent, isPunct, outerStatementChain, stringArg, tokensOf, type ColumnDefinition, type JsToken, type TextEdit } from '../js-source.js';
import type { AlterTableCommand } from '../../sql/facts.js';
import type { AnalyzedStatement, MigrationUnit, Rule, RuleContext } from '../types.js';
import type { ColumnInfo } from '../../schema/types.js';
import { bareName, defaultToJs, ident, rawCall, sqlName } from '../../codegen/index.js';

const TABLE_CALLS = new Set(['alterTable', 'table']);

/** The single `ALTER COLUMN` command of a statement, when that is all it does. */
function onlyCommand(statement: AnalyzedStatement | undefined): (AlterTableCommand & { column: string }) | undefined {
  const f = statement?.facts;
  if (f?.kind !== 'alter-table' || f.commands.length !== 1) return undefined;
  const c = f.commands[0]!;
  return 'column' in c && typeof c.column === 'string' ? (c as AlterTableCommand & { column: string }) : undefined;
}

function sameSite(a: AnalyzedStatement, b: AnalyzedStatement): boolean {
  return Boolean(a.site && b.site && a.site.file === b.site.file && a.site.line === b.site.line && a.site.column === b.site.column);
}

/** Every `.alter()` definition of the column inside `alterTable('<table>', …)` in the file (up and down). */
function alterDefinitions(tokens: JsToken[], table: string, column: string): ColumnDefinition[] {
  const out: ColumnDefinition[] = [];
  let line = 1;
  for (;;) {
    const d = findColumnDefinition(tokens, column, line, (x) => x.modifiers.includes('alter'));
    if (!d) return out;
    const enclosing = enclosingCall(tokens, d.chain.root, TABLE_CALLS);
    if (enclosing && stringArg(tokens, enclosing, 0) === table) out.push(d);
    line = tokens[d.call.close]!.line + 1;
    if (out.length > 20) return out;
  }
}

function rewriteFix(unit: MigrationUnit, table: string, column: string, before: ColumnInfo, lost: { notNull: boolean; default: boolean }, site: number): string | undefined {
  const tokens = tokensOf(unit.source);
  const first = findColumnDefinition(tokens, column, site, (d) => d.modifiers.includes('alter'));
  if (!first) return undefined;
  const edits: TextEdit[] = [];
  for (const d of alterDefinitions(tokens, bareName(table), column)) {
    const alter = d.chain.calls.find((c) => c.name === 'alter' && c.nameIndex > d.call.nameIndex);
    if (!alter) continue;
    const knexName = (() => {
      const outer = outerStatementChain(tokens, d.call.nameIndex);
      return outer ? tokens[outer.root]!.text : 'knex';
    })();
    let insert = '';
    if (lost.default && !d.modifiers.includes('defaultTo') && before.default !== null) insert += `.defaultTo(${defaultToJs(before.default, knexName === 'table' ? 'knex' : knexName)})`;
    if (insert) edits.push({ start: tokens[alter.nameIndex - 1]!.start, end: tokens[alter.nameIndex - 1]!.start, text: insert });
    // Keep NOT NULL by not touching it: repeating .notNullable() makes knex drop and set it again,
    // and SET NOT NULL scans the whole table under ACCESS EXCLUSIVE.
    if (lost.notNull && !d.modifiers.includes('nullable')) {
      const options = alter.args[0];
      if (!options) edits.push({ start: tokens[alter.open]!.end, end: tokens[alter.close]!.start, text: '{ alterNullable: false }' });
      else if (isPunct(tokens[options[0]], '{')) {
        const key = tokens.findIndex((t, k) => k > options[0] && k < options[1] && isIdent(t, 'alterNullable') && isPunct(tokens[k + 1], ':'));
        if (key >= 0) edits.push({ start: tokens[key + 2]!.start, end: tokens[key + 2]!.end, text: 'false' });
        else edits.push({ start: tokens[options[0]]!.end, end: tokens[options[0]]!.end, text: ' alterNullable: false,' });
      }
    }
  }
  return edits.length ? applyEdits(unit.source, edits) : undefined;
}

/**
 * knex's `.alter()` re-states a column from scratch: it emits DROP DEFAULT, DROP NOT NULL and
 * TYPE … USING, then re-adds only the modifiers the builder call repeats. A column that had a
 * default or NOT NULL silently loses them unless the call says `.defaultTo(…)` / `.notNullable()` again.
 */
export const knexAlterDropsDefault: Rule = {
  meta: {
    id: 'knex-alter-drops-default',
    category: 'knex',
    severity: 'error',
    summary: 'knex .alter() silently drops a DEFAULT or NOT NULL the builder call does not repeat',
  },
  migration(unit, context: RuleContext) {
    const before = unit.schemaBefore;
    const after = unit.schemaAfter;
    if (!before || !after || unit.sqlFile) return;
    const seen = new Set<string>();
    unit.statements.forEach((statement, i) => {
      const first = onlyCommand(statement);
      if (first?.action !== 'drop-default' || statement.facts.kind !== 'alter-table') return;
      const next = unit.statements[i + 1];
      const second = onlyCommand(next);
      if (!next || !second || !sameSite(statement, next) || second.column !== first.column) return;
      if (second.action !== 'drop-not-null' && second.action !== 'alter-column-type') return;
      const table = tableName(context, statement.facts.table);
      const key = `${table}.${first.column}`;
      if (seen.has(key)) return;
      seen.add(key);
      const was = before.tables[table]?.columns[first.column];
      const now = after.tables[table]?.columns[first.column];
      if (!was || !now) return;
      const tokens = tokensOf(unit.source);
      const definition = statement.site ? findColumnDefinition(tokens, first.column, statement.site.line, (d) => d.modifiers.includes('alter')) : undefined;
      const lostDefault = was.default !== null && now.default === null && !definition?.modifiers.includes('defaultTo');
      const lostNotNull = !was.nullable && now.nullable && !definition?.modifiers.includes('nullable');
      if (!lostDefault && !lostNotNull) return;
      const lostText = [lostNotNull ? 'NOT NULL' : '', lostDefault ? `DEFAULT ${was.default}` : ''].filter(Boolean).join(' and ');
      const keep = [lostDefault ? `.defaultTo(${defaultToJs(was.default!)})` : '', lostNotNull ? '.alter({ alterNullable: false })' : ''].filter(Boolean).join(' and ');
      const col = `${shortName(table)}.${first.column}`;
      const rewritten = statement.site ? rewriteFix(unit, table, first.column, was, { notNull: lostNotNull, default: lostDefault }, statement.site.line) : undefined;
      const newType = now.type;
      context.report({
        statement: definition ? { ...statement, site: { ...statement.site!, line: definition.line } } : statement,
        table,
        message: `.alter() on ${col} drops its ${lostText}`,
        why:
          `knex re-creates the column definition from the builder call alone: it runs DROP DEFAULT and DROP NOT NULL before the type change and restores only what the call repeats. ` +
          (lostDefault
            ? `Inserts that leave ${first.column} out now store NULL instead of ${was.default}` + (was.default?.includes('nextval(') ? ' — for an id column, every insert fails' : '') + '. '
            : '') +
          (lostNotNull ? `NULLs are accepted again, and code that relies on the column being set breaks later.` : ''),
        fix: rewritten
          ? {
              wholeMigration: true,
              description: `Keep what the column had — ${keep} — in up and in down${lostNotNull ? ' (alterNullable: false leaves NOT NULL alone; repeating .notNullable() would make knex drop and set it again, and SET NOT NULL scans the table)' : ''}; or change only the type with knex.raw('ALTER TABLE … ALTER COLUMN … TYPE …'), which leaves the default and NOT NULL alone.`,
              code: rewritten,
            }
          : {
              description: `Change only the type with knex.raw: ALTER COLUMN … TYPE keeps the default and NOT NULL (or use ${keep} in the .alter() call).`,
              code: [
                `exports.up = async function (knex) {`,
                `  ${rawCall(`ALTER TABLE ${sqlName(table)} ALTER COLUMN ${ident(first.column)} TYPE ${newType} USING ${ident(first.column)}::${newType}`)}`,
                `};`,
                ``,
                `exports.down = async function (knex) {`,
                `  ${rawCall(`ALTER TABLE ${sqlName(table)} ALTER COLUMN ${ident(first.column)} TYPE ${was.type} USING ${ident(first.column)}::${was.type}`)}`,
                `};`,
              ].join('\n'),
            },
      });
    });
  },
};
