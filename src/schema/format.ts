import type { SchemaChange, SchemaDiff } from './types.js';

export interface FormatDiffOptions {
  /** Put in front of every line (e.g. two spaces when nested under a heading). */
  indent?: string;
}

/**
 * A diff as plain text, one line per change in the diff's order, then the notes (`note: …`).
 * An equal diff without notes reads `no schema differences`. No colours: renderers add them.
 */
export function formatDiff(diff: SchemaDiff, options: FormatDiffOptions = {}): string {
  const indent = options.indent ?? '';
  const lines = diff.changes.map((change) => change.message);
  if (lines.length === 0) lines.push('no schema differences');
  for (const note of diff.notes) lines.push(`note: ${note}`);
  return lines.map((line) => `${indent}${line}`).join('\n');
}

/** One line for headings and summaries: `3 schema differences (1 missing, 1 left behind, 1 changed)`. */
export function summarizeDiff(diff: SchemaDiff): string {
  if (diff.changes.length === 0) return 'no schema differences';
  const count = (change: SchemaChange['change']) => diff.changes.filter((c) => c.change === change).length;
  const parts = [
    [count('missing'), 'missing'],
    [count('extra'), 'left behind'],
    [count('changed'), 'changed'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, label]) => `${n} ${label}`);
  const total = diff.changes.length;
  return `${total} schema difference${total === 1 ? '' : 's'} (${parts.join(', ')})`;
}
