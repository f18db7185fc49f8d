import type { TypeName } from 'libpg-query';
import { formatName, nodeOf, stringList, type QualifiedName } from './ast.js';
import { parseTypeText, sameType, typeChange, typeRefFromTypeName, type TypeRef } from './datatypes.js';
import type { AlterTableCommand, ColumnFacts, ExpressionFacts, StatementFacts } from './facts.js';

export interface RewriteContext {
  /** Server major version, e.g. 15. */
  pgVersion: number;
  /** The current type of a column, as `format_type` prints it (`character varying(255)`) or as SQL spells it. */
  columnTypes?: (table: QualifiedName, column: string) => string | undefined;
  /** Whether the table has a validated `CHECK (column IS NOT NULL)` (lets SET NOT NULL skip its scan on PostgreSQL ≥ 12). */
  hasValidNotNullCheck?: (table: QualifiedName, column: string) => boolean;
  /** The session `TimeZone`: timestamp ↔ timestamptz changes do not rewrite under UTC (PostgreSQL ≥ 12). */
  timeZone?: string;
}

export interface RewritePrediction {
  /** The table's data is copied into a new file (`pg_class.relfilenode` changes). */
  rewrite: boolean;
  /** Every row is read (to check a constraint, build an index, or as part of the rewrite). */
  scan: boolean;
  reason: string;
  /** False when the answer rests on an assumption (unknown current type, unknown function volatility, ...). */
  certain: boolean;
}

interface Outcome extends RewritePrediction {}

const none = (reason: string, certain = true): Outcome => ({ rewrite: false, scan: false, reason, certain });
const scan = (reason: string, certain = true): Outcome => ({ rewrite: false, scan: true, reason, certain });
const rewrite = (reason: string, certain = true): Outcome => ({ rewrite: true, scan: true, reason, certain });

/**
 * Static prediction of whether a statement rewrites or fully scans an existing table. Undefined for
 * statements that do neither by nature (SET, BEGIN, CREATE TABLE of a new table, DML, ...).
 * The capture module observes the truth (`relfilenode`); this explains and backs it up.
 */
export function predictsRewrite(facts: StatementFacts, context: RewriteContext): RewritePrediction | undefined {
  switch (facts.kind) {
    case 'alter-table': {
      const outcomes = facts.commands.map((command) => commandOutcome(command, facts.table, context));
      return combine(outcomes);
    }
    case 'create-index':
      return scan(
        facts.concurrently
          ? `CREATE INDEX CONCURRENTLY reads ${formatName(facts.table)} twice to build the index while writes continue`
          : `CREATE INDEX reads every row of ${formatName(facts.table)} to build the index`,
      );
    case 'vacuum':
      if (facts.full) return rewrite(`VACUUM FULL copies ${facts.tables.map(formatName).join(', ') || 'every table'} into new files`);
      return scan('VACUUM reads every page that is not all-visible');
    case 'cluster':
      return rewrite(`CLUSTER copies ${facts.table ? formatName(facts.table) : 'the table'} into a new file in index order`);
    case 'refresh-materialized-view':
      if (facts.concurrently) return scan(`REFRESH ... CONCURRENTLY recomputes ${formatName(facts.view)} and applies the difference in place`);
      return rewrite(`REFRESH MATERIALIZED VIEW recomputes ${formatName(facts.view)} into a new file`);
    case 'reindex':
      return scan(`REINDEX rebuilds ${formatName(facts.name)}'s index${facts.target === 'index' ? '' : 'es'} from every row (the indexes get new files; the table does not)`);
    case 'truncate':
      return none('TRUNCATE swaps in new empty files (relfilenode changes, but no rows are read or copied)');
    default:
      return undefined;
  }
}

function combine(outcomes: Outcome[]): RewritePrediction {
  if (outcomes.length === 0) return none('no sub-commands');
  const rewrites = outcomes.filter((o) => o.rewrite);
  const scans = outcomes.filter((o) => o.scan && !o.rewrite);
  const chosen = rewrites.length ? rewrites : scans.length ? scans : outcomes;
  return {
    rewrite: rewrites.length > 0,
    scan: rewrites.length > 0 || scans.length > 0,
    reason: chosen.map((o) => o.reason).join('; '),
    certain: chosen.every((o) => o.certain),
  };
}

function commandOutcome(command: AlterTableCommand, table: QualifiedName, context: RewriteContext): Outcome {
  const version = context.pgVersion;
  switch (command.action) {
    case 'add-column':
      return addColumnOutcome(command.column, version);
    case 'alter-column-type':
      return alterTypeOutcome(command.column, command.type, command.using, table, context);
    case 'set-not-null':
      if (version >= 12 && context.hasValidNotNullCheck?.(table, command.column)) {
        return none(`SET NOT NULL on ${command.column}: a validated CHECK (${command.column} IS NOT NULL) proves it without a scan`);
      }
      return scan(
        `SET NOT NULL on ${command.column} reads every row to prove no NULLs, under ACCESS EXCLUSIVE` +
          (version >= 12 ? ' (a validated CHECK (col IS NOT NULL) would let PostgreSQL skip the scan)' : ''),
        version < 12 || context.hasValidNotNullCheck !== undefined,
      );
    case 'add-constraint': {
      const c = command.constraint;
      const label = `${c.kind === 'foreign' ? 'FOREIGN KEY' : c.kind === 'primary' ? 'PRIMARY KEY' : c.kind === 'not-null' ? 'NOT NULL' : c.kind.toUpperCase()}${c.name ? ` ${c.name}` : ''}`;
      switch (c.kind) {
        case 'check':
        case 'foreign':
        case 'not-null':
          if (c.notValid) return none(`ADD ${label} NOT VALID: existing rows are not checked`);
          return scan(
            c.kind === 'foreign' ? `ADD ${label} checks every row against ${c.references ? formatName(c.references.table) : 'the referenced table'}` : `ADD ${label} checks every existing row`,
          );
        case 'primary':
        case 'unique':
          if (c.usingIndex) {
            return c.kind === 'primary'
              ? none(`ADD ${label} USING INDEX ${c.usingIndex} adopts the existing index (a scan happens only if its columns are still nullable)`, false)
              : none(`ADD ${label} USING INDEX ${c.usingIndex} adopts the existing index`);
          }
          return scan(`ADD ${label} builds a unique index from every row${c.kind === 'primary' ? ' (and sets its columns NOT NULL)' : ''}`);
        case 'exclusion':
          return scan(`ADD EXCLUDE${c.name ? ` ${c.name}` : ''} builds an index from every row`);
      }
      return none('constraint');
    }
    case 'validate-constraint':
      return scan(`VALIDATE CONSTRAINT ${command.name} reads every row (under SHARE UPDATE EXCLUSIVE: reads and writes continue)`);
    case 'set-logged':
    case 'set-unlogged':
      return rewrite(`SET ${command.action === 'set-logged' ? 'LOGGED' : 'UNLOGGED'} copies the table into a new file`);
    case 'set-tablespace':
      return rewrite(`SET TABLESPACE ${command.tablespace} copies the table's files`);
    case 'set-access-method':
      return rewrite(`SET ACCESS METHOD ${command.method} rewrites the table`);
    case 'set-expression':
      return rewrite(`SET EXPRESSION on ${command.column} recomputes the generated column for every row`);
    case 'attach-partition':
      return scan(`ATTACH PARTITION reads ${formatName(command.partition)} to check its rows fit the bound (skipped when a valid CHECK constraint implies it)`, false);
    case 'drop-column':
      return none(`DROP COLUMN ${command.column} only marks the column dropped; its space is reclaimed by later rewrites`);
    case 'set-default':
      return none(`SET DEFAULT on ${command.column} changes only the catalog (existing rows keep their values)`);
    case 'drop-default':
    case 'drop-not-null':
      return none(`${command.action === 'drop-default' ? 'DROP DEFAULT' : 'DROP NOT NULL'} on ${command.column} changes only the catalog`);
    default:
      return none(`${command.action} changes only the catalog`);
  }
}

function addColumnOutcome(column: ColumnFacts, version: number): Outcome {
  const name = column.name;
  if (column.generated?.kind === 'stored') return rewrite(`ADD COLUMN ${name} GENERATED ... STORED computes the value for every row`);
  if (column.identity) return rewrite(`ADD COLUMN ${name} GENERATED ${column.identity.toUpperCase()} AS IDENTITY fills every row from a sequence`);
  if (column.serial) return rewrite(`ADD COLUMN ${name} ${column.type.name}: its nextval() default is volatile, so every row is written`);
  const def = column.default;
  const hasDefault = def !== undefined && !def.isNull;
  let outcome: Outcome;
  if (hasDefault) {
    const text = def.text ?? 'expression';
    if (version < 11) outcome = rewrite(`ADD COLUMN ${name} with DEFAULT ${text}: before PostgreSQL 11 any non-null default rewrites the table`);
    else if (def.volatility === 'volatile') outcome = rewrite(`ADD COLUMN ${name} DEFAULT ${text}: a volatile default is evaluated for every row, so the table is rewritten`);
    else if (def.volatility === 'unknown') {
      outcome = rewrite(`ADD COLUMN ${name} DEFAULT ${text}: knexsafe does not know whether ${def.functions.join(', ') || 'the expression'} is volatile; a volatile default rewrites the table`, false);
    } else
      outcome = none(`ADD COLUMN ${name} DEFAULT ${text}: ${def.volatility === 'immutable' ? 'an' : 'a'} ${def.volatility} default is stored once in the catalog (no rewrite since PostgreSQL 11)`);
  } else {
    outcome = none(`ADD COLUMN ${name} without a default changes only the catalog`);
  }
  if (outcome.rewrite) return outcome;
  if (column.notNull && !hasDefault) {
    return scan(`ADD COLUMN ${name} NOT NULL without a default reads every row (and fails unless the table is empty)`);
  }
  for (const constraint of column.constraints) {
    if (constraint.kind === 'primary' || constraint.kind === 'unique') return scan(`ADD COLUMN ${name} ${constraint.kind === 'primary' ? 'PRIMARY KEY' : 'UNIQUE'} builds an index from every row`);
    if (constraint.kind === 'check' && !constraint.notValid) return scan(`ADD COLUMN ${name} with a CHECK constraint checks every existing row`);
    // A new column without a default is NULL everywhere: PostgreSQL skips validating its foreign key.
    if (constraint.kind === 'foreign' && !constraint.notValid && hasDefault) {
      return scan(`ADD COLUMN ${name} DEFAULT ... REFERENCES checks every row's default against ${constraint.references ? formatName(constraint.references.table) : 'the referenced table'}`);
    }
  }
  return outcome;
}

function alterTypeOutcome(column: string, to: TypeRef, using: ExpressionFacts | undefined, table: QualifiedName, context: RewriteContext): Outcome {
  if (using && !isPlainConversion(using, column, to)) {
    return rewrite(`ALTER COLUMN ${column} TYPE ${to.text} USING ${using.text ?? '(expression)'}: the expression is evaluated for every row`);
  }
  const currentText = context.columnTypes?.(table, column);
  const current = currentText !== undefined ? parseTypeText(currentText) : undefined;
  if (!current) {
    return rewrite(
      `ALTER COLUMN ${column} TYPE ${to.text}: the current type is not known here, so a rewrite is assumed (binary-coercible changes such as varchar → text or widening varchar(n) do not rewrite)`,
      false,
    );
  }
  const change = typeChange(current, to, { pgVersion: context.pgVersion, ...(context.timeZone !== undefined ? { timeZone: context.timeZone } : {}) });
  return { rewrite: change.rewrite, scan: change.rewrite, reason: `ALTER COLUMN ${column} TYPE ${change.reason}`, certain: change.certain };
}

/** `USING col`, `USING col::newtype` (what knex's `.alter()` emits): the same conversion as no USING at all. */
function isPlainConversion(using: ExpressionFacts, column: string, to: TypeRef): boolean {
  const refColumn = (node: unknown) => {
    const fields = stringList(nodeOf<{ fields?: never }>(node as never, 'ColumnRef')?.fields);
    return fields.length >= 1 && fields[fields.length - 1] === column;
  };
  if (refColumn(using.ast)) return true;
  const cast = nodeOf<{ arg?: never; typeName?: TypeName }>(using.ast, 'TypeCast');
  return cast !== undefined && refColumn(cast.arg) && sameType(typeRefFromTypeName(cast.typeName), to);
}
