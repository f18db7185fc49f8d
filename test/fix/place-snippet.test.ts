import { describe, expect, it } from 'vitest';
import { placeSnippet } from '../../src/fix/apply.js';

/** placeSnippet: a snippet fix put where its first line says it goes, or nowhere. */

const SNIPPET = "// First statement of exports.up:\nawait knex.raw(`SET LOCAL lock_timeout = '5s'`);";

describe('placeSnippet', () => {
  it('puts a "first statement of exports.up" snippet first in up, making a plain function async', () => {
    const source = "exports.up = function (knex) {\n  return Promise.all([knex.raw('select 1')]);\n};\nexports.down = function () {};\n";
    expect(placeSnippet(SNIPPET, source)).toBe(
      "exports.up = async function (knex) {\n  await knex.raw(`SET LOCAL lock_timeout = '5s'`);\n  return Promise.all([knex.raw('select 1')]);\n};\nexports.down = function () {};\n",
    );
  });

  it('leaves an async up as it is, and finds export function up too', () => {
    const source = "export async function up(knex) {\n    await knex.raw('select 1');\n}\nexport async function down() {}\n";
    expect(placeSnippet(SNIPPET, source)).toBe(
      "export async function up(knex) {\n    await knex.raw(`SET LOCAL lock_timeout = '5s'`);\n    await knex.raw('select 1');\n}\nexport async function down() {}\n",
    );
  });

  it('offers nothing for a snippet that does not say where it goes, or a place that is not there', () => {
    expect(placeSnippet("// First, in the same transaction as the statement:\nawait knex.raw('x');", 'exports.up = async function (knex) {\n  await knex.raw(1);\n};\n')).toBeUndefined();
    // up on one line: no line of its own for the snippet.
    expect(placeSnippet(SNIPPET, "exports.up = async (knex) => { await knex.raw('select 1'); };\n")).toBeUndefined();
    // no up at all.
    expect(placeSnippet(SNIPPET, 'module.exports = {};\n')).toBeUndefined();
  });
});
