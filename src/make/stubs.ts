import type { ModuleStyle } from './module-style.js';

export interface MigrationBody {
  /** Statements of `up`, one per line, not indented (the renderer indents them). */
  up: string[];
  down: string[];
  /** `false` writes `config = { transaction: false }`: knex then runs the migration outside a transaction. */
  transaction?: boolean;
  /** Comment lines placed above `up` (why the migration is written this way). */
  header?: string[];
  /** Module-level code (constants) placed above `up`, after the header. */
  preamble?: string[];
}

function block(lines: string[], fallback: string): string {
  if (lines.length === 0) return `  ${fallback}`;
  return lines.map((l) => (l === '' ? '' : `  ${l}`)).join('\n');
}

const JSDOC = `/**\n * @param { import("knex").Knex } knex\n * @returns { Promise<void> }\n */\n`;

/** Renders a migration file in the project's module style, knex's shape: async up/down taking knex. */
export function renderMigration(style: ModuleStyle, body: MigrationBody): string {
  const up = block(body.up, '// TODO: describe the change');
  const down = block(body.down, '// TODO: undo exactly what up did');
  const header = body.header?.length ? `${body.header.join('\n')}\n` : '';
  const preamble = body.preamble?.length ? `${body.preamble.join('\n')}\n\n` : '';
  const top = header && preamble ? `${header}\n${preamble}` : header ? `${header}\n` : preamble;
  const noTransaction = body.transaction === false;
  if (style === 'ts') {
    return (
      `import type { Knex } from 'knex';\n\n${top}` +
      `export async function up(knex: Knex): Promise<void> {\n${up}\n}\n\n` +
      `export async function down(knex: Knex): Promise<void> {\n${down}\n}\n` +
      (noTransaction ? `\nexport const config = { transaction: false };\n` : '')
    );
  }
  if (style === 'esm') {
    return (
      `${top}${JSDOC}` +
      `export async function up(knex) {\n${up}\n}\n\n` +
      `${JSDOC}` +
      `export async function down(knex) {\n${down}\n}\n` +
      (noTransaction ? `\nexport const config = { transaction: false };\n` : '')
    );
  }
  return (
    `${top}${JSDOC}` +
    `exports.up = async function (knex) {\n${up}\n};\n\n` +
    `${JSDOC}` +
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
