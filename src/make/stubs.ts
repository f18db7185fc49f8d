import type { ModuleStyle } from './module-style.js';

export interface MigrationBody {
  /** Statements of `up`, each line already indented by 2 spaces. */
  up: string[];
  down: string[];
  /** `exports.config = { transaction: false }` and the like. */
  transaction?: boolean;
  /** Lines placed above `up` (comments explaining the pattern). */
  header?: string[];
}

/** Renders a migration file in the project's module style, knex's shape: async up/down taking knex. */
export function renderMigration(style: ModuleStyle, body: MigrationBody): string {
  const up = body.up.length ? body.up.join('\n') : '  // TODO: describe the change';
  const down = body.down.length ? body.down.join('\n') : '  // TODO: undo exactly what up did';
  const header = body.header?.length ? `${body.header.join('\n')}\n\n` : '';
  const noTransaction = body.transaction === false;
  if (style === 'ts') {
    return (
      `import type { Knex } from 'knex';\n\n${header}` +
      `export async function up(knex: Knex): Promise<void> {\n${up}\n}\n\n` +
      `export async function down(knex: Knex): Promise<void> {\n${down}\n}\n` +
      (noTransaction ? `\nexport const config = { transaction: false };\n` : '')
    );
  }
  if (style === 'esm') {
    return (
      `${header}/**\n * @param { import("knex").Knex } knex\n * @returns { Promise<void> }\n */\n` +
      `export async function up(knex) {\n${up}\n}\n\n` +
      `/**\n * @param { import("knex").Knex } knex\n * @returns { Promise<void> }\n */\n` +
      `export async function down(knex) {\n${down}\n}\n` +
      (noTransaction ? `\nexport const config = { transaction: false };\n` : '')
    );
  }
  return (
    `${header}/**\n * @param { import("knex").Knex } knex\n * @returns { Promise<void> }\n */\n` +
    `exports.up = async function (knex) {\n${up}\n};\n\n` +
    `/**\n * @param { import("knex").Knex } knex\n * @returns { Promise<void> }\n */\n` +
    `exports.down = async function (knex) {\n${down}\n};\n` +
    (noTransaction ? `\nexports.config = { transaction: false };\n` : '')
  );
}

export function renderSeed(style: ModuleStyle): string {
  const body =
    "  // Deletes ALL existing entries\n  await knex('table_name').del();\n  await knex('table_name').insert([\n    { id: 1, colName: 'rowValue1' },\n    { id: 2, colName: 'rowValue2' },\n  ]);";
  if (style === 'ts') return `import type { Knex } from 'knex';\n\nexport async function seed(knex: Knex): Promise<void> {\n${body}\n}\n`;
  if (style === 'esm') return `/**\n * @param { import("knex").Knex } knex\n */\nexport async function seed(knex) {\n${body}\n}\n`;
  return `/**\n * @param { import("knex").Knex } knex\n */\nexports.seed = async function (knex) {\n${body}\n};\n`;
}
