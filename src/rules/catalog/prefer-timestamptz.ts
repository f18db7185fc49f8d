import { shortName } from '../helpers.js';
import { applyEdits } from '../js-source.js';
import type { Rule } from '../types.js';
import { newColumns, replaceTypeCall } from '../new-columns.js';
import { jsString } from '../../codegen/index.js';

/**
 * `timestamp without time zone` stores wall-clock time with no zone: the same instant is written
 * differently by servers in different zones, and DST makes some values ambiguous. knex's
 * `timestamp()` / `datetime()` give timestamptz by default on PostgreSQL; `{ useTz: false }`
 * (or `timestamp(name, true)`, `specificType(name, 'timestamp')`) asks for the zone-less type.
 */
export const preferTimestamptz: Rule = {
  meta: {
    id: 'prefer-timestamptz',
    category: 'style',
    severity: 'info',
    summary: 'New column is timestamp without time zone: prefer timestamptz',
  },
  statement(statement, context) {
    for (const n of newColumns(statement, context)) {
      const type = n.column.type;
      if (type.name !== 'timestamp' || type.schema) continue;
      const d = n.definition;
      const precision = type.modifiers[0];
      const method = d?.call.name === 'datetime' || d?.call.name === 'dateTime' ? d.call.name : 'timestamp';
      const replacement = `${method}(${jsString(n.column.name)}${precision !== undefined ? `, { precision: ${precision} }` : ''})`;
      const code = d && ['timestamp', 'datetime', 'dateTime', 'specificType'].includes(d.call.name) ? applyEdits(context.migration.source, [replaceTypeCall(n, replacement)]) : undefined;
      context.report({
        statement: n.statement,
        table: n.table,
        severity: 'info',
        message: `${shortName(n.table)}.${n.column.name} is timestamp without time zone: prefer timestamptz`,
        why: 'timestamp without time zone stores a wall-clock reading, not an instant: app servers or sessions in different time zones write the same moment differently, comparisons across DST changes go wrong, and now() is silently converted to the session zone. timestamptz stores the instant (UTC) in the same 8 bytes.',
        ...(code ? { fix: { wholeMigration: true, description: `Use table.${replacement}: knex's timestamp() is timestamptz on PostgreSQL unless told { useTz: false }.`, code } } : {}),
      });
    }
  },
};
