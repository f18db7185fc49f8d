import { displayPath } from '../../util/paths.js';
import type { Command } from 'commander';
import type { MakeResult } from '../../make/run.js';
import { globalOptions, makeOutput, projectOptions, withTarget } from '../context.js';
import type { Output } from '../output.js';

// Loaded on use, so `--help` and other commands do not pay for these modules.
const init = () => import('../../init/run.js');
const make = () => import('../../make/run.js');
const seed = () => import('../../seeds/run.js');

export function renderMade(out: Output, result: MakeResult, what: string): void {
  out.result(result);
  if (!result.written) {
    out.raw(result.content);
    return;
  }
  for (const w of result.warnings) out.warn(w);
  out.line(`${out.c.green('✓')} Created ${what} ${displayPath(result.path)}`);
}

export function registerFileCommands(program: Command): void {
  program
    .command('init')
    .description('Create a knexfile (per environment, DATABASE_URL-aware) and migrations/ and seeds/ folders')
    .option('-x, --extension <ext>', 'knexfile type: js, ts, mjs or cjs', 'js')
    .addHelpText('after', '\nExample:\n  $ knexsafe init -x ts')
    .action(async (opts: { extension: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const result = (await init()).initProject({ ...(g.cwd ? { cwd: g.cwd } : {}), extension: opts.extension });
      out.result(result);
      for (const f of result.created) out.line(`${out.c.green('✓')} Created ${displayPath(f)}`);
      out.line(`Next: set DATABASE_URL (or edit the knexfile), then ${out.c.bold('knexsafe make create_users_table')}.`);
    });

  program
    .command('seed:make <name>')
    .description('Create a seed file (knex seed:make)')
    .option('-x, --extension <ext>', 'file type: js, ts, mjs or cjs (default: what the project uses)')
    .option('--print', 'print the file instead of writing it')
    .addHelpText('after', '\nExample:\n  $ knexsafe seed:make 01_users')
    .action(async (name: string, opts: { extension?: string; print?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const result = await (await make()).makeSeed({ ...projectOptions(g), name, ...(opts.extension ? { extension: opts.extension } : {}), ...(opts.print ? { print: true } : {}) });
      renderMade(out, result, 'seed');
    });

  program
    .command('seed:run')
    .description('Run seed files (knex seed:run)')
    .option('--specific <file>', 'run only this seed file')
    .addHelpText('after', '\nExamples:\n  $ knexsafe seed:run\n  $ knexsafe seed:run --specific 01_users.js')
    .action(async (opts: { specific?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      await withTarget(g, async (db, project) => {
        const result = await (await seed()).runSeeds(db, project, opts.specific ? { specific: opts.specific } : {});
        out.result({ database: db.description, seeds: result.seeds.map((s) => displayPath(s)) });
        out.line(`${out.c.green('✓')} Ran ${result.seeds.length} seed file${result.seeds.length === 1 ? '' : 's'} on ${db.description}`);
        for (const s of result.seeds) out.line(`  ${displayPath(s)}`);
      });
    });
}
