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
