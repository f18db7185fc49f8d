import type { ColumnFacts, AlterTableCommand } from '../sql/facts.js';
import { predictsRewrite } from '../sql/rewrite.js';
import { qualify } from './analyze.js';
import { tableName } from './helpers.js';
import { rewroteTable } from './lock-helpers.js';
import type { AnalyzedStatement, RuleContext } from './types.js';

// Statements that rewrite a table that existed before the migration: what column-type-rewrite,
// add-column-volatile-default, table-rewrite and set-not-null-scan all need to know.

type TypeCommand = Extract<AlterTableCommand, { action: 'alter-column-type' }>;

export interface TypeRewriteHazard {
  table: string;
  column: string;
  command: TypeCommand;
  /** The column's type before, as PostgreSQL prints it, when known. */
  from?: string;
  /** Seen on the shadow (relfilenode changed), not only predicted. */
  observed: boolean;
  certain: boolean;
  reason?: string;
}

/**
 * ALTER COLUMN ... TYPE commands of a statement that rewrite a table that existed before the
 * migration. The observed rewrite is the ground truth; without one (static SQL) the prediction
 * from the old type decides. Shared with table-rewrite and set-not-null-scan.
 */
export function typeRewriteHazards(statement: AnalyzedStatement, context: RuleContext): TypeRewriteHazard[] {
  const f = statement.facts;
  if (f.kind !== 'alter-table') return [];
  const table = tableName(context, f.table);
  if (context.tableAge(table) === 'new') return [];
  const commands = f.commands.filter((c): c is TypeCommand => c.action === 'alter-column-type');
  if (commands.length === 0) return [];
  const before = context.migration.schemaBefore;
  const typeOf = (column: string) => before?.tables[table]?.columns[column]?.type;
  const predict = (command: TypeCommand) =>
    predictsRewrite({ ...f, commands: [command] }, { pgVersion: context.pgVersion, columnTypes: (t, c) => before?.tables[qualify(t, before)]?.columns[c]?.type });
  const hazard = (command: TypeCommand, observed: boolean, certain: boolean, reason?: string): TypeRewriteHazard => {
    const from = typeOf(command.column);
    return { table, column: command.column, command, ...(from ? { from } : {}), observed, certain, ...(reason ? { reason } : {}) };
  };
  if (statement.captured) {
    if (!rewroteTable(statement, table)) return [];
    const predicted = commands.filter((c) => predict(c)?.rewrite);
    return (predicted.length ? predicted : commands).map((c) => hazard(c, true, true, predict(c)?.reason));
  }
  return commands.flatMap((c) => {
    const p = predict(c);
    return p?.rewrite ? [hazard(c, false, p.certain, p.reason)] : [];
  });
}

export type VolatileDefaultKind =
  /** DEFAULT calls a volatile function (gen_random_uuid(), random(), clock_timestamp(), nextval() ...). */
  | 'volatile'
  /** DEFAULT calls a function knexsafe cannot classify (static analysis only). */
  | 'unknown'
  /** serial / bigserial: an implicit nextval() default. */
  | 'serial'
  /** GENERATED ... AS IDENTITY: every row gets a sequence value. */
  | 'identity'
  /** Any non-null DEFAULT before PostgreSQL 11. */
  | 'pre-11';

export interface VolatileDefaultHazard {
  table: string;
  column: ColumnFacts;
  kind: VolatileDefaultKind;
  /** The rewrite was seen on the shadow. */
  observed: boolean;
  certain: boolean;
}

/**
 * ADD COLUMN commands of a statement whose default makes PostgreSQL write a value into every
 * existing row (a table rewrite under ACCESS EXCLUSIVE). When the statement ran on the shadow, the
 * observed rewrite decides; shared with table-rewrite.
 */
export function volatileDefaultHazards(statement: AnalyzedStatement, context: RuleContext): VolatileDefaultHazard[] {
  const f = statement.facts;
  if (f.kind !== 'alter-table') return [];
  const table = tableName(context, f.table);
  if (context.tableAge(table) === 'new') return [];
  const out: VolatileDefaultHazard[] = [];
  for (const command of f.commands) {
    if (command.action !== 'add-column') continue;
    const column = command.column;
    const def = column.default && !column.default.isNull ? column.default : undefined;
    let kind: VolatileDefaultKind | undefined;
    if (column.serial) kind = 'serial';
    else if (column.identity) kind = 'identity';
    else if (def && context.pgVersion < 11) kind = 'pre-11';
    else if (def?.volatility === 'volatile') kind = 'volatile';
    else if (def?.volatility === 'unknown') kind = 'unknown';
    if (!kind) continue;
    if (kind === 'pre-11') {
      // The shadow runs a newer PostgreSQL, which stores the default in the catalog: judge statically.
      out.push({ table, column, kind, observed: false, certain: true });
    } else if (statement.captured) {
      if (rewroteTable(statement, table)) out.push({ table, column, kind: kind === 'unknown' ? 'volatile' : kind, observed: true, certain: true });
    } else out.push({ table, column, kind, observed: false, certain: kind !== 'unknown' });
  }
  return out;
}
