import { fitToOriginal, inSourceStyle, NEXT_MIGRATION, type SourceStyle, withHeaderOf } from '../codegen/index.js';
import { awaitable, insertLines, migrationFunction, tokenizeJs } from '../rules/js-source.js';
import { namesAfter, slugForPart } from './names.js';

/** A whole-file fix written out: the migration's new text, and the migrations it adds after it. */
export interface FixText {
  text: string;
  added: { name: string; text: string }[];
}

/**
 * What a finding's whole-file fix makes of `migration` (its text `original`, in `style`): the first
 * part replaces the file, fitted to it; each further part is a new migration named right after it
 * (before `taken`'s next name). `taken` (the folder's file names) gets the new names. Shared by
 * `knexsafe fix` and the language server's code action, so both write the same code.
 */
export function fixText(code: string, migration: string, original: string, style: SourceStyle, taken: Set<string>): FixText {
  const parts = code.split(NEXT_MIGRATION).map((p) => `${p.trim()}\n`);
  const next = [...taken]
    .filter((n) => n !== migration)
    .sort()
    .find((n) => n > migration);
  const names = namesAfter(
    migration,
    next,
    parts.slice(1).map((p) => slugForPart(p, migration)),
    taken,
  );
  for (const name of names) taken.add(name);
  return {
    text: fitToOriginal(original, parts[0]!, migration, style),
    added: names.map((name, i) => ({ name, text: withHeaderOf(original, inSourceStyle(parts[i + 1]!, style)).replace(/\r?\n/g, style.eol) })),
  };
}

/** The first line of a snippet fix that says where it goes: the start of `up`'s body. */
const FIRST_IN_UP = /^\s*\/\/\s*First statement of exports\.up:\s*$/;

/**
 * A snippet fix (not whole files) put where its first line says it goes, when it says so and the
 * place is there: "First statement of exports.up:" goes on the line after `up`'s opening brace,
 * and a plain `function` up is made async for its `await`. Undefined for any other snippet (those
 * are to adapt by hand) or a file where the place cannot be found. For the language server's code
 * action; `knexsafe fix` takes only whole-file fixes.
 */
export function placeSnippet(code: string, original: string): string | undefined {
  const [first, ...rest] = code.trim().split('\n');
  if (!first || !FIRST_IN_UP.test(first) || rest.length === 0) return undefined;
  const tokens = tokenizeJs(original);
  const up = migrationFunction(tokens, 'up');
  if (!up?.body) return undefined;
  const brace = tokens[up.body[0]]!;
  const next = tokens[up.body[0] + 1];
  // `{ … }` on one line: no line of its own to insert before.
  if (!next || next.line === brace.line) return undefined;
  return awaitable(insertLines(original, next.line, rest), next.line);
}
