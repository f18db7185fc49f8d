import type { Jiti } from 'jiti';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KnexsafeError } from '../errors.js';
import { jsIsEsm } from '../util/module-type.js';
import { displayPath } from '../util/paths.js';

let jitiInstance: Jiti | undefined;
const requireHere = createRequire(import.meta.url);

/**
 * One loader for knexfiles, migrations, seeds and knexsafe configs: TS, ESM, CJS and `.js` inside
 * `"type": "module"` packages all load without ts-node. Source maps keep stack lines pointing at
 * the user's TypeScript, which the capture engine relies on for file:line.
 */
function loader(): Jiti {
  // Stack lines of TypeScript migrations must point at the user's lines, not jiti's output.
  if (!jitiInstance) process.setSourceMapsEnabled(true);
  // Loaded on first use (~50 ms): a CommonJS project never needs it.
  jitiInstance ??= (requireHere('jiti') as typeof import('jiti')).createJiti(import.meta.url, {
    // `import * as x from "cjs-module"` must see module.exports, as TypeScript's CommonJS output does.
    interopDefault: true,
    sourceMaps: true,
    // Migrations are re-read per run; a stale cache would hide the user's latest edit.
    fsCache: false,
    moduleCache: false,
  });
  return jitiInstance;
}

export interface LoadedModule {
  /** The module namespace as imported (ESM) or `module.exports` (CJS). */
  exports: Record<string, unknown>;
}

/**
 * A CommonJS file (`.cjs`, or `.js` outside a `"type": "module"` package) loads with Node's own
 * require, as knex loads it: jiti costs ~50 ms to load and more per file. Anything else, or a file
 * Node cannot load as plain CommonJS (ESM or TypeScript syntax in it or in a file it requires, a
 * require of a `.ts` file), goes through jiti as before. Like jiti here, the file is evaluated
 * afresh on every call: a long-lived process must see the user's latest edit.
 */
function requireCommonJs(file: string): { exports: unknown } | undefined {
  delete requireHere.cache[file];
  try {
    return { exports: requireHere(file) as unknown };
  } catch (error) {
    delete requireHere.cache[file];
    const code = (error as { code?: string }).code;
    if (error instanceof SyntaxError || code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE' || code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

let esmGeneration = 0;

/**
 * An ES module file (`.mjs`, or `.js` inside a `"type": "module"` package) loads with Node's own
 * import(), as knex loads it: jiti would also run a `.js` file written as CommonJS there
 * (`exports.up = …`), which knex fails on ("exports is not defined in ES module scope"). The query
 * makes Node evaluate the file afresh, so a long-lived process sees the user's latest edit.
 */
async function importEsm(file: string): Promise<Record<string, unknown>> {
  const url = `${pathToFileURL(file).href}?knexsafe=${++esmGeneration}`;
  return (await import(url)) as Record<string, unknown>;
}

/** How Node (and so knex) loads a JavaScript file; undefined for what it cannot load itself (TypeScript). */
function nodeFormat(file: string): 'commonjs' | 'module' | undefined {
  const ext = path.extname(file);
  if (ext === '.cjs') return 'commonjs';
  if (ext === '.mjs') return 'module';
  if (ext === '.js') return jsIsEsm(path.dirname(file)) ? 'module' : 'commonjs';
  return undefined;
}

export async function importUserModule(file: string, what: string): Promise<LoadedModule> {
  const absolute = path.resolve(file);
  try {
    const format = nodeFormat(absolute);
    const required = format === 'commonjs' ? requireCommonJs(absolute) : undefined;
    if (required) return { exports: (required.exports ?? {}) as Record<string, unknown> };
    if (format === 'module') return { exports: await importEsm(absolute) };
    const mod = await loader().import<Record<string, unknown>>(absolute);
    return { exports: (mod ?? {}) as Record<string, unknown> };
  } catch (error) {
    throw moduleLoadError(absolute, what, error);
  }
}

/** A default export, unwrapped the way knex does (`mod.default ?? mod`). */
export function defaultExport(mod: LoadedModule): unknown {
  const e = mod.exports;
  return e.default !== undefined && e.default !== null ? e.default : e;
}

function moduleLoadError(file: string, what: string, error: unknown): KnexsafeError {
  const location = errorLocation(file, error);
  const raw = error instanceof Error ? error.message : String(error);
  const firstLine = raw.split('\n').find((l) => l.trim().length > 0) ?? raw;
  const isSyntax = (error instanceof Error && error.name === 'SyntaxError') || /^(ParseError|SyntaxError)\b/.test(raw.trim());
  const rel = displayPath(location.file);
  const where = location.line ? `${rel}:${location.line}${location.column ? `:${location.column}` : ''}` : rel;
  if (isSyntax) {
    return new KnexsafeError('SYNTAX_ERROR', `Syntax error in ${what} ${where}: ${cleanMessage(firstLine)}`, {
      cause: error,
      hint: `Fix the ${what} and run the command again; nothing was changed.`,
      details: { file: location.file, line: location.line, column: location.column },
    });
  }
  const missing = /Cannot find (?:module|package) '([^']+)'/.exec(raw);
  if (missing) return moduleNotFound(file, what, missing[1]!, raw, error);
  const scope = /^(\w+) is not defined in ES module scope/.exec(firstLine);
  return new KnexsafeError('MODULE_LOAD_FAILED', `Loading the ${what} ${where} failed: ${cleanMessage(firstLine)}`, {
    cause: error,
    ...(scope ? { hint: `Node, and so knex, loads ${rel} as an ES module: the nearest package.json says "type": "module". Write it with export/import (no ${scope[1]}), or rename it to .cjs.` } : {}),
    details: { file: location.file, line: location.line },
  });
}

/**
 * A require/import that names something missing. The file that asked for it is the first of
 * Node's "Require stack" (the knexfile, or a module it loads); the line and column are where the
 * name is written in that file — the stack's own position is in the transpiled code.
 */
function moduleNotFound(file: string, what: string, specifier: string, raw: string, error: unknown): KnexsafeError {
  const requireStack = /Require stack:\s*\n-\s*(.+)/.exec(raw)?.[1]?.trim();
  const importedFrom = / imported from (.+)$/m.exec(raw)?.[1]?.trim();
  let requirer = requireStack ?? importedFrom ?? file;
  if (requirer.startsWith('file://')) requirer = fileURLToPath(requirer);
  if (!path.isAbsolute(requirer) || !fs.existsSync(requirer)) requirer = file;
  const at = specifierLocation(requirer, specifier);
  const where = `${displayPath(requirer)}${at ? `:${at.line}:${at.column}` : ''}`;
  const subject = requirer === file ? `The ${what} ${where}` : `${where} (loaded by the ${what} ${displayPath(file)})`;
  const details = { file: requirer, ...(at ? { line: at.line, column: at.column } : {}) };
  const verb = at?.text.includes('require(') ? 'requires' : 'imports';
  const relative = /^\.{1,2}(\/|$)/.test(specifier) || path.isAbsolute(specifier) || specifier.startsWith('file:');
  if (relative) {
    const expected = path.isAbsolute(specifier) ? specifier : specifier.startsWith('file:') ? fileURLToPath(specifier) : path.resolve(path.dirname(requirer), specifier);
    return new KnexsafeError('FILE_NOT_FOUND', `${subject} ${verb} '${specifier}', and ${displayPath(expected)} does not exist.`, {
      cause: error,
      hint: `Create the file, or fix the path: a relative path is resolved from the folder of the file that requires it (${displayPath(path.dirname(requirer))}), not from the working directory.`,
      details,
    });
  }
  // 'pkg/sub/path' and '@scope/pkg/sub' are installed as 'pkg' and '@scope/pkg'.
  const pkg = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
  const builtin = specifier.startsWith('node:');
  return new KnexsafeError('MODULE_NOT_FOUND', `${subject} ${verb} '${specifier}', which is not installed.`, {
    cause: error,
    hint: builtin ? `'${specifier}' is not a module of this Node.js (${process.version}).` : `Install it (npm install ${pkg}) in the project that owns ${path.basename(requirer)}.`,
    details,
  });
}

/** Where `specifier` is written (quoted) in `file`: 1-based line and column of its opening quote. */
function specifierLocation(file: string, specifier: string): { line: number; column: number; text: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    for (const quote of ["'", '"', '`']) {
      const col = line.indexOf(`${quote}${specifier}${quote}`);
      if (col >= 0) return { line: i + 1, column: col + 1, text: line };
    }
  }
  return undefined;
}

function cleanMessage(message: string): string {
  // jiti/babel prefix messages with the absolute path; the location is already in our text.
  return (
    message
      .replace(/^(ParseError|SyntaxError):\s*/, '')
      .replace(/\s*\(\d+:\d+\)\s*$/, '')
      .trim() || 'unexpected token'
  );
}

interface Location {
  file: string;
  line?: number;
  column?: number;
}

function errorLocation(file: string, error: unknown): Location {
  if (error && typeof error === 'object') {
    const e = error as { loc?: { line?: number; column?: number }; stack?: string; message?: string };
    if (e.loc?.line) return { file, line: e.loc.line, column: (e.loc.column ?? 0) + 1 };
    const fromMessage = /\((\d+):(\d+)\)/.exec(e.message ?? '');
    if (fromMessage) return { file, line: Number(fromMessage[1]), column: Number(fromMessage[2]) + 1 };
    // jiti's ParseError puts "file:line:column" in the message; Node's own SyntaxError in the stack.
    const fromStack = new RegExp(`${escapeRegExp(file)}:(\\d+)(?::(\\d+))?`).exec(`${e.message ?? ''}\n${e.stack ?? ''}`);
    if (fromStack) return { file, line: Number(fromStack[1]), ...(fromStack[2] ? { column: Number(fromStack[2]) } : {}) };
  }
  return { file };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
