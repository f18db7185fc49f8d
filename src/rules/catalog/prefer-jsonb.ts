import { shortName } from '../helpers.js';
import { applyEdits } from '../js-source.js';
import type { Rule } from '../types.js';
import { newColumns, replaceTypeCall } from '../new-columns.js';
import { jsString } from '../../codegen/index.js';

/** `json` stores the text as given: no indexing, no equality operator, every read re-parses it. */
export const preferJsonb: Rule = {
  meta: {
    id: 'prefer-jsonb',
    category: 'style',
    severity: 'info',
    summary: 'New column is json: prefer jsonb',
  },
  statement(statement, context) {
    for (const n of newColumns(statement, context)) {
      const type = n.column.type;
      if (type.name !== 'json' || type.schema) continue;
      const d = n.definition;
      const code = d && (d.call.name === 'json' || d.call.name === 'specificType') ? applyEdits(context.migration.source, [replaceTypeCall(n, `jsonb(${jsString(n.column.name)})`)]) : undefined;
      context.report({
        statement: n.statement,
        table: n.table,
        severity: 'info',
        message: `${shortName(n.table)}.${n.column.name} is json${type.array ? '[]' : ''}: prefer jsonb`,
        why: 'json keeps the text as written and re-parses it on every access; it has no equality operator (SELECT DISTINCT, GROUP BY and UNION fail on it) and no GIN indexing or containment operators (@>, ?). jsonb is what queries on JSON need; keep json only to preserve key order or duplicate keys.',
        ...(code ? { fix: { wholeMigration: true, description: `Use table.jsonb(${jsString(n.column.name)}).`, code } } : {}),
      });
    }
  },
};
