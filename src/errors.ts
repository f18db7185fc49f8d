import { redactSecrets } from './util/redact.js';

/** Exit codes are a contract: 0 ok, 1 findings or failures, 2 usage / configuration error. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Every code a KnexsafeError carries (the `code` of `--json` errors), with what it means.
 * docs/errors.md lists them (test/library/errors.test.ts keeps the two in step); an unknown code does not compile.
 */
export const ERROR_CODES = {
  AFTER_CREATE_FAILED: "The knexfile's `pool.afterCreate` failed on the shadow database.",
  ALREADY_IN_HISTORY: 'The migrations table already has a row of the new name.',
  AMBIGUOUS_MIGRATION: 'The name given matches several rows of the migrations table.',
  APPLIED_ELSEWHERE: 'Another process applied the pending migrations meanwhile; nothing was left to apply.',
  BACKFILL_COMPOSITE_KEY: 'The table `backfill()` walks has a primary key of several columns.',
  BACKFILL_FAILED: 'A batch of `backfill()` failed; the message says the key it reached.',
  BACKFILL_IN_TRANSACTION: '`backfill()` was given a transaction; its batches must commit one by one.',
  BACKFILL_NO_PRIMARY_KEY: 'The table `backfill()` walks has no primary key.',
  BACKFILL_NO_TABLE: 'The table `backfill()` was asked to walk does not exist.',
  BACKUP_FAILED: 'Backing up before a destructive change failed, so nothing was run.',
  BACKUP_FORMAT: "A backup's format is one this knexsafe does not read.",
  BACKUP_MANIFEST_DAMAGED: "A backup's manifest.json cannot be read.",
  BACKUP_NOT_FOUND: 'The folder given is not a knexsafe backup (it has no manifest.json).',
  BAD_DB_OPTION: '`--db` is not `embedded`, `embedded:<dir>` or a postgres:// URL.',
  BAD_EXTENSION: '`-x` names an extension other than js, ts, mjs or cjs.',
  BAD_NAME: 'A migration, seed or baseline name is empty or a path instead of a name.',
  BAD_OPTION: 'An option (flag, config key or library option) has a value knexsafe does not accept.',
  BAD_RANGE: '`--from` names a migration that comes after `--to`.',
  BAD_SESSION_SETTING: 'A session setting from the knexfile is rejected by PostgreSQL.',
  BAD_SHADOW_URL: '`--shadow-url` is not a postgres:// URL.',
  CACHE_ENTRY_GONE: 'The warm cache lost an entry while the run read it; running again fixes it.',
  CANNOT_CREATE_DIRECTORY: 'A folder knexsafe must create cannot be created (permissions).',
  CHECKSUMS_UNREADABLE: "The checksum table exists but is not knexsafe's, so applied migrations cannot be compared with their files.",
  CHECK_FAILED: '`latest` or `up` stopped before changing anything: the check found errors in the pending migrations.',
  CLIENT_NOT_POSTGRES: 'The knexfile (or `--client`) names a client other than PostgreSQL.',
  CONNECTION_FAILED: 'The database cannot be reached or refused the connection.',
  CWD_NOT_FOUND: 'The working directory (`--cwd`) does not exist.',
  EMBEDDED_DIR_NOT_EMPTY: 'The embedded database folder holds other files, so knexsafe will not create a database there.',
  FILE_EXISTS: 'A file the command would write already exists; knexsafe does not overwrite it.',
  FILE_NOT_FOUND: 'A file given on the command line, or required by the knexfile or a migration, does not exist.',
  FILE_STILL_THERE: 'The migration to forget still has its file, so knex would run it again.',
  FILE_SYSTEM: "A file-system operation failed for a reason that is the user's to fix (permissions, a file for a folder).",
  FIX_CUSTOM_SOURCE: 'The knexfile lists migrations through its own `migrationSource`, so `fix` cannot tell which file holds each one.',
  FIX_NOT_WRITABLE: 'A migration file or folder `fix` must write is not writable; nothing was changed.',
  FIX_SEVERAL_DIRECTORIES: 'The knexfile names several migrations folders and `fix` works on one.',
  FIX_TARGET_UNREADABLE: 'Reading which migrations the target has applied failed, so `fix` cannot tell which files it may edit.',
  INTERNAL: 'An unexpected error: a knexsafe bug (JSON output only; `--debug` shows the stack).',
  INTERRUPTED: 'The run was interrupted (Ctrl-C, SIGTERM) and knexsafe ended the migration.',
  INVALID_CONFIG: "knexsafe's own settings (the knexfile's `knexsafe` key or a knexsafe.config.* file) are not valid.",
  INVALID_KNEXFILE: 'The knexfile does not export a configuration object knexsafe can use.',
  INVALID_MIGRATION: 'knex refused to run a migration (it does not export up and down); nothing of the batch was applied.',
  INVALID_TARGETS: 'The list of fleet targets is not a list, or a target in it is invalid or names no connection, database or schema.',
  KNEXFILE_FAILED: 'The knexfile exports a function, and calling it threw.',
  KNEXFILE_NOT_FOUND: 'No knexfile: the one given with `--knexfile` does not exist, or none was found and DATABASE_URL is not set.',
  LOCK_TIMEOUT: 'A migration kept waiting for a lock past `lock_timeout` on every attempt, so knexsafe gave up.',
  MAKE_UNRESOLVED: "`make` cannot tell what the migration's name asks for, or it names something the schema does not have.",
  MIGRATIONS_DIR_MISSING: 'The migrations directory does not exist.',
  MIGRATIONS_DIR_NOT_A_DIRECTORY: 'The migrations directory is a file, not a folder.',
  MIGRATION_CHANGED: '`latest` or `up` stopped before changing anything: an applied migration was edited after it was applied (its checksum differs).',
  MIGRATION_ESCAPED: 'A migration failed after it had ended (an unawaited query or timer); the run stops on it.',
  MIGRATION_FAILED: 'A migration failed while it ran on the target.',
  MIGRATION_IDLE: 'A migration sent no statement for longer than `--idle-timeout` and knexsafe ended it.',
  MIGRATION_LOCKED: "knex's migration lock is held, so the command left the database alone.",
  MIGRATION_LOCK_MISSING: "knex's lock table is missing, so its lock cannot be taken.",
  MIGRATION_RUNNING: "A migration is running on the database, so `unlock` left knex's lock alone.",
  MIGRATION_SOURCE_FAILED: "The knexfile's `migrationSource.getMigrations()` threw.",
  MIGRATION_TIMEOUT: 'A migration ran longer than `--timeout` and knexsafe ended it.',
  MISSING_MIGRATION_FILES: 'The database records applied migrations whose files are missing.',
  MODULE_LOAD_FAILED: 'Loading the knexfile or a migration threw.',
  MODULE_NOT_FOUND: 'The knexfile or a migration imports a package that is not installed.',
  NOT_APPLIED: '`history rehash` was given a migration that is not applied, so it has no checksum to accept.',
  NOT_A_DIRECTORY: 'A folder knexsafe must create has a file in its place.',
  NOT_A_FILE: 'A path given as a file is a folder.',
  NOT_IN_HISTORY: 'The migrations table has no row of the name given.',
  NO_CONNECTION: 'The command needs a target database and none is configured (knexfile, DATABASE_URL, `--connection`).',
  NO_HISTORY: 'The database has no knex migrations table.',
  NO_MIGRATIONS: 'There are no migrations to squash.',
  NO_MIGRATIONS_DIR: 'The migrations folder `fix` would rewrite does not exist.',
  NO_TARGETS: "The fleet is empty: no target is listed (`--targets` file, or the config's `knexsafe.targets`).",
  OUTPUT_FAILED: 'The report file given with `--output` cannot be written.',
  PG_DUMP_FAILED: 'pg_dump failed on the shadow database, or cannot be pointed at it.',
  REPLAY_FAILED: 'Replaying an already applied migration on the shadow database failed.',
  RESTORE_FAILED: 'Restoring a backup failed; nothing was changed.',
  SCHEMA_UNAVAILABLE: 'Replaying the migrations on a shadow database failed, so the schema they build cannot be read.',
  SEEDS_DIR_MISSING: 'The seeds directory does not exist.',
  SEED_FAILED: 'A seed file failed.',
  SESSION_LOST: "The migration's database session ended under it.",
  SHADOW_CREATE_FAILED: 'The shadow server does not let this user create the shadow database.',
  SHADOW_TIMEOUT: 'A migration ran longer than `--timeout` on the shadow database.',
  SQL_SYNTAX_ERROR: 'A .sql file given to `check` is not valid SQL.',
  SQUASH_ARCHIVE_EXISTS: 'A file to archive already exists in the archive folder.',
  SQUASH_BAD_ARCHIVE: 'The archive folder is unusable (the migrations folder itself, or one knex would load).',
  SQUASH_BAD_BACKUP: 'The history backup to restore cannot be read.',
  SQUASH_BAD_MANIFEST: "A squash's squash.json cannot be read.",
  SQUASH_BAD_NAME: 'The baseline would sort after a migration that is kept.',
  SQUASH_CHAIN_FAILED: 'The chain to squash fails on a fresh shadow database, so no baseline can be proven.',
  SQUASH_CUSTOM_SOURCE: 'The knexfile lists migrations through its own `migrationSource`, which `squash` cannot write for.',
  SQUASH_CYCLE: 'Objects of the squashed schema depend on each other in a cycle the baseline cannot order.',
  SQUASH_EXISTS: 'The baseline file `squash` would write already exists.',
  SQUASH_HISTORY_REFUSED: 'The migrations table does not match the squash, so its history was not rewritten.',
  SQUASH_NEEDS_SERVER: '`--ddl pg_dump` needs a server shadow database.',
  SQUASH_NO_BACKUP: 'The history backup to restore does not exist.',
  SQUASH_NO_MANIFEST: 'There is no squash to apply to the history (no squash.json).',
  SQUASH_NO_PG_DUMP: "No pg_dump of the server's version or newer was found.",
  SQUASH_RESTORE_CONFLICT: 'The migrations table already records rows of the backup: it was restored already.',
  SQUASH_TOO_MUCH_DATA: 'The squashed migrations leave more rows than `--max-rows` allows in the baseline.',
  SQUASH_UNREPRESENTABLE: 'The baseline SQL holds text `knex.raw` cannot pass through unchanged.',
  SQUASH_UNSUPPORTED: 'The squashed schema has objects the baseline generator does not rebuild.',
  SQUASH_WRITE_FAILED: 'Writing the squash failed; the moved files were put back.',
  SYNTAX_ERROR: 'The knexfile or a migration is not valid JavaScript or TypeScript.',
  TARGETS_FILE: 'The targets file given with `--targets` cannot be read or parsed.',
  TARGETS_QUERY: 'The query that lists the fleet targets from a database failed.',
  TARGET_FAILED: 'One target of a fleet run failed with an unexpected error.',
  UNHANDLED_REJECTION: 'A promise nobody awaited was rejected, so the run stopped.',
  UNKNOWN_ENV: 'The knexfile has no environment of the name asked for (`--env`, `NODE_ENV`).',
  UNKNOWN_MIGRATION: 'No migration has the name given (the message suggests close names).',
  UNKNOWN_SEED: 'No seed file has the name given.',
  USAGE: 'The command line is wrong: an unknown command or flag, a missing argument, or options that exclude each other.',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * An error meant for the user: a stable code, one readable paragraph, and the exit code the CLI
 * should return. Anything else that escapes is a bug and is reported as such.
 */
export class KnexsafeError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { exitCode?: ExitCode; hint?: string; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KnexsafeError';
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.usage;
    this.hint = options.hint === undefined ? undefined : redactSecrets(options.hint);
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/**
 * Whether `error` is one knexsafe reports on purpose (its `code` is one of ERROR_CODES), not a bug.
 * @example
 * try {
 *   await check({ cwd: '/srv/app' });
 * } catch (error) {
 *   if (isKnexsafeError(error)) console.error(error.code, error.message, error.hint);
 *   else throw error;
 * }
 */
export function isKnexsafeError(error: unknown): error is KnexsafeError {
  return error instanceof KnexsafeError;
}

/** Reads the SQLSTATE of a driver error (pg and PGlite both put it on `code`). */
export function sqlState(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return redactSecrets(error.message);
  return redactSecrets(String(error));
}
