#!/usr/bin/env node
import { CommanderError } from 'commander';
import { ExitCode, isKnexsafeError, errorMessage } from '../errors.js';
import { redactSecrets } from '../util/redact.js';
import { buildProgram } from './program.js';
import { colorWanted, Output } from './output.js';

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json') || argv.some((a, i) => (a === '--format' && argv[i + 1] === 'json') || a === '--format=json');
  const debug = argv.includes('--debug');
  const out = new Output(json, debug, colorWanted(!argv.includes('--no-color')));
  const machineFormat = json || argv.some((a, i) => (a === '--format' && argv[i + 1] !== 'text') || (a.startsWith('--format=') && a !== '--format=text'));
  // Migrations and knexfiles may console.log; on a machine-readable stdout that would break the document.
  if (machineFormat) routeConsoleToStderr();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      if (error.exitCode === 0) return ExitCode.ok;
      if (json) out.result({ error: { code: 'USAGE', message: error.message.replace(/^error: /, '') } });
      return ExitCode.usage;
    }
    return reportError(out, error);
  }
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
