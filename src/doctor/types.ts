/** Stable ids of doctor findings (documented in docs/doctor.md). */
export type DoctorFindingId =
  | 'stale-lock'
  | 'migration-running'
  | 'missing-file'
  | 'extension-changed'
  | 'duplicate-identity'
  | 'out-of-order'
  | 'duplicate-timestamp'
  | 'partially-applied'
  | 'pending-fails'
  | 'drift'
  | 'pending'
  | 'no-history'
  | 'migration-edited'
  | 'checksum-unknown'
  | 'migration-renamed';

export type DoctorSeverity = 'error' | 'warning' | 'info';

export interface DoctorFinding {
  id: DoctorFindingId;
  severity: DoctorSeverity;
  /** What is wrong, in one line. */
  title: string;
  /** What was observed, one fact per line (rows, sessions, files, schema differences). */
  evidence: string[];
  /** What to do, in words. */
  fix: string;
  /** The fix as commands to run, in order (shell commands, or SQL statements ending in `;`). */
  commands: string[];
  migration?: string;
  file?: string;
  line?: number;
  /** Machine-readable facts behind the finding. */
  data?: Record<string, unknown>;
}

export type DoctorCheckName = 'lock' | 'files' | 'checksums' | 'order' | 'timestamps' | 'partial' | 'drift';

export interface DoctorCheck {
  name: DoctorCheckName;
  status: 'ok' | 'problem' | 'skipped';
  /** Why skipped, or how it was checked. */
  note?: string;
}

export interface DoctorReport {
  database: string;
  /** The shadow the schema checks ran on, when they ran. */
  shadow?: string;
  /** How the copy of the target's schema was made for the partial-run check. */
  clone?: string;
  /** No error or warning finding. */
  ok: boolean;
  findings: DoctorFinding[];
  checks: DoctorCheck[];
  applied: number;
  pending: number;
  durationMs: number;
}
