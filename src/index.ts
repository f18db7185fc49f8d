/**
 * knexsafe's library API: what a program needs to check, verify, fix and run Knex migrations on
 * PostgreSQL. Every function resolves the project the way the CLI does (knexfile, --cwd, env) and
 * returns a typed result; user errors are thrown as KnexsafeError with a code from ERROR_CODES.
 * test/library/api-surface.test.ts holds the list of these names: change it deliberately.
 */
export { resolveProject, type ProjectConfig, type ProjectOptions } from './config/resolve.js';
export { KnexsafeError, ExitCode, isKnexsafeError, ERROR_CODES, type ErrorCode } from './errors.js';
export { openTarget, type Database } from './db/connect.js';
export { check, type CheckOptions, type CheckReport } from './check/run.js';
export { verify, type VerifyCommandOptions, type VerifyCommandResult } from './verify/run.js';
export type { MigrationVerdict, VerifyReport } from './verify/verify.js';
export { fix, type FixOptions, type FixResult } from './fix/run.js';
export { guardedLatest, guardedUp, type GuardedRunOptions, type GuardedRunResult, type RunPlan, type PlannedMigration, type AttemptRecord, type GuardEvents } from './guard/run.js';
export {
  migrateLatest,
  migrateRollback,
  migrateUp,
  migrateDown,
  migrationStatus,
  unlockMigrations,
  type HistoryContext,
  type StatusReport,
  type BatchResult,
} from './migrations/history.js';
export { makeMigration, makeSeed, type MakeResult } from './make/run.js';
export { initProject } from './init/run.js';
export { runSeeds } from './seeds/run.js';
export { ALL_RULES, ruleById } from './rules/registry.js';
export type { Rule, Finding, Severity } from './rules/types.js';
export { explainFailure, type FailureFacts, type SqlStateExplanation } from './migrations/explain.js';
export { formatJson, formatSarif, formatGithub, formatMarkdown, type MarkdownOptions } from './report/format.js';
export { renderCheckHtml, renderVerifyHtml, renderPlanHtml, type HtmlCheckOptions } from './report/html.js';
export { backfill, onBackfillProgress, type BackfillOptions, type BackfillProgress, type BackfillResult } from './backfill/backfill.js';
export { backupPending, type BackupPendingOptions, type BackupPendingResult } from './backup/pending.js';
export { restoreBackup, listBackups, type BackupManifest, type BackupEntry, type RestoreResult } from './backup/backup.js';
export { runDoctor, type DoctorOptions } from './doctor/doctor.js';
export type { DoctorReport, DoctorFinding } from './doctor/types.js';
export { forgetMigration, renameMigration, type HistoryEditResult } from './doctor/history-edit.js';
export { squash, applySquashHistory, restoreSquashHistory, type SquashOptions, type SquashResult, type SquashProof, type ApplyHistoryOptions, type ApplyHistoryResult } from './squash/index.js';
export { rehashMigrations, type RehashResult } from './migrations/rehash.js';
export type { ChecksumReport, ChecksumVerdict } from './migrations/checksums.js';
export type { StatusChecksums, ChangedMigration } from './migrations/history.js';
