import { lockBlocks, lockModeSql } from '../sql/locks.js';
import type { SeverityLevel } from '../config/schema.js';
import { parseIgnores } from './suppression.js';
import { qualify } from './analyze.js';
import { fixForWholeMigration } from './fix-scope.js';
import type { AnalyzedStatement, Finding, FindingInput, MigrationUnit, Rule, RuleContext, Severity, TableAge, TableStats, Thresholds } from './types.js';

export interface EngineOptions {
  pgVersion: number;
  thresholds: Thresholds;
  /** Per-rule severity overrides from knexsafe config; 'off' disables a rule. */
  severities?: Record<string, SeverityLevel>;
  stats?: Map<string, TableStats>;
  /** Groups of units that run in one knex batch (same order as `units`). Default: each alone. */
  batches?: MigrationUnit[][];
  /** Age of a table for a unit; default: from the unit's schemaBefore. */
  tableAge?: (unit: MigrationUnit, table: string) => TableAge;
}

/** Rule docs ship with the package (docs/rules/<id>.md). */
export const DOCS_BASE = 'docs/rules';

export { DEFAULT_THRESHOLDS } from './thresholds.js';

/** Runs every rule over every migration unit; applies suppression comments and configured severities. */
export function runRules(rules: readonly Rule[], units: MigrationUnit[], options: EngineOptions): Finding[] {
  const findings: Finding[] = [];
  const active = rules.filter((r) => options.severities?.[r.meta.id] !== 'off');
  const batchOf = new Map<MigrationUnit, MigrationUnit[]>();
  for (const batch of options.batches ?? units.map((u) => [u])) for (const u of batch) batchOf.set(u, batch);

  for (const unit of units) {
    const ignores = parseIgnores(unit.source);
    const unitFindings: Finding[] = [];
    for (const rule of active) {
      // The statement being judged: a table created earlier in the same migration is new from then
      // on, also when a table of that name existed before (dropped and re-created).
      let current: AnalyzedStatement | undefined;
      const createdEarlier = (name: string) =>
        current !== undefined &&
        unit.statements.some((s) => s.index < current!.index && s.facts.kind === 'create-table' && !s.error && qualify(s.facts.table, unit.schemaBefore) === name);
      const context: RuleContext = {
        pgVersion: options.pgVersion,
        thresholds: options.thresholds,
        migration: unit,
        batch: batchOf.get(unit) ?? [unit],
        stats: (table) => options.stats?.get(qualify(table, unit.schemaBefore)),
        tableAge: (table) => {
          const name = qualify(table, unit.schemaBefore);
          if (createdEarlier(name)) return 'new';
          if (options.tableAge) return options.tableAge(unit, name);
          if (!unit.schemaBefore) return 'existing';
          return unit.schemaBefore.tables[name] ? 'existing' : 'new';
        },
        report: (input) => unitFindings.push(toFinding(rule, unit, input, options)),
      };
      try {
        if (rule.statement) {
          for (const s of unit.statements) {
            current = s;
            rule.statement(s, context);
          }
          current = undefined;
        }
        rule.migration?.(unit, context);
      } catch (error) {
        unitFindings.push({
          rule: 'internal-error',
          severity: 'warning',
          category: 'lock',
          message: `Rule ${rule.meta.id} crashed on this migration: ${(error as Error).message}`,
          why: 'A knexsafe bug; the rule was skipped for this migration. Please report it with the migration.',
          migration: unit.name,
          file: unit.file,
          docs: `${DOCS_BASE}/README.md`,
        });
      }
    }
    // Suppression: an ignore comment for the rule on the finding's line.
    for (const f of unitFindings) {
      const ignore = ignores.find((i) => i.rules.includes(f.rule) && (f.line === undefined || i.appliesTo === f.line || i.line === f.line));
      if (ignore && ignore.reason) {
        ignore.used = true;
        f.suppressed = { reason: ignore.reason };
      } else if (ignore) ignore.used = true;
    }
    for (const i of ignores) {
      if (!i.reason) {
        unitFindings.push(meta('ignore-without-reason', 'error', unit, i.line, `knexsafe-ignore ${i.rules.join(', ')} has no reason; the finding stays.`, 'A suppression must say why the risk is acceptable, so reviewers can judge it: `// knexsafe-ignore <rule-id>: <reason>`.'));
      } else if (!i.used) {
        unitFindings.push(meta('unused-ignore', 'warning', unit, i.line, `knexsafe-ignore ${i.rules.join(', ')} silences nothing here.`, 'The call it was written for changed or moved; a stale ignore would silence a future real finding. Remove it.'));
      }
    }
    findings.push(...unitFindings);
  }
  return findings;
}

function meta(rule: string, severity: Severity, unit: MigrationUnit, line: number, message: string, why: string): Finding {
  return { rule, severity, category: 'knex', message, why, migration: unit.name, file: unit.file, line, docs: `${DOCS_BASE}/suppression.md` };
}

function toFinding(rule: Rule, unit: MigrationUnit, input: FindingInput, options: EngineOptions): Finding {
  const s: AnalyzedStatement | undefined = input.statement;
  const configured = options.severities?.[rule.meta.id];
  const severity: Severity = configured && configured !== 'off' ? configured : (input.severity ?? rule.meta.severity);
  const stats = input.table ? options.stats?.get(qualify(input.table, unit.schemaBefore)) : undefined;
  return {
    rule: rule.meta.id,
    severity,
    category: rule.meta.category,
    message: input.message,
    why: input.why,
    migration: unit.name,
    file: s?.site?.file ?? input.site?.file ?? unit.file,
    ...(s?.site ? { line: s.site.line, column: s.site.column } : input.site ? { line: input.site.line, column: input.site.column } : {}),
    ...(s ? { sql: s.sql } : {}),
    ...(input.table ? { table: { name: input.table, ...(stats?.rows !== undefined ? { rows: stats.rows } : {}), ...(stats?.bytes !== undefined ? { bytes: stats.bytes } : {}) } } : {}),
    ...(input.lock ? { lock: { mode: input.lock.mode, sql: lockModeSql(input.lock.mode), relation: input.lock.relation, blocks: lockBlocks(input.lock.mode) } } : {}),
    ...(input.fix ? { fix: fixForWholeMigration(unit, s, input.fix) } : {}),
    docs: `${DOCS_BASE}/${rule.meta.id}.md`,
  };
}

/**
 * Severity for a lock or rewrite hazard by table size: an error on an existing table that is large
 * (or of unknown size), a warning on a small one, info on a table created in the same batch.
 */
export function severityForTable(context: RuleContext, table: string, base: Severity = 'error'): Severity {
  const age = context.tableAge(table);
  if (age !== 'existing') return 'info';
  const stats = context.stats(table);
  if (stats?.rows === undefined && stats?.bytes === undefined) return base;
  const large = (stats.rows ?? 0) >= context.thresholds.largeTableRows || (stats.bytes ?? 0) >= context.thresholds.largeTableBytes;
  if (large) return 'error';
  return base === 'error' ? 'warning' : base === 'warning' ? 'info' : 'info';
}
