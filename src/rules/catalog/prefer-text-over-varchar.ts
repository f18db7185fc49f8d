import { js, shortName } from '../helpers.js';
import { applyEdits } from '../js-source.js';
import type { Rule } from '../types.js';
import { newColumns, replaceTypeCall } from './new-columns.js';

/**
 * `varchar(n)` (knex `string()` = varchar(255)) turns a length limit into a type: values over it
 * fail the INSERT at runtime, and raising or lowering it later is an ALTER COLUMN TYPE under an
 * ACCESS EXCLUSIVE lock (lowering rewrites the table). `text` with a CHECK is the same storage and
 * its limit changes with a NOT VALID constraint, without blocking.
 */
export const preferTextOverVarchar: Rule = {
  meta: {
    id: 'prefer-text-over-varchar',
    category: 'style',
    severity: 'info',
    summary: 'New column is varchar(n) (knex string()): prefer text, with a CHECK if a limit is needed',
  },
  statement(statement, context) {
    for (const n of newColumns(statement, context)) {
      const type = n.column.type;
      if (type.name !== 'varchar' || type.modifiers.length === 0 || type.schema) continue;
      const length = type.modifiers[0]!;
      const col = `${shortName(n.table)}.${n.column.name}`;
      const d = n.definition;
      // A length someone chose (string('phone', 20)) is kept as a CHECK; knex's default 255 is not a decision.
      const chosen = d ? d.call.args.length > 1 || d.call.name === 'specificType' : length !== 255;
      const check = chosen ? `.checkLength('<=', ${length})` : '';
      const canRewrite = d && (d.call.name === 'string' || d.call.name === 'specificType' || d.call.name === 'varchar');
      const code = canRewrite ? applyEdits(context.migration.source, [replaceTypeCall(n, `text(${js(n.column.name)})${n.inCreateTable ? check : ''}`)]) : undefined;
      context.report({
        statement: n.statement,
        table: n.table,
        severity: 'info',
        message: `${col} is ${type.text}${d?.call.name === 'string' ? ` (knex string())` : ''}: prefer text`,
        why: `A varchar(${length}) makes every longer value a failed INSERT or UPDATE at runtime, and changing the limit later is ALTER COLUMN TYPE under an ACCESS EXCLUSIVE lock (shrinking it rewrites the table). text stores the same way; a CHECK (char_length(…) <= n) limit can be changed with NOT VALID + VALIDATE without blocking.`,
        ...(code
          ? {
              fix: {
                description: chosen
                  ? `Use table.text(${js(n.column.name)})${n.inCreateTable ? ` with .checkLength('<=', ${length}) to keep the limit` : `; if the limit matters, add CHECK (char_length(${n.column.name}) <= ${length}) NOT VALID in the same migration`}.`
                  : `Use table.text(${js(n.column.name)}): knex's default 255 is rarely a real requirement.`,
                code,
              },
            }
          : {}),
      });
    }
  },
};
