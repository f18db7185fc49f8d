import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { KnexsafeError, errorMessage } from '../../errors.js';
import { setStrayHandler } from '../../util/exit-trap.js';
import { redactSecrets } from '../../util/redact.js';
import { globalOptions, projectOptions } from '../context.js';
import { takeEscapedFailures } from '../serving.js';

// Loaded on use: the MCP SDK and the server load only for `knexsafe mcp`.
const mcpServer = () => import('../../mcp/server.js');

export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('Serve the checks, verify, make, fix and schema as Model Context Protocol tools over stdio, for coding assistants')
    .option('--allow-apply', 'also expose migrate_latest, which applies pending migrations to the target database (off by default: nothing writes to it)')
    .addHelpText(
      'after',
      `
Started by the assistant, not by hand: stdin and stdout carry the protocol. The server works on the
project in --cwd (default: the working directory), with its knexfile found as the CLI finds it.
Nothing is written to the project unless a tool's input says write: true, and the target database
is only read. Registration snippets for Claude Code, Cursor, VS Code and Zed: docs/mcp.md.

Examples:
  $ claude mcp add knexsafe -- npx knexsafe mcp
  $ knexsafe mcp --cwd path/to/project --allow-apply`,
    )
    .action(async (opts: { allowApply?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const root = path.resolve(g.cwd ?? process.cwd());
      if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
        throw new KnexsafeError('BAD_OPTION', `--cwd ${g.cwd} is not a folder, so there is no project to serve.`);
      }
      const knexfile = g.knexfile === undefined ? undefined : path.resolve(g.knexfile);
      // Paths in messages (displayPath) read relative to the project, as the assistant sees it.
      process.chdir(root);
      const server = await mcpServer();
      // A migration's stray timer or promise fails the tool call running then, not the server.
      const say = (message: string) => {
        process.stderr.write(`knexsafe mcp: ${redactSecrets(message)}\n`);
        server.reportEscapedFailure(message);
      };
      setStrayHandler((error) => say(`${error.migration ? `After ${error.migration} had run, ` : ''}${errorMessage(error)}`));
      takeEscapedFailures((reason) => say(`A promise nobody awaited was rejected: ${errorMessage(reason)}`));
      const uncaught = (error: unknown) => say(`An exception nobody caught: ${errorMessage(error)}`);
      process.on('uncaughtException', uncaught);
      try {
        await server.serveStdio({
          project: { ...projectOptions(g), cwd: root, ...(knexfile ? { knexfile } : {}) },
          ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
          ...(opts.allowApply ? { allowApply: true } : {}),
          ...(g.debug ? { debug: true } : {}),
        });
      } finally {
        process.removeListener('uncaughtException', uncaught);
        takeEscapedFailures(undefined);
      }
    });
}
