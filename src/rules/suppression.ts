/**
 * `// knexsafe-ignore <rule-id>[, <rule-id>…]: <reason>` on the line above a knex call (or at the
 * end of the line) silences those rules for that call; `-- knexsafe-ignore …` in .sql files.
 * A reason is required, and an ignore that silences nothing is reported.
 */
export interface IgnoreComment {
  line: number;
  rules: string[];
  reason: string;
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
    const before = text.slice(0, text.indexOf('knexsafe-ignore')).replace(/(\/\/|--|\/\*|\*)\s*$/, '').trim();
    let appliesTo = i + 1;
    if (before.length === 0) {
      // A comment on its own line applies to the next line of code.
      let j = i + 1;
      while (j < lines.length && /^\s*(\/\/|--|\/?\*|$)/.test(lines[j] ?? '')) j++;
      appliesTo = j + 1;
    }
    out.push({ line: i + 1, rules: m[1].split(',').map((r) => r.trim()), reason: (m[2] ?? '').trim(), appliesTo, used: false });
  });
  return out;
}
