/**
 * knexsafe's library API: everything the CLI does, callable from tests and other programs.
 */
export { resolveProject, type ProjectConfig, type ProjectOptions } from './config/resolve.js';
export { KnexsafeError, ExitCode, isKnexsafeError } from './errors.js';
export { openTarget, openServer, openEmbeddedDatabase, type Database } from './db/connect.js';
export { createShadow, type Shadow, type ShadowOptions } from './shadow/shadow.js';
export { CaptureSession, type RunOutcome } from './capture/session.js';
export type { CapturedStatement, MigrationTrace, ObservedLock, CallSite } from './capture/types.js';
export { snapshotSchema, diffSchemas, formatDiff, type SchemaSnapshot, type SchemaDiff, type SchemaChange } from './schema/index.js';
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
export { listMigrationFiles, loadMigration, KnexsafeMigrationSource, type MigrationFile } from './migrations/source.js';
export { check, type CheckOptions, type CheckReport } from './check/run.js';
export { verify, type VerifyCommandOptions, type VerifyCommandResult } from './commands/verify.js';
export { verifyMigrations, type MigrationVerdict, type VerifyReport } from './verify/verify.js';
export { makeMigration, makeSeed, type MakeResult } from './commands/make.js';
export { initProject } from './commands/init.js';
export { runSeeds } from './commands/seed.js';
export { ALL_RULES, ruleById } from './rules/registry.js';
export type { Rule, Finding, Severity, RuleContext, AnalyzedStatement, MigrationUnit } from './rules/types.js';
export { formatText, formatJson, formatSarif, formatGithub, formatMarkdown } from './report/format.js';
export { renderCheckHtml, renderVerifyHtml, renderPlanHtml, type HtmlCheckOptions } from './report/html.js';
export { buildTimelines, renderTimelineSvg, renderTimelinesSvgFile, timelineMarkdown, type TimelineGroup, type TimelineRow, type LockBar, type TimelineStatement } from './report/timeline.js';
export { guardedLatest, guardedUp, type GuardedRunOptions, type GuardedRunResult, type RunPlan, type PlannedMigration, type AttemptRecord, type GuardEvents } from './guard/run.js';
export { resolveGuardSettings, GUARD_DEFAULTS, type GuardSettings } from './guard/settings.js';
export { ADVISORY_LOCK_CLASS, LOCK_HOLDERS_SQL, advisoryLockName } from './guard/control.js';
export type { BlockingSession } from './guard/blockers.js';
export { backupTargets, restoreBackup, readManifest, listBackups, type BackupManifest, type BackupEntry, type BackupResult, type RestoreResult } from './backup/backup.js';
export { backupPending, type BackupPendingOptions, type BackupPendingResult } from './backup/pending.js';
export { destructiveTargets, type BackupTarget } from './backup/targets.js';
export { backfill, onBackfillProgress, BACKFILL_STATE_TABLE, type BackfillOptions, type BackfillProgress, type BackfillResult } from './backfill/backfill.js';
export { runDoctor, type DoctorOptions } from './doctor/doctor.js';
export type { DoctorReport, DoctorFinding } from './doctor/types.js';
export { forgetMigration, renameMigration, type HistoryEditResult } from './doctor/history-edit.js';
export { explainFailure, EXPLAINED_SQLSTATES, type FailureFacts, type SqlStateExplanation } from './doctor/explain.js';
export { squash, applySquashHistory, restoreSquashHistory, type SquashOptions, type SquashResult, type SquashProof, type ApplyHistoryOptions, type ApplyHistoryResult } from './squash/index.js';
export { rehashMigrations, type RehashResult } from './migrations/rehash.js';
export { checksumTableName, compareChecksums, hashMigrationContent, readChecksums, type ChecksumReport, type ChecksumRow, type ChecksumVerdict } from './migrations/checksums.js';
export type { StatusChecksums, ChangedMigration } from './migrations/history.js';
