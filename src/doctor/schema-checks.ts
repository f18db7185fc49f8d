import type { ProjectConfig } from '../config/resolve.js';
import { CaptureSession, type RunOutcome } from '../capture/session.js';
import type { CapturedStatement } from '../capture/types.js';
import { extensionsMentionedBy, type Database } from '../db/connect.js';
import type { AppliedMigration } from '../migrations/applied.js';
import { loadMigration, type MigrationFile } from '../migrations/source.js';
import { diffSchemas, snapshotSchema, type SchemaChange, type SchemaSnapshot } from '../schema/index.js';
import { displayPath } from '../util/paths.js';
import { dumpTargetSchema, loadSchemaDump } from './clone.js';
import { explainFailure } from '../migrations/explain.js';
import { namesInStatement } from '../migrations/locate.js';
import { orderedStatements, restoreStatement } from './repair-sql.js';
import type { DoctorCheck, DoctorFinding } from './types.js';

export interface SchemaCheckInput {
  project: ProjectConfig;
  target: Database;
  files: MigrationFile[];
  applied: AppliedMigration[];
  /** Applied name → the file standing for it (other extension). */
  aliases: Map<string, MigrationFile>;
  /** Applied names without any file: the applied schema cannot be rebuilt. */
  unresolved: string[];
  /** Pending files that are another form of an applied migration: never run. */
  twins?: Set<string>;
  shadowUrl?: string;
  /** Use pg_dump to copy the target's schema (default true). */
  useDump?: boolean;
  progress?(message: string): void;
}

export interface SchemaCheckResult {
  findings: DoctorFinding[];
  checks: DoctorCheck[];
  shadow?: string;
  clone?: string;
}

/** Errors that mean "what this statement creates is already there". */
const ALREADY_EXISTS = new Set(['42701', '42P07', '42710', '42P06', '42723']);

interface CloneFailure {
  migration: string;
  sqlState?: string;
  message: string;
  statement?: CapturedStatement;
  file?: string;
  detail?: string;
}

function changeKey(c: SchemaChange): string {
  return `${c.kind}:${c.object}:${c.attribute ?? ''}`;
}

/** A drift line in the doctor's words: expected = what the migrations produce, actual = the target. */
function describeDrift(c: SchemaChange): string {
  if (c.change === 'extra') return `${c.message.replace(/: left behind$/, '')}: only in the target (no applied migration creates it)`;
  if (c.change === 'missing') return `${c.message.replace(/: missing$/, '')}: missing from the target (the applied migrations create it)`;
  const prefix = (c.kind === 'column' || c.kind === 'constraint') && !c.message.startsWith(`${c.kind} `) ? `${c.kind} ` : '';
  return `${prefix}${c.message} (migrations → target)`;
}

function sortByHistory(applied: AppliedMigration[], files: MigrationFile[], aliases: Map<string, MigrationFile>): { ordered: MigrationFile[]; fileOrder: boolean } {
  const byName = new Map(files.map((f) => [f.name, f]));
  const ordered = applied.map((a) => byName.get(a.name) ?? aliases.get(a.name)).filter((f): f is MigrationFile => f !== undefined);
  const indexes = ordered.map((f) => files.indexOf(f));
  return { ordered, fileOrder: indexes.every((v, i) => i === 0 || v > indexes[i - 1]!) };
}

/** Applies `ordered` to the shadow in that order (knex's latest runs a list in file order, so history out of file order goes one by one). */
async function replayHistory(session: CaptureSession, ordered: MigrationFile[], fileOrder: boolean): Promise<RunOutcome | undefined> {
  if (ordered.length === 0) return undefined;
  if (fileOrder) {
    const outcome = await session.replay(ordered);
    return outcome.error ? outcome : undefined;
  }
  for (let i = 1; i <= ordered.length; i++) {
    const outcome = await session.replay(ordered.slice(0, i));
    if (outcome.error) return outcome;
  }
  return undefined;
}

export async function runSchemaChecks(input: SchemaCheckInput): Promise<SchemaCheckResult> {
  const { project, target, files, applied, aliases } = input;
  // knexsafe's checksum table sits next to knex's on the target, never on a shadow.
  const knexTables = [project.migrations.tableName, `${project.migrations.tableName}_lock`, `${project.migrations.tableName}_knexsafe`];
  const snapshotOptions = { excludeTables: knexTables };
  const twins = input.twins ?? new Set<string>();
  const appliedFileNames = new Set([...applied.map((a) => a.name), ...[...aliases.values()].map((f) => f.name), ...twins]);
  const pending = files.filter((f) => !appliedFileNames.has(f.name));
  const findings: DoctorFinding[] = [];
  const checks: DoctorCheck[] = [];
  const result: SchemaCheckResult = { findings, checks };

  input.progress?.('Reading the target schema');
  const actual = await snapshotSchema(target.knex, snapshotOptions);
  const extensions = [...new Set([...extensionsMentionedBy(project), ...Object.values(actual.extensions).map((e) => e.name)])];
  const shadowOptions = { ...(input.shadowUrl ? { shadowUrl: input.shadowUrl } : {}), extensions };

  // 1. Drift: the target vs the schema its applied migrations produce on a shadow.
  let drift: SchemaChange[] | undefined;
  let overlapByMigration = new Map<string, { present: SchemaChange[]; notYet: SchemaChange[] }>();
  let driftNote: string | undefined;
  if (input.unresolved.length) {
    driftNote = `skipped: ${input.unresolved.join(', ')} ${input.unresolved.length === 1 ? 'has' : 'have'} no file, so the applied schema cannot be rebuilt`;
  } else {
    input.progress?.(`Replaying ${applied.length} applied migration(s) on a shadow`);
    const session = await CaptureSession.open({ project, files, ...shadowOptions });
    try {
      result.shadow = session.shadow.description;
      const { ordered, fileOrder } = sortByHistory(applied, files, aliases);
      const failed = await replayHistory(session, ordered, fileOrder);
      if (failed?.error) {
        driftNote = `skipped: the applied migrations do not replay on an empty database (${failed.error.migration ?? '?'}: ${failed.error.message})`;
      } else {
        const expected = await snapshotSchema(session.knex, snapshotOptions);
        drift = diffSchemas(expected, actual, { ignoreExtensionVersions: session.shadow.kind === 'embedded' }).changes;
        // 2a. Partial runs: objects a pending migration's up creates that the target already has.
        if (pending.length && drift.some((c) => c.change !== 'missing')) {
          overlapByMigration = await overlapWithPending(session, pending, expected, drift, snapshotOptions);
        }
      }
    } finally {
      await session.close();
    }
  }

  // 2b. Partial runs and failing pending migrations: run them on a copy of the target's schema.
  let cloneFailure: CloneFailure | undefined;
  let cloneNote: string | undefined;
  let cloneClean = false;
  if (pending.length && input.useDump !== false && target.kind === 'server') {
    input.progress?.('Copying the target schema (pg_dump --schema-only) to a shadow');
    const version = (await target.knex.raw(`select current_setting('server_version_num')::int as v`)) as { rows: { v: number }[] };
    const dump = await dumpTargetSchema(project, Math.floor((version.rows[0]?.v ?? 150000) / 10000));
    if (!dump.ok) {
      cloneNote = `no copy of the target's schema: ${dump.reason}; partial runs were judged from the replayed migrations only`;
    } else {
      const cloneProject: ProjectConfig = { ...project, migrations: { ...project.migrations, disableMigrationsListValidation: true } };
      const clone = await CaptureSession.open({ project: cloneProject, files, ...shadowOptions });
      try {
        const loaded = await loadSchemaDump(clone.shadow, dump.sql);
        result.clone = `pg_dump ${dump.tool.major} --schema-only of the target, loaded into ${clone.shadow.description}${loaded.failed.length ? ` (${loaded.failed.length} statement(s) not loaded)` : ''}`;
        if (loaded.failed.length)
          cloneNote = `the copy misses ${loaded.failed.length} statement(s) the shadow refused, e.g. ${loaded.failed[0]!.statement.split('\n')[0]} (${loaded.failed[0]!.error})`;
        const historyTable = project.migrations.schemaName ? `${project.migrations.schemaName}.${project.migrations.tableName}` : project.migrations.tableName;
        // The dump has knex's tables but not their rows: the copy gets the target's history.
        if (applied.length) {
          const lastBatch = Math.max(...applied.map((a) => a.batch));
          await clone
            .knex(historyTable)
            .insert([
              ...applied.map((a) => ({ name: aliases.get(a.name)?.name ?? a.name, batch: a.batch, migration_time: a.appliedAt ?? new Date() })),
              ...[...twins].map((name) => ({ name, batch: lastBatch, migration_time: new Date() })),
            ]);
        }
        const outcome = await clone.latest(files);
        if (outcome.error) {
          const trace = outcome.traces.find((t) => t.error);
          const statement = trace?.statements.find((s) => s.error);
          cloneFailure = {
            migration: outcome.error.migration ?? trace?.name ?? '?',
            ...(outcome.error.sqlState ? { sqlState: outcome.error.sqlState } : {}),
            message: outcome.error.message,
            ...(statement ? { statement } : {}),
            ...(trace ? { file: trace.file } : {}),
            ...(outcome.error.detail ? { detail: outcome.error.detail } : {}),
          };
        } else {
          cloneClean = true;
        }
      } finally {
        await clone.close();
      }
    }
  } else if (pending.length && target.kind !== 'server') {
    cloneNote = 'the target is an embedded database: partial runs were judged from the replayed migrations only';
  }

  // Findings: partially applied migrations.
  const partialNames = new Set(overlapByMigration.keys());
  const duplicate = cloneFailure && cloneFailure.sqlState && ALREADY_EXISTS.has(cloneFailure.sqlState) ? cloneFailure : undefined;
  if (duplicate) partialNames.add(duplicate.migration);
  const explained = new Set<string>();
  for (const name of files.map((f) => f.name).filter((n) => partialNames.has(n))) {
    const file = files.find((f) => f.name === name)!;
    const overlap = overlapByMigration.get(name);
    const failure = duplicate?.migration === name ? duplicate : undefined;
    for (const c of overlap?.present ?? []) explained.add(changeKey(c));
    const transactional = await migrationUsesTransaction(file, project);
    const undo = overlap ? orderedStatements(overlap.present, restoreStatement) : [];
    findings.push({
      id: 'partially-applied',
      severity: 'error',
      title: `${name} is partly applied: objects its up creates already exist, but it is not recorded as applied`,
      evidence: [
        `${name}: pending (no row in ${project.migrations.tableName})`,
        transactional
          ? 'it runs in a transaction, so a failed run leaves nothing: these objects were made some other way (by hand, or by another migration)'
          : 'it runs without a transaction (`config = { transaction: false }` or --disable-transactions): a run that stops halfway keeps what it did',
        ...(overlap?.present ?? []).map((c) => `already in the target: ${c.message.replace(/: left behind$/, '')}`),
        ...(overlap?.notYet ?? []).map((c) => `not there yet: ${c.message.replace(/: left behind$/, '')}`),
        ...(failure ? [cloneEvidence(failure)] : []),
      ],
      fix: `Undo what the interrupted run left${undo.length ? ' (the statements below)' : ''}, then run the migration again with \`knexsafe latest\` (after \`knexsafe unlock\` if the lock is still set). Or make its up safe to re-run (knex.schema.hasColumn / hasTable guards, IF NOT EXISTS) and run \`knexsafe latest\`.`,
      commands: [...undo, 'knexsafe latest'],
      migration: name,
      file: file.file,
      ...(failure?.statement?.site ? { line: failure.statement.site.line } : {}),
      data: {
        present: (overlap?.present ?? []).map((c) => c.object),
        notYet: (overlap?.notYet ?? []).map((c) => c.object),
        transactional,
        ...(failure ? { sqlState: failure.sqlState, error: failure.message } : {}),
      },
    });
  }

  // Findings: a pending migration that fails on the target's schema for another reason.
  if (cloneFailure && !duplicate) {
    const relations = cloneFailure.statement ? (await namesInStatement(cloneFailure.statement.sql)).relations : [];
    const explanation = cloneFailure.sqlState
      ? explainFailure({
          relations,
          sqlState: cloneFailure.sqlState,
          message: cloneFailure.message,
          ...(cloneFailure.statement ? { sql: cloneFailure.statement.sql } : {}),
          ...(cloneFailure.detail ? { detail: cloneFailure.detail } : {}),
          migration: cloneFailure.migration,
          ...(cloneFailure.file ? { file: cloneFailure.file } : {}),
          direction: 'up',
          files,
        })
      : undefined;
    findings.push({
      id: 'pending-fails',
      severity: 'error',
      title: `\`knexsafe latest\` will fail: ${cloneFailure.migration} fails on a copy of the target's schema`,
      evidence: [cloneEvidence(cloneFailure), ...(explanation ? [`cause: ${explanation.cause}`] : [])],
      fix: explanation?.fix ?? 'Fix the migration (run `knexsafe check --pending` for the statement-by-statement trace) before running it on the target.',
      commands: ['knexsafe check --pending'],
      migration: cloneFailure.migration,
      ...(cloneFailure.file ? { file: cloneFailure.file } : {}),
      ...(cloneFailure.statement?.site ? { line: cloneFailure.statement.site.line } : {}),
      data: { sqlState: cloneFailure.sqlState, error: cloneFailure.message, statement: cloneFailure.statement?.sql },
    });
  }

  // Findings: drift that no partial run explains.
  if (drift) {
    const rest = drift.filter((c) => !explained.has(changeKey(c)));
    if (rest.length) {
      const statements = orderedStatements(rest, restoreStatement);
      const manual = rest.filter((c) => restoreStatement(c) === undefined);
      const shown = rest.slice(0, 40).map(describeDrift);
      if (rest.length > 40) shown.push(`… and ${rest.length - 40} more (--json lists them all)`);
      findings.push({
        id: 'drift',
        severity: 'error',
        title: `The target's schema differs from what its ${applied.length} applied migration(s) produce (${rest.length} difference${rest.length === 1 ? '' : 's'})`,
        evidence: [
          `expected: the applied migrations replayed on ${result.shadow ?? 'a shadow'}; found: ${target.description}`,
          ...shown,
          ...(manual.length ? [`no ready-made statement for: ${manual.map((c) => c.object).join(', ')} (see the migration that creates them)`] : []),
        ],
        fix: 'If the change was made by hand and is wanted, write it into a new migration (`knexsafe make <name>`), guarded so it does nothing where it already exists, so that every environment gets it. If it is not wanted, revert it on the target with the statements below. If an applied migration file was edited after it ran, restore its original text (`git log -p -- <file>`).',
        commands: statements,
        data: { changes: rest },
      });
    }
  }

  if (pending.length && !partialNames.size && !cloneFailure) {
    findings.push({
      id: 'pending',
      severity: 'info',
      title: `${pending.length} pending migration${pending.length === 1 ? '' : 's'}: \`knexsafe latest\` applies ${pending.length === 1 ? 'it' : 'them'}`,
      evidence: [...pending.map((f) => `${f.name}: pending`), ...(cloneClean ? ["they run cleanly on a copy of the target's schema (pg_dump --schema-only)"] : [])],
      fix: 'Review them with `knexsafe check --pending`, then run `knexsafe latest`.',
      commands: ['knexsafe check --pending', 'knexsafe latest'],
      data: { pending: pending.map((f) => f.name) },
    });
  }

  checks.push({
    name: 'partial',
    status: partialNames.size ? 'problem' : pending.length ? 'ok' : 'skipped',
    ...(pending.length ? (cloneNote ? { note: cloneNote } : result.clone ? { note: result.clone } : {}) : { note: 'no pending migration' }),
  });
  checks.push({
    name: 'drift',
    status: drift === undefined ? 'skipped' : findings.some((f) => f.id === 'drift') ? 'problem' : 'ok',
    ...(driftNote ? { note: driftNote } : result.shadow ? { note: `applied migrations replayed on ${result.shadow}` } : {}),
  });
  return result;
}

function cloneEvidence(f: CloneFailure): string {
  const site = f.statement?.site ? ` at ${displayPath(f.statement.site.file)}:${f.statement.site.line}` : '';
  const sql = f.statement ? ` (\`${f.statement.sql.replace(/\s+/g, ' ').slice(0, 160)}\`)` : '';
  return `on a copy of the target's schema (pg_dump --schema-only), \`latest\` fails in ${f.migration}${site}${sql}: ${f.message}${f.sqlState ? ` [${f.sqlState}]` : ''}`;
}

async function migrationUsesTransaction(file: MigrationFile, project: ProjectConfig): Promise<boolean> {
  if (project.migrations.disableTransactions) return false;
  try {
    return (await loadMigration(file)).transaction !== false;
  } catch {
    return true;
  }
}

/**
 * For each pending migration in order: what its up creates on the replayed shadow, and which of
 * those objects the target already has (drift that the migration itself would make).
 */
async function overlapWithPending(
  session: CaptureSession,
  pending: MigrationFile[],
  expected: SchemaSnapshot,
  drift: SchemaChange[],
  snapshotOptions: { excludeTables: string[] },
): Promise<Map<string, { present: SchemaChange[]; notYet: SchemaChange[] }>> {
  const found = new Map<string, { present: SchemaChange[]; notYet: SchemaChange[] }>();
  const driftByKey = new Map(drift.map((c) => [changeKey(c), c]));
  let before = expected;
  for (const file of pending) {
    const outcome = await session.up(file.name);
    if (outcome.error) break;
    const after = await snapshotSchema(session.knex, snapshotOptions);
    const made = diffSchemas(before, after).changes.filter((c) => c.change !== 'missing');
    before = after;
    const present: SchemaChange[] = [];
    const notYet: SchemaChange[] = [];
    for (const c of made) {
      const d = driftByKey.get(changeKey(c));
      const same = d && (c.change === 'extra' ? d.change === 'extra' : d.change === 'changed' && JSON.stringify(d.actual) === JSON.stringify(c.actual));
      if (same) present.push(d);
      else notYet.push(c);
    }
    if (present.length) found.set(file.name, { present, notYet });
  }
  return found;
}
