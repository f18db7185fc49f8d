import fs from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { check, type CheckReport } from '../check/run.js';
import { columnTypeMigration, inSourceStyle, NEXT_MIGRATION, sourceStyle, type ColumnTypeChange, type SourceStyle } from '../codegen/index.js';
import { knexfileNotFound, resolveProject, type ProjectConfig, type ProjectOptions } from '../config/resolve.js';
import { verify, type VerifyCommandResult } from '../verify/run.js';
import { errorMessage, ExitCode, KnexsafeError, type ErrorCode } from '../errors.js';
import { readAppliedMigrations } from '../migrations/applied.js';
import { listMigrationFiles } from '../migrations/source.js';
import { onInterrupt } from '../shadow/interrupt.js';
import type { Finding, Severity } from '../rules/types.js';
import { displayPath } from '../util/paths.js';
import { fixText, placeSnippet } from './apply.js';
import { nameAtEnd } from './names.js';

/**
 * `knexsafe fix`: applies the fixes `check` offers. It works on a scratch copy of the migrations
 * folder (beside it, so relative imports and package.json resolve the same): applies one fix per
 * migration, checks again, and repeats until nothing fixable is left, so fixes of one migration
 * never overwrite each other and a fix that does not remove its finding is taken back. Only then
 * are the user's files replaced, all or none.
 */

export interface FixOptions extends ProjectOptions {
  /** Only these migrations (names with or without extension). */
  names?: string[];
  /** The least severe finding fixed: warning by default; style fixes (info) only when asked. */
  severity?: Severity;
  /** Only these rules. */
  rules?: string[];
  dryRun?: boolean;
  shadowUrl?: string;
  pgVersion?: number;
  timeoutMs?: number;
  progress?: (message: string) => void;
}

export interface FixApplied {
  rule: string;
  message: string;
  /** The migration the finding was on. */
  migration: string;
}

export interface FileChange {
  kind: 'edited' | 'added';
  name: string;
  file: string;
  before?: string;
  after: string;
  /** The fixes behind this change (for an added file, the finding whose recipe it is a step of). */
  fixes: FixApplied[];
}

export interface FixSkipped extends FixApplied {
  reason: string;
}

export interface FixResult {
  changes: FileChange[];
  skipped: FixSkipped[];
  /** Unified diff of every change, paths relative to the working directory. */
  diff: string;
  written: boolean;
  rounds: number;
  /** `check` on the result: what is left. */
  after?: { findings: Finding[]; errorsWithFix: Finding[]; failed: string[]; shadow?: string };
  /** `verify` of the rewritten and added migrations (not on --dry-run). */
  verify?: Pick<VerifyCommandResult, 'ok' | 'shadow'> & { verdicts: { name: string; status: string; findings: string[] }[] };
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };
const MAX_ROUNDS = 12;

/** A fix that is whole migration files (each part exports up), not a snippet to paste into one. */
export function isWholeFileFix(code: string): boolean {
  return code.split(NEXT_MIGRATION).every((part) => /^\s*(exports\.up\s*=|module\.exports\s*=|export\s+(async\s+function\s+up\b|function\s+up\b|const\s+up\b))/m.test(part));
}

function usage(code: ErrorCode, message: string, hint?: string): KnexsafeError {
  return new KnexsafeError(code, message, { exitCode: ExitCode.usage, ...(hint ? { hint } : {}) });
}

/**
 * `knexsafe fix`: rewrites migrations with the fixes their findings suggest, then checks and verifies the result.
 * @example
 * const result = await fix({ cwd: '/srv/app', dryRun: true });
 * console.log(result.diff);
 */
export async function fix(options: FixOptions): Promise<FixResult> {
  const progress = options.progress ?? (() => undefined);
  const project = await resolveProject(options);
  if (!project.knexfile && options.migrationsDir === undefined) throw knexfileNotFound(path.resolve(options.cwd ?? process.cwd()));
  if (project.migrations.custom) {
    throw usage(
      'FIX_CUSTOM_SOURCE',
      'fix rewrites migration files, and this knexfile lists its migrations through its own migrationSource, so knexsafe cannot tell which file holds each one.',
      'Run `knexsafe check` and apply its fixes by hand, or point --migrations-dir at the folder.',
    );
  }
  if (project.migrations.directories.length !== 1) {
    throw usage('FIX_SEVERAL_DIRECTORIES', `fix works on one migrations folder, and this knexfile names ${project.migrations.directories.length}.`, 'Pass --migrations-dir <dir> to fix one of them.');
  }
  const directory = path.resolve(project.baseDir, project.migrations.directories[0]!);
  if (!fs.existsSync(directory)) throw usage('NO_MIGRATIONS_DIR', `The migrations folder ${displayPath(directory)} does not exist.`);
  const files = listMigrationFiles(project.migrations);
  const names = (options.names ?? []).map((given) =>
    matchName(
      files.map((f) => f.name),
      given,
    ),
  );
  if (!options.dryRun) {
    // Said before the shadow runs, not after: the files are known to be needed.
    for (const target of [directory, ...names.map((n) => path.join(directory, n))]) {
      try {
        fs.accessSync(target, fs.constants.W_OK);
      } catch {
        throw usage('FIX_NOT_WRITABLE', `${displayPath(target)} is not writable, so fix changed nothing.`, 'Make it writable, or run knexsafe fix --dry-run to see the changes.');
      }
    }
  }
  const applied = await appliedNames(project);

  const scratch: Scratch = { directory, dir: newScratch(directory, directory) };
  const disarm = onInterrupt(async () => fs.rmSync(scratch.dir, { recursive: true, force: true }), 'the scratch copy of the migrations');
  try {
    const loop = await fixLoop({ options, project, scratch, names, applied, progress });
    const changes = changesBetween(directory, scratch.dir, loop.fixesByFile);
    const cwd = path.resolve(options.cwd ?? process.cwd());
    const diff = changes
      .map((c) => {
        const rel = path.relative(cwd, path.join(directory, c.name)).split(path.sep).join('/');
        return createTwoFilesPatch(c.before === undefined ? '/dev/null' : `a/${rel}`, `b/${rel}`, c.before ?? '', c.after, '', '', { context: 3 }).replace(/^=+\n/, '');
      })
      .join('');
    const result: FixResult = { changes, skipped: loop.skipped, diff, written: false, rounds: loop.rounds };
    // Errors fix could have fixed: not on applied migrations (history), only on the migrations asked for.
    const fixable = (migration: string) => !applied.has(migration) && (loop.wanted.size === 0 || loop.wanted.has(migration));
    const leftOver = (report: CheckReport) => summarize(report, options, fixable);
    if (options.dryRun || changes.length === 0) {
      result.after = leftOver(loop.last);
      return result;
    }
    writeAll(directory, changes);
    result.written = true;
    progress('Checking the result');
    const common = { ...projectOptions(options), ...(options.shadowUrl ? { shadowUrl: options.shadowUrl } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) };
    result.after = leftOver(
      await check({ ...common, ...(loop.wanted.size ? { names: [...loop.wanted] } : { all: true }), ...(options.pgVersion !== undefined ? { pgVersion: options.pgVersion } : {}) }),
    );
    progress('Verifying the rewritten and added migrations');
    const verified = await verify({ ...common, names: changes.map((c) => c.name) });
    result.verify = {
      ok: verified.ok,
      shadow: verified.shadow,
      verdicts: verified.verdicts.map((v) => ({ name: v.name, status: v.status, findings: v.findings.map((f) => f.message) })),
    };
    return result;
  } finally {
    disarm();
    fs.rmSync(scratch.dir, { recursive: true, force: true });
  }
}

/** The scratch copy of the migrations folder; `dir` changes every round. */
interface Scratch {
  directory: string;
  dir: string;
}

/**
 * A copy of `from` beside the migrations folder (so `../` imports and the nearest package.json
 * are the same). Each round gets a new one: ES modules stay cached by path for the life of the
 * process, so a rewritten file at the same path would run as it was.
 */
function newScratch(directory: string, from: string): string {
  const dir = fs.mkdtempSync(path.join(path.dirname(directory), `.${path.basename(directory)}.knexsafe-fix-`));
  fs.cpSync(from, dir, { recursive: true });
  return dir;
}

function renewScratch(scratch: Scratch): void {
  const old = scratch.dir;
  scratch.dir = newScratch(scratch.directory, old);
  fs.rmSync(old, { recursive: true, force: true });
}

function projectOptions(options: FixOptions): ProjectOptions {
  const { cwd, knexfile, env, migrationsDir, client, connection, db } = options;
  return {
    ...(cwd !== undefined ? { cwd } : {}),
    ...(knexfile !== undefined ? { knexfile } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(migrationsDir !== undefined ? { migrationsDir } : {}),
    ...(client !== undefined ? { client } : {}),
    ...(connection !== undefined ? { connection } : {}),
    ...(db !== undefined ? { db } : {}),
  };
}

function matchName(names: string[], given: string): string {
  const base = path.basename(given);
  const stem = (n: string) => n.slice(0, n.length - path.extname(n).length);
  const found = names.find((n) => n === base || stem(n) === base);
  if (found) return found;
  const close = names.filter((n) => n.includes(base));
  throw usage('UNKNOWN_MIGRATION', `There is no migration ${given} to fix.${close.length ? ` Did you mean ${close.slice(0, 3).join(', ')}?` : ''}`, 'Run `knexsafe list` to see the names.');
}

/** What the target has applied (read only): those files are history and are never edited. */
async function appliedNames(project: ProjectConfig): Promise<Set<string>> {
  if (project.target.kind === 'none') return new Set();
  const { openTarget } = await import('../db/connect.js');
  try {
    const db = await openTarget(project);
    try {
      return new Set(((await readAppliedMigrations(db.knex, project.migrations)) ?? []).map((a) => a.name));
    } finally {
      await db.close();
    }
  } catch (error) {
    throw usage(
      'FIX_TARGET_UNREADABLE',
      `fix must know which migrations the target has applied (those are never edited), and reading them failed: ${errorMessage(error)}`,
      'Make the database reachable, or unset its connection (DATABASE_URL, --connection) if nothing is applied anywhere yet.',
    );
  }
}

interface LoopInput {
  options: FixOptions;
  project: ProjectConfig;
  scratch: Scratch;
  names: string[];
  applied: Set<string>;
  progress: (message: string) => void;
}

/** One round's edit of a file in the scratch copy, kept to take it back. */
interface Edit {
  key: string;
  finding: Finding;
  /** File name → content before (undefined: the file is new). */
  before: Map<string, string | undefined>;
}

async function fixLoop(input: LoopInput) {
  const { options, scratch, applied, progress } = input;
  const min = RANK[options.severity ?? 'warning'];
  const wanted = new Set(input.names);
  const attempted = new Set<string>();
  const skipped = new Map<string, FixSkipped>();
  const fixesByFile = new Map<string, FixApplied[]>();
  let pending: Edit[] = [];
  // Migrations that failed on the shadow before this run's latest fixes (the user's own failures).
  let failedBefore = new Set<string>();
  let rounds = 0;
  let last: CheckReport | undefined;
  origins.clear();
  const styles = new Map<string, SourceStyle>();
  const keyOf = (f: Finding) => `${f.migration}\u0000${f.rule}\u0000${f.message}`;
  const skip = (f: Finding, reason: string) => skipped.set(keyOf(f), { rule: f.rule, message: f.message, migration: f.migration, reason });
  // Fixes tried and taken back stay skipped; the others were judged on the file as it was.
  const tookBackKeys = new Set<string>();
  const rejudgeAfterRewrite = (migration: string) => {
    for (const [key, s] of skipped) if (s.migration === migration && !tookBackKeys.has(key)) skipped.delete(key);
  };
  for (;;) {
    rounds++;
    if (rounds > 1) renewScratch(scratch);
    progress(rounds === 1 ? 'Checking the migrations' : `Checking again after the fixes of round ${rounds - 1}`);
    last = await check({
      ...projectOptions(options),
      migrationsDir: scratch.dir,
      ...(wanted.size ? { names: [...wanted] } : { all: true }),
      ...(options.shadowUrl ? { shadowUrl: options.shadowUrl } : {}),
      ...(options.pgVersion !== undefined ? { pgVersion: options.pgVersion } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    const failed = new Map(last.migrations.filter((m) => m.failed).map((m) => [m.name, m.failed!.message]));
    // A later migration that failed only after this round's fixes (it used what a fix changed):
    // every fix of the round before it is suspect.
    const newlyFailed = [...failed].filter(([name]) => !failedBefore.has(name) && !pending.some((e) => e.before.has(name)));
    // A fix of the last round that left its finding, or made a migration fail: taken back.
    let tookBack = false;
    // An edit whose migrations did not run (an earlier one failed and knex stopped there) is judged
    // in a later round.
    const unjudged: Edit[] = [];
    const ran = new Set(last.migrations.map((m) => m.name));
    for (const edit of pending) {
      const names = [...edit.before.keys()];
      const own = names.map((n) => failed.get(n)).find((m) => m !== undefined);
      const later = newlyFailed.find(([name]) => names.some((n) => n < name));
      const broke = own ?? (later ? `${later[0]} fails after it: ${later[1]}` : undefined);
      const stays = last.findings.some((f) => keyOf(f) === edit.key && !f.suppressed);
      if (!broke && !stays) {
        if (!names.every((n) => ran.has(n) || !fs.existsSync(path.join(scratch.dir, n)))) unjudged.push(edit);
        continue;
      }
      for (const [name, content] of edit.before) {
        const file = path.join(scratch.dir, name);
        if (content === undefined) fs.rmSync(file, { force: true });
        else fs.writeFileSync(file, content);
        const left = (fixesByFile.get(name) ?? []).filter((a) => !(a.rule === edit.finding.rule && a.message === edit.finding.message));
        if (left.length && content !== undefined) fixesByFile.set(name, left);
        else fixesByFile.delete(name);
      }
      tookBackKeys.add(edit.key);
      skip(edit.finding, broke ? `its fix fails on the shadow (${broke}), so it was not applied` : 'its fix did not make the finding go away, so it was not applied');
      tookBack = true;
    }
    if (!tookBack) failedBefore = new Set(failed.keys());
    pending = unjudged;
    if (tookBack) continue;
    if (rounds > MAX_ROUNDS) break;

    const byMigration = new Map<string, Finding[]>();
    // Snippets placed in their file as it stands this round (by finding): written as they are if chosen.
    const placedSnippets = new Map<string, string>();
    const appliedChanges = new Map<string, { change: ColumnTypeChange; finding: Finding }>();
    for (const f of last.findings) {
      if (f.suppressed || !f.fix || RANK[f.severity] < min) continue;
      if (options.rules?.length && !options.rules.includes(f.rule)) continue;
      if (wanted.size && !wanted.has(f.migration)) continue;
      const key = keyOf(f);
      if (attempted.has(key) || skipped.has(key)) continue;
      if (applied.has(f.migration)) {
        const change = f.category === 'style' ? columnTypeChange(f, last) : undefined;
        if (change === null) continue; // already changed by a later migration
        if (change) appliedChanges.set(`${change.table}.${change.column}`, { change, finding: f });
        else skip(f, `${f.migration} is applied to the target, so it is not edited; what this fix changes is how the migration ran, which is past`);
        attempted.add(key);
        continue;
      }
      if (f.fix.byHand) {
        skip(f, `its fix ${f.fix.byHand}: apply it yourself (knexsafe check shows it)`);
        continue;
      }
      // A snippet that says where it goes (lock_timeout first in up) is placed; the others are to adapt.
      if (!isWholeFileFix(f.fix.code)) {
        const placed = placeSnippet(f.fix.code, fs.readFileSync(path.join(scratch.dir, f.migration), 'utf8'));
        if (placed === undefined) {
          skip(f, 'its fix is a snippet to adapt, not whole migration files: apply it by hand (knexsafe check shows it)');
          continue;
        }
        placedSnippets.set(key, placed);
      }
      if (f.fix.replaysData) {
        skip(
          f,
          `its fix would write ${f.fix.replaysData} as constants the shadow computed, where the migration computes them when it runs: apply it by hand, keeping that code (knexsafe check shows it)`,
        );
        continue;
      }
      byMigration.set(f.migration, [...(byMigration.get(f.migration) ?? []), f]);
    }
    if (byMigration.size === 0 && appliedChanges.size === 0) break;

    const taken = new Set(fs.readdirSync(scratch.dir));
    for (const [migration, findings] of byMigration) {
      // One fix per migration per round: each is written against the file as check saw it.
      const f = [...findings].sort(fixOrder)[0]!;
      attempted.add(keyOf(f));
      const file = path.join(scratch.dir, migration);
      const original = fs.readFileSync(file, 'utf8');
      // The user's file decides the style, also for steps of steps (whose text is generated).
      const style = styles.get(migration) ?? sourceStyle(original, migration);
      styles.set(migration, style);
      const placed = placedSnippets.get(keyOf(f));
      const written = placed !== undefined ? { text: placed, added: [] } : fixText(f.fix!.code, migration, original, style, taken);
      const edit: Edit = { key: keyOf(f), finding: f, before: new Map([[migration, original]]) };
      fs.writeFileSync(file, written.text);
      // A finding of this migration whose fix was a snippet or left to a person may have a whole-file
      // fix once the file is rewritten: judged again next round, so a second `fix` finds nothing.
      rejudgeAfterRewrite(migration);
      record(fixesByFile, migration, f);
      for (const { name, text } of written.added) {
        edit.before.set(name, undefined);
        styles.set(name, style);
        fs.writeFileSync(path.join(scratch.dir, name), text);
        record(fixesByFile, name, f);
        if (wanted.size) wanted.add(name);
      }
      pending.push(edit);
    }
    if (appliedChanges.size) {
      const all = [...taken].filter((n) => /\.(c|m)?(j|t)s$/.test(n) && !n.endsWith('.d.ts')).sort();
      const lastName = all[all.length - 1];
      const ext = path.extname(lastName ?? '.js');
      const styleFrom = lastName ? fs.readFileSync(path.join(scratch.dir, lastName), 'utf8') : '';
      const changes = [...appliedChanges.values()];
      const slug = changes.length === 1 ? `change_${changes[0]!.change.column}_to_${changes[0]!.change.to}_in_${changes[0]!.change.table.replace(/^.*\./, '')}` : `change_column_types`;
      const name = nameAtEnd(lastName, slug.replace(/[^a-z0-9_]/gi, '_').toLowerCase(), ext, taken);
      fs.writeFileSync(path.join(scratch.dir, name), inSourceStyle(columnTypeMigration(changes.map((c) => c.change)), sourceStyle(styleFrom, lastName ?? name)));
      for (const c of changes) {
        record(fixesByFile, name, c.finding);
      }
      if (wanted.size) wanted.add(name);
    }
  }
  return { last: last!, skipped: [...skipped.values()], fixesByFile, rounds, wanted };
}

/**
 * Which fix of a migration goes first: the more severe; a lock_timeout last, since it is added to
 * whatever the migration becomes; then the earliest statement (its fix keeps the file's start and
 * moves what follows into a migration after it, instead of replaying what came before); then a
 * recipe of several migrations before a one-file fix.
 */
function fixOrder(a: Finding, b: Finding): number {
  const parts = (f: Finding) => f.fix!.code.split(NEXT_MIGRATION).length;
  const last = (f: Finding) => (f.rule === 'missing-lock-timeout' ? 1 : 0);
  return RANK[b.severity] - RANK[a.severity] || last(a) - last(b) || (a.line ?? 0) - (b.line ?? 0) || parts(b) - parts(a);
}

/** Where each added file came from: the user's migration, also for a step of a step. */
const origins = new Map<string, string>();

function record(map: Map<string, FixApplied[]>, name: string, f: Finding): void {
  const migration = origins.get(f.migration) ?? f.migration;
  if (name !== f.migration) origins.set(name, migration);
  map.set(name, [...(map.get(name) ?? []), { rule: f.rule, message: f.message, migration }]);
}

const STYLE_TARGET: Record<string, string> = {
  'prefer-text-over-varchar': 'text',
  'prefer-timestamptz': 'timestamptz',
  'prefer-jsonb': 'jsonb',
  'prefer-bigint-ids': 'bigint',
};

/**
 * The column type change a style finding on an applied migration asks for, read from its message
 * (`users.email is character varying(255) …`) and the final schema; null when a later migration
 * already changed or dropped the column, undefined when there is none to make.
 */
function columnTypeChange(f: Finding, report: CheckReport): ColumnTypeChange | null | undefined {
  const to = STYLE_TARGET[f.rule];
  const table = f.table?.name;
  if (!to || !table) return undefined;
  const short = table.replace(/^public\./, '');
  if (!f.message.startsWith(`${short}.`)) return undefined;
  const column = /^([^\s]+?) is /.exec(f.message.slice(short.length + 1))?.[1];
  if (!column) return undefined;
  const schema = [...(report.units ?? [])].reverse().find((u) => u.schemaAfter)?.schemaAfter;
  const qualified = table.includes('.') ? table : `public.${table}`;
  const now = schema?.tables[qualified]?.columns[column];
  if (!now) return schema ? null : undefined;
  const canonical: Record<string, string> = { text: 'text', timestamptz: 'timestamp with time zone', jsonb: 'jsonb', bigint: 'bigint' };
  if (now.type === canonical[to]) return null;
  if (now.type.endsWith('[]')) return undefined;
  return { table, column, from: now.type, to, reason: `${short}.${column}: ${now.type} → ${to} (${f.rule}; ${f.migration} is applied, so the change is a migration of its own).` };
}

function changesBetween(directory: string, scratch: string, fixes: Map<string, FixApplied[]>): FileChange[] {
  const out: FileChange[] = [];
  for (const name of fs.readdirSync(scratch).sort()) {
    const after = path.join(scratch, name);
    if (!fs.statSync(after).isFile()) continue;
    const content = fs.readFileSync(after, 'utf8');
    const target = path.join(directory, name);
    const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
    if (before === content) continue;
    out.push({ kind: before === undefined ? 'added' : 'edited', name, file: target, ...(before !== undefined ? { before } : {}), after: content, fixes: fixes.get(name) ?? [] });
  }
  return out;
}

/**
 * Replaces the files all or none: every new text is written beside its target under a temporary
 * name first (checking the folder and files are writable), then renamed into place; if any step
 * fails, what was renamed is put back and the temporary files removed.
 */
function writeAll(directory: string, changes: FileChange[]): void {
  for (const c of changes) {
    if (c.kind === 'edited') {
      try {
        fs.accessSync(c.file, fs.constants.W_OK);
      } catch {
        throw usage(
          'FIX_NOT_WRITABLE',
          `${displayPath(c.file)} is not writable, so fix changed nothing (it needs to rewrite that migration).`,
          'Make the file writable (chmod u+w), or leave it out: knexsafe fix <other migrations…>.',
        );
      }
    }
  }
  const temps: string[] = [];
  const done: FileChange[] = [];
  try {
    for (const c of changes) {
      const temp = path.join(directory, `.${c.name}.knexsafe-fix-${process.pid}`);
      fs.writeFileSync(temp, c.after, { flag: 'wx', ...(c.kind === 'edited' ? { mode: fs.statSync(c.file).mode } : {}) });
      temps.push(temp);
    }
    changes.forEach((c, i) => {
      fs.renameSync(temps[i]!, c.file);
      done.push(c);
    });
  } catch (error) {
    for (const c of done) {
      if (c.before === undefined) fs.rmSync(c.file, { force: true });
      else fs.writeFileSync(c.file, c.before);
    }
    for (const t of temps) fs.rmSync(t, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'EACCES' || (error as NodeJS.ErrnoException).code === 'EPERM') {
      throw usage('FIX_NOT_WRITABLE', `The migrations folder ${displayPath(directory)} is not writable, so fix changed nothing.`, 'Make the folder writable, or run fix --dry-run to see the changes.');
    }
    throw error;
  }
}

function summarize(report: CheckReport, options: FixOptions, fixable: (migration: string) => boolean): NonNullable<FixResult['after']> {
  const min = RANK[options.severity ?? 'warning'];
  const active = report.findings.filter((f) => !f.suppressed);
  return {
    findings: active,
    errorsWithFix: active.filter((f) => f.severity === 'error' && f.fix && fixable(f.migration) && RANK.error >= min && (!options.rules?.length || options.rules.includes(f.rule))),
    failed: report.migrations.filter((m) => m.failed).map((m) => m.name),
    ...(report.shadow ? { shadow: report.shadow } : {}),
  };
}
