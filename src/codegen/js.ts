/** JavaScript source text for generated code: string literals and indentation. */

/** A JS string literal in single quotes; every character that cannot stand in one is escaped (newlines, backslashes, quotes, controls). */
export function jsString(value: string): string {
  const body = JSON.stringify(value).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${body}'`;
}

/**
 * A JS string literal holding SQL, written for reading: single quotes, or a template literal when
 * the SQL has single quotes of its own or spans lines (`${` and backticks escaped).
 */
export function jsSql(sql: string): string {
  // A carriage return would read back as a line feed from a template literal.
  if ((!sql.includes("'") && !sql.includes('\n')) || sql.includes('\r')) return jsString(sql);
  return '`' + sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
}

/** Indents every line of a block (lines holding several lines are split); empty lines stay empty. */
export function indent(lines: string[], by = '  '): string[] {
  return lines.flatMap((l) => l.split('\n')).map((l) => (l ? by + l : l));
}
