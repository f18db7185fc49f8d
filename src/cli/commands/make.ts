import type { Command } from 'commander';
import { makeMigration } from '../../commands/make.js';
import { globalOptions, makeOutput, projectOptions } from '../context.js';
import { renderMade } from './files.js';

export function registerMakeCommand(program: Command): void {
  program
    .command('make <name>')
    .alias('migrate:make')
    .description('Create a timestamped migration file (knex migrate:make)')
    .option('-x, --extension <ext>', 'file type: js, ts, mjs or cjs (default: what the project uses)')
    .option('--print', 'print the file instead of writing it')
    .addHelpText('after', '\nExamples:\n  $ knexsafe make add_email_to_users\n  $ knexsafe make create_posts_table -x ts')
    .action(async (name: string, opts: { extension?: string; print?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const result = await makeMigration({
        ...projectOptions(g),
        name,
        ...(opts.extension ? { extension: opts.extension } : {}),
        ...(opts.print ? { print: true } : {}),
      });
      renderMade(out, result, 'migration');
    });

}
