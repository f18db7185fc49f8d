import { Command, Option } from 'commander';
import { knexsafeVersion } from '../util/package-version.js';

type Register = (program: Command) => void;

/**
 * Each command's module, by the names and aliases it registers, in the order `--help` lists them.
 * Loaded on use: a command line that names one command loads that module alone (and what it
 * imports), not every command's (tens of modules and ~0.03 s of CPU at every start).
 * test/e2e/cli-commands.test.ts checks this table against what each module registers.
 */
export const COMMAND_MODULES: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['check'], load: () => import('./commands/check.js').then((m) => m.registerCheckCommand) },
  { names: ['verify'], load: () => import('./commands/verify.js').then((m) => m.registerVerifyCommand) },
  { names: ['explain'], load: () => import('./commands/explain.js').then((m) => m.registerExplainCommand) },
  {
    names: ['latest', 'migrate:latest', 'rollback', 'migrate:rollback', 'up', 'migrate:up', 'down', 'migrate:down', 'status', 'migrate:status', 'list', 'migrate:list', 'unlock', 'migrate:unlock'],
    load: () => import('./commands/history.js').then((m) => m.registerHistoryCommands),
  },
  { names: ['make', 'migrate:make'], load: () => import('./commands/make.js').then((m) => m.registerMakeCommand) },
  { names: ['init', 'seed:make', 'seed:run'], load: () => import('./commands/files.js').then((m) => m.registerFileCommands) },
  { names: ['doctor', 'history'], load: () => import('./commands/doctor.js').then((m) => m.registerDoctorCommand) },
  { names: ['squash'], load: () => import('./commands/squash.js').then((m) => m.registerSquashCommand) },
  { names: ['backup'], load: () => import('./commands/backup.js').then((m) => m.registerBackupCommand) },
  { names: ['fix'], load: () => import('./commands/fix.js').then((m) => m.registerFixCommand) },
  { names: ['lsp'], load: () => import('./commands/lsp.js').then((m) => m.registerLspCommand) },
  { names: ['mcp'], load: () => import('./commands/mcp.js').then((m) => m.registerMcpCommand) },
];

/**
 * The program for this command line: with the command it names only, when it names one (its
 * `--help` is the same), with none for a bare `--version`, and otherwise (`--help`, `help`, no
 * command, a mistyped one: commander then lists or suggests them) with every command.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = baseProgram();
  const named = argv ? commandNamed(argv, program) : undefined;
  const module = named === undefined ? undefined : COMMAND_MODULES.find((m) => m.names.includes(named));
  if (module) (await module.load())(program);
  else if (!(argv && named === undefined && argv.some((a) => a === '-v' || a === '--version') && !argv.some((a) => a === '-h' || a === '--help'))) {
    for (const register of await Promise.all(COMMAND_MODULES.map((m) => m.load()))) register(program);
  }
  return program;
}

/** The first operand of the command line (the command's name), past the global options and their values. */
export function commandNamed(argv: readonly string[], program: Command): string | undefined {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((x): x is string => x !== undefined)));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return undefined;
    if (!arg.startsWith('-') || arg === '-') return arg;
    if (takesValue.has(arg)) i++;
  }
  return undefined;
}

function baseProgram(): Command {
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
  return program;
}
