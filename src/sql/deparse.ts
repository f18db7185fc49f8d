import { createRequire } from 'node:module';
import type * as Deparser from 'pgsql-deparser';

// Loaded on the first statement printed back (~13 ms, seven files): a check with nothing to print
// back, such as a long SQL file of plain ALTERs, never pays for it.
let deparser: typeof Deparser | undefined;

/** pgsql-deparser's deparseSync, loaded on first use. */
export function deparseSync(...args: Parameters<typeof Deparser.deparseSync>): string {
  deparser ??= createRequire(import.meta.url)('pgsql-deparser') as typeof Deparser;
  return deparser.deparseSync(...args);
}

/** One statement's AST printed back on one line, without its semicolon; undefined when the deparser cannot print it. */
export function deparseStatement(stmt: unknown): string | undefined {
  try {
    return deparseSync(stmt as never, { pretty: false })
      .trim()
      .replace(/;$/, '');
  } catch {
    return undefined;
  }
}
