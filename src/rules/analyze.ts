import type { CapturedStatement, MigrationTrace, ObservedLock } from '../capture/types.js';
import { perSnapshot } from '../schema/derived.js';
import type { SchemaSnapshot } from '../schema/types.js';
import { parseSqlSync } from '../sql/parse.js';
import { statementFacts, type QualifiedName, type StatementFacts } from '../sql/facts.js';
import { inferLocks, parseLockMode } from '../sql/locks.js';
import { predictsRewrite } from '../sql/rewrite.js';
import type { AnalyzedStatement, EffectiveLock, MigrationUnit, TableAge } from './types.js';

/** Resolves a possibly unqualified name against a snapshot: `users` → `public.users`. */
export function qualify(name: QualifiedName | string, schema?: SchemaSnapshot): string {
  if (typeof name === 'string') {
    const dot = name.indexOf('.');
    // `schema.name` as given (the part after the first dot may hold more dots).
    if (dot > 0) return name;
    if (dot === 0) return (schema && namesOf(schema).get(name.slice(1))) ?? `public.${name.slice(1)}`;
    return (schema && namesOf(schema).get(name)) ?? `public.${name}`;
  }
  const n = name;
  if (n.schema) return `${n.schema}.${n.name}`;
  return (schema && namesOf(schema).get(n.name)) ?? `public.${n.name}`;
}

// Bare name → qualified name: a table in public first, then a table in any schema, then an
// index; the first in key order wins.
const namesOf = perSnapshot((schema) => {
  const names = new Map<string, string>();
  const tables = Object.values(schema.tables);
  for (const t of tables) if (t.schema === 'public' && !names.has(t.name)) names.set(t.name, `${t.schema}.${t.name}`);
  for (const t of tables) if (!names.has(t.name)) names.set(t.name, `${t.schema}.${t.name}`);
  for (const i of Object.values(schema.indexes)) if (!names.has(i.name)) names.set(i.name, `${i.schema}.${i.name}`);
  return names;
});

function relationKind(kind: string): EffectiveLock['relationKind'] {
  if (kind === 'r' || kind === 'p' || kind === 'f') return 'table';
  if (kind === 'i' || kind === 'I') return 'index';
  if (kind === 'S') return 'sequence';
  if (kind === 'm') return 'materialized-view';
  if (kind === 'v') return 'view';
  return 'other';
}

export interface AnalyzeOptions {
  pgVersion: number;
  source: string;
  hasDown: boolean;
  schemaBefore?: SchemaSnapshot;
  schemaAfter?: SchemaSnapshot;
  /**
   * How to treat tables created by an earlier migration of this run: 'existing' when each migration
   * is judged alone (they exist in production by then), 'new-in-batch' when the run is one knex
   * batch (they are created empty in the same deploy).
   */
  earlierMigrations: 'existing' | 'new-in-batch';
}

function ageOfObserved(lock: ObservedLock, earlier: AnalyzeOptions['earlierMigrations']): TableAge {
  if (lock.relation.origin === 'existing') return 'existing';
  if (lock.relation.origin === 'earlier-migration') return earlier;
  return 'new';
}

export function observedLocks(captured: CapturedStatement, earlier: AnalyzeOptions['earlierMigrations']): EffectiveLock[] {
  const out: EffectiveLock[] = [];
  for (const l of captured.locks) {
    const mode = parseLockMode(l.mode);
    if (!mode) continue;
    const relation = `${l.relation.schema}.${l.relation.name}`;
    out.push({
      relation,
      ...(l.relation.table ? { table: `${l.relation.schema}.${l.relation.table}` } : {}),
      relationKind: relationKind(l.relation.kind),
      mode,
      observed: true,
      age: ageOfObserved(l, earlier),
    });
  }
  return out;
}

/** Static view of what a statement locks, for statements whose locks could not be observed. */
export function inferredLocks(facts: StatementFacts, pgVersion: number, schema: SchemaSnapshot | undefined, age: (name: string) => TableAge): EffectiveLock[] {
  const locks = inferLocks(facts, {
    pgVersion,
    tableOfIndex: (index) => {
      if (!schema) return undefined;
      const found = Object.values(schema.indexes).find((i) => i.name === index.name && (!index.schema || i.schema === index.schema));
      if (found) return { schema: found.table.split('.')[0], name: found.table.split('.').slice(1).join('.') };
      for (const t of Object.values(schema.tables)) {
        if (Object.values(t.constraints).some((c) => c.name === index.name)) return { schema: t.schema, name: t.name };
      }
      return undefined;
    },
    foreignKeyTargets: (table, constraint) => {
      const t = schema?.tables[qualify(table, schema)];
      if (!t) return [];
      return Object.values(t.constraints)
        .filter((c) => c.kind === 'foreign' && c.references && (!constraint || c.name === constraint))
        .map((c) => ({ schema: c.references!.table.split('.')[0], name: c.references!.table.split('.').slice(1).join('.') }));
    },
  });
  return locks.map((l) => {
    const relation = qualify(l.relation, schema);
    const kind: EffectiveLock['relationKind'] =
      l.role === 'index' ? 'index' : l.role === 'sequence' ? 'sequence' : l.role === 'view' ? 'view' : l.role === 'materialized-view' ? 'materialized-view' : 'table';
    return { relation, relationKind: kind, mode: l.mode, observed: false, age: age(relation) };
  });
}

function columnType(schema: SchemaSnapshot | undefined) {
  return (table: QualifiedName, column: string) => schema?.tables[qualify(table, schema)]?.columns[column]?.type;
}

function hasValidNotNullCheck(schema: SchemaSnapshot | undefined) {
  return (table: QualifiedName, column: string) => {
    const t = schema?.tables[qualify(table, schema)];
    if (!t) return false;
    return Object.values(t.constraints).some((c) => c.kind === 'check' && c.validated && new RegExp(`^CHECK \\(\\(?"?${column}"? IS NOT NULL\\)?\\)$`).test(c.definition));
  };
}

/** Parses and describes the statements of one captured migration for the rules. */
export function analyzeTrace(trace: MigrationTrace, options: AnalyzeOptions): MigrationUnit {
  const statements: AnalyzedStatement[] = [];
  const before = options.schemaBefore;
  const ageOf = (name: string): TableAge => {
    if (!before) return 'existing';
    return before.tables[name] || before.indexes[name] || before.sequences[name] ? 'existing' : 'new';
  };
  for (const captured of trace.statements) {
    if (captured.control) continue;
    let parsed;
    try {
      parsed = parseSqlSync(captured.sql);
    } catch {
      continue;
    }
    const single = parsed.length === 1;
    for (const p of parsed) {
      const facts = statementFacts(p.ast, p.sql);
      const locks = single && captured.locksObserved ? observedLocks(captured, options.earlierMigrations) : inferredLocks(facts, options.pgVersion, before, ageOf).filter((l) => l.age !== 'new');
      const prediction = predictsRewrite(facts, { pgVersion: options.pgVersion, columnTypes: columnType(before), hasValidNotNullCheck: hasValidNotNullCheck(before) });
      const rewrites = single
        ? captured.rewrites
            .filter((r) => r.kind === 'r' || r.kind === 'm' || r.kind === 'p')
            .map((r) => ({ table: `${r.schema}.${r.name}`, observed: true, ...(prediction?.reason ? { reason: prediction.reason } : {}) }))
        : [];
      statements.push({
        sql: p.sql,
        ast: p.ast,
        facts,
        captured,
        ...(captured.site ? { site: captured.site } : {}),
        locks,
        rewrites: facts.kind === 'truncate' ? [] : rewrites,
        inTransaction: captured.inTransaction,
        ...(trace.batchTransactionId ? { transactionId: trace.batchTransactionId } : captured.inTransaction && captured.transactionId ? { transactionId: captured.transactionId } : {}),
        durationMs: captured.durationMs,
        ...(captured.rowCount !== undefined ? { rowCount: captured.rowCount } : {}),
        ...(captured.error ? { error: captured.error } : {}),
        index: statements.length,
      });
    }
  }
  const failed = trace.error;
  return {
    name: trace.name,
    file: trace.file,
    source: options.source,
    transactional: trace.transactional,
    ...(trace.batchTransactionId ? { batchTransactionId: trace.batchTransactionId } : {}),
    hasDown: options.hasDown,
    statements,
    ...(trace.neverRun?.length ? { neverRun: trace.neverRun } : {}),
    ...(before ? { schemaBefore: before } : {}),
    ...(options.schemaAfter ? { schemaAfter: options.schemaAfter } : {}),
    sqlFile: false,
    ...(failed ? { failed: { message: failed.message, ...(failed.sqlState ? { sqlState: failed.sqlState } : {}) } } : {}),
  };
}

/**
 * Static analysis of a plain SQL file (as psql would run it: each statement on its own unless the
 * file opens a transaction). Tables the file creates are new; every other table is assumed to exist.
 */
export function analyzeSqlText(name: string, file: string, sql: string, pgVersion: number): MigrationUnit {
  const parsed = parseSqlSync(sql);
  const created = new Set<string>();
  const statements: AnalyzedStatement[] = [];
  let inBlock = false;
  let blockId = 0;
  // Line starts once: slicing and splitting the text per statement made long files quadratic.
  const lineStarts = [0];
  for (let i = sql.indexOf('\n'); i !== -1; i = sql.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  for (const p of parsed) {
    const facts = statementFacts(p.ast, p.sql);
    if (facts.kind === 'transaction') {
      if (facts.action === 'begin') {
        inBlock = true;
        blockId++;
      } else if (facts.action === 'commit' || facts.action === 'rollback') inBlock = false;
      continue;
    }
    const age = (n: string): TableAge => (created.has(n) ? 'new' : 'existing');
    const locks = inferredLocks(facts, pgVersion, undefined, age).filter((l) => l.age !== 'new');
    const prediction = predictsRewrite(facts, { pgVersion });
    const target = targetTable(facts);
    const rewrites = prediction?.rewrite && target && age(qualify(target)) === 'existing' ? [{ table: qualify(target), observed: false, reason: prediction.reason }] : [];
    statements.push({
      sql: p.sql,
      ast: p.ast,
      facts,
      site: { file, line: lineOf(p.offset), column: 1 },
      locks,
      rewrites,
      inTransaction: inBlock,
      ...(inBlock ? { transactionId: `block${blockId}` } : {}),
      index: statements.length,
    });
    if (facts.kind === 'create-table' || facts.kind === 'create-table-as') created.add(qualify(facts.table));
  }
  return { name, file, source: sql, transactional: false, hasDown: true, statements, sqlFile: true };
}

/** The table a statement is about, when it has one. */
export function targetTable(facts: StatementFacts): QualifiedName | undefined {
  switch (facts.kind) {
    case 'alter-table':
    case 'create-index':
    case 'truncate':
      return 'table' in facts ? (facts.table as QualifiedName | undefined) : undefined;
    case 'update':
    case 'delete':
    case 'insert':
      return facts.table;
    default:
      return undefined;
  }
}
