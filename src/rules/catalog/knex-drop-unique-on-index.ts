import { shortName, tableName } from '../helpers.js';
import type { ConstraintInfo, IndexInfo, SchemaSnapshot } from '../../schema/types.js';
import type { Rule, RuleContext } from '../types.js';
import { bareName, ident, jsString, rawCall, schemaBuilder, sqlName } from '../../codegen/index.js';

function indexNamed(snapshot: SchemaSnapshot, name: string, schema?: string): IndexInfo | undefined {
  return Object.values(snapshot.indexes).find((i) => i.name === name && (schema ? i.schema === schema : true));
}

function constraintNamed(snapshot: SchemaSnapshot, name: string, schema?: string): { table: string; constraint: ConstraintInfo } | undefined {
  for (const [table, info] of Object.entries(snapshot.tables)) {
    if (schema && info.schema !== schema) continue;
    const constraint = info.constraints[name];
    if (constraint && (constraint.kind === 'unique' || constraint.kind === 'primary' || constraint.kind === 'exclusion')) return { table, constraint };
  }
  return undefined;
}

function migration(up: string[], down: string[], options: { note?: string; noTransaction?: string } = {}): string {
  return [
    ...(options.note ? [options.note] : []),
    `exports.up = async function (knex) {`,
    ...up.map((l) => `  ${l}`),
    `};`,
    ``,
    `exports.down = async function (knex) {`,
    ...down.map((l) => `  ${l}`),
    `};`,
    ...(options.noTransaction ? [``, `// ${options.noTransaction}`, `exports.config = { transaction: false };`] : []),
  ].join('\n');
}

/** `CREATE [UNIQUE] INDEX name …` as pg_get_indexdef prints it → the CONCURRENTLY, re-runnable form. */
function concurrently(definition: string): string {
  for (const prefix of ['CREATE UNIQUE INDEX ', 'CREATE INDEX ']) {
    if (definition.startsWith(prefix)) return `${prefix}CONCURRENTLY IF NOT EXISTS ${definition.slice(prefix.length)}`;
  }
  return definition;
}

/**
 * PostgreSQL has two kinds of uniqueness: a UNIQUE constraint (knex `unique()`, the default) and a
 * plain unique index (`CREATE UNIQUE INDEX`, knex `unique(…, { useConstraint: false })`). knex's
 * `dropUnique` drops a constraint and `dropIndex` an index; using the wrong one fails the deploy.
 */
export const knexDropUniqueOnIndex: Rule = {
  meta: {
    id: 'knex-drop-unique-on-index',
    category: 'knex',
    severity: 'error',
    summary: 'dropUnique on a unique index, or dropIndex on a unique constraint: the migration fails',
  },
  statement(statement, context: RuleContext) {
    const before = context.migration.schemaBefore;
    if (!before) return;
    const f = statement.facts;
    if (f.kind === 'alter-table') {
      const table = tableName(context, f.table);
      const info = before.tables[table];
      if (!info) return;
      for (const c of f.commands) {
        if (c.action !== 'drop-constraint' || info.constraints[c.name]) continue;
        const index = indexNamed(before, c.name, info.schema);
        if (!index || index.table !== table) continue;
        const columns = index.columns;
        context.report({
          statement,
          table,
          message: `${c.name} on ${shortName(table)} is a unique index, not a constraint: DROP CONSTRAINT fails`,
          why: `knex's dropUnique() emits ALTER TABLE … DROP CONSTRAINT, but ${c.name} was created as an index (CREATE UNIQUE INDEX, or unique(…, { useConstraint: false })): PostgreSQL answers "constraint ${c.name} of relation ${info.name} does not exist" (42704) and the deploy stops${c.ifExists ? ' — with IF EXISTS it silently does nothing and the uniqueness stays' : ''}.`,
          fix: {
            description: `Drop it as the index it is. The knex call is table.dropIndex([${columns.map(jsString).join(', ')}], ${jsString(c.name)}) (DROP INDEX, which locks ${shortName(table)} against reads and writes while it waits); on a table in use drop it CONCURRENTLY, outside knex's transaction, as below. down re-creates it with its exact definition.`,
            code: migration([rawCall(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlName(`${index.schema}.${index.name}`)}`)], [rawCall(concurrently(index.definition))], {
              noTransaction: 'CONCURRENTLY cannot run inside a transaction.',
            }),
          },
        });
      }
      return;
    }
    if (f.kind === 'drop' && f.objectType === 'index') {
      for (const name of f.names) {
        if (indexNamed(before, name.name, name.schema)) continue;
        const owner = constraintNamed(before, name.name, name.schema);
        if (!owner) continue;
        const { table, constraint } = owner;
        const kind = constraint.kind === 'primary' ? 'primary key' : constraint.kind === 'unique' ? 'unique constraint' : 'exclusion constraint';
        const knexCall =
          constraint.kind === 'primary'
            ? `table.dropPrimary(${jsString(constraint.name)});`
            : constraint.kind === 'unique'
              ? `table.dropUnique([${constraint.columns.map(jsString).join(', ')}], ${jsString(constraint.name)});`
              : undefined;
        const up = knexCall
          ? [`await ${schemaBuilder(table)}.alterTable(${jsString(bareName(table))}, (table) => {`, `  ${knexCall}`, `});`]
          : [rawCall(`ALTER TABLE ${sqlName(table)} DROP CONSTRAINT ${ident(constraint.name)}`)];
        context.report({
          statement,
          table,
          message: `${name.name} belongs to the ${kind} ${constraint.name} on ${shortName(table)}: DROP INDEX fails`,
          why: `The index behind a ${kind} cannot be dropped on its own: PostgreSQL answers "cannot drop index ${name.name} because constraint ${constraint.name} on table ${bareName(table)} requires it" (2BP01) and the deploy stops. knex's unique() creates a constraint unless told { useConstraint: false }.`,
          fix: {
            description: `Drop the constraint (its index goes with it): ${knexCall ?? `ALTER TABLE … DROP CONSTRAINT ${constraint.name}`}; down adds it back with its exact definition.`,
            code: migration(up, [rawCall(`ALTER TABLE ${sqlName(table)} ADD CONSTRAINT ${ident(constraint.name)} ${constraint.definition}`)]),
          },
        });
      }
    }
  },
};
