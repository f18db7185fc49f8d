import { createRequire } from 'node:module';
import path from 'node:path';

const requireHere = createRequire(import.meta.url);

let projectDir: string | undefined;

/**
 * The directory of the project whose migrations run in this process (the knexfile's, else the
 * working directory). Packages knex loads lazily for a migration (pg-query-stream for `.stream()`)
 * are the project's dependencies: under `npx knex` node finds them from the project's knex, so
 * knexsafe looks there before its own.
 */
export function setProjectDir(dir: string): void {
  projectDir = dir;
}

/** `require(name)` as the project would resolve it, else as knexsafe does; undefined when neither has it. */
export function requireFromProject(name: string): unknown {
  for (const from of [projectDir ?? process.cwd(), undefined]) {
    try {
      return from === undefined ? requireHere(name) : createRequire(path.join(from, 'noop.js'))(name);
    } catch (error) {
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND' || !String((error as Error).message).includes(name)) throw error;
    }
  }
  return undefined;
}
