#!/usr/bin/env node
// First: V8 flags must be set before any WebAssembly compiles.
import './v8-flags.js';
import { CommanderError } from 'commander';
import { ExitCode, KnexsafeError, isKnexsafeError, errorMessage } from '../errors.js';
import { armExitTrap, claimedByExitTrap, exitProcess, setStrayHandler } from '../util/exit-trap.js';
import { runInterruptCleanups } from '../shadow/interrupt.js';
import { fileSystemProblem, isFileSystemError } from '../util/make-dir.js';
import { redactSecrets } from '../util/redact.js';
import { buildProgram } from './program.js';
import { escapedFailureHandler } from './serving.js';
import { colorWanted, Output } from './output.js';

async function main(argv: string[]): Promise<number> {
  quitWhenOutputCloses();
  preloadSqlJudge(argv);
  const program = await buildProgram(argv);
  const json = argv.includes('--json') || argv.some((a, i) => (a === '--format' && argv[i + 1] === 'json') || a === '--format=json');
  const debug = argv.includes('--debug');
  const out = new Output(json, debug, colorWanted(!argv.includes('--no-color')));
  const machineFormat = json || argv.some((a, i) => (a === '--format' && argv[i + 1] !== 'text') || (a.startsWith('--format=') && a !== '--format=text'));
  // Migrations and knexfiles may console.log; on a machine-readable stdout that would break the document.
  if (machineFormat) routeConsoleToStderr();
  // Armed for the whole command and never disarmed: a timer a migration left may fire after it ends.
  armExitTrap();
  const escaped = watchUnhandledRejections();
  let exiting = false;
  try {
    await Promise.race([program.parseAsync(argv, { from: 'user' }), escaped.rejection]);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof EscapedRejection) {
      // The command is still under way: what it holds (shadow databases) goes before the process
      // does. Rejections it causes meanwhile stay caught (the watch is kept) until the exit.
      exiting = true;
      await runInterruptCleanups();
      process.exitCode = reportError(out, error.reported);
      process.stdout.write('', () => exitProcess());
      return new Promise<number>(() => undefined);
    }
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      if (error.exitCode === 0) return ExitCode.ok;
      if (json) out.result({ error: { code: 'USAGE', message: error.message.replace(/^error: /, '') } });
      return ExitCode.usage;
    }
    return reportError(out, error);
  } finally {
    if (!exiting) escaped.stop();
  }
}

/**
 * `check file.sql`: the parser and the rules start loading before the command line is read, so that
 * libpg-query's WebAssembly compiles on another core while commander builds the program. Only a
 * head start: the command imports the same modules again (cached) and reports their failures.
 * The parser goes first, on its own: its module starts the compile when it loads, and as one of the
 * rules' imports it loaded only once most of them had, leaving the main thread to wait for the
 * compile (~10 ms on two cores) instead of loading the rules meanwhile.
 */
function preloadSqlJudge(argv: string[]): void {
  if (!argv.includes('check') || !argv.some((a) => /\.sql$/i.test(a) || a === '-')) return;
  import('../sql/parse.js').then((m) => m.ensureParser()).catch(() => undefined);
  import('../check/sql-files.js').then((m) => m.loadJudge()).catch(() => undefined);
}

class EscapedRejection extends Error {
  constructor(readonly reported: KnexsafeError) {
    super(reported.message);
  }
}

/**
 * `rejection` rejects when a promise nobody handles rejects while the command runs: a migration's
 * detached `.catch` that rethrows, say. Node would end the process there with a bare stack trace,
 * leaving the shadow database behind; this makes it a reported failure instead.
 */
function watchUnhandledRejections(): { rejection: Promise<never>; stop(): void } {
  let listener: ((reason: unknown) => void) | undefined;
  const rejection = new Promise<never>((_, reject) => {
    // A failure that came after a migration had finished (a timer it left, say): the run stops with it.
    setStrayHandler((error) =>
      // A server (knexsafe lsp) reports it and goes on serving.
      escapedFailureHandler()
        ? escapedFailureHandler()?.(error)
        : reject(
            new EscapedRejection(
              new KnexsafeError('MIGRATION_ESCAPED', `${error.migration ? `After ${error.migration} had run, ` : ''}${error.message}`, {
                exitCode: ExitCode.failure,
                cause: error,
                hint: 'Whatever a migration starts must end before it returns: await it. Run again with --debug for the stack.',
              }),
            ),
          ),
    );
    listener = (reason) => {
      // Taken by the exit trap as the failure of the migration running then (src/util/exit-trap.ts).
      if (claimedByExitTrap(reason)) return;
      // A server (knexsafe mcp) reports it and goes on serving.
      const serving = escapedFailureHandler();
      if (serving) return serving(reason);
      reject(
        new EscapedRejection(
          new KnexsafeError('UNHANDLED_REJECTION', `A promise nobody awaited was rejected, so the run stopped: ${errorMessage(reason)}`, {
            exitCode: ExitCode.failure,
            cause: reason,
            hint: 'A migration (or the knexfile) probably starts work it does not await or return, or rethrows in a detached .catch(): await it, or handle the error there. Run again with --debug for the stack.',
          }),
        ),
      );
    };
    process.on('unhandledRejection', listener);
  });
  // Once the command is done, an unhandled rejection is ours to see, as Node reports it.
  return {
    rejection,
    stop: () => {
      setStrayHandler(undefined);
      if (listener) process.removeListener('unhandledRejection', listener);
    },
  };
}

/**
 * `knexsafe … | head`: once the reader has gone, writing fails with EPIPE, which Node reports as an
 * uncaught error with a stack trace. There is nobody left to tell: what the command holds (shadow
 * databases) is cleaned up and the process ends quietly.
 */
function quitWhenOutputCloses(): void {
  let quitting = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (quitting) return;
    quitting = true;
    void runInterruptCleanups().finally(() => exitProcess(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok));
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
}

function routeConsoleToStderr(): void {
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

function reportError(out: Output, error: unknown): number {
  if (isKnexsafeError(error)) {
    if (out.json) out.result({ error: error.toJSON() });
    else {
      out.error(`${out.c.red('error')} ${error.message}`);
      if (error.hint) out.error(`${out.c.dim('hint')}  ${error.hint}`);
    }
    if (out.debug) out.error(redactSecrets(stackOf(error)));
    return error.exitCode;
  }
  // A path that is not what the user meant (a file for a folder, no permission): theirs to fix, not a bug.
  if (isFileSystemError(error)) return reportError(out, fileSystemProblem(error));
  const message = errorMessage(error);
  if (out.json) out.result({ error: { code: 'INTERNAL', message } });
  else {
    out.error(`${out.c.red('error')} ${message}`);
    if (!out.debug) out.error(out.c.dim('This looks like a knexsafe bug. Run again with --debug for details, and please report it.'));
  }
  if (out.debug) out.error(redactSecrets(stackOf(error)));
  return ExitCode.failure;
}

function stackOf(error: unknown): string {
  let text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  let cause = error instanceof Error ? error.cause : undefined;
  while (cause) {
    text += `\nCaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

/**
 * Once the command is done and nothing is left running, the process ends as soon as its output is
 * written, instead of Node's natural exit, which also tears the heap down first: after a check of a
 * long SQL file (libpg-query's 128 MB of WebAssembly memory among it) that took 5-10 ms more. Only
 * where the natural exit would come at once anyway: no handle or request left but the standard
 * streams' own, and no 'beforeExit' listener ('exit' listeners run either way).
 */
function endWhenIdle(code: number): void {
  const stdio = new Set(['PipeWrap', 'TTYWrap', 'WriteWrap', 'SimpleWriteWrap', 'ShutdownWrap', 'CloseReq']);
  if (process.listenerCount('beforeExit') > 0 || process.getActiveResourcesInfo().some((r) => !stdio.has(r))) return;
  // A write's callback runs once it and every write before it are flushed: piped output arrives whole.
  let pending = 2;
  const flushed = () => {
    if (--pending === 0) exitProcess(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

const code = await main(process.argv.slice(2));
// Let stdout drain before exiting: piped JSON must arrive whole.
process.exitCode = code;
endWhenIdle(code);
