import type { ProjectConfig } from '../config/resolve.js';
import type { AppliedMigration } from '../migrations/applied.js';
import { compareChecksums, diffSinceApplied, type ChecksumRow } from '../migrations/checksums.js';
import type { MigrationFile } from '../migrations/source.js';
import type { DoctorFinding } from './types.js';

const DIFF_LINES = 40;

/** The diff's lines without the Index/=== header and the trailing empty line. */
function diffBody(diff: string): string[] {
  const lines = diff.split('\n').filter((l) => !/^=+$/.test(l) && !l.startsWith('Index:'));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const day = (d: Date | null | undefined) =>
  d
    ? d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : 'at an unknown time';

/** Applied migrations whose file changed since, applied without a checksum (plain knex), or renamed. */
export function checkChecksums(project: ProjectConfig, files: MigrationFile[], applied: AppliedMigration[], rows: Map<string, ChecksumRow> | undefined): DoctorFinding[] {
  const report = compareChecksums(files, applied, rows, project.migrations);
  const findings: DoctorFinding[] = [];
  for (const c of report.changed) {
    const row = c.recorded!;
    const diff = diffSinceApplied(c.file, row.git);
    const diffLines = diff ? diffBody(diff) : [];
    findings.push({
      id: 'migration-edited',
      severity: 'error',
      title: `${c.name} was edited after it was applied`,
      evidence: [
        `${report.tableName}: sha256 ${row.sha256.slice(0, 12)} recorded by \`knexsafe ${row.recordedBy}\` ${day(row.recordedAt)}${row.git ? `, from commit ${row.git.commit.slice(0, 12)}` : ''}; the file now hashes to ${c.current!.slice(0, 12)}`,
        ...(diff
          ? [
              `diff against the applied version:${[...diffLines.slice(0, DIFF_LINES), ...(diffLines.length > DIFF_LINES ? [`… ${diffLines.length - DIFF_LINES} more lines (--json has the whole diff)`] : [])].map((l) => `\n        ${l}`).join('')}`,
            ]
          : [
              row.git
                ? `git does not have the applied version (blob ${row.git.blob.slice(0, 12)}): no diff`
                : 'the file was not committed (or had changes) when it was applied: no git version to diff against',
            ]),
        'this database ran the old version; an environment that applies the file now gets a different schema, and `knexsafe latest` stops until it is settled',
      ],
      fix: 'Undo the edit (git checkout the applied version) and put the change in a new migration. Only if the edit changes nothing that ran (a comment, formatting, a rename of a variable), accept it after review.',
      commands: [...(row.git ? [`git diff ${row.git.commit.slice(0, 12)} -- ${row.git.path}`] : []), `knexsafe make <describe_the_change>`, `knexsafe history rehash ${c.name}`],
      migration: c.name,
      file: c.file,
      data: { recorded: row.sha256, current: c.current, git: row.git, ...(diff ? { diff } : {}) },
    });
  }
  if (report.unknown.length) {
    const again = report.unknown.filter((u) => u.reason === 'applied-again');
    findings.push({
      id: 'checksum-unknown',
      severity: 'info',
      title: `${report.unknown.length} applied migration${report.unknown.length === 1 ? ' has' : 's have'} no checksum: applied by plain knex${again.length ? ' (or applied again by it after knexsafe recorded them)' : ''}`,
      evidence: [
        ...report.unknown
          .slice(0, 10)
          .map(
            (u) =>
              `${u.name}: ${u.reason === 'applied-again' ? `recorded by knexsafe for an earlier application (knex row ${u.recorded?.knexId}), applied again since` : 'no row in ' + report.tableName}`,
          ),
        ...(report.unknown.length > 10 ? [`… and ${report.unknown.length - 10} more`] : []),
        'knexsafe cannot tell whether these files are what ran',
      ],
      fix: 'Review them (git log -p on the migrations folder), then record the current files as applied; from then on knexsafe reports any edit. Migrations applied with `knexsafe latest` are recorded as they run.',
      commands: ['knexsafe history rehash'],
      data: { migrations: report.unknown.map((u) => ({ name: u.name, reason: u.reason })) },
    });
  }
  for (const r of report.renamed) {
    findings.push({
      id: 'migration-renamed',
      severity: 'error',
      title: `${r.from} was renamed to ${r.to}: same content, new name`,
      evidence: [
        `${r.from} is applied and its file is gone; ${r.to} is pending and hashes to the checksum recorded for ${r.from}`,
        `knex would run ${r.to} as a new migration, applying the same change twice`,
      ],
      fix: `Tell knex the new name (the history row is backed up first), or rename the file back.`,
      commands: [`knexsafe history rename ${r.from} ${r.to}`],
      migration: r.from,
      file: r.file,
      data: { from: r.from, to: r.to },
    });
  }
  return findings;
}
