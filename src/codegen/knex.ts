import { indent, jsSql, jsString } from './js.js';
import { splitQualified } from './sql.js';

/** knex calls for generated migration code. */

/** `knex.schema` for a table in public (or unqualified), `knex.schema.withSchema('app')` elsewhere. */
export function schemaBuilder(qualified: string, knexVar = 'knex'): string {
  const { schema } = splitQualified(qualified);
  return schema && schema !== 'public' ? `${knexVar}.schema.withSchema(${jsString(schema)})` : `${knexVar}.schema`;
}

/** `await knex.raw('…');`, with bindings (a JS expression) when given. */
export function rawCall(sql: string, knexVar = 'knex', bindings?: string): string {
  return `await ${knexVar}.raw(${jsSql(sql)}${bindings ? `, ${bindings}` : ''});`;
}

/** `await knex.schema[.withSchema('app')].<method>('users', (table) => { … });` */
export function tableBuilderCall(method: 'alterTable' | 'createTable' | 'table', qualified: string, body: string[], knexVar = 'knex'): string[] {
  return [`await ${schemaBuilder(qualified, knexVar)}.${method}(${jsString(splitQualified(qualified).name)}, (table) => {`, ...indent(body), `});`];
}

/** `await knex.schema[.withSchema('app')].<method>('users'[, …args]);` for dropTable, hasTable, renameTable … */
export function schemaCall(method: string, qualified: string, args: string[] = [], knexVar = 'knex'): string {
  return `await ${schemaBuilder(qualified, knexVar)}.${method}(${[jsString(splitQualified(qualified).name), ...args].join(', ')});`;
}
