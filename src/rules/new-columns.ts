import { tableName } from './helpers.js';
import { findColumnDefinition, isIdent, isPunct, tokensOf, type ColumnDefinition, type JsToken, type TextEdit } from './js-source.js';
import type { ColumnFacts } from '../sql/facts.js';
import type { AnalyzedStatement, RuleContext } from './types.js';

/** A column this migration creates (in CREATE TABLE of a new table, or ADD COLUMN), for the style rules. */
export interface NewColumn {
  table: string;
  column: ColumnFacts;
  /** In CREATE TABLE (else ADD COLUMN). */
  inCreateTable: boolean;
  /** The knex call that defined it, when the source shows it. */
  definition?: ColumnDefinition;
  tokens: JsToken[];
  /** The statement, with its line moved to the column's own call when known. */
  statement: AnalyzedStatement;
}

/** The columns a statement creates. Style rules judge only these: never nag about existing columns. */
export function newColumns(statement: AnalyzedStatement, context: RuleContext): NewColumn[] {
  const f = statement.facts;
  let table: string;
  let columns: ColumnFacts[];
  let inCreateTable: boolean;
  if (f.kind === 'create-table') {
    table = tableName(context, f.table);
    if (context.tableAge(table) !== 'new' && !context.migration.sqlFile) return [];
    columns = f.columns;
    inCreateTable = true;
  } else if (f.kind === 'alter-table') {
    table = tableName(context, f.table);
    columns = f.commands.flatMap((c) => (c.action === 'add-column' ? [c.column] : []));
    inCreateTable = false;
  } else return [];
  if (!columns.length) return [];
  const knexFile = !context.migration.sqlFile;
  const tokens = knexFile ? tokensOf(context.migration.source) : [];
  return columns.map((column) => {
    const definition = knexFile && statement.site ? findColumnDefinition(tokens, column.name, statement.site.line, (d) => !d.modifiers.includes('alter')) : undefined;
    return {
      table,
      column,
      inCreateTable,
      ...(definition ? { definition } : {}),
      tokens,
      statement: definition && statement.site ? { ...statement, site: { ...statement.site, line: definition.line } } : statement,
    };
  });
}

/** Replaces the column-type call (name and arguments) of a definition, e.g. `string('title', 255)` → `text('title')`. */
export function replaceTypeCall(n: NewColumn, text: string): TextEdit {
  const call = n.definition!.call;
  return { start: n.tokens[call.nameIndex]!.start, end: n.tokens[call.close]!.end, text };
}

/** The source text of argument `i` of the definition's type call. */
export function argumentText(source: string, n: NewColumn, i: number): string | undefined {
  const arg = n.definition?.call.args[i];
  if (!arg) return undefined;
  return source.slice(n.tokens[arg[0]]!.start, n.tokens[arg[1]]!.end);
}

/** Whether argument `i` of the call is exactly the identifier / literal `text`. */
export function argumentIs(n: NewColumn, i: number, text: string): boolean {
  const arg = n.definition?.call.args[i];
  return Boolean(arg && arg[0] === arg[1] && n.tokens[arg[0]]!.text === text);
}

/** Token index of `key: value` inside an object literal argument, pointing at the value. */
export function objectValueIndex(n: NewColumn, i: number, key: string): number | undefined {
  const arg = n.definition?.call.args[i];
  if (!arg || !isPunct(n.tokens[arg[0]], '{')) return undefined;
  for (let k = arg[0] + 1; k < arg[1]; k++) if (isIdent(n.tokens[k], key) && isPunct(n.tokens[k + 1], ':')) return k + 2;
  return undefined;
}
