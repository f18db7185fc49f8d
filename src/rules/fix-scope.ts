import path from 'node:path';
import { alterTableWithoutAddedColumns, inModuleStyle, migrationFile, migrations, NEXT_MIGRATION, replayLine, type MigrationModuleStyle } from '../codegen/index.js';
import { jsIsEsm } from '../util/module-type.js';
import { statementFacts } from '../sql/facts.js';
import { parseSqlSync } from '../sql/parse.js';
import { inverseOf } from './statement-helpers.js';
import type { AlterTableCommand } from '../sql/facts.js';
import type { AnalyzedStatement, Fix, MigrationUnit } from './types.js';

/**
 * A fix written for one statement replaces the whole migration when pasted: so that it keeps
 * everything else the migration did, the statements before the hazard run first and those after it
 * last, replayed as knex sent them on the shadow, in migrations that keep the original's
 * transaction mode.
 */
export function fixForWholeMigration(unit: MigrationUnit, statement: AnalyzedStatement | undefined, input: Fix): Fix {
  // Shown as the rule wrote it: its code, if lazily written (lazy-fix.ts), still unwritten.
  if (input.wholeMigration || unit.sqlFile) return withoutCovers(input);
  const { covers: coversWhole = [], coversAddedColumns = [], ...fix } = input;
  const styled = (f: Fix): Fix => ({ ...f, code: inModuleStyle(f.code, moduleStyleOf(unit.file)) });
  if (!statement || fix.byHand) return styled(fix);
  // A statement the fix writes again in part keeps the rest (its other columns) in its place.
  const covers = [...coversWhole];
  const remainders = new Map<AnalyzedStatement, AnalyzedStatement>();
  for (const { statement: s, columns } of coversAddedColumns) {
    const rest = remainderOf(s, columns);
    if (rest === null) covers.push(s);
    else if (rest === undefined)
      return styled(fix); // cannot be split: a snippet, not whole files
    else remainders.set(s, rest);
  }
  const files = fix.code.split(NEXT_MIGRATION);
  // Every part a migration file: an `exports.up =` / `module.exports =` assignment of its own, not
  // a template whose comment names exports.up ("First statement of exports.up: …").
  if (!files.every((f) => /^\s*(exports\.up|module\.exports)\s*=/m.test(f))) return styled(fix);
  const sameColumn = columnSteps(statement);
  const kept = (s: AnalyzedStatement) => s !== statement && !covers.includes(s) && !sameColumn(s) && s.facts.kind !== 'transaction';
  // The fix writes again what it stands for (an ADD COLUMN it covers, knex .alter() steps of the
  // column), so statements between the first of those and the hazard cannot run before the fix: an
  // UPDATE of a column the fix adds would fail. They run after its first step, which makes what
  // they use, and before the steps that rely on what they did (a backfill before VALIDATE).
  const firstReplaced = Math.min(statement.index, ...unit.statements.filter((s) => s !== statement && (covers.includes(s) || sameColumn(s))).map((s) => s.index));
  const own = (s: AnalyzedStatement) => remainders.get(s) ?? s;
  const before = unit.statements.filter((s) => s.index < firstReplaced && kept(s)).map(own);
  const between = unit.statements.filter((s) => s.index > firstReplaced && s.index < statement.index && kept(s)).map(own);
  const after = unit.statements.filter((s) => s.index > statement.index && kept(s)).map(own);
  // The fix's own code may replay the hazard's values too (a backfill written as batches).
  const ownClock = clockValues(statement).filter((v) => fix.code.includes(v));
  const ownReplay = ownClock.length ? `${ownClock.map((v) => `'${v}'`).join(', ')} (the time the shadow ran the migration)` : undefined;
  if (before.length === 0 && between.length === 0 && after.length === 0) return styled({ ...fix, ...(ownReplay ? { replaysData: ownReplay } : {}) });
  const replaysData = [computedValues([...before, ...between, ...after]), ownReplay].filter(Boolean).join(', ') || undefined;
  // What a migration does with rows it reads (a loop, a batchInsert) ran on the shadow's empty
  // tables, so it sent nothing: a replay would silently drop that code.
  const reading = rowReadingSelect(unit);
  if (reading) {
    const byHand = `would keep only what the migration sent on the shadow's empty tables after \`${reading.sql.replace(/\s+/g, ' ').slice(0, 60)}…\`: what it does with the rows it reads (a loop, a batchInsert) would be lost`;
    return styled({ ...fix, byHand });
  }
  const part = (statements: AnalyzedStatement[], where: string) => {
    const down = [...statements].reverse().flatMap((s) => inverseOf(s, unit).down ?? [`  // TODO: undo \`${s.sql.replace(/\s+/g, ' ').slice(0, 100)}\``]);
    return migrationFile({
      comment: [
        `The statements of ${unit.name} ${where}, as knex sent them.`,
        ...(replaysData ? [`CHECK BY HAND: the values of ${replaysData} are the shadow's, computed when knexsafe ran the migration: write the code that computes them back.`] : []),
      ],
      up: statements.map((s) => replayLine(s.sql, s.captured?.bindings ?? [])),
      down,
      ...(unit.transactional ? {} : { noTransaction: `${unit.name} ran without a transaction.` }),
    });
  };
  return styled({
    ...fix,
    description: `${fix.description} The other statements of the migration stay, in migrations of their own ${before.length && (after.length || between.length) ? 'before and after it' : before.length ? 'before it' : 'after it'}.`,
    code: migrations([
      ...(before.length ? [part(before, 'before this change')] : []),
      files[0]!,
      ...(between.length ? [part(between, 'between the first step of this change and the rest (they use what it adds)')] : []),
      ...files.slice(1),
      ...(after.length ? [part(after, 'after this change')] : []),
    ]),
    wholeMigration: true,
    ...(replaysData ? { replaysData } : {}),
  });
}

/**
 * A SELECT the migration's own code ran that reads rows of a table (not knex's hasTable /
 * hasColumn look-ups in the catalogs, not `select 1` or `setval`): what follows it may depend on them.
 */
function rowReadingSelect(unit: MigrationUnit): AnalyzedStatement | undefined {
  const catalog = new Set(['pg_catalog', 'information_schema']);
  return unit.statements.find((s) => s.facts.kind === 'select' && s.captured !== undefined && s.facts.readsFrom.some((t) => !catalog.has(t.schema ?? '') && !/^pg_/.test(t.name)));
}

/** The fix without what it stands for (never reported), its properties copied as they are: a getter stays one. */
function withoutCovers(input: Fix): Fix {
  // Most fixes name no statement they stand for: kept as the rule wrote them (copying their property
  // descriptors, hundreds of times on a long SQL file, left slow dictionary-mode objects).
  if (!Object.hasOwn(input, 'covers') && !Object.hasOwn(input, 'coversAddedColumns')) return input;
  const { covers: _covers, coversAddedColumns: _added, ...descriptors } = Object.getOwnPropertyDescriptors(input);
  return Object.defineProperties({}, descriptors) as Fix;
}

/** Bound values of `s` that look like the clock when it ran (a time within the last month), as written in code. */
function clockValues(s: AnalyzedStatement): string[] {
  const now = Date.now();
  const out: string[] = [];
  for (const v of s.captured?.bindings ?? []) {
    const text = v instanceof Date ? v.toISOString() : typeof v === 'string' && ISO_TIME.test(v) ? v : undefined;
    const t = text ? Date.parse(text) : NaN;
    if (text && Number.isFinite(t) && t > now - 31 * DAY_MS && t < now + DAY_MS) out.push(text);
  }
  return out;
}

/** An ISO-8601 date-time, as `new Date().toISOString()` and knex's Date bindings give. */
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$/;
const DAY_MS = 86_400_000;

/**
 * The replayed statements whose bound values came from the clock (`new Date()`, a time within the
 * last month), not from the migration's code: undefined when there are none. (Values computed
 * from rows the migration read are caught before: see rowReadingSelect.)
 */
function computedValues(replayed: AnalyzedStatement[]): string | undefined {
  const reasons = replayed.filter((s) => clockValues(s).length).map((s) => `\`${s.sql.replace(/\s+/g, ' ').slice(0, 60)}…\` (the time it ran)`);
  return reasons.length ? reasons.join(', ') : undefined;
}

/**
 * `statement` without its ADD COLUMN of `columns`, as a statement of its own (parsed again, so its
 * inverse for the down is its own); null when nothing is left, undefined when it cannot be written.
 */
function remainderOf(statement: AnalyzedStatement, columns: string[]): AnalyzedStatement | null | undefined {
  const sql = alterTableWithoutAddedColumns(statement.ast, columns);
  if (sql === null || sql === undefined) return sql;
  const [parsed] = parseSqlSync(sql);
  if (!parsed) return undefined;
  const { captured: _bindingsWereForTheWholeStatement, ...rest } = statement;
  return { ...rest, sql, ast: parsed.ast, facts: statementFacts(parsed.ast, sql) };
}

/** The module style a new migration next to `file` must use (its extension and the nearest package.json). */
function moduleStyleOf(file: string): MigrationModuleStyle {
  const ext = path.extname(file);
  if (ext === '.ts' || ext === '.mts' || ext === '.cts') return ext === '.cts' ? 'cjs' : 'ts';
  if (ext === '.mjs') return 'esm';
  if (ext === '.cjs') return 'cjs';
  return path.isAbsolute(file) && jsIsEsm(path.dirname(file)) ? 'esm' : 'cjs';
}

/** The columns an ALTER TABLE command is about (ADD COLUMN, ALTER COLUMN …), or undefined for other commands. */
function commandColumn(c: AlterTableCommand): string | undefined {
  if (c.action === 'add-column') return c.column.name;
  return 'column' in c && typeof c.column === 'string' ? c.column : undefined;
}

/**
 * Statements a fix for a column change stands for too: the steps knex emits for one builder call
 * on that column (`.alter()`: DROP DEFAULT, DROP NOT NULL, TYPE, SET DEFAULT, SET NOT NULL, from
 * the same call site).
 */
function columnSteps(statement: AnalyzedStatement): (s: AnalyzedStatement) => boolean {
  const f = statement.facts;
  if (f.kind !== 'alter-table') return () => false;
  const columns = f.commands.map(commandColumn);
  if (columns.length === 0 || columns.some((c) => c === undefined)) return () => false;
  const touched = new Set(columns as string[]);
  const table = `${f.table.schema ?? ''}.${f.table.name}`;
  const site = statement.site;
  return (s) => {
    const g = s.facts;
    if (g.kind !== 'alter-table' || `${g.table.schema ?? ''}.${g.table.name}` !== table || g.commands.length === 0) return false;
    const sameSite = site !== undefined && s.site !== undefined && s.site.file === site.file && s.site.line === site.line && s.site.column === site.column;
    return g.commands.every((c) => {
      const column = commandColumn(c);
      return column !== undefined && touched.has(column) && sameSite;
    });
  };
}
