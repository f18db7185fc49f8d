import { fileURLToPath } from 'node:url';
import type { CallSite } from './types.js';

const FRAME = /\(?((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+):(\d+)\)?\s*$/;

function framePath(raw: string): string {
  return raw.startsWith('file://') ? fileURLToPath(raw) : raw;
}

/**
 * The first stack frame inside one of `files` (the migration being captured, or any migration
 * file): the knex call the user wrote. Stacks are taken when the knex builder is created, which
 * happens synchronously in the user's code.
 */
export function callSiteFromStack(stack: string, files: ReadonlySet<string>, directories: readonly string[]): CallSite | undefined {
  let inDirectory: CallSite | undefined;
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m?.[1]) continue;
    const file = framePath(m[1]);
    const site = { file, line: Number(m[2]), column: Number(m[3]) };
    if (files.has(file)) return site;
    if (!inDirectory && !file.includes('/node_modules/') && directories.some((d) => file.startsWith(d))) inDirectory = site;
  }
  return inDirectory;
}

/**
 * Where an error thrown while loading or running a migration points in one of `files`: where a
 * load error's details say, the first stack frame there, or the `file:line` header Node puts on a syntax error (with the caret line
 * below it giving the column). Undefined when the stack never mentions them.
 */
export function errorSite(error: unknown, files: ReadonlySet<string>): CallSite | undefined {
  // A module that did not load (src/config/load-module.ts) says where, in its details.
  const details = (error as { details?: { file?: unknown; line?: unknown; column?: unknown } } | undefined)?.details;
  if (typeof details?.file === 'string' && files.has(details.file) && typeof details.line === 'number') {
    return { file: details.file, line: details.line, column: typeof details.column === 'number' ? details.column : 1 };
  }
  const stack = typeof (error as { stack?: unknown })?.stack === 'string' ? (error as { stack: string }).stack : '';
  if (!stack) return undefined;
  const lines = stack.split('\n');
  const header = /^((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+)$/.exec(lines[0]?.trim() ?? '');
  if (header?.[1] && files.has(framePath(header[1]))) {
    const caret = lines.slice(1, 4).find((l) => /^\s*\^+\s*$/.test(l));
    return { file: framePath(header[1]), line: Number(header[2]), column: caret ? caret.indexOf('^') + 1 : 1 };
  }
  return callSiteFromStack(stack, files, []);
}
