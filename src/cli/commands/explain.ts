import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { findUp, KNEXFILE_NAMES } from '../../config/find-up.js';
import { KnexsafeError } from '../../errors.js';
import { knexsafeRoot } from '../../util/package-version.js';
import { displayPath } from '../../util/paths.js';
import { globalOptions, makeOutput, projectOptions } from '../context.js';

const MIGRATION_FILE = /\.(c|m)?(js|ts)$/;

export function registerExplainCommand(program: Command): void {
  program
    .command('explain <what>')
    .description('explain a rule (what it catches, the lock, the fix), or the findings at file:line of a migration with their SQL, locks, why and fix code')
    .addHelpText(
      'after',
      `
Examples:
  $ knexsafe explain index-not-concurrent
  $ knexsafe explain migrations/20240102_add_index.js:4     the finding check printed at that line
  $ knexsafe explain migrations/20240102_add_index.js       every finding of that migration`,
    )
    .action(async (what: string, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const { ALL_RULES } = await import('../../rules/registry.js');
      const rule = ALL_RULES.find((r) => r.meta.id === what);
      if (rule) {
        const docs = path.join(knexsafeRoot() ?? '.', 'docs', 'rules', `${rule.meta.id}.md`);
        const page = fs.existsSync(docs) ? fs.readFileSync(docs, 'utf8').trim() : undefined;
        out.result({ rule: rule.meta.id, severity: rule.meta.severity, category: rule.meta.category, summary: rule.meta.summary, docs: page ?? null });
        out.line(`${out.c.bold(rule.meta.id)} (${rule.meta.severity}, ${rule.meta.category}): ${rule.meta.summary}`);
        if (page) out.line(`\n${page}`);
        return;
      }
      const at = /^(.*?)(?::(\d+))?(?::(\d+))?$/.exec(what)!;
      const file = path.resolve(g.cwd ?? process.cwd(), at[1]!);
      const line = at[2] === undefined ? undefined : Number(at[2]);
      if (!fs.existsSync(file) || !(MIGRATION_FILE.test(file) || /\.sql$/i.test(file))) {
        const near = ALL_RULES.map((r) => r.meta.id).filter((id) => id.includes(what) || what.includes(id.split('-')[0]!));
        throw new KnexsafeError(
          'BAD_OPTION',
          `"${what}" is neither a rule id nor a migration file${fs.existsSync(file) ? '' : ' that exists'}: give a rule such as index-not-concurrent, or file:line as check prints it.${near.length ? ` Rules with a similar name: ${near.slice(0, 5).join(', ')}.` : ''}`,
          { hint: 'knexsafe check prints every finding as file:line:col; the rules are listed in docs/rules/README.md.' },
        );
      }
      const { check } = await import('../../check/run.js');
      const { formatJson, formatText } = await import('../../report/format.js');
      // The project is the file's own (found upward from it, as knex's CLI finds a knexfile), unless named.
      const project = g.cwd === undefined && g.knexfile === undefined ? projectOptions({ ...g, cwd: projectDirOf(file) }) : projectOptions(g);
      const report = await check({
        ...project,
        ...(/\.sql$/i.test(file) ? { sqlFiles: [file] } : { names: [path.basename(file).replace(MIGRATION_FILE, '')] }),
        ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
        progress: (m) => out.progress(out.c.dim(m)),
      });
      const sameFile = (f: string) => path.resolve(f) === file;
      const findings = report.findings.filter((f) => sameFile(f.file) && (line === undefined || f.line === line));
      const migrations = report.migrations.filter((m) => sameFile(m.file));
      const shown = { ...report, findings, migrations };
      out.result(formatJson(shown));
      if (findings.length === 0 && !migrations.some((m) => m.failed)) {
        const lines = [...new Set(report.findings.filter((f) => sameFile(f.file) && f.line !== undefined).map((f) => f.line))];
        out.line(
          `No finding at ${displayPath(file)}${line === undefined ? '' : `:${line}`}${lines.length ? `; this migration's findings are at line${lines.length === 1 ? '' : 's'} ${lines.join(', ')}` : ''}.`,
        );
        return;
      }
      out.line(formatText(shown, out.c, { verbose: true }));
    });
}

/**
 * The nearest folder above the file holding a knexfile; without one, the folder above knex's default
 * `migrations` folder, else the working directory (where check would have looked).
 */
function projectDirOf(file: string): string {
  const knexfile = findUp(path.dirname(file), KNEXFILE_NAMES).found;
  if (knexfile) return path.dirname(knexfile);
  return path.basename(path.dirname(file)) === 'migrations' ? path.dirname(path.dirname(file)) : process.cwd();
}
