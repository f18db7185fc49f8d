import { describe, expect, it } from 'vitest';
import {
  applyEdits,
  callAt,
  chainOf,
  findColumnDefinition,
  insertAfterStatement,
  isEmptyFunction,
  knexVariableOn,
  methodCalls,
  migrationFunction,
  stringArg,
  tokenizeJs,
} from '../../src/rules/js-source.js';

describe('tokenizeJs', () => {
  it('skips comments and keeps strings, templates and regular expressions whole', () => {
    const tokens = tokenizeJs("// t.unsigned()\nconst a = '/* x */'; /* .unsigned() */ const r = /\\.unsigned\\(/g; const s = `a ${b} .unsigned()`;\n");
    expect(tokens.filter((t) => t.text === 'unsigned')).toEqual([]);
    expect(tokens.find((t) => t.type === 'string')?.value).toBe('/* x */');
    expect(tokens.find((t) => t.type === 'regex')?.text).toBe('/\\.unsigned\\(/g');
    expect(tokens.find((t) => t.type === 'template')?.value).toBeUndefined();
  });

  it('decodes escapes and counts lines', () => {
    const tokens = tokenizeJs("a\n'it\\'s'\n`x\ny` z");
    expect(tokens.map((t) => [t.text.slice(0, 2), t.line])).toEqual([
      ['a', 1],
      ["'i", 2],
      ['`x', 3],
      ['z', 4],
    ]);
    expect(tokens[1]!.value).toBe("it's");
  });
});

describe('chains and calls', () => {
  const source = `await knex.schema.alterTable('users', (t) => {\n  t.integer('user_id')\n    .unsigned()\n    .references('id').inTable('users');\n});`;
  const tokens = tokenizeJs(source);

  it('finds a column definition and its modifiers from a line on', () => {
    const d = findColumnDefinition(tokens, 'user_id', 1)!;
    expect(d.line).toBe(2);
    expect(d.modifiers).toEqual(['unsigned', 'references', 'inTable']);
    expect(tokens[d.chain.root]!.text).toBe('t');
  });

  it('walks a chain back to its root through property links', () => {
    const call = methodCalls(tokens, new Set(['alterTable']))[0]!;
    const chain = chainOf(tokens, call);
    expect(tokens[chain.root]!.text).toBe('knex');
    expect(stringArg(tokens, callAt(tokens, call.nameIndex)!, 0)).toBe('users');
  });

  it('adds a statement after the outer knex statement', () => {
    const d = findColumnDefinition(tokens, 'user_id', 1)!;
    const edit = insertAfterStatement(source, tokens, d.call.nameIndex, (root) => `${root}.raw('SELECT 1')`)!;
    expect(applyEdits(source, [edit]).split('\n').slice(-2)).toEqual(['});', "await knex.raw('SELECT 1');"]);
  });

  it('chains .then() when the statement is not awaited', () => {
    const s = `exports.down = (knex) => knex.schema.dropTable('x');\n`;
    const t = tokenizeJs(s);
    const call = methodCalls(t, new Set(['dropTable']))[0]!;
    const edit = insertAfterStatement(s, t, call.nameIndex, (root) => `${root}.raw('DROP TYPE y')`)!;
    expect(applyEdits(s, [edit])).toBe(`exports.down = (knex) => knex.schema.dropTable('x').then(() => knex.raw('DROP TYPE y'));\n`);
  });
});

describe('migrationFunction', () => {
  const shapes: [string, string, boolean | undefined][] = [
    ['exports.down = async function (knex) {}', 'down', true],
    ['exports.down = async function (knex) { await knex.schema.dropTable("a"); }', 'down', false],
    ['module.exports.down = () => Promise.resolve();', 'down', true],
    ['exports.down = async (knex) => knex.schema.dropTable("a");', 'down', false],
    ['export async function down(knex: Knex): Promise<void> {\n  // nothing\n}', 'down', true],
    ['export const down = async (knex: Knex): Promise<void> => { return; };', 'down', true],
    ['module.exports = { async up(knex) { await knex.raw("x"); }, async down() {} };', 'down', true],
    ['module.exports = { up, down };\nasync function up() {}\nasync function down(knex) { await knex.raw("y"); }', 'down', false],
    ['export default { down: async () => {} }', 'down', true],
    ['exports.up = async function (knex) {}', 'down', undefined],
  ];
  for (const [source, name, empty] of shapes) {
    it(`${empty === undefined ? 'finds no' : empty ? 'an empty' : 'a non-empty'} ${name} in: ${source.split('\n')[0]}`, () => {
      const tokens = tokenizeJs(source);
      const fn = migrationFunction(tokens, name as 'down');
      if (empty === undefined) expect(fn).toBeUndefined();
      else expect(isEmptyFunction(tokens, fn!)).toBe(empty);
    });
  }
});

describe('knexVariableOn: the knex instance a line uses', () => {
  const source = (body: string) => `exports.up = async function (db) {\n${body}\n};\n`;
  it('the object a method is called on, the instance called as a function, not a helper that is passed it', () => {
    expect(knexVariableOn(source("  await db.schema.alterTable('t', () => {});"), 2)).toBe('db');
    expect(knexVariableOn(source("  await trx('users').update({ a: 1 });"), 2)).toBe('trx');
    // kutt's shape: a helper module runs the DDL; the setting goes on up's own instance.
    expect(knexVariableOn(source('  await addNickname(db);'), 2)).toBe('db');
    expect(knexVariableOn(source('  await Promise.all([]);'), 2)).toBe('db');
  });
});
