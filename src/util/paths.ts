import path from 'node:path';

// A report names the same few files once per finding (hundreds for a long SQL file): each is
// worked out once per working directory.
const shown = new Map<string, string>();
let shownFrom: string | undefined;

/** A path as people want to read it: relative when under the working directory, else absolute. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  if (cwd !== shownFrom) {
    shown.clear();
    shownFrom = cwd;
  }
  let display = shown.get(file);
  if (display === undefined) {
    const rel = path.relative(cwd, file);
    display = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
    if (shown.size < 1000) shown.set(file, display);
  }
  return display;
}
