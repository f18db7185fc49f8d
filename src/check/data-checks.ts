import type { Knex } from 'knex';
import { errorMessage } from '../errors.js';
import { qualify } from '../rules/analyze.js';
import { ident } from '../codegen/index.js';
import type { AnalyzedStatement, Finding, MigrationUnit } from '../rules/types.js';
import type { SchemaSnapshot } from '../schema/types.js';
import type { QualifiedName } from '../sql/facts.js';

/**
 * Data-dependent preconditions (`check --data-checks`): a pending migration can be safe on the
 * empty shadow and fail on the target's rows. For each unique index or constraint, SET NOT NULL,
 * foreign key, CHECK and column type change on a table the target already has, one counting query
 * runs on the target (or a replica of it), in a READ ONLY transaction with a statement_timeout,
 * each in a savepoint so one that fails leaves the others their chance; the transaction is rolled
 * back. Nothing is ever written.
 */

export type DataCheckKind = 'unique' | 'primary-key' | 'not-null' | 'foreign-key' | 'check' | 'type-change';

export interface DataCheckResult {
  migration: string;
  file: string;
  line?: number;
  kind: DataCheckKind;
  /** Qualified table. */
  table: string;
  /** What would make it fail, e.g. `duplicate (email) rows`. */
  what: string;
  /** fails: rows found; passes: none; unknown: the count could not be taken (timeout, column added by a pending migration…). */
  status: 'fails' | 'passes' | 'unknown';
  /** Rows that would make it fail (duplicate groups' rows, NULLs, orphans, violations). */
  rows?: number;
  /** For a failing cast or an unknown status: PostgreSQL's message. */
  detail?: string;
  /** A query that lists the offending rows. */
  query: string;
}

export interface DataCheckOptions {
  /** Milliseconds each counting query may run (statement_timeout). */
  timeoutMs?: number;
  /** Tables (qualified) the target has: the only ones worth counting. */
  existing: (table: string) => boolean;
}

interface Planned {
  unit: MigrationUnit;
  statement: AnalyzedStatement;
  kind: DataCheckKind;
  table: string;
  what: string;
  /** Counts offending rows: one row, one column `n`. */
  count: string;
  find: string;
  /** A cast that fails raises an error rather than counting: that error is the finding. */
  castFails?: boolean;
}

function rel(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? ident(name) : `${ident(name.slice(0, dot))}.${ident(name.slice(dot + 1))}`;
}

function columnList(columns: readonly string[]): string {
  return columns.map(ident).join(', ');
}

function notNull(columns: readonly string[], alias = ''): string {
  return columns.map((c) => `${alias}${ident(c)} IS NOT NULL`).join(' AND ');
}

function duplicates(unit: MigrationUnit, statement: AnalyzedStatement, kind: 'unique' | 'primary-key', table: string, columns: string[], where?: string): Planned[] {
  const keys = columnList(columns);
  const filter = [notNull(columns), ...(where ? [`(${where})`] : [])].join(' AND ');
  const groups = `SELECT ${keys}, count(*) AS copies FROM ${rel(table)} WHERE ${filter} GROUP BY ${keys} HAVING count(*) > 1`;
  const planned: Planned[] = [
    { unit, statement, kind, table, what: `duplicate (${columns.join(', ')}) rows`, count: `SELECT coalesce(sum(copies), 0)::int8 AS n FROM (${groups}) d`, find: `${groups} ORDER BY copies DESC` },
  ];
  if (kind === 'primary-key') {
    const anyNull = columns.map((c) => `${ident(c)} IS NULL`).join(' OR ');
    planned.push({
      unit,
      statement,
      kind,
      table,
      what: `rows with NULL in (${columns.join(', ')})`,
      count: `SELECT count(*)::int8 AS n FROM ${rel(table)} WHERE ${anyNull}`,
      find: `SELECT * FROM ${rel(table)} WHERE ${anyNull}`,
    });
  }
  return planned;
}

function constraintOf(schema: SchemaSnapshot | undefined, table: string, name: string) {
  return schema?.tables[table]?.constraints[name];
}

function primaryKeyColumns(schema: SchemaSnapshot | undefined, table: string): string[] {
  const pk = Object.values(schema?.tables[table]?.constraints ?? {}).find((c) => c.kind === 'primary');
  return pk?.columns ?? [];
}

function orphans(unit: MigrationUnit, statement: AnalyzedStatement, table: string, columns: string[], referenced: string, refColumns: string[]): Planned | undefined {
  if (columns.length === 0 || columns.length !== refColumns.length) return undefined;
  const match = columns.map((c, i) => `p.${ident(refColumns[i]!)} = c.${ident(c)}`).join(' AND ');
  const where = `${notNull(columns, 'c.')} AND NOT EXISTS (SELECT 1 FROM ${rel(referenced)} p WHERE ${match})`;
  return {
    unit,
    statement,
    kind: 'foreign-key',
    table,
    what: `(${columns.join(', ')}) rows with no match in ${referenced.replace(/^public\./, '')}`,
    count: `SELECT count(*)::int8 AS n FROM ${rel(table)} c WHERE ${where}`,
    find: `SELECT c.* FROM ${rel(table)} c WHERE ${where}`,
  };
}

function violations(unit: MigrationUnit, statement: AnalyzedStatement, table: string, name: string, expression: string): Planned {
  return {
    unit,
    statement,
    kind: 'check',
    table,
    what: `rows violating CHECK ${name}`,
    count: `SELECT count(*)::int8 AS n FROM ${rel(table)} WHERE NOT (${expression})`,
    find: `SELECT * FROM ${rel(table)} WHERE NOT (${expression})`,
  };
}

/** `CHECK ((price > 0)) NOT VALID` → `(price > 0)`. */
function checkExpression(definition: string): string | undefined {
  const match = /^CHECK \((.*)\)( NO INHERIT)?( NOT VALID)?$/s.exec(definition);
  return match?.[1];
}

/** The counting queries for one statement of a pending migration. */
function plan(unit: MigrationUnit, statement: AnalyzedStatement, existing: (table: string) => boolean): Planned[] {
  const f = statement.facts;
  const table = (name: QualifiedName | string) => qualify(name, unit.schemaBefore);
  if (f.kind === 'create-index' && f.unique) {
    const t = table(f.table);
    if (!existing(t) || f.columns.some((c) => !c.column) || f.nullsNotDistinct) return [];
    return duplicates(
      unit,
      statement,
      'unique',
      t,
      f.columns.map((c) => c.column!),
      f.where?.text,
    );
  }
  if (f.kind !== 'alter-table' || f.objectType !== 'table') return [];
  const t = table(f.table);
  if (!existing(t)) return [];
  const out: Planned[] = [];
  const after = unit.schemaAfter?.tables[t];
  for (const c of f.commands) {
    switch (c.action) {
      case 'set-not-null':
        out.push({
          unit,
          statement,
          kind: 'not-null',
          table: t,
          what: `rows with ${c.column} NULL`,
          count: `SELECT count(*)::int8 AS n FROM ${rel(t)} WHERE ${ident(c.column)} IS NULL`,
          find: `SELECT * FROM ${rel(t)} WHERE ${ident(c.column)} IS NULL`,
        });
        break;
      case 'add-constraint': {
        const k = c.constraint;
        if (k.notValid || k.usingIndex) break;
        if ((k.kind === 'unique' || k.kind === 'primary') && k.columns.length > 0 && !k.nullsNotDistinct) {
          out.push(...duplicates(unit, statement, k.kind === 'primary' ? 'primary-key' : 'unique', t, k.columns));
        } else if (k.kind === 'foreign' && k.references) {
          const referenced = table(k.references.table);
          const refColumns = k.references.columns.length ? k.references.columns : primaryKeyColumns(unit.schemaBefore, referenced);
          const o = orphans(unit, statement, t, k.columns, referenced, refColumns);
          if (o) out.push(o);
        } else if (k.kind === 'check') {
          const stored = k.name ? after?.constraints[k.name] : undefined;
          const expression = k.expression?.text ?? (stored && checkExpression(stored.definition));
          if (expression) out.push(violations(unit, statement, t, k.name ?? '(unnamed)', expression));
        }
        break;
      }
      case 'validate-constraint': {
        const stored = constraintOf(unit.schemaAfter, t, c.name) ?? constraintOf(unit.schemaBefore, t, c.name);
        if (stored?.kind === 'check') {
          const expression = checkExpression(stored.definition);
          if (expression) out.push(violations(unit, statement, t, c.name, expression));
        } else if (stored?.kind === 'foreign' && stored.references) {
          const o = orphans(unit, statement, t, stored.columns, stored.references.table, stored.references.columns);
          if (o) out.push(o);
        }
        break;
      }
      case 'alter-column-type': {
        const type = after?.columns[c.column]?.type;
        if (!type) break;
        const value = c.using?.text ?? ident(c.column);
        out.push({
          unit,
          statement,
          kind: 'type-change',
          table: t,
          what: `values of ${c.column} that do not convert to ${type}`,
          count: `SELECT count((${value})::${type})::int8 * 0 AS n FROM ${rel(t)}`,
          find: `SELECT ${ident(c.column)} FROM ${rel(t)} WHERE ${ident(c.column)} IS NOT NULL AND NOT pg_input_is_valid(${ident(c.column)}::text, '${type.replace(/'/g, "''")}')  -- PostgreSQL 16+`,
          castFails: true,
        });
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** Runs the data checks of `units` on `knex` (the target or its replica). */
export async function runDataChecks(knex: Knex, units: readonly MigrationUnit[], options: DataCheckOptions): Promise<DataCheckResult[]> {
  const planned = units.flatMap((unit) => unit.statements.flatMap((statement) => plan(unit, statement, options.existing)));
  if (planned.length === 0) return [];
  const timeout = Math.max(1, Math.round(options.timeoutMs ?? 10_000));
  const results: DataCheckResult[] = [];
  await knex.transaction(
    async (trx) => {
      await trx.raw(`SET LOCAL statement_timeout = ${timeout}`);
      // BEGIN READ ONLY is what makes any write fail here: refuse to go on without it.
      const readOnly = ((await trx.raw('SHOW transaction_read_only')) as { rows: { transaction_read_only: string }[] }).rows[0]?.transaction_read_only;
      if (readOnly !== 'on') throw new Error('data checks: the transaction is not READ ONLY; nothing was counted');
      for (const p of planned) {
        const base = { migration: p.unit.name, file: p.unit.file, ...(p.statement.site ? { line: p.statement.site.line } : {}), kind: p.kind, table: p.table, what: p.what, query: p.find };
        await trx.raw('SAVEPOINT knexsafe_data_check');
        try {
          const rows = ((await trx.raw(p.count)) as { rows: { n: string | number }[] }).rows;
          const n = Number(rows[0]?.n ?? 0);
          results.push({ ...base, status: n > 0 ? 'fails' : 'passes', rows: n });
          await trx.raw('RELEASE SAVEPOINT knexsafe_data_check');
        } catch (error) {
          await trx.raw('ROLLBACK TO SAVEPOINT knexsafe_data_check');
          const code = (error as { code?: string }).code;
          // knex puts the statement before PostgreSQL's message: the message alone is what the user needs.
          const message = errorMessage(error).replace(`${p.count} - `, '');
          // 22xxx: data exceptions (invalid input syntax, out of range…): the cast itself fails on a row.
          if (p.castFails && code?.startsWith('22')) results.push({ ...base, status: 'fails', detail: message });
          else results.push({ ...base, status: 'unknown', detail: code === '57014' ? `gave up after the ${timeout} ms statement_timeout` : message });
        }
      }
    },
    { readOnly: true },
  );
  return results;
}

/** One finding per failing check: the same report, exit code and formats as the rules. */
export function dataCheckFindings(results: readonly DataCheckResult[], where: string): Finding[] {
  return results
    .filter((r) => r.status === 'fails')
    .map((r) => ({
      rule: 'data-check',
      severity: 'error' as const,
      category: 'breaking' as const,
      message:
        r.rows !== undefined
          ? `will fail: ${r.rows} ${r.rows === 1 ? r.what.replace(/\brows\b/, 'row') : r.what} in ${r.table.replace(/^public\./, '')}`
          : `will fail: ${r.what} in ${r.table.replace(/^public\./, '')} (${r.detail ?? 'the cast fails'})`,
      why: `Counted on ${where}, read-only: the shadow starts empty, so only the target's rows show that this statement fails there — and with it the migration (and, under knex migrate:latest, the whole batch).`,
      migration: r.migration,
      file: r.file,
      ...(r.line !== undefined ? { line: r.line } : {}),
      sql: r.query,
      fix: {
        description: 'List the rows with the query below, then fix them first (a data migration before this one), or change the constraint or conversion so they pass.',
        code: r.query,
      },
      docs: 'docs/data-checks.md',
    }));
}
