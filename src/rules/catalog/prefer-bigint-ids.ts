import { shortName } from '../helpers.js';
import { applyEdits } from '../js-source.js';
import type { Rule } from '../types.js';
import { newColumns } from '../new-columns.js';

const BIGGER: Record<string, string> = {
  increments: 'bigIncrements',
  integer: 'bigInteger',
  int: 'bigInteger',
  smallint: 'bigInteger',
  tinyint: 'bigInteger',
  mediumint: 'bigInteger',
};

/**
 * `integer` ids (knex `increments()` = serial) stop at 2,147,483,647. Busy tables get there, and the
 * way out — ALTER COLUMN TYPE bigint — rewrites the table and every foreign key pointing at it
 * under an ACCESS EXCLUSIVE lock. bigint costs 4 bytes more per row.
 */
export const preferBigintIds: Rule = {
  meta: {
    id: 'prefer-bigint-ids',
    category: 'style',
    severity: 'info',
    summary: 'New id column is integer / serial (knex increments()): prefer bigint (bigIncrements())',
  },
  statement(statement, context) {
    const f = statement.facts;
    const tablePrimary = f.kind === 'create-table' ? f.constraints.filter((c) => c.kind === 'primary') : [];
    for (const n of newColumns(statement, context)) {
      const type = n.column.type;
      if (type.schema || type.array) continue;
      const small = type.name === 'serial' || type.name === 'smallserial' || type.name === 'int4' || type.name === 'int2';
      if (!small) continue;
      const key = n.column.serial || n.column.identity !== undefined || n.column.primaryKey || tablePrimary.some((c) => c.columns.length === 1 && c.columns[0] === n.column.name);
      if (!key) continue;
      const d = n.definition;
      const bigger = d ? BIGGER[d.call.name] : undefined;
      const code = d && bigger ? applyEdits(context.migration.source, [{ start: n.tokens[d.call.nameIndex]!.start, end: n.tokens[d.call.nameIndex]!.end, text: bigger }]) : undefined;
      const spelled = d?.call.name === 'increments' ? 'increments() (serial)' : type.name === 'serial' || type.name === 'smallserial' ? type.name : type.name === 'int2' ? 'smallint' : 'integer';
      context.report({
        statement: n.statement,
        table: n.table,
        severity: 'info',
        message: `${shortName(n.table)}.${n.column.name} is ${/^[aeiou]/.test(spelled) ? 'an' : 'a'} ${spelled} key: prefer bigint`,
        why: `An integer key runs out at 2,147,483,647 (inserts then fail with "nextval: reached maximum value"); moving to bigint later rewrites the table — and every table whose foreign keys point at it — under an ACCESS EXCLUSIVE lock. bigint costs 4 more bytes per row.`,
        ...(code ? { fix: { wholeMigration: true, description: `Use table.${bigger}(…) (and bigInteger() for the foreign keys that will reference it).`, code } } : {}),
      });
    }
  },
};
