import { lockBlocks, lockModeSql, lockRank, waitsFor, type LockedObject } from '../sql/locks.js';
import { heldBefore, lockedObject, shortName } from './helpers.js';
import type { SeverityLevel } from '../config/schema.js';
import { parseIgnores } from './suppression.js';
import { qualify } from './analyze.js';
import type { AnalyzedStatement, EffectiveLock, Finding, FindingInput, MigrationUnit, Rule, RuleContext, Severity, TableAge, TableStats, Thresholds } from './types.js';
import { fixForWholeMigration } from './fix-scope.js';

export interface EngineOptions {
  pgVersion: number;
  /** pgVersion was given or read from the target (default false: a default version). */
  pgVersionKnown?: boolean;
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
  // A rule configured off still runs, silently, so that the safety net knows what it would explain;
  // the net rules run last.
  const off = (rule: Rule) => options.severities?.[rule.meta.id] === 'off';
  const active = [...rules.filter((r) => !r.meta.net), ...rules.filter((r) => r.meta.net && !off(r))];
  const batchOf = new Map<MigrationUnit, MigrationUnit[]>();
  for (const batch of options.batches ?? units.map((u) => [u])) for (const u of batch) batchOf.set(u, batch);

  for (const unit of units) {
    const ignores = parseIgnores(unit.source);
    // Where each table is first created in the migration, once: asked per statement and rule, a scan
    // of the statements made a 1,000-statement SQL file quadratic.
    const firstCreated = new Map<string, number>();
    for (const s of unit.statements) {
      if (s.facts.kind !== 'create-table' || s.error) continue;
      const name = qualify(s.facts.table, unit.schemaBefore);
      if (!firstCreated.has(name)) firstCreated.set(name, s.index);
    }
    const unitFindings: Finding[] = [];
    // What each statement's findings were about, by the rules that explain locks.
    const explanations = new Map<AnalyzedStatement, Set<string>>();
    for (const rule of active) {
      // The statement being judged: a table created earlier in the same migration is new from then
      // on, also when a table of that name existed before (dropped and re-created).
      let current: AnalyzedStatement | undefined;
      const createdEarlier = (name: string) => current !== undefined && (firstCreated.get(name) ?? Infinity) < current.index;
      const context: RuleContext = {
        pgVersion: options.pgVersion,
        pgVersionKnown: options.pgVersionKnown ?? false,
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
        report: (input) => {
          const batch = batchOf.get(unit) ?? [unit];
          if (input.statement && !rule.meta.general) {
            const about = explanations.get(input.statement) ?? new Set<string>();
            about.add('');
            for (const name of [input.table, input.lock?.relation]) if (name) about.add(qualify(name, unit.schemaBefore));
            explanations.set(input.statement, about);
          }
          if (!off(rule)) unitFindings.push(toFinding(rule, unit, input, options, batch));
        },
        explained: (statement, relation) => explanations.get(statement)?.has(relation === undefined ? '' : qualify(relation, unit.schemaBefore)) ?? false,
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
        if (off(rule)) continue;
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
        const message = i.placeholder
          ? `knexsafe-ignore ${i.rules.join(', ')} still has the placeholder "${i.placeholder}" as its reason: write why it is safe here; the finding stays.`
          : `knexsafe-ignore ${i.rules.join(', ')} has no reason; the finding stays.`;
        unitFindings.push(
          meta('ignore-without-reason', 'error', unit, i.line, message, 'A suppression must say why the risk is acceptable, so reviewers can judge it: `// knexsafe-ignore <rule-id>: <reason>`.'),
        );
      } else if (!i.used) {
        unitFindings.push(
          meta(
            'unused-ignore',
            'warning',
            unit,
            i.line,
            `knexsafe-ignore ${i.rules.join(', ')} silences nothing here.`,
            'The call it was written for changed or moved; a stale ignore would silence a future real finding. Remove it.',
          ),
        );
      }
    }
    findings.push(...unitFindings);
  }
  return findings;
}

function meta(rule: string, severity: Severity, unit: MigrationUnit, line: number, message: string, why: string): Finding {
  return { rule, severity, category: 'knex', message, why, migration: unit.name, file: unit.file, line, docs: `${DOCS_BASE}/suppression.md` };
}

function toFinding(rule: Rule, unit: MigrationUnit, input: FindingInput, options: EngineOptions, batch: readonly MigrationUnit[] = [unit]): Finding {
  const s: AnalyzedStatement | undefined = input.statement;
  const lock = input.lock ? lockOf(input.lock, s, unit, batch) : undefined;
  const locks = s ? locksInOrder(s) : [];
  const configured = options.severities?.[rule.meta.id];
  const severity: Severity = configured && configured !== 'off' ? configured : (input.severity ?? rule.meta.severity);
  const stats = input.table ? options.stats?.get(qualify(input.table, unit.schemaBefore)) : undefined;
  return {
    rule: rule.meta.id,
    severity,
    category: rule.meta.category,
    message: input.message,
    why: lock?.held ? `${input.why} ${heldSentence(lock, input.lock!.relation, unit)}` : input.why,
    migration: unit.name,
    file: s?.site?.file ?? input.site?.file ?? unit.file,
    ...(s?.site ? { line: s.site.line, column: s.site.column } : input.site ? { line: input.site.line, column: input.site.column } : {}),
    ...(s ? { sql: s.sql } : {}),
    ...(input.table ? { table: { name: input.table, ...(stats?.rows !== undefined ? { rows: stats.rows } : {}), ...(stats?.bytes !== undefined ? { bytes: stats.bytes } : {}) } } : {}),
    ...(lock ? { lock } : {}),
    ...(lock && locks.length > 1 ? { locks } : {}),
    ...(input.fix ? { fix: fixForWholeMigration(unit, s, input.fix) } : {}),
    docs: `${DOCS_BASE}/${rule.meta.id}.md`,
  };
}

function lockOf(input: NonNullable<FindingInput['lock']>, statement: AnalyzedStatement | undefined, unit: MigrationUnit, batch: readonly MigrationUnit[]): NonNullable<Finding['lock']> {
  const object = objectOf(input, statement);
  const held = statement ? heldBefore(statement, unit, batch, qualify(input.relation, unit.schemaBefore)) : undefined;
  const stronger = held !== undefined && lockRank(held.mode) > lockRank(input.mode);
  return {
    mode: input.mode,
    sql: lockModeSql(input.mode),
    relation: input.relation,
    // What other sessions meet while the statement runs: the strongest lock the transaction then holds on the relation.
    blocks: lockBlocks(stronger ? held.mode : input.mode, object),
    waitsFor: waitsFor(input.mode, object),
    ...(held && stronger
      ? {
          held: {
            mode: held.mode,
            sql: lockModeSql(held.mode),
            blocks: lockBlocks(held.mode, object),
            since: { migration: held.migration.name, ...(held.statement.site ? { line: held.statement.site.line } : {}), sql: held.statement.sql },
          },
        }
      : {}),
    ...(input.later && lockRank(input.later.mode) > lockRank(stronger ? held.mode : input.mode)
      ? {
          later: {
            mode: input.later.mode,
            sql: lockModeSql(input.later.mode),
            blocks: lockBlocks(input.later.mode, object),
            since: { migration: unit.name, ...(input.later.statement.site ? { line: input.later.statement.site.line } : {}), sql: input.later.statement.sql },
          },
        }
      : {}),
  };
}

/** What the held lock changes, said after the rule's own why. */
function heldSentence(lock: NonNullable<Finding['lock']>, relation: string, unit: MigrationUnit): string {
  const held = lock.held!;
  const where = held.since.line !== undefined ? ` (line ${held.since.line}${held.since.migration !== unit.name ? ` of ${held.since.migration}` : ''})` : '';
  // What the statement's own lock would leave open (lock.blocks already reads as the held lock).
  const own = lockBlocks(lock.mode);
  const extra = [held.blocks.reads && !own.reads ? 'reads' : '', held.blocks.writes && !own.writes ? 'writes' : ''].filter(Boolean).join(' and ');
  return (
    `Earlier in the same transaction, \`${oneLine(held.since.sql)}\`${where} took ${held.sql} on ${shortName(relation)}, still held while this statement runs: ` +
    `${held.blocks.description}${extra ? ` — so ${extra} of ${shortName(relation)} wait for this statement too` : ''}, until the transaction commits.`
  );
}

function oneLine(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

/** The statement's locks on relations that existed before, its own table first (pg_locks does not tell the order). */
function locksInOrder(statement: AnalyzedStatement): NonNullable<Finding['locks']> {
  const f = statement.facts as { table?: { schema?: string; name: string }; view?: { schema?: string; name: string } };
  const named = f.table ?? f.view;
  const own = (relation: string) => named !== undefined && (relation === `${named.schema ?? 'public'}.${named.name}` || (!named.schema && relation.endsWith(`.${named.name}`)));
  const byRelation = new Map<string, { relation: string; mode: EffectiveLock['mode']; object: LockedObject }>();
  for (const l of statement.locks) {
    if (l.age !== 'existing' || l.relationKind === 'index' || l.relationKind === 'sequence') continue;
    const known = byRelation.get(l.relation);
    if (!known || lockRank(l.mode) > lockRank(known.mode)) byRelation.set(l.relation, { relation: l.relation, mode: l.mode, object: lockedObject(l) });
  }
  return [...byRelation.values()]
    .sort((a, b) => Number(own(b.relation)) - Number(own(a.relation)))
    .map((l) => ({ relation: l.relation, mode: l.mode, sql: lockModeSql(l.mode), blocks: lockBlocks(l.mode, l.object) }));
}

function objectOf(lock: NonNullable<FindingInput['lock']>, statement: AnalyzedStatement | undefined): LockedObject {
  if (lock.object) return lock.object;
  const seen = statement?.locks.find((l) => l.relation === lock.relation);
  return seen ? lockedObject(seen) : 'table';
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
