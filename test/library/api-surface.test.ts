import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { apiNames } from './api-names.js';

// The library's public surface. A change here is a change to the API: make it on purpose, with JSDoc
// and an @example on every function, and say so in the notes of the release.
const VALUE_EXPORTS = [
  'ALL_RULES',
  'ERROR_CODES',
  'ExitCode',
  'KnexsafeError',
  'applySquashHistory',
  'backfill',
  'backupPending',
  'check',
  'explainFailure',
  'fix',
  'forgetMigration',
  'formatGithub',
  'formatJson',
  'formatMarkdown',
  'formatSarif',
  'guardedLatest',
  'guardedUp',
  'initProject',
  'isKnexsafeError',
  'listBackups',
  'makeMigration',
  'makeSeed',
  'migrateDown',
  'migrateLatest',
  'migrateRollback',
  'migrateUp',
  'migrationStatus',
  'onBackfillProgress',
  'openTarget',
  'rehashMigrations',
  'renameMigration',
  'renderCheckHtml',
  'renderPlanHtml',
  'renderVerifyHtml',
  'resolveProject',
  'restoreBackup',
  'restoreSquashHistory',
  'ruleById',
  'runDoctor',
  'runSeeds',
  'squash',
  'unlockMigrations',
  'verify',
];
const TYPE_EXPORTS = [
  'ApplyHistoryOptions',
  'ApplyHistoryResult',
  'AttemptRecord',
  'BackfillOptions',
  'BackfillProgress',
  'BackfillResult',
  'BackupEntry',
  'BackupManifest',
  'BackupPendingOptions',
  'BackupPendingResult',
  'BatchResult',
  'ChangedMigration',
  'CheckOptions',
  'CheckReport',
  'ChecksumReport',
  'ChecksumVerdict',
  'Database',
  'DoctorFinding',
  'DoctorOptions',
  'DoctorReport',
  'ErrorCode',
  'FailureFacts',
  'Finding',
  'FixOptions',
  'FixResult',
  'GuardEvents',
  'GuardedRunOptions',
  'GuardedRunResult',
  'HistoryContext',
  'HistoryEditResult',
  'HtmlCheckOptions',
  'MakeResult',
  'MarkdownOptions',
  'MigrationVerdict',
  'PlannedMigration',
  'ProjectConfig',
  'ProjectOptions',
  'RehashResult',
  'RestoreResult',
  'Rule',
  'RunPlan',
  'Severity',
  'SqlStateExplanation',
  'SquashOptions',
  'SquashProof',
  'SquashResult',
  'StatusChecksums',
  'StatusReport',
  'VerifyCommandOptions',
  'VerifyCommandResult',
  'VerifyReport',
];

describe('public API surface', () => {
  it('src/index.ts exports exactly these values at run time', async () => {
    const api = await import('../../src/index.js');
    expect(Object.keys(api).sort()).toEqual(VALUE_EXPORTS);
  });

  it('the compiler sees exactly these value and type exports, and every function has an @example', () => {
    const names = apiNames(path.join(REPO_ROOT, 'src/index.ts'));
    expect(names.values).toEqual(VALUE_EXPORTS);
    expect(names.types).toEqual(TYPE_EXPORTS);
    expect(names.withoutExample).toEqual([]);
  });

  it('the published declarations (dist/index.d.ts) have the same surface, JSDoc examples included', () => {
    const dts = path.join(REPO_ROOT, 'dist/index.d.ts');
    expect(fs.existsSync(dts), 'run npm run build first').toBe(true);
    const names = apiNames(dts);
    expect(names.values).toEqual(VALUE_EXPORTS);
    expect(names.types).toEqual(TYPE_EXPORTS);
    expect(names.withoutExample).toEqual([]);
  });
});
