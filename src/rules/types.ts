import type { Node } from 'libpg-query';
import type { CallSite, CapturedStatement } from '../capture/types.js';
import type { SchemaSnapshot } from '../schema/types.js';
import type { LockedObject, LockImpact, LockMode } from '../sql/locks.js';
import type { QualifiedName, StatementFacts } from '../sql/facts.js';

export type Severity = 'error' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error'];

export type RuleCategory = 'lock' | 'breaking' | 'knex' | 'reversibility' | 'style';

export interface RuleMeta {
  /** Stable id, kebab-case, documented in docs/rules/<id>.md. */
  id: string;
  category: RuleCategory;
  /** Default severity; projects override it in knexsafe config. */
  severity: Severity;
  /** One line: what the rule reports. */
  summary: string;
  /**
   * Its findings are about any lock whatever took it (lock_timeout, locks held across a batch): they
   * do not explain why a statement locks a table, so the safety net (`net`) still judges it.
   */
  general?: boolean;
  /** Runs after every other rule, to report what none of them explained (`RuleContext.explained`). */
  net?: boolean;
}

/** Where a relation a statement touches came from, relative to the migration being judged. */
export type TableAge =
  /** Existed before this migration: may hold data and be in use. */
  | 'existing'
  /** Created by an earlier migration of the same pending batch: empty when this one runs. */
  | 'new-in-batch'
  /** Created by this migration itself. */
  | 'new';

export interface EffectiveLock {
  /** Qualified `schema.name`. */
  relation: string;
  /** For an index, its table. */
  table?: string;
  relationKind: 'table' | 'index' | 'sequence' | 'view' | 'materialized-view' | 'other';
  mode: LockMode;
  /** Seen in pg_locks (true) or inferred from the statement (false). */
  observed: boolean;
  age: TableAge;
}

/** One SQL statement of a migration, with everything the rules may need. */
export interface AnalyzedStatement {
  /** This statement's own SQL text (one statement; a multi-statement knex.raw is split). */
  sql: string;
  ast: Node;
  facts: StatementFacts;
  /** The captured record it came from; absent for static (raw SQL) analysis. */
  captured?: CapturedStatement;
  /** knex call site in the user's file, or the statement's line in a .sql file. */
  site?: CallSite;
  /** Locks on relations that existed before the migration: observed when possible, else inferred. */
  locks: EffectiveLock[];
  /** Tables (qualified) whose storage was rewritten: observed (relfilenode) or predicted. */
  rewrites: { table: string; observed: boolean; reason?: string }[];
  /** Runs inside a transaction block (knex's, the migration's own, or BEGIN in a .sql file). */
  inTransaction: boolean;
  /** Identifies the database transaction; equal across statements (and migrations) sharing one. */
  transactionId?: string;
  durationMs?: number;
  rowCount?: number;
  error?: CapturedStatement['error'];
  /** Position in the migration (0-based, over analysed statements). */
  index: number;
}

export interface MigrationUnit {
  name: string;
  file: string;
  /** The file's text, for suppression comments and knex-specific reading. */
  source: string;
  /** knex ran it in a transaction (`exports.config.transaction !== false`, transactions not disabled). */
  transactional: boolean;
  /** Shared by the migrations of one knex batch transaction. */
  batchTransactionId?: string;
  hasDown: boolean;
  /** down exists but its body does nothing (static reading of the file). */
  statements: AnalyzedStatement[];
  /** knex builders created in this migration's code that never ran (not awaited or returned). */
  neverRun?: CallSite[];
  schemaBefore?: SchemaSnapshot;
  schemaAfter?: SchemaSnapshot;
  /** Raw SQL file instead of a knex migration. */
  sqlFile: boolean;
  /** up failed on the shadow (the statements stop at the failing one). */
  failed?: { message: string; sqlState?: string };
}

export interface TableStats {
  rows?: number;
  bytes?: number;
}

export interface Thresholds {
  /** Above this many rows, a blocking lock or rewrite on an existing table is an error. */
  largeTableRows: number;
  largeTableBytes: number;
}

export interface RuleContext {
  /** Target PostgreSQL major version the advice is for. */
  pgVersion: number;
  /** pgVersion is the target's (--pg-version, config, or read from the target), not a default. */
  pgVersionKnown: boolean;
  thresholds: Thresholds;
  migration: MigrationUnit;
  /** The migrations that run in the same knex batch as this one, in order (this one included). */
  batch: MigrationUnit[];
  /** Statistics of the target's tables, when a target was read. */
  stats(table: string): TableStats | undefined;
  /** How old a table (qualified or bare name) is relative to this migration. */
  tableAge(table: QualifiedName | string): TableAge;
  report(finding: FindingInput): void;
  /**
   * Whether a rule that ran before this one (not a `general` one; also one configured off, or
   * suppressed) reported a finding on `statement` about `relation` (qualified) or, with no relation,
   * about anything.
   */
  explained(statement: AnalyzedStatement, relation?: string): boolean;
}

export interface Fix {
  /** What to do instead, one or two sentences. */
  description: string;
  /** Ready-to-paste knex migration code (one or more files, separated by a `// ---- next migration ----` line). */
  code: string;
  /**
   * The code stands for the whole migration (its own file edited, or every statement of it), so it
   * keeps everything else the migration did. Fixes written for one statement get the migration's
   * other statements around them (see fix-scope.ts).
   */
  wholeMigration?: boolean;
  /** Other statements of the migration this fix stands for too (not kept around it); never reported. */
  covers?: AnalyzedStatement[];
  /**
   * ALTER TABLE statements of which the fix writes again only the ADD COLUMN of these columns: the
   * statement's other commands (the other columns of one knex `alterTable`) stay where they were.
   */
  coversAddedColumns?: { statement: AnalyzedStatement; columns: string[] }[];
  /**
   * Set when the statements kept around the fix carry values the migration computed while it ran
   * (from rows it read, or the clock), replayed as the shadow's constants: what they were computed
   * from. `fix` leaves such a fix to a person.
   */
  replaysData?: string;
  /**
   * Why `fix` never applies this fix, though check shows it: a template with parts to write by
   * hand, or a change that is safe only in a deploy order code cannot express (drop after the code
   * that uses it is gone). Said as the end of "its fix …".
   */
  byHand?: string;
}

export interface FindingInput {
  message: string;
  statement?: AnalyzedStatement;
  /** Why this is dangerous, in production terms. */
  why: string;
  /** The table the finding is about (qualified), for statistics and severity. */
  table?: string;
  /** `object`: what kind of relation it is (default: as the statement's locks say, else a table). */
  lock?: {
    mode: LockMode;
    relation: string;
    object?: LockedObject;
    /** A stronger lock a later statement of the same transaction takes on the relation, held until commit. */
    later?: { mode: LockMode; statement: AnalyzedStatement };
  };
  fix?: Fix;
  /** Overrides the rule's default for this finding (e.g. info on a table created in this migration). */
  severity?: Severity;
  /** Where in the migration's file, when there is no statement to point at. */
  site?: CallSite;
}

export interface Rule {
  meta: RuleMeta;
  /** Called once per analysed statement. */
  statement?(statement: AnalyzedStatement, context: RuleContext): void;
  /** Called once per migration, after the statements. */
  migration?(migration: MigrationUnit, context: RuleContext): void;
}

export interface Finding {
  rule: string;
  severity: Severity;
  category: RuleCategory;
  message: string;
  why: string;
  migration: string;
  file: string;
  line?: number;
  column?: number;
  sql?: string;
  table?: { name: string; rows?: number; bytes?: number };
  lock?: {
    mode: LockMode;
    sql: string;
    relation: string;
    /** What other sessions meet while the statement runs: the strongest lock the transaction then holds on the relation (`held` when there is one). */
    blocks: LockImpact;
    /** What a request for this mode waits for (other sessions' conflicting locks). */
    waitsFor: string;
    /**
     * The strongest lock the migration's transaction holds on the relation while the statement runs,
     * when stronger than the statement's own: taken earlier in the same transaction, still held.
     */
    held?: { mode: LockMode; sql: string; blocks: LockImpact; since: { migration: string; line?: number; sql: string } };
    /**
     * The strongest lock a later statement of the migration's transaction takes on the relation, when
     * stronger than what is held while this statement runs: from then until commit, it is what others meet.
     */
    later?: { mode: LockMode; sql: string; blocks: LockImpact; since: { migration: string; line?: number; sql: string } };
  };
  /** Every relation that existed before that the statement locks, in execution order (its own table first). */
  locks?: { relation: string; mode: LockMode; sql: string; blocks: LockImpact }[];
  fix?: Fix;
  docs: string;
  /** Set when a knexsafe-ignore comment silenced it (reported in JSON, not in text). */
  suppressed?: { reason: string };
}
