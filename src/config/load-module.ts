import type { Jiti } from 'jiti';
import { createRequire } from 'node:module';
import path from 'node:path';
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
  const ext = path.extname(file);
  if (ext !== '.cjs' && !(ext === '.js' && !jsIsEsm(path.dirname(file)))) return undefined;
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

export async function importUserModule(file: string, what: string): Promise<LoadedModule> {
  const absolute = path.resolve(file);
  try {
    const required = requireCommonJs(absolute);
    if (required) return { exports: (required.exports ?? {}) as Record<string, unknown> };
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
  const isSyntax =
    (error instanceof Error && error.name === 'SyntaxError') || /^(ParseError|SyntaxError)\b/.test(raw.trim());
  const rel = displayPath(location.file);
  const where = location.line ? `${rel}:${location.line}${location.column ? `:${location.column}` : ''}` : rel;
  if (isSyntax) {
    return new KnexsafeError('SYNTAX_ERROR', `Syntax error in ${what} ${where}: ${cleanMessage(firstLine)}`, {
      cause: error,
      hint: `Fix the ${what} and run the command again; nothing was changed.`,
      details: { file: location.file, line: location.line, column: location.column },
    });
  }
  const missing = /Cannot find (module|package) '([^']+)'/.exec(raw);
  if (missing) {
    return new KnexsafeError('MODULE_NOT_FOUND', `The ${what} ${where} imports '${missing[2]}', which is not installed.`, {
      cause: error,
      hint: `Install it (npm install ${missing[2]}) in the project that owns ${path.basename(file)}.`,
      details: { file: location.file },
    });
  }
  return new KnexsafeError('MODULE_LOAD_FAILED', `Loading the ${what} ${where} failed: ${cleanMessage(firstLine)}`, {
    cause: error,
    details: { file: location.file, line: location.line },
  });
}

function cleanMessage(message: string): string {
  // jiti/babel prefix messages with the absolute path; the location is already in our text.
  return message.replace(/^(ParseError|SyntaxError):\s*/, '').replace(/\s*\(\d+:\d+\)\s*$/, '').trim() || 'unexpected token';
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
