import { fitToOriginal, inSourceStyle, NEXT_MIGRATION, type SourceStyle, withHeaderOf } from '../codegen/index.js';
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
  const next = [...taken].filter((n) => n !== migration).sort().find((n) => n > migration);
  const names = namesAfter(migration, next, parts.slice(1).map((p) => slugForPart(p, migration)), taken);
  for (const name of names) taken.add(name);
  return { text: fitToOriginal(original, parts[0]!, migration, style), added: names.map((name, i) => ({ name, text: withHeaderOf(original, inSourceStyle(parts[i + 1]!, style)).replace(/\r?\n/g, style.eol) })) };
}
