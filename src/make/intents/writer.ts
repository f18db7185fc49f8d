import { KnexsafeError } from '../../errors.js';
import type { TableInfo } from '../../schema/types.js';
import { jsSql as sqlLiteral, sqlString } from '../../codegen/index.js';
import type { SchemaView } from '../schema-lookup.js';
import type { MigrationBody } from '../stubs.js';

// What every intent writes with: the options, the planned files, and the Writer (lock_timeout
// around strong locks, the table lookup).

export interface GenerateOptions {
  /** The seed's simple forms (plain index, unique, foreign key, NOT NULL, one-statement backfill): for small tables. */
  simple?: boolean;
  /** Keep a copy of dropped columns' values so down can restore them (default true). */
  backup?: boolean;
  /** Enum values (create_<type>_enum, add_<col>_enum_to_<table>). */
  values?: string[];
  /** The SQL expression a backfill sets. */
  set?: string;
  batchSize?: number;
  /** ON DELETE action of a foreign key. */
  onDelete?: string;
  /** Column types for add_<col>_to_<table>, by column: type words as in change_<col>_to_<type>. */
  types?: Record<string, string>;
  /** lock_timeout set before DDL that locks existing tables; default 5s. */
  lockTimeout?: string;
  /** Target PostgreSQL major version, for rewrite predictions. */
  pgVersion?: number;
  /** The project runs migrations without knex's transaction (knexfile `disableTransactions`). */
  transactionsDisabled?: boolean;
  typescript?: boolean;
}

/** One file to write: its name is the migration name plus `suffix`. */
export interface PlannedFile {
  suffix: string;
  body: MigrationBody;
  /** What this file does, for --json and the summary. */
  role: string;
}

export interface Generated {
  files: PlannedFile[];
  warnings: string[];
  /** Facts found while generating (column types, names of created objects), reported with the intent. */
  details: Record<string, unknown>;
}

const I = '  ';

export function indent(lines: string[], depth = 1): string[] {
  return lines.map((l) => (l === '' ? l : I.repeat(depth) + l));
}

export function raw(db: string, sql: string): string {
  return `await ${db}.raw(${sqlLiteral(sql)});`;
}

export function usage(message: string, hint?: string): KnexsafeError {
  return new KnexsafeError('MAKE_UNRESOLVED', message, hint ? { hint } : {});
}

/** Code lines and the helpers they share. */
export class Writer {
  readonly warnings: string[] = [];
  readonly details: Record<string, unknown> = {};
  constructor(
    readonly schema: SchemaView,
    readonly options: GenerateOptions,
  ) {}

  get lockTimeout(): string {
    return `SET LOCAL lock_timeout = ${sqlString(this.options.lockTimeout ?? '5s')}`;
  }

  get simple(): boolean {
    return this.options.simple === true;
  }

  /**
   * Statements that take a strong lock on an existing table, preceded by a lock_timeout: an ALTER
   * waiting for its lock blocks every query queued behind it, so it should give up quickly instead.
   * In a migration knex runs in a transaction SET LOCAL suffices; otherwise they get their own.
   */
  locked(transactional: boolean, body: (db: string) => string[], comment = true): string[] {
    if (this.simple) return body('knex');
    const why = comment ? ['// Give up after lock_timeout rather than queue: a waiting ALTER holds up every query behind it.'] : [];
    if (transactional && !this.options.transactionsDisabled) return [...why, raw('knex', this.lockTimeout), ...body('knex')];
    return [...why, 'await knex.transaction(async (trx) => {', ...indent([raw('trx', this.lockTimeout), ...body('trx')]), '});'];
  }

  table(name: string): TableInfo {
    const t = this.schema.table(name);
    if (!t) throw usage(`The table ${name} does not exist in the schema the migrations build.`);
    return t;
  }
}
