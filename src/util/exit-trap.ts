/**
 * A migration must not end knexsafe behind its back. `process.exit(0)` would end check with exit
 * code 0 and no report, `process.kill(process.pid)` would kill it, and an exception thrown in a
 * callback or a promise left to reject would crash it — leaving a server shadow database behind.
 * While armed (a shadow session or a history run is open), this module turns each of those into a
 * failure of the migration that was running, named, so that the command reports it, drops its
 * shadows and exits non-zero. A light module (no knex): interrupt handling and the CLI use it too.
 */

type EscapeKind = 'exit' | 'signal' | 'exception' | 'rejection';

/** A migration tried to end, kill or crash the process. */
export class MigrationEscapeError extends Error {
  readonly code = 'MIGRATION_ESCAPED';
  /** Set once known: the migration that was running (or had run last, for a late one). */
  migration: string | undefined;
  constructor(
    readonly kind: EscapeKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrationEscapeError';
  }
}

type ProcessWithReallyExit = NodeJS.Process & { reallyExit?: (code?: number) => never };
const proc = process as ProcessWithReallyExit;
const originalExit = process.exit.bind(process);
const originalReallyExit = proc.reallyExit;
const originalKill = process.kill.bind(process);

/**
 * Ends the process at once, without 'exit' listeners: after an embedded database's folder was
 * removed under it, PGlite's own exit handler would spin forever on it.
 */
export function exitImmediately(code: number): never {
  if (originalReallyExit) return originalReallyExit.call(process, code) as never;
  return originalExit(code);
}

/** Ends the process for real: knexsafe's own exits (after Ctrl-C, once output is flushed). */
export function exitProcess(code?: number): never {
  // Node's process.exit ends through process.reallyExit, which the trap may have replaced.
  if (originalReallyExit) proc.reallyExit = originalReallyExit;
  // exit(undefined) resets process.exitCode to 0 (the argument counts, not its value): none then.
  return code === undefined ? originalExit() : originalExit(code);
}

interface Running {
  name: string;
  escape?: MigrationEscapeError;
  /** Rejects the migration's guard: at once for an exit or a signal, after a grace for a stray error. */
  fail(error: MigrationEscapeError): void;
}

/** How long a migration whose detached callback failed may still end by itself (its own failure says more). */
const STRAY_GRACE_MS = 1000;

const running: Running[] = [];
let last: { name: string; failed: boolean } | undefined;
/** Migrations seen under the trap, by file: a stray error's stack says which one it came from. */
const known = new Map<string, { name: string; failed?: boolean }>();
let armed = 0;
const claimed = new WeakSet<object>();
let strayHandler: ((error: MigrationEscapeError) => void) | undefined;

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

/** The migration whose file the stack of `value` runs through, if any (the innermost frame wins). */
function migrationInStack(value: unknown): { name: string; failed?: boolean } | undefined {
  const stack = value instanceof Error ? value.stack : undefined;
  if (!stack || known.size === 0) return undefined;
  for (const line of stack.split('\n').slice(1)) {
    for (const [file, migration] of known) if (line.includes(file)) return migration;
  }
  return undefined;
}

/**
 * Records `error` against the migration it came from: the one whose file its stack runs through,
 * else the running one, else the last one that ran. A stray failure of a migration that already
 * failed adds nothing to its real failure: it is dropped.
 */
function register(error: MigrationEscapeError, origin: unknown = error): void {
  claimed.add(error);
  const from = migrationInStack(origin);
  const active = running[running.length - 1];
  const current = from && from.name !== active?.name ? running.find((r) => r.name === from.name) : active;
  if (from && !current) {
    error.migration = from.name;
    if (from.failed) return;
    stray(error);
    return;
  }
  if (current) {
    error.migration = current.name;
    if (!current.escape) {
      current.escape = error;
      current.fail(error);
    }
    return;
  }
  error.migration = last?.name;
  if (last?.failed) return;
  stray(error);
}

/** A failure after its migration had ended: the CLI ends the run with it; else it is said, and the exit code says it. */
function stray(error: MigrationEscapeError): void {
  if (strayHandler) {
    strayHandler(error);
    return;
  }
  process.stderr.write(`error ${error.migration ? `after ${error.migration} had run, ` : ''}${error.message}\n`);
  process.exitCode = 1;
}

function exitEscape(code: number | string | null | undefined): MigrationEscapeError {
  const shown = code === undefined || code === null ? '' : String(code);
  return new MigrationEscapeError(
    'exit',
    `the migration called process.exit(${shown}): knex would end the whole process there (exit code ${shown || process.exitCode || 0}, no message), its open transaction rolled back and nothing after it run. Remove the call; to make a migration fail, throw an Error.`,
  );
}

function registerFrom(origin: unknown, error: MigrationEscapeError): void {
  register(error, origin);
}

function onUncaught(error: unknown): void {
  if (error instanceof MigrationEscapeError && claimed.has(error)) return;
  registerFrom(
    error,
    new MigrationEscapeError(
      'exception',
      `an exception was thrown outside the migration's awaited code (a callback or timer): ${describe(error)}. knex would crash there (exit 1) with the migration half done; await the work, or handle the error where it is thrown.`,
      { cause: error },
    ),
  );
}

function onRejection(reason: unknown): void {
  if (reason instanceof MigrationEscapeError && claimed.has(reason)) return;
  if (reason && typeof reason === 'object') claimed.add(reason);
  registerFrom(
    reason,
    new MigrationEscapeError(
      'rejection',
      `a promise the migration did not await was rejected: ${describe(reason)}. Node ends knex's process on an unhandled rejection (exit 1), mid-migration; await it, or handle its error.`,
      { cause: reason },
    ),
  );
}

function install(): void {
  const trappedExit = (code?: number | string | null): never => {
    const error = exitEscape(code);
    register(error);
    throw error;
  };
  process.exit = trappedExit as typeof process.exit;
  if (originalReallyExit) proc.reallyExit = trappedExit as (code?: number) => never;
  process.kill = ((pid: number, signal?: string | number) => {
    if (Number(pid) === process.pid && signal !== 0 && signal !== '0') {
      const name = signal === undefined ? 'SIGTERM' : String(signal);
      const error = new MigrationEscapeError(
        'signal',
        `the migration sent ${name} to its own process (process.kill(process.pid${signal === undefined ? '' : `, ${JSON.stringify(signal)}`})): knex would be killed there, its open transaction rolled back and nothing after it run. Remove the call; to make a migration fail, throw an Error.`,
      );
      register(error);
      throw error;
    }
    return originalKill(pid, signal);
  }) as typeof process.kill;
  // Before anyone else's listeners (the CLI's own watch): a failure claimed here is a migration's.
  process.prependListener('uncaughtException', onUncaught);
  process.prependListener('unhandledRejection', onRejection);
}

function uninstall(): void {
  process.exit = originalExit as typeof process.exit;
  if (originalReallyExit) proc.reallyExit = originalReallyExit;
  process.kill = originalKill as typeof process.kill;
  process.removeListener('uncaughtException', onUncaught);
  process.removeListener('unhandledRejection', onRejection);
}

/**
 * Arms the trap until the returned function is called (calls nest). Migrations run through
 * `trapped` meanwhile; failures that come after a migration ended are still caught and, unless
 * that migration had failed anyway, handed to the stray handler.
 */
export function armExitTrap(): () => void {
  if (armed++ === 0) install();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--armed === 0) uninstall();
  };
}

/**
 * Runs one migration (or loads its module) under the trap: an exit, a signal to itself, an
 * uncaught exception or an unhandled rejection meanwhile makes it fail with a MigrationEscapeError.
 * An exit or a signal wins over whatever the migration did after it (the process would have
 * ended); a stray exception or rejection loses to the migration's own failure, its real one.
 */
export async function trapped<T>(name: string, fn: () => Promise<T>, options: { loading?: boolean; file?: string } = {}): Promise<T> {
  if (armed === 0) return fn();
  const seen = options.file ? (known.get(options.file) ?? { name }) : undefined;
  if (options.file && seen) known.set(options.file, seen);
  let grace: NodeJS.Timeout | undefined;
  const entry: Running = { name, fail: () => undefined };
  const escaped = new Promise<never>((_, reject) => {
    entry.fail = (error) => {
      if (error.kind === 'exit' || error.kind === 'signal') reject(error);
      else grace = setTimeout(() => reject(error), STRAY_GRACE_MS);
    };
  });
  escaped.catch(() => undefined);
  running.push(entry);
  let failed = true;
  try {
    const own = fn();
    own.catch(() => undefined);
    const result = await Promise.race([own, escaped]);
    // Node tells of a rejection nobody handled once the microtasks have run: one left in the
    // migration's last tick arrives while it still counts as running.
    await new Promise((resolve) => setImmediate(resolve));
    if (entry.escape) throw entry.escape;
    failed = false;
    return result;
  } catch (error) {
    await new Promise((resolve) => setImmediate(resolve));
    const escapedBy = entry.escape;
    if (escapedBy && (escapedBy.kind === 'exit' || escapedBy.kind === 'signal' || error === escapedBy)) throw escapedBy;
    throw error;
  } finally {
    clearTimeout(grace);
    const at = running.lastIndexOf(entry);
    if (at >= 0) running.splice(at, 1);
    // Loading a module ahead (while another migration runs) does not make it the one that ran last.
    if (!options.loading) last = { name, failed };
    if (seen) seen.failed = Boolean(seen.failed) || failed;
  }
}

/** Whether the trap took `reason` as a migration's failure (the CLI's own watch then leaves it). */
export function claimedByExitTrap(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && claimed.has(reason);
}

/** Who hears of a failure that came when no migration was running (the CLI ends the run with it). */
export function setStrayHandler(handler: ((error: MigrationEscapeError) => void) | undefined): void {
  strayHandler = handler;
}
