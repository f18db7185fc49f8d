import { resolveProject, type ProjectOptions } from '../config/resolve.js';
import { verifyMigrations, type VerifyEvents, type VerifyReport } from './verify.js';
import { replayBefore, selectMigrations, type SelectionOptions } from '../migrations/selection.js';
import { ShadowDatabaseReservation } from '../shadow/server-database.js';

export interface VerifyCommandOptions extends ProjectOptions, SelectionOptions {
  shadowUrl?: string;
  noData?: boolean;
  events?: VerifyEvents;
  /** Longest a migration (and on a server shadow, a statement) may run on the shadow. */
  timeoutMs?: number;
  /** The warm cache of shadow states (see VerifyOptions.cache). */
  cache?: boolean;
}

export interface VerifyCommandResult extends VerifyReport {
  selection: string;
  /** What the user should know before trusting the result (e.g. the project is on another knex major). */
  warnings: string[];
}

/**
 * `knexsafe verify`: proves, on a shadow database, that every selected migration's down undoes its up.
 * @example
 * const result = await verify({ cwd: '/srv/app' });
 * if (!result.ok) console.log(result.verdicts.filter((v) => v.status !== 'reversible').map((v) => v.name));
 */
export async function verify(options: VerifyCommandOptions): Promise<VerifyCommandResult> {
  // A server given on the command line: its database is created while the project is read and
  // the migrations chosen (as check does), not after. Not when the target says what is pending:
  // often nothing is.
  const early = options.shadowUrl && !options.pending ? new ShadowDatabaseReservation(options.shadowUrl) : undefined;
  void early?.start();
  try {
    return await verifyProject(options, early);
  } finally {
    await early?.release();
  }
}

async function verifyProject(options: VerifyCommandOptions, early: ShadowDatabaseReservation | undefined): Promise<VerifyCommandResult> {
  const project = await resolveProject(options);
  const selection = await selectMigrations(project, options, 'all');
  const shadowUrl = options.shadowUrl ?? project.knexsafe.shadowUrl;
  const report = await verifyMigrations({
    project,
    files: selection.files,
    selection: selection.selected,
    replay: replayBefore(selection),
    ...(shadowUrl ? { shadowUrl } : {}),
    ...(early && early.serverUrl === shadowUrl ? { shadowReservation: early } : {}),
    ...(options.noData ? { noData: true } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.events ? { events: options.events } : {}),
    ...(options.cache ? { cache: true } : {}),
  });
  return { ...report, selection: selection.reason, warnings: project.warnings };
}
