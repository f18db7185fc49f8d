import type { Command } from 'commander';
import { KnexsafeError } from '../../errors.js';
import type { ApplyHistoryResult, DdlSource, SquashResult } from '../../squash/index.js';
import { displayPath } from '../../util/paths.js';
import { globalOptions, makeOutput, projectOptions, type GlobalOptions } from '../context.js';
import { formatDuration, type Output } from '../output.js';

// Loaded on use, so `--help` and other commands do not pay for these modules.
const squashing = () => import('../../squash/index.js');

interface SquashFlags {
  to?: string;
  dryRun?: boolean;
  print?: boolean;
  extension?: string;
  name?: string;
  archiveDir?: string;
  ddl?: string;
  data?: boolean;
  maxRows?: string;
  verify?: boolean;
  applyHistory?: boolean;
  restoreHistory?: string;
  manifest?: string[];
}

const HELP = `
What it does (--to):
  1. replays the migrations up to <name> on a shadow database (embedded by default),
  2. writes one baseline migration for the schema they built — DDL read from the catalogs
     (or the server's pg_dump with --shadow-url), plus the rows they inserted and sequence values,
     and a down that drops everything it created,
  3. proves on a fresh shadow that the baseline builds the same schema, rows and sequences, that the
     kept migrations after it end in the same schema, and that its down undoes its up,
  4. only then moves the squashed files to <migrations>/_squashed/<timestamp>/ (with squash.json)
     and writes <prefix of the last squashed>_baseline.<ext>. Nothing is written if a proof fails.

Then, on every database that already ran the squashed migrations (before its next migrate:latest):
  $ knexsafe squash --apply-history      replaces their knex_migrations rows with the baseline's
New databases need nothing: migrate:latest runs the baseline.

Examples:
  $ knexsafe squash --to 20240601120000_add_orders --dry-run --print
  $ knexsafe squash --to 20240601120000_add_orders
  $ knexsafe squash --to 20240601120000_add_orders --shadow-url postgres://localhost/postgres --ddl pg_dump
  $ knexsafe squash --apply-history --dry-run
  $ knexsafe squash --restore-history .knexsafe/backups/20240701090000`;

export function registerSquashCommand(program: Command): void {
  program
    .command('squash')
    .description('Replace the migrations up to <name> with one baseline migration, proven to build the identical schema')
    .option('--to <name>', 'last migration to squash (name with or without extension)')
    .option('--dry-run', 'prove and report, but write nothing')
    .option('--print', 'print the baseline file on stdout')
    .option('-x, --extension <ext>', 'baseline file type: js, ts, mjs or cjs (default: the project’s)')
    .option('--name <stem>', 'baseline file name without extension (default: <prefix>_baseline)')
    .option('--archive-dir <dir>', 'where the squashed files go (default: <migrations>/_squashed/<timestamp>)')
    .option('--ddl <source>', 'auto | catalog | pg_dump (pg_dump needs --shadow-url)', 'auto')
    .option('--no-data', 'do not recreate rows the squashed migrations inserted (they are listed as a warning)')
    .option('--max-rows <n>', 'refuse to put more rows than this into the baseline', '10000')
    .option('--no-verify', 'skip the up → down → up check of the baseline')
    .option('--apply-history', 'on the target database, replace the squashed migrations’ knex_migrations rows with the baseline’s')
    .option('--manifest <file...>', 'squash.json file(s) for --apply-history (default: every <migrations>/_squashed/*/squash.json)')
    .option('--restore-history <backup>', 'undo --apply-history from its backup folder')
    .addHelpText('after', HELP)
    .action(async (flags: SquashFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const modes = [flags.to !== undefined, flags.applyHistory === true, flags.restoreHistory !== undefined].filter(Boolean).length;
      if (modes !== 1) {
        throw new KnexsafeError('USAGE', 'squash needs exactly one of --to <name>, --apply-history or --restore-history <backup>.', {
          hint: 'knexsafe squash --to <migration> makes the baseline; --apply-history then updates each database that ran the squashed migrations.',
        });
      }
      if (flags.applyHistory) return applyHistory(g, flags, out);
      if (flags.restoreHistory !== undefined) return restoreHistory(g, flags.restoreHistory, out);
      return makeBaseline(g, flags, out);
    });
}

async function makeBaseline(g: GlobalOptions, flags: SquashFlags, out: Output): Promise<void> {
  const ddl = flags.ddl ?? 'auto';
  if (!['auto', 'catalog', 'pg_dump'].includes(ddl)) throw new KnexsafeError('BAD_OPTION', `--ddl takes auto, catalog or pg_dump, not "${ddl}".`);
  const maxRows = Number(flags.maxRows ?? '10000');
  if (!Number.isInteger(maxRows) || maxRows < 0) throw new KnexsafeError('BAD_OPTION', `--max-rows takes a whole number, not "${flags.maxRows}".`);
  const result = await (await squashing()).squash({
    ...projectOptions(g),
    to: flags.to!,
    ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.extension ? { extension: flags.extension } : {}),
    ...(flags.name ? { name: flags.name } : {}),
    ...(flags.archiveDir ? { archiveDir: flags.archiveDir } : {}),
    ddl: ddl as DdlSource,
    data: flags.data !== false,
    maxRows,
    verify: flags.verify !== false,
    command: `knexsafe squash --to ${flags.to}`,
    events: { progress: (m) => out.progress(out.c.dim(m)) },
  });
  const { content, ...baseline } = result.baseline;
  out.result({ ...result, baseline: { ...baseline, ...(flags.print ? { content } : {}) } });
  if (flags.print && !out.json) out.raw(content);
  renderSquash(out, result);
  if (!result.ok) process.exitCode = 1;
}

function renderSquash(out: Output, r: SquashResult): void {
  if (out.json) return;
  const p = r.proof;
  const mark = (ok: boolean | null) => (ok === null ? out.c.dim('–') : ok ? out.c.green('✓') : out.c.red('✗'));
  out.line();
  out.line(`${out.c.bold('Squash')} ${r.squashed.length} migration(s): ${r.squashed[0]} … ${r.squashed[r.squashed.length - 1]}`);
  out.line(
    `  baseline  ${displayPath(r.baseline.file)}  (${r.baseline.upStatements} statements up, ${r.baseline.downStatements} down, ${Math.round(r.baseline.bytes / 1024)} KB, DDL from ${r.ddlSource === 'pg_dump' ? 'pg_dump' : 'the catalogs'})`,
  );
  out.line(`  archive   ${displayPath(r.archive)}`);
  out.line(`  kept      ${r.kept.length} migration(s) after it, unchanged`);
  if (r.data.tables.length) {
    out.line(
      `  data      ${r.data.rows} row(s) in ${r.data.tables.map((t) => `${t.table.replace(/^public\./, '')} (${t.rows})`).join(', ')}${r.data.included ? '' : out.c.yellow(' — not recreated (--no-data)')}`,
    );
  }
  out.line();
  out.line(`Proof on ${r.shadow} (PostgreSQL ${r.serverVersion}):`);
  if (p.baselineError) out.line(`  ${mark(false)} the baseline fails on a fresh database: ${p.baselineError}`);
  else {
    out.line(`  ${mark(p.schemaEqual)} schema of the baseline == schema of the chain`);
    for (const c of p.schemaChanges) out.line(`      ${out.c.yellow('•')} ${c.message}`);
    for (const n of p.schemaNotes) out.line(out.c.dim(`      note: ${n}`));
    out.line(`  ${mark(r.data.included ? p.dataEqual : null)} rows and sequence values equal${r.data.included ? '' : out.c.dim(' (not compared: --no-data)')}`);
    for (const d of p.dataDifferences) out.line(`      ${out.c.yellow('•')} ${d}`);
    out.line(`  ${mark(p.keptEqual)} kept migrations after the baseline end in the same schema${p.keptEqual === null ? out.c.dim(r.kept.length ? ' (not compared)' : ' (none kept)') : ''}`);
    for (const c of p.keptChanges) out.line(`      ${out.c.yellow('•')} ${c.message}`);
    if (p.keptNote) out.line(out.c.dim(`      ${p.keptNote}`));
    out.line(`  ${mark(p.verify.status === 'skipped' ? null : p.verify.status === 'reversible')} up → down → up on the baseline${p.verify.status === 'skipped' ? out.c.dim(' (skipped)') : ''}`);
    for (const f of p.verify.findings) out.line(`      ${out.c.yellow('•')} ${f.message}`);
  }
  for (const w of r.warnings) out.warn(w);
  out.line();
  const t = r.timings;
  const time = out.c.dim(
    `(${formatDuration(t.totalMs)}: chain ${formatDuration(t.chainMs)}, generate ${formatDuration(t.generateMs)}, proof ${formatDuration(t.proofMs)}, verify ${formatDuration(t.verifyMs)})`,
  );
  if (!r.ok) out.line(`${out.c.red('✗')} Not squashed: the baseline is not proven identical; nothing was written. ${time}`);
  else if (!r.written) out.line(`${out.c.green('✓')} Proven. Dry run: nothing was written. ${time}`);
  else {
    out.line(`${out.c.green('✓')} Squashed: wrote ${displayPath(r.baseline.file)}, moved ${r.squashed.length} file(s) to ${displayPath(r.archive)}. ${time}`);
    out.line();
    out.line('Next: commit both. Then, on each database that already ran the squashed migrations, before its next migrate:latest:');
    out.line(`  $ knexsafe squash --apply-history`);
  }
}

async function applyHistory(g: GlobalOptions, flags: SquashFlags, out: Output): Promise<void> {
  const result = await (await squashing()).applySquashHistory({ ...projectOptions(g), ...(flags.dryRun ? { dryRun: true } : {}), ...(flags.manifest?.length ? { manifests: flags.manifest } : {}) });
  out.result(result);
  renderApply(out, result);
}

function renderApply(out: Output, r: ApplyHistoryResult): void {
  if (out.json) return;
  for (const w of r.warnings) out.warn(w);
  if (r.removed.length === 0 && r.inserted.length === 0) {
    out.line(`Nothing to change on ${r.target}.`);
    return;
  }
  const verb = r.changed ? 'Replaced' : 'Would replace';
  out.line(`${verb} ${r.removed.length} knex_migrations row(s) on ${r.target} with ${r.inserted.map((i) => `${i.name} (batch ${i.batch})`).join(', ')}.`);
  if (r.backup) {
    out.line(`  backup   ${displayPath(r.backup.json)}`);
    out.line(`  restore  $ ${r.restoreCommand}`);
    out.line(`           or: psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ${displayPath(r.backup.sql)}`);
  }
  if (!r.changed) out.line(out.c.dim('Dry run: nothing was changed.'));
}

async function restoreHistory(g: GlobalOptions, backup: string, out: Output): Promise<void> {
  const result = await (await squashing()).restoreSquashHistory({ ...projectOptions(g), backup });
  out.result(result);
  if (!out.json) {
    out.line(`Restored ${result.restored.length} knex_migrations row(s) on ${result.target}; removed ${result.removed.map((r) => r.name).join(', ')}.`);
    out.line(out.c.dim('Put the squashed migration files back in the migrations folder too (git), or knex reports them missing.'));
  }
}
