/**
 * The one home of generated code: SQL identifiers and literals, JS literals, knex calls, migration
 * files and the safe-migration recipes. Rule fixes, `make`, `squash` and `doctor` write code with it.
 */
export * from './js.js';
export * from './knex.js';
export * from './migration.js';
export * from './recipes.js';
export * from './sql.js';
export * from './schema-ddl.js';
export * from './style.js';
export * from './column-type.js';
export * from './renamed-column.js';
export * from './statement-edit.js';
