import fs from 'node:fs';
import path from 'node:path';
import type { ProjectOptions } from '../config/resolve.js';
import { KnexsafeError } from '../errors.js';
import type { Finding, Severity } from '../rules/types.js';
import type { SchemaSnapshot } from '../schema/types.js';
import { knexsafeRoot } from '../util/package-version.js';
import type {
  CheckInput,
  CheckOutput,
  DoctorOutput,
  ExplainInput,
  ExplainOutput,
  FixInput,
  FixOutput,
  LatestInput,
  LatestOutput,
  MakeInput,
  MakeOutput,
  SchemaInput,
  SchemaOutput,
  StatusOutput,
  VerifyInput,
  VerifyOutput,
} from './schemas.js';

/**
 * The tools' work: each calls the library entry point the CLI command calls and trims its typed
 * result to what an assistant needs (paths relative to the project, findings with their fix code).
 * Nothing here writes to the project unless the input says `write: true`; the target database is
 * only read (`migrate_latest`, exposed only with --allow-apply, is the one exception).
 */

export interface ToolContext {
  /** The project's options, as the CLI's global flags give them (cwd absolute). */
  project: ProjectOptions;
  shadowUrl?: string;
  progress(message: string): void;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** Resource URI of a rule's docs page. */
export function ruleUri(id: string): string {
  return `knexsafe://rules/${id}`;
}

function relative(ctx: ToolContext, file: string): string {
  const root = ctx.project.cwd ?? process.cwd();
  const rel = path.relative(root, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file;
}

function shadowOf(ctx: ToolContext): { shadowUrl?: string } {
  return ctx.shadowUrl ? { shadowUrl: ctx.shadowUrl } : {};
}

export async function makeMigrationTool(input: MakeInput, ctx: ToolContext): Promise<MakeOutput> {
  const [{ makeMigration }, { describeIntent }] = await Promise.all([import('../make/run.js'), import('../make/describe.js')]);
  const result = await makeMigration({
    ...ctx.project,
    ...shadowOf(ctx),
    name: input.name,
    print: input.write !== true,
    ...(input.extension ? { extension: input.extension } : {}),
    ...(input.stub ? { stub: true } : {}),
    ...(input.simple ? { simple: true } : {}),
    ...(input.backup === false ? { backup: false } : {}),
    ...(input.values ? { values: input.values } : {}),
    ...(input.set !== undefined ? { set: input.set } : {}),
    ...(input.batch_size !== undefined ? { batchSize: input.batch_size } : {}),
    ...(input.on_delete !== undefined ? { onDelete: input.on_delete } : {}),
    ...(input.types ? { types: Object.entries(input.types).map(([column, type]) => `${column}:${type}`) } : {}),
    ...(input.lock_timeout !== undefined ? { lockTimeout: input.lock_timeout } : {}),
  });
  return {
    written: result.written,
    understood: result.intent.kind === 'stub' ? 'knex’s plain stub: write up and down by hand' : describeIntent(result.intent),
    files: result.files.map((f) => ({ path: relative(ctx, f.path), name: path.basename(f.path), role: f.role, content: f.content })),
    warnings: result.warnings,
    ...(result.written ? {} : { note: 'Not written: call again with write: true to create the file(s).' }),
  };
}

function shapeFinding(ctx: ToolContext, f: Finding): CheckOutput['findings'][number] {
  const file = relative(ctx, f.file);
  return {
    rule: f.rule,
    severity: f.severity,
    message: f.message,
    migration: f.migration,
    file,
    ...(f.line !== undefined ? { line: f.line } : {}),
    location: f.line !== undefined ? `${file}:${f.line}${f.column !== undefined ? `:${f.column}` : ''}` : file,
    ...(f.sql ? { sql: f.sql } : {}),
    ...(f.lock ? { lock: { mode: f.lock.sql, relation: f.lock.relation, blocks: f.lock.blocks.description } } : {}),
    why: f.why,
    ...(f.fix ? { fix: { description: f.fix.description, code: f.fix.code, wholeMigration: f.fix.wholeMigration === true } } : {}),
    docs: ruleUri(f.rule),
    ...(f.suppressed ? { suppressed: f.suppressed.reason } : {}),
  };
}

export async function checkTool(input: CheckInput, ctx: ToolContext): Promise<{ output: CheckOutput; failure?: string }> {
  const { check } = await import('../check/run.js');
  const report = await check({
    ...ctx.project,
    ...shadowOf(ctx),
    ...(input.names?.length ? { names: input.names } : {}),
    ...(input.pending ? { pending: true } : {}),
    ...(input.all ? { all: true } : {}),
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
    ...(input.pg_version !== undefined ? { pgVersion: input.pg_version } : {}),
    cache: true,
    progress: ctx.progress,
  });
  const least = RANK[input.min_severity ?? 'warning'];
  const active = report.findings.filter((f) => !f.suppressed);
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of active) counts[f.severity]++;
  const failed = report.migrations.filter((m) => m.failed && !m.failed.underProjectKnex?.runs);
  const listed = report.findings.filter((f) => RANK[f.severity] >= least);
  const output: CheckOutput = {
    ok: counts.error === 0 && failed.length === 0,
    scope: report.scope,
    shadow: report.shadow ?? null,
    target: report.target ?? null,
    pgVersion: report.pgVersion,
    summary: { ...counts, suppressed: report.findings.length - active.length, failed: failed.length, listed: listed.length },
    migrations: report.migrations.map((m) => ({
      name: m.name,
      file: relative(ctx, m.file),
      ...(m.failed ? { failed: m.failed.message } : {}),
    })),
    notReached: report.notReached ?? [],
    findings: listed.map((f) => shapeFinding(ctx, f)),
    warnings: report.warnings,
  };
  // A migration that cannot run is the assistant's to fix before any finding matters: a tool error.
  const failure = failed.length ? failed.map((m) => `${m.name} failed on the shadow database: ${m.failed!.message}`).join('\n') : undefined;
  return failure ? { output, failure } : { output };
}

export async function verifyTool(input: VerifyInput, ctx: ToolContext): Promise<VerifyOutput> {
  const { verify } = await import('../verify/run.js');
  const report = await verify({
    ...ctx.project,
    ...shadowOf(ctx),
    ...(input.names?.length ? { names: input.names } : {}),
    ...(input.pending ? { pending: true } : {}),
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
    ...(input.data === false ? { noData: true } : {}),
    cache: true,
    events: { progress: ctx.progress },
  });
  return {
    ok: report.ok,
    selection: report.selection,
    shadow: report.shadow,
    migrations: report.verdicts.map((v) => ({
      name: v.name,
      file: relative(ctx, v.file),
      reversible: v.status === 'reversible',
      status: v.status,
      problems: v.findings.map((f) => ({
        rule: f.rule,
        message: f.message,
        ...(f.error?.site ? { at: `${relative(ctx, f.error.site.file)}:${f.error.site.line}` } : {}),
      })),
      diff: v.diff.map((c) => c.message),
      dataLoss: v.dataLoss.map((d) => ({ table: d.table, columns: d.columns, missingRows: d.missingRows, message: d.message })),
      notes: v.notes,
    })),
    notReached: report.notReached,
    unfilled: report.probe.unfilled.map((u) => `${u.table} (${u.reason})`),
    warnings: report.warnings,
  };
}

export async function fixTool(input: FixInput, ctx: ToolContext): Promise<FixOutput> {
  const { fix } = await import('../fix/run.js');
  const result = await fix({
    ...ctx.project,
    ...shadowOf(ctx),
    ...(input.names?.length ? { names: input.names } : {}),
    severity: input.min_severity ?? 'warning',
    ...(input.rules?.length ? { rules: input.rules } : {}),
    dryRun: input.write !== true,
    ...(input.pg_version !== undefined ? { pgVersion: input.pg_version } : {}),
    progress: ctx.progress,
  });
  const after = result.after;
  return {
    written: result.written,
    changes: result.changes.map((c) => ({ kind: c.kind, name: c.name, file: relative(ctx, c.file), rules: [...new Set(c.fixes.map((f) => f.rule))] })),
    skipped: result.skipped.map((s) => ({ rule: s.rule, migration: s.migration, reason: s.reason })),
    diff: result.diff,
    ...(after
      ? {
          after: {
            failed: after.failed,
            errorsWithFix: after.errorsWithFix.map((f) => ({ rule: f.rule, migration: f.migration, message: f.message, ...(f.line !== undefined ? { line: f.line } : {}) })),
            counts: {
              error: after.findings.filter((f) => f.severity === 'error').length,
              warning: after.findings.filter((f) => f.severity === 'warning').length,
              info: after.findings.filter((f) => f.severity === 'info').length,
            },
          },
        }
      : {}),
    ...(result.verify ? { verify: result.verify } : {}),
    ...(result.written ? {} : result.changes.length ? { note: 'Dry run: nothing was written. Call again with write: true to apply the diff.' } : {}),
  };
}

export async function schemaTool(input: SchemaInput, ctx: ToolContext): Promise<SchemaOutput> {
  const [{ resolveProject }, { selectMigrations }, { CaptureSession }, { snapshotSchema }] = await Promise.all([
    import('../config/resolve.js'),
    import('../migrations/selection.js'),
    import('../capture/session.js'),
    import('../schema/snapshot.js'),
  ]);
  const project = await resolveProject(ctx.project);
  const selection = await selectMigrations(project, { ...(input.to ? { to: input.to } : { all: true }) }, 'all');
  const files = input.to ? selection.files.slice(0, selection.files.indexOf(selection.selected[selection.selected.length - 1]!) + 1) : selection.files;
  let snapshot: SchemaSnapshot | undefined;
  if (files.length) {
    ctx.progress(`Replaying ${files.length} migration${files.length === 1 ? '' : 's'} on a shadow database`);
    const shadowUrl = ctx.shadowUrl ?? project.knexsafe.shadowUrl;
    const session = await CaptureSession.open({ project, files, observeEffects: false, ...(shadowUrl ? { shadowUrl } : {}) });
    try {
      const outcome = await session.replay(files);
      if (outcome.error) {
        throw new KnexsafeError(
          'SCHEMA_UNAVAILABLE',
          `Replaying the migrations on a shadow database failed${outcome.error.migration ? ` at ${outcome.error.migration}` : ''}: ${outcome.error.message}`,
          {
            hint: 'Fix that migration (check_migrations shows the details), then ask for the schema again.',
          },
        );
      }
      snapshot = await snapshotSchema(session.knex, { excludeTables: [project.migrations.tableName, `${project.migrations.tableName}_lock`] });
    } finally {
      await session.close();
    }
  }
  const wanted = input.tables?.length ? new Set(input.tables) : undefined;
  const tables = Object.values(snapshot?.tables ?? {}).filter((t) => !wanted || wanted.has(t.name) || wanted.has(`${t.schema}.${t.name}`));
  return {
    upTo: files[files.length - 1]?.name ?? null,
    migrations: files.length,
    tables: tables.map((t) => ({
      name: t.schema === 'public' ? t.name : `${t.schema}.${t.name}`,
      columns: t.columnOrder
        .map((c) => t.columns[c]!)
        .map((c) => ({
          name: c.name,
          type: c.type,
          nullable: c.nullable,
          default: c.default,
          ...(c.identity ? { identity: c.identity } : {}),
          ...(c.generated ? { generated: c.generated } : {}),
        })),
      constraints: Object.values(t.constraints).map((c) => ({ name: c.name, kind: c.kind, definition: c.definition, ...(c.validated ? {} : { validated: false }) })),
      indexes: Object.values(snapshot?.indexes ?? {})
        .filter((i) => i.table === `${t.schema}.${t.name}`)
        .map((i) => ({ name: i.name, definition: i.definition, unique: i.unique, ...(i.valid ? {} : { valid: false }) })),
    })),
    enums: wanted ? [] : Object.values(snapshot?.enums ?? {}).map((e) => ({ name: e.schema === 'public' ? e.name : `${e.schema}.${e.name}`, values: e.values })),
    views: wanted ? [] : Object.values(snapshot?.views ?? {}).map((v) => ({ name: v.schema === 'public' ? v.name : `${v.schema}.${v.name}`, materialized: v.materialized, definition: v.definition })),
  };
}

export async function statusTool(ctx: ToolContext): Promise<StatusOutput> {
  const [{ resolveProject }, { listMigrationFiles }] = await Promise.all([import('../config/resolve.js'), import('../migrations/source.js')]);
  const project = await resolveProject(ctx.project);
  if (project.target.kind === 'none') {
    const files = listMigrationFiles(project.migrations);
    return {
      target: null,
      migrations: files.map((f) => ({ name: f.name, state: 'unknown', batch: null, appliedAt: null, file: relative(ctx, f.file) })),
      applied: 0,
      pending: 0,
      missingFiles: 0,
      locked: false,
      outOfOrder: [],
      note: 'No target database is configured (no connection in the knexfile, DATABASE_URL unset): these are the migration files, in the order knex runs them. check_migrations and verify_migrations need no database.',
    };
  }
  const [{ openTarget }, { migrationStatus }] = await Promise.all([import('../db/connect.js'), import('../migrations/history.js')]);
  const db = await openTarget(project);
  try {
    const report = await migrationStatus({ db, project });
    return {
      target: db.description,
      migrations: report.migrations.map((m) => ({ name: m.name, state: m.state, batch: m.batch, appliedAt: m.appliedAt, file: m.file ? relative(ctx, m.file) : null })),
      applied: report.applied,
      pending: report.pending,
      missingFiles: report.missingFiles,
      locked: report.locked,
      outOfOrder: report.outOfOrder,
      ...(report.historyTableExists ? {} : { note: `The target has no ${project.migrations.tableName} table yet: no migration has run there.` }),
    };
  } finally {
    await db.close();
  }
}

export async function doctorTool(input: { shadow?: boolean | undefined }, ctx: ToolContext): Promise<DoctorOutput> {
  const { runDoctor } = await import('../doctor/doctor.js');
  const report = await runDoctor({ ...ctx.project, ...shadowOf(ctx), ...(input.shadow === false ? { noShadow: true } : {}), progress: ctx.progress });
  return {
    ok: report.ok,
    database: report.database,
    applied: report.applied,
    pending: report.pending,
    checks: report.checks.map((c) => ({ name: c.name, status: c.status, ...(c.note ? { note: c.note } : {}) })),
    findings: report.findings.map((f) => ({
      id: f.id,
      severity: f.severity,
      title: f.title,
      evidence: f.evidence,
      fix: f.fix,
      commands: f.commands,
      ...(f.migration ? { migration: f.migration } : {}),
      ...(f.file ? { file: relative(ctx, f.file) } : {}),
      ...(f.line !== undefined ? { line: f.line } : {}),
    })),
  };
}

/** The docs page of a rule, from the docs/ folder knexsafe ships. */
export function ruleDocs(id: string): string | undefined {
  const file = path.join(knexsafeRoot() ?? '.', 'docs', 'rules', `${id}.md`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

export async function explainTool(input: ExplainInput): Promise<ExplainOutput> {
  const { ALL_RULES } = await import('../rules/registry.js');
  const rule = ALL_RULES.find((r) => r.meta.id === input.rule);
  if (!rule) {
    const near = ALL_RULES.map((r) => r.meta.id).filter((id) => id.includes(input.rule) || input.rule.includes(id.split('-')[0]!));
    throw new KnexsafeError('BAD_OPTION', `"${input.rule}" is not a rule id.${near.length ? ` Rules with a similar name: ${near.slice(0, 5).join(', ')}.` : ''}`, {
      hint: `The rules: ${ALL_RULES.map((r) => r.meta.id).join(', ')}.`,
    });
  }
  return {
    rule: rule.meta.id,
    severity: rule.meta.severity,
    category: rule.meta.category,
    summary: rule.meta.summary,
    docs: ruleDocs(rule.meta.id)?.trim() ?? null,
    resource: ruleUri(rule.meta.id),
  };
}

export async function latestTool(input: LatestInput, ctx: ToolContext): Promise<LatestOutput> {
  const { guardedLatest } = await import('../guard/run.js');
  const result = await guardedLatest({
    ...ctx.project,
    ...shadowOf(ctx),
    dryRun: input.write !== true,
    events: { progress: ctx.progress },
  });
  return {
    applied: !result.dryRun,
    database: result.database,
    pending: result.plan.pending.map((p) => p.name),
    layout: result.plan.layout,
    blocking: result.plan.blocking.map((b) => ({ rule: b.rule, severity: b.severity, migration: b.migration, message: b.message })),
    migrations: result.migrations.map((m) => ({ name: m.name, durationMs: Math.round(m.durationMs) })),
    batch: result.batch,
    warnings: result.warnings,
    ...(result.dryRun ? { note: 'Plan only: nothing ran. Call again with write: true to apply the pending migrations.' } : {}),
  };
}
