/**
 * `// knexsafe-ignore <rule-id>[, <rule-id>…]: <reason>` on the line above a knex call (or at the
 * end of the line) silences those rules for that call; `-- knexsafe-ignore …` in .sql files.
 * A reason is required, and an ignore that silences nothing is reported.
 */

/**
 * The reason the language server's "Suppress" code action inserts, for the person to replace: left
 * as it is, it counts as no reason (the finding stays and `ignore-without-reason` says so), so the
 * action alone never silences anything.
 */
export const REASON_PLACEHOLDER = 'REASON — why this is safe here';
export interface IgnoreComment {
  line: number;
  rules: string[];
  /** Empty when none was written, or only the placeholder. */
  reason: string;
  /** The placeholder written instead of a reason (REASON_PLACEHOLDER, or a fix's `<…>`): not written yet. */
  placeholder?: string;
  /** The code line it applies to (the next non-blank, non-comment line, or its own line). */
  appliesTo: number;
  used: boolean;
}

const IGNORE = /(?:\/\/|--|\/\*|\*)\s*knexsafe-ignore\s+([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*(?::\s*(.*?))?\s*(?:\*\/)?\s*$/;

export function parseIgnores(source: string): IgnoreComment[] {
  const lines = source.split('\n');
  const out: IgnoreComment[] = [];
  lines.forEach((text, i) => {
    const m = IGNORE.exec(text);
    if (!m?.[1]) return;
    const before = text
      .slice(0, text.indexOf('knexsafe-ignore'))
      .replace(/(\/\/|--|\/\*|\*)\s*$/, '')
      .trim();
    let appliesTo = i + 1;
    if (before.length === 0) {
      // A comment on its own line applies to the next line of code.
      let j = i + 1;
      while (j < lines.length && /^\s*(\/\/|--|\/?\*|$)/.test(lines[j] ?? '')) j++;
      appliesTo = j + 1;
    }
    const reason = (m[2] ?? '').trim();
    // A fix's own placeholder (`<why these rows are disposable>`) is a blank to fill, not a reason.
    const placeholder = reason === REASON_PLACEHOLDER || /^<[^<>]*>$/.test(reason);
    out.push({ line: i + 1, rules: m[1].split(',').map((r) => r.trim()), reason: placeholder ? '' : reason, ...(placeholder ? { placeholder: reason } : {}), appliesTo, used: false });
  });
  return out;
}
