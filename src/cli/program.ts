import { Command, Option } from 'commander';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerFileCommands } from './commands/files.js';
import { registerMakeCommand } from './commands/make.js';
import { registerSquashCommand } from './commands/squash.js';
import { registerCheckCommand } from './commands/check.js';
import { registerHistoryCommands } from './commands/history.js';
import { registerVerifyCommand } from './commands/verify.js';
import { registerBackupCommand } from './commands/backup.js';
import { registerFixCommand } from './commands/fix.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerLspCommand } from './commands/lsp.js';
import { registerMcpCommand } from './commands/mcp.js';
import { knexsafeVersion } from '../util/package-version.js';


export function buildProgram(): Command {
  const program = new Command();
  program
    .name('knexsafe')
    .description('Safe, reversible Knex.js migrations for PostgreSQL: check, verify, run, troubleshoot.')
    .version(knexsafeVersion(), '-v, --version')
    .option('--knexfile <path>', 'knexfile to use (default: found upward from the working directory)')
    .option('--cwd <dir>', 'working directory')
    .option('--env <name>', 'knexfile environment (default: NODE_ENV, else development)')
    .option('--migrations-dir <dir>', 'migrations directory (overrides the knexfile; relative to its folder, as knex --migrations-directory is)')
    .option('--client <name>', 'knex client (pg, postgres, postgresql)')
    .option('--connection <url>', 'connection string (overrides the knexfile and DATABASE_URL; a password here is visible to other users: prefer DATABASE_URL)')
    .option('--db <target>', 'use an embedded database instead of a server: embedded or embedded:<dir>')
    .option('--shadow-url <url>', 'PostgreSQL server for shadow databases (default: embedded)')
    .option('--json', 'print machine-readable JSON on stdout')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif', 'github', 'markdown', 'html']))
    .option('--debug', 'print stack traces and internal details')
    .option('--no-color', 'disable colours')
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run knexsafe --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  $ knexsafe status                      applied / pending migrations (exit 1 if pending)
  $ knexsafe latest                      run pending migrations like knex migrate:latest
  $ knexsafe make add_email_to_users     new migration file
  $ knexsafe --db embedded:.knexsafe/dev latest   use an embedded database folder

Exit codes: 0 ok, 1 findings or failures, 2 usage or configuration error.`,
    );
  registerCheckCommand(program);
  registerVerifyCommand(program);
  registerExplainCommand(program);
  registerHistoryCommands(program);
  registerMakeCommand(program);
  registerFileCommands(program);
  registerDoctorCommand(program);
  registerSquashCommand(program);
  registerBackupCommand(program);
  registerFixCommand(program);
  registerLspCommand(program);
  registerMcpCommand(program);
  return program;
}
