import type { Command } from 'commander';
import { errorMessage, KnexsafeError } from '../../errors.js';
import { takeEscapedFailures } from '../serving.js';
import { globalOptions, projectOptions } from '../context.js';

interface LspFlags {
  stdio?: boolean;
  pgVersion?: string;
  timeout?: string;
  debounce?: string;
  cache?: boolean;
  reversibility?: boolean;
  analyzeFollowing?: boolean;
}

export function registerLspCommand(program: Command): void {
  program
    .command('lsp')
    .description('Language server (LSP over stdio): check findings, reversibility and fixes in the editor as a migration is written')
    .option('--stdio', 'speak the protocol on stdin/stdout (the only transport)')
    .option('--pg-version <major>', 'PostgreSQL version the advice is for (default: the knexsafe config’s pgVersion, else 13; the target is never read)')
    .option('--timeout <duration>', 'longest a migration may run on the shadow, e.g. 30s (default 5min)')
    .option('--debounce <ms>', 'quiet time after the last keystroke before the unsaved buffer is analysed', '600')
    .option('--no-cache', 'bring the shadow to the file by running the chain before it, instead of from the warm cache')
    .option('--no-reversibility', 'skip the up → down → up proof')
    .option(
      '--analyze-following',
      'also run and judge the migrations after the edited one on every analysis (clients can set knexsafe.analyzeFollowing instead, or run the knexsafe.checkFollowing command once)',
    )
    .addHelpText(
      'after',
      `
Editors start it; setup for VS Code, Neovim and Helix is in docs/lsp.md.

Examples:
  $ knexsafe lsp --stdio
  $ knexsafe --knexfile db/knexfile.js lsp --stdio --pg-version 16
  $ knexsafe --shadow-url postgres://postgres@localhost:5432/postgres lsp --stdio`,
    )
    .action(async (opts: LspFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      if (!opts.stdio) throw new KnexsafeError('BAD_OPTION', 'knexsafe lsp speaks the Language Server Protocol over stdio only: run it as `knexsafe lsp --stdio` (editors do).');
      const pgVersion = opts.pgVersion === undefined ? undefined : Number(opts.pgVersion);
      if (pgVersion !== undefined && (!Number.isInteger(pgVersion) || pgVersion < 9 || pgVersion > 30)) {
        throw new KnexsafeError('BAD_OPTION', `--pg-version takes a major version such as 13 or 16, not "${opts.pgVersion}".`);
      }
      if (g.shadowUrl !== undefined) {
        // A bad URL is the command line's error, not every file's diagnostic.
        const { parseShadowUrl } = await import('../../shadow/server-database.js');
        parseShadowUrl(g.shadowUrl);
      }
      const debounceMs = Number(opts.debounce ?? '600');
      if (!Number.isInteger(debounceMs) || debounceMs < 0) throw new KnexsafeError('BAD_OPTION', `--debounce takes a number of milliseconds, not "${opts.debounce}".`);
      const { parseDuration } = await import('../../util/duration.js');
      const timeoutMs = opts.timeout !== undefined ? parseDuration(opts.timeout, '--timeout') : undefined;
      // Loaded on use: no other command pays for vscode-languageserver.
      const { serveStdio } = await import('../../lsp/server.js');
      // A long-lived server: a migration's stray rejection is a diagnostic's business, not the end of the process.
      takeEscapedFailures((reason) => process.stderr.write(`knexsafe: ${errorMessage(reason)}\n`));
      const code = await serveStdio({
        ...projectOptions(g),
        ...(pgVersion !== undefined ? { pgVersion } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        debounceMs,
        cache: opts.cache !== false,
        reversibility: opts.reversibility !== false,
        ...(opts.analyzeFollowing ? { analyzeFollowing: true } : {}),
        // A server for the shadow, as check takes it (else the knexfile's knexsafe.shadowUrl, else embedded).
        ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
      });
      // Shadows and timers a migration left may still hold the event loop: the client has gone, so does the server.
      const { exitProcess } = await import('../../util/exit-trap.js');
      const { runInterruptCleanups } = await import('../../shadow/interrupt.js');
      await runInterruptCleanups();
      exitProcess(code);
    });
}
