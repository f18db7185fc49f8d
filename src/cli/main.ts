#!/usr/bin/env node
// First: V8 flags must be set before any WebAssembly compiles.
import './v8-flags.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { ExitCode, KnexsafeError, isKnexsafeError, errorMessage } from '../errors.js';
import { runInterruptCleanups } from '../shadow/interrupt.js';
import { fileSystemProblem, isFileSystemError } from '../util/make-dir.js';
import { displayPath } from '../util/paths.js';
import { redactSecrets } from '../util/redact.js';
import { buildProgram } from './program.js';
import { colorWanted, Output } from './output.js';

async function main(argv: string[]): Promise<number> {
  quitWhenOutputCloses();
  refuseForeignExits();
  const program = buildProgram();
  const json = argv.includes('--json') || argv.some((a, i) => (a === '--format' && argv[i + 1] === 'json') || a === '--format=json');
  const debug = argv.includes('--debug');
  const out = new Output(json, debug, colorWanted(!argv.includes('--no-color')));
  const machineFormat = json || argv.some((a, i) => (a === '--format' && argv[i + 1] !== 'text') || (a.startsWith('--format=') && a !== '--format=text'));
  // Migrations and knexfiles may console.log; on a machine-readable stdout that would break the document.
  if (machineFormat) routeConsoleToStderr();
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
      process.stdout.write('', () => process.exit());
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
  let thrown: ((error: unknown) => void) | undefined;
  const rejection = new Promise<never>((_, reject) => {
    listener = (reason) => {
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
    // The same for an exception thrown in a timer or callback (a process.exit() stopped there, say).
    thrown = (error) => {
      reject(
        new EscapedRejection(
          isKnexsafeError(error)
            ? error
            : new KnexsafeError('UNCAUGHT_EXCEPTION', `An error was thrown outside any awaited code (in a timer or callback), so the run stopped: ${errorMessage(error)}`, {
                exitCode: ExitCode.failure,
                cause: error,
                hint: 'If a migration, seed or the knexfile starts work in a callback, make it part of the promise it returns. Run again with --debug for the stack.',
              }),
        ),
      );
    };
    process.on('uncaughtException', thrown);
  });
  // Once the command is done, an unhandled rejection is ours to see, as Node reports it.
  return {
    rejection,
    stop: () => {
      if (listener) process.removeListener('unhandledRejection', listener);
      if (thrown) process.removeListener('uncaughtException', thrown);
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
    void runInterruptCleanups().finally(() => process.exit(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok));
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
}

/**
 * A migration, seed or knexfile calling process.exit() would end the run where it stands: `check`
 * exiting 0 with no report, a `latest` batch cut short, shadow databases left behind. Called from
 * anything but knexsafe's own code, it throws instead, so the run reports it as that code's
 * failure and cleans up.
 */
function refuseForeignExits(): void {
  const exitForReal = process.exit.bind(process);
  const ownCode = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  process.exit = ((code?: number | string | null) => {
    const caller = callerFile(new Error().stack ?? '');
    // exit(undefined) would reset process.exitCode: no argument then, as the caller wrote it.
    if (caller === undefined || caller.startsWith(`${ownCode}${path.sep}`) || caller.startsWith('node:')) return code === undefined ? exitForReal() : exitForReal(code);
    throw new KnexsafeError('PROCESS_EXIT', `${displayPath(caller)} called process.exit(${code ?? ''}), which would end knexsafe before it reports and cleans up, so the call was stopped there.`, {
      exitCode: ExitCode.failure,
      hint: 'Throw an error instead of calling process.exit() in migrations, seeds and knexfiles.',
    });
  }) as typeof process.exit;
}

/** The file of the frame that called the function whose stack this is (third line of `stack`). */
function callerFile(stack: string): string | undefined {
  const frame = stack.split('\n')[2];
  const match = frame ? /\(?((?:file:\/\/)?[^()\s]+?):\d+:\d+\)?\s*$/.exec(frame) : null;
  if (!match) return undefined;
  return match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1];
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

const code = await main(process.argv.slice(2));
// Let stdout drain before exiting: piped JSON must arrive whole.
process.exitCode = code;
