import { describe, expect, it } from 'vitest';
import { fitToOriginal, inSourceStyle, sourceStyle } from '../../src/codegen/index.js';

/** Generated code written in a migration file's own style (what `knexsafe fix` writes). */

const GENERATED = `// CONCURRENTLY cannot run inside a transaction.
exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS links_user_id_index ON links (user_id)');
  await knex.raw(\`SELECT 'x'
  FROM links\`);
};

exports.down = async function (knex) {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS links_user_id_index');
};
`;

describe('source style', () => {
  it('declared functions exported in one module.exports block keep that shape, config added to it', () => {
    const original = `async function up(knex) {
  await knex.raw("CREATE INDEX links_user_id_index ON links (user_id)");
}

async function down(knex) {
  await knex.raw("DROP INDEX links_user_id_index");
}

module.exports = {
  up,
  down,
};
`;
    const style = sourceStyle(original, 'x.js');
    expect(style).toMatchObject({ module: 'cjs', arrow: false, quote: '"', indent: '  ', semicolons: true });
    expect(fitToOriginal(original, GENERATED, 'x.js')).toBe(`// CONCURRENTLY cannot run inside a transaction.
const config = { transaction: false };

async function up(knex) {
  await knex.raw("CREATE INDEX CONCURRENTLY IF NOT EXISTS links_user_id_index ON links (user_id)");
  await knex.raw(\`SELECT 'x'
  FROM links\`);
}

async function down(knex) {
  await knex.raw("DROP INDEX CONCURRENTLY IF EXISTS links_user_id_index");
}

module.exports = {
  up,
  down,
  config,
};
`);
  });

  it('a doc comment above an up or down the fix rewrites stays', () => {
    const original = `/**
 * @param { import("knex").Knex } knex
 */
exports.up = async function (knex) {
  await knex.raw('CREATE INDEX links_user_id_index ON links (user_id)');
};

/**
 * @param { import("knex").Knex } knex
 */
exports.down = async function (knex) {
  await knex.raw('DROP INDEX links_user_id_index');
};
`;
    const out = fitToOriginal(original, GENERATED, 'x.js');
    expect(out).toContain('/**\n * @param { import("knex").Knex } knex\n */\nexports.up = async function (knex) {\n');
    expect(out).toContain('/**\n * @param { import("knex").Knex } knex\n */\nexports.down = async function (knex) {\n');
  });

  it('tabs, arrows and ES modules; template literal lines keep their text', () => {
    const original =
      'export const up = async (knex) => {\n\tawait knex.schema.createTable("a", (t) => {\n\t\tt.increments("id");\n\t});\n};\n\nexport const down = async (knex) => {\n\tawait knex.schema.dropTable("a");\n};\n';
    const out = inSourceStyle(GENERATED, sourceStyle(original, 'a.mjs'));
    expect(out).toContain('export const config = { transaction: false };');
    expect(out).toContain('export const up = async (knex) => {\n\tawait knex.raw("CREATE INDEX');
    expect(out).toContain("\tawait knex.raw(`SELECT 'x'\n  FROM links`);");
  });

  it('TypeScript with CRLF line endings: typed functions and the import the generated code needs', () => {
    const original =
      "import type { Knex } from 'knex';\r\n\r\nexport async function up(knex: Knex): Promise<void> {\r\n  await knex.schema.dropTable('a');\r\n}\r\n\r\nexport async function down(knex: Knex): Promise<void> {\r\n  await knex.schema.createTable('a', (t) => t.increments('id'));\r\n}\r\n";
    const out = inSourceStyle(GENERATED, sourceStyle(original, 'a.ts'));
    expect(out.startsWith("// CONCURRENTLY cannot run inside a transaction.\r\nimport type { Knex } from 'knex';\r\n")).toBe(true);
    expect(out).toContain('export async function up(knex: Knex): Promise<void> {\r\n');
    expect(out).not.toMatch(/[^\r]\n/);
  });
});
