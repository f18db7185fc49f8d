import fs from 'node:fs';
import path from 'node:path';
import type { CheckOptions, CheckReport } from './types.js';
import { KnexsafeError, errorMessage } from '../errors.js';
import { DEFAULT_THRESHOLDS } from '../rules/thresholds.js';
import type { Finding, MigrationUnit, Rule, Severity } from '../rules/types.js';
import { SqlParseError } from '../sql/parse.js';
import { compareText } from '../util/compare-text.js';
import { displayPath } from '../util/paths.js';

export const DEFAULT_PG_VERSION = 13;

/** The analysis and the rules: what judges statements, whether from a SQL file or a shadow's capture. */
export async function loadJudge() {
  const [analyze, engine, registry, parse] = await Promise.all([import('../rules/analyze.js'), import('../rules/engine.js'), import('../rules/registry.js'), import('../sql/parse.js')]);
  await parse.ensureParser();
  return { analyzeSqlText: analyze.analyzeSqlText, analyzeTrace: analyze.analyzeTrace, runRules: engine.runRules, rules: registry.ALL_RULES as readonly Rule[] };
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => compareText(a.migration, b.migration) || (a.line ?? 0) - (b.line ?? 0) || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || compareText(a.rule, b.rule));
}

/**
 * `knexsafe check file.sql`: the statements read by PostgreSQL's parser and judged by the rules,
 * with no project, database or shadow. The CLI imports this module alone for .sql targets, so
 * that a static check does not load what runs migrations (knex's loader, the config schemas).
 */
export async function checkSqlFiles(options: CheckOptions, started: number = performance.now()): Promise<CheckReport> {
  const { analyzeSqlText, runRules, rules } = await loadJudge();
  const pgVersion = options.pgVersion ?? DEFAULT_PG_VERSION;
  const units: MigrationUnit[] = [];
  const created = new Map<MigrationUnit, Set<string>>();
  const createdIn = (unit: MigrationUnit) => {
    let names = created.get(unit);
    if (!names) created.set(unit, (names = new Set(unit.statements.flatMap((s) => (s.facts.kind === 'create-table' ? [`${s.facts.table.schema ?? 'public'}.${s.facts.table.name}`] : [])))));
    return names;
  };
  for (const file of options.sqlFiles ?? []) {
    const text = file === '-' ? (options.stdin ?? '') : readSqlFile(file);
    const name = file === '-' ? '<stdin>' : path.basename(file);
    try {
      units.push(analyzeSqlText(name, file === '-' ? '<stdin>' : path.resolve(file), text, pgVersion));
    } catch (error) {
      const shown = file === '-' ? '<stdin>' : displayPath(path.resolve(file));
      const at = error instanceof SqlParseError && error.position !== undefined ? lineAndColumn(text, error.position) : undefined;
      throw new KnexsafeError('SQL_SYNTAX_ERROR', `${at ? `${shown}:${at.line}:${at.column}` : shown} is not valid SQL: ${errorMessage(error)}${at ? ` — ${at.excerpt}` : ''}`, {
        hint: 'Fix the SQL; knexsafe reads it with PostgreSQL’s own parser.',
        details: { file: shown, ...(at ? { line: at.line, column: at.column } : {}) },
      });
    }
  }
  const findings = runRules(rules, units, {
    pgVersion,
    pgVersionKnown: options.pgVersion !== undefined,
    thresholds: DEFAULT_THRESHOLDS,
    tableAge: (unit, table) => (createdIn(unit).has(table) ? 'new' : 'existing'),
  });
  return {
    findings: sortFindings(findings),
    migrations: units.map((u) => ({ name: u.name, file: u.file, statements: u.statements.length, transactional: false })),
    scope: `${units.length} SQL file${units.length === 1 ? '' : 's'}, statically`,
    pgVersion,
    pgVersionSource: options.pgVersion !== undefined ? { from: 'option' } : { from: 'default', reason: 'target-not-read' },
    durationMs: performance.now() - started,
    warnings: [],
  };
}

/** 1-based line and column of a character offset (libpg-query's cursor position), and that line's text. */
function lineAndColumn(text: string, offset: number): { line: number; column: number; excerpt: string } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  const line = lines.length;
  const column = lines[lines.length - 1]!.length + 1;
  const excerpt = (text.split('\n')[line - 1] ?? '').trim();
  return { line, column, excerpt: excerpt.length > 120 ? `${excerpt.slice(0, 117)}…` : excerpt };
}

function readSqlFile(file: string): string {
  if (!fs.existsSync(file)) throw new KnexsafeError('FILE_NOT_FOUND', `${file} does not exist.`);
  if (fs.statSync(file).isDirectory()) {
    throw new KnexsafeError('NOT_A_FILE', `${file} is a folder: check reads .sql files given one by one.`, {
      hint: 'Name the files (knexsafe check db/*.sql), or use --migrations-dir for a folder of knex migrations.',
    });
  }
  return fs.readFileSync(file, 'utf8');
}
