import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_MODULES, commandNamed } from '../../src/cli/program.js';
import { runCli } from '../helpers/cli.js';

// The CLI loads only the module of the command it is given (src/cli/program.ts): its table of
// which module registers which command must stay true, or that command would be unknown.

async function registered(load: () => Promise<(program: Command) => void>): Promise<string[]> {
  const program = new Command();
  (await load())(program);
  return program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
}

/** What `knexsafe <argv>` prints for --help, with every command registered, as before the table. */
async function helpWithEveryCommand(argv: string[]): Promise<string> {
  const program = await buildProgram();
  let text = '';
  const capture = (command: Command) => {
    command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    for (const sub of command.commands) capture(sub);
  };
  capture(program);
  await program.parseAsync(argv, { from: 'user' }).catch((error: unknown) => {
    if (!(error instanceof CommanderError) || error.exitCode !== 0) throw error;
  });
  return text;
}

describe('the CLI loads the command in hand alone', () => {
  it('each module registers exactly the names the table gives it, and no name twice', async () => {
    const seen = new Set<string>();
    for (const entry of COMMAND_MODULES) {
      expect((await registered(entry.load)).sort()).toEqual([...entry.names].sort());
      for (const name of entry.names) {
        expect(seen.has(name), name).toBe(false);
        seen.add(name);
      }
    }
  });

  it('finds the command past global options and their values', async () => {
    const program = await buildProgram([]);
    expect(commandNamed(['--env', 'check', 'status'], program)).toBe('status');
    expect(commandNamed(['--env=check', '--json', 'check', 'a.sql'], program)).toBe('check');
    expect(commandNamed(['--db', 'embedded', '--no-color', 'latest'], program)).toBe('latest');
    expect(commandNamed(['--json'], program)).toBeUndefined();
    expect(commandNamed(['--', 'check'], program)).toBeUndefined();
  });

  it('a bare --version registers no command; --help and a mistyped command register them all', async () => {
    expect((await buildProgram(['--version'])).commands).toHaveLength(0);
    const all = COMMAND_MODULES.flatMap((m) => m.names).length;
    for (const argv of [['--help'], ['lates'], [], ['help', 'check'], ['--version', '--help']]) {
      expect(
        (await buildProgram(argv)).commands.flatMap((c) => [c.name(), ...c.aliases()]),
        argv.join(' '),
      ).toHaveLength(all);
    }
  });

  it("each command's --help is the same as with every command loaded", async () => {
    for (const { names } of COMMAND_MODULES) {
      const name = names[0]!;
      const cli = await runCli([name, '--help']);
      expect(cli.code, name).toBe(0);
      expect(cli.stdout, name).toBe(await helpWithEveryCommand([name, '--help']));
    }
    const top = await runCli(['--help']);
    expect(top.stdout).toBe(await helpWithEveryCommand(['--help']));
    expect(top.stdout).toContain('migrate:latest');
  }, 120_000);
});
