import { shortName } from '../helpers.js';
import { applyEdits } from '../js-source.js';
import type { Rule, RuleContext } from '../types.js';
import { newColumns, replaceTypeCall, type NewColumn } from '../new-columns.js';
import { jsString } from '../../codegen/index.js';

/**
 * `varchar(n)` (knex `string()` = varchar(255)) turns a length limit into a type: values over it
 * fail the INSERT at runtime, and raising or lowering it later is an ALTER COLUMN TYPE under an
 * ACCESS EXCLUSIVE lock (lowering rewrites the table). `text` with a CHECK is the same storage and
 * its limit changes with a NOT VALID constraint, without blocking. `char(n)` has the same lock
 * problem and pads values with blanks on top (knex `specificType(name, 'char(2)')`).
 */
export const preferTextOverVarchar: Rule = {
  meta: {
    id: 'prefer-text-over-varchar',
    category: 'style',
    severity: 'info',
    summary: 'New column is varchar(n) (knex string()) or char(n): prefer text, with a CHECK if a limit is needed',
  },
  statement(statement, context) {
    for (const n of newColumns(statement, context)) {
      const type = n.column.type;
      if (type.schema) continue;
      if (type.name === 'bpchar') {
        reportChar(n, context);
        continue;
      }
      if (type.name !== 'varchar' || type.modifiers.length === 0) continue;
      const length = type.modifiers[0]!;
      const col = `${shortName(n.table)}.${n.column.name}`;
      const d = n.definition;
      // A length someone chose (string('phone', 20)) is kept as a CHECK; knex's default 255 is not a decision.
      const chosen = d ? d.call.args.length > 1 || d.call.name === 'specificType' : length !== 255;
      const check = chosen ? `.checkLength('<=', ${length})` : '';
      const canRewrite = d && (d.call.name === 'string' || d.call.name === 'specificType' || d.call.name === 'varchar');
      const code = canRewrite ? applyEdits(context.migration.source, [replaceTypeCall(n, `text(${jsString(n.column.name)})${n.inCreateTable ? check : ''}`)]) : undefined;
      context.report({
        statement: n.statement,
        table: n.table,
        severity: 'info',
        message: `${col} is ${type.text}${d?.call.name === 'string' ? ` (knex string())` : ''}: prefer text`,
        why: `A varchar(${length}) makes every longer value a failed INSERT or UPDATE at runtime, and changing the limit later is ALTER COLUMN TYPE under an ACCESS EXCLUSIVE lock (shrinking it rewrites the table). text stores the same way; a CHECK (char_length(…) <= n) limit can be changed with NOT VALID + VALIDATE without blocking.`,
        ...(code
          ? {
              fix: {
                wholeMigration: true,
                description: chosen
                  ? `Use table.text(${jsString(n.column.name)})${n.inCreateTable ? ` with .checkLength('<=', ${length}) to keep the limit` : `; if the limit matters, add CHECK (char_length(${n.column.name}) <= ${length}) NOT VALID in the same migration`}.`
                  : `Use table.text(${jsString(n.column.name)}): knex's default 255 is rarely a real requirement.`,
                code,
              },
            }
          : {}),
      });
    }
  },
};

/**
 * `char(n)` / `character(n)` / `bpchar`: blank-padded to n characters (clients read the blanks back;
 * `=` ignores them, LIKE and regular expressions do not), and no faster or smaller than text. Changing n later
 * is the same ACCESS EXCLUSIVE ALTER COLUMN TYPE as for varchar(n).
 */
function reportChar(n: NewColumn, context: RuleContext): void {
  const type = n.column.type;
  const length = type.modifiers[0];
  const spelled = `char${length !== undefined ? `(${length})` : ''}${type.array ? '[]' : ''}`;
  const d = n.definition;
  const check = length !== undefined && n.inCreateTable && !type.array ? `.checkLength('<=', ${length})` : '';
  const code = d && d.call.name === 'specificType' && !type.array ? applyEdits(context.migration.source, [replaceTypeCall(n, `text(${jsString(n.column.name)})${check}`)]) : undefined;
  context.report({
    statement: n.statement,
    table: n.table,
    severity: 'info',
    message: `${shortName(n.table)}.${n.column.name} is ${spelled}: prefer text`,
    why: `char(n) pads every value with blanks to n characters: the app reads 'ab' back as 'ab  ', = ignores the trailing blanks but LIKE and regular expressions do not ('ab'::char(4) LIKE 'ab' is false), and it is no faster or smaller than text. Changing n later is ALTER COLUMN TYPE under an ACCESS EXCLUSIVE lock, as for varchar(n). text with a CHECK keeps a limit that can be changed with NOT VALID + VALIDATE without blocking.`,
    ...(code
      ? {
          fix: {
            wholeMigration: true,
            description: `Use table.text(${jsString(n.column.name)})${check ? ` with ${check} to keep the limit` : length !== undefined ? `; if the limit matters, add CHECK (char_length(${n.column.name}) <= ${length}) NOT VALID in the same migration` : ''}.`,
            code,
          },
        }
      : {}),
  });
}
