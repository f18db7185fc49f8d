import { shortName, tableName } from '../helpers.js';
import { applyEdits, findColumnDefinition, indentationAt, insertAfterStatement, statementOf, tokensOf, type ColumnDefinition, type TextEdit } from '../js-source.js';
import type { ColumnFacts } from '../../sql/facts.js';
import type { AnalyzedStatement, Rule, RuleContext } from '../types.js';
import { bareName, ident, jsString, limitName, sqlName } from '../../codegen/index.js';

interface NewColumn {
  name: string;
  facts?: ColumnFacts;
  /** Emitted by `.alter()` (ALTER COLUMN … TYPE) rather than created. */
  altered: boolean;
  created: 'create-table' | 'add-column' | 'alter';
}

function columnsOf(statement: AnalyzedStatement): NewColumn[] {
  const f = statement.facts;
  if (f.kind === 'create-table') return f.columns.map((c) => ({ name: c.name, facts: c, altered: false, created: 'create-table' }));
  if (f.kind !== 'alter-table') return [];
  return f.commands.flatMap((c): NewColumn[] => {
    if (c.action === 'add-column') return [{ name: c.column.name, facts: c.column, altered: false, created: 'add-column' }];
    if (c.action === 'alter-column-type') return [{ name: c.column, altered: true, created: 'alter' }];
    return [];
  });
}

const REFERENCE_CALLS = ['references', 'inTable', 'foreign'];

function fixCode(source: string, definition: ColumnDefinition, column: NewColumn, table: string, enforce: boolean): string | undefined {
  const tokens = tokensOf(source);
  const unsigned = definition.chain.calls.find((c) => c.name === 'unsigned' && c.nameIndex > definition.call.nameIndex)!;
  let start = tokens[unsigned.nameIndex - 1]!.start;
  let end = tokens[unsigned.close]!.end;
  // `.unsigned()` on a line of its own goes with its line.
  const lineStart = source.lastIndexOf('\n', start - 1) + 1;
  const lineEnd = source.indexOf('\n', end);
  if (source.slice(lineStart, start).trim() === '' && source.slice(end, lineEnd < 0 ? source.length : lineEnd).trim() === '' && lineStart > 0) {
    start = lineStart - 1;
    end = lineEnd < 0 ? source.length : lineEnd;
  }
  const edits: TextEdit[] = [{ start, end, text: '' }];
  if (enforce) {
    const constraint = limitName(`${bareName(table)}_${column.name}_unsigned`);
    if (column.created === 'create-table') {
      const place = statementOf(tokens, definition.chain);
      if (!place.standalone) return undefined;
      edits.push({ start: place.after, end: place.after, text: `\n${indentationAt(source, place.start)}${place.root}.check('?? >= 0', [${jsString(column.name)}], ${jsString(constraint)});` });
    } else {
      const sql = `ALTER TABLE ${sqlName(table)} ADD CONSTRAINT ${ident(constraint)} CHECK (${ident(column.name)} >= 0) NOT VALID`;
      const edit = insertAfterStatement(source, tokens, definition.call.nameIndex, (root) => `${root}.raw(${jsString(sql)})`);
      if (!edit) return undefined;
      edits.push(edit);
    }
  }
  return applyEdits(source, edits);
}

/** knex's `.unsigned()` is a MySQL modifier: on PostgreSQL it emits nothing, so the column accepts negative numbers. */
export const knexUnsignedIgnored: Rule = {
  meta: {
    id: 'knex-unsigned-ignored',
    category: 'knex',
    severity: 'warning',
    summary: 'knex .unsigned() does nothing on PostgreSQL: negative values are still accepted',
  },
  statement(statement, context: RuleContext) {
    const site = statement.site;
    if (!site || context.migration.sqlFile) return;
    const tokens = tokensOf(context.migration.source);
    const table = statement.facts.kind === 'create-table' || statement.facts.kind === 'alter-table' ? tableName(context, statement.facts.table) : undefined;
    if (!table) return;
    for (const column of columnsOf(statement)) {
      const definition = findColumnDefinition(tokens, column.name, site.line, (d) => d.modifiers.includes('alter') === column.altered);
      if (!definition?.modifiers.includes('unsigned')) continue;
      if (definition.modifiers.some((m) => m.startsWith('check'))) continue;
      if (column.facts?.constraints.some((c) => c.kind === 'check')) continue;
      const unsigned = definition.chain.calls.find((c) => c.name === 'unsigned' && c.nameIndex > definition.call.nameIndex)!;
      const reference = definition.modifiers.some((m) => REFERENCE_CALLS.includes(m)) || Boolean(column.facts?.references);
      const key = Boolean(column.facts?.serial || column.facts?.identity || column.facts?.primaryKey);
      const harmless = reference || key;
      const code = fixCode(context.migration.source, definition, column, table, !harmless);
      const col = `${shortName(table)}.${column.name}`;
      context.report({
        statement: { ...statement, site: { ...site, line: unsigned.line } },
        table,
        message: `.unsigned() on ${col} does nothing on PostgreSQL`,
        why:
          `PostgreSQL has no unsigned integer types and knex adds no CHECK for .unsigned(): ${column.name} accepts negative values, and its range is not doubled (integer still stops at 2,147,483,647).` +
          (reference
            ? ' Here the foreign key already restricts it to existing ids, so the call is only misleading.'
            : key
              ? ' Here the column is a generated key, so the call is only misleading.'
              : ' Code or reviewers that trust the modifier let negative values through.'),
        severity: harmless ? 'info' : 'warning',
        ...(code
          ? {
              fix: {
                wholeMigration: true,
                description: harmless
                  ? `Remove .unsigned(): it is a no-op on PostgreSQL.`
                  : `Enforce it with a CHECK (${column.name} >= 0)` +
                    (column.created === 'create-table'
                      ? ` in the table definition.`
                      : ` added NOT VALID (new rows are checked at once; VALIDATE CONSTRAINT in a later migration checks the old ones without blocking writes).`),
                code,
              },
            }
          : {}),
      });
    }
  },
};
