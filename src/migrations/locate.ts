import fs from 'node:fs';
import { walk } from '../sql/ast.js';
import { ensureParser, parseSqlSync } from '../sql/parse.js';

/** Where in a migration file a failing statement was written. */
export interface StatementLocation {
  file: string;
  line: number;
  /** The line's text, trimmed, for messages. */
  text: string;
}

export interface LocateInput {
  file: string;
  direction: 'up' | 'down';
  /** The failing statement as knex sent it (bindings inlined), when known. */
  sql?: string;
  /** Names of the objects the error is about (from the error's fields and message), most specific first. */
  objects: string[];
  /** Which of those names are tables (they point at the enclosing call, not the line). */
  tables?: string[];
  /** The one object the error is about: weighs most, table or not. */
  subject?: string;
}

/**
 * Finds the line of a migration file that produced a failing statement, after the fact: on the
 * target, statements run without the capture engine, so there is no call site to read. The file
 * is searched within the failing direction's function for, in order of weight: the statement's
 * own text (knex.raw), the names the error is about, and the names the statement mentions (read
 * with the PostgreSQL parser). Returns undefined when nothing in the file points at it.
 */
export async function locateStatement(input: LocateInput): Promise<StatementLocation | undefined> {
  let text: string;
  try {
    text = fs.readFileSync(input.file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const [from, to] = directionRange(lines, input.direction);
  const statementNames = input.sql ? await namesInStatement(input.sql) : { relations: [], others: [] };
  const rawStart = input.sql ? normalize(leadingText(input.sql)) : '';

  // A table name points at the enclosing createTable/alterTable call; a column, index or
  // constraint name at the builder call that made the statement: those weigh more.
  const tables = new Set([...(input.tables ?? []), ...statementNames.relations].map((n) => n.toLowerCase()));
  const weightOf = (name: string, base: number) => (tables.has(name.toLowerCase()) ? 0.5 : base);
  const needles = new Map<string, number>();
  const addNeedle = (name: string, weight: number) => needles.set(name, Math.max(needles.get(name) ?? 0, weight));
  for (const name of input.objects) addNeedle(name, weightOf(name, 2));
  if (input.subject) addNeedle(input.subject, 4);
  for (const name of statementNames.others) addNeedle(name, weightOf(name, 1));
  for (const name of statementNames.relations) addNeedle(name, 0.5);

  let best: { line: number; score: number } | undefined;
  for (let i = from; i < to; i++) {
    const line = lines[i] ?? '';
    if (isComment(line)) continue;
    let score = 0;
    const flat = normalize(line);
    if (rawStart.length >= 12 && flat.includes(rawStart)) score += 20;
    for (const [name, weight] of needles) score += nameScore(line, name) * weight;
    if (score > 0 && (!best || score > best.score)) best = { line: i, score };
  }
  if (!best) return undefined;
  return { file: input.file, line: best.line + 1, text: (lines[best.line] ?? '').trim() };
}

/** The lines of the file that belong to `up` or `down` (the whole file when they cannot be told apart). */
export function directionRange(lines: string[], direction: 'up' | 'down'): [number, number] {
  const find = (name: string) =>
    lines.findIndex((l) =>
      new RegExp(
        `(^|[^.\\w])(exports\\.${name}\\b|module\\.exports\\.${name}\\b|export\\s+(async\\s+)?function\\s+${name}\\b|export\\s+const\\s+${name}\\b|(const|let|var)\\s+${name}\\s*=|(async\\s+)?function\\s+${name}\\s*\\(|${name}\\s*:\\s*(async\\s+)?(function|\\()|(async\\s+)?${name}\\s*\\([^)]*\\)\\s*\\{)`,
      ).test(l),
    );
  const up = find('up');
  const down = find('down');
  const start = direction === 'up' ? up : down;
  const other = direction === 'up' ? down : up;
  if (start === -1) return [0, lines.length];
  return [start, other > start ? other : lines.length];
}

function isComment(line: string): boolean {
  const t = line.trim();
  return t.startsWith('//') || t.startsWith('*') || t.startsWith('/*');
}

/** How strongly a line names `name`: as a string literal of its own, or as a word of raw SQL. */
function nameScore(line: string, name: string): number {
  if (!name) return 0;
  const lower = line.toLowerCase();
  const n = name.toLowerCase();
  for (const q of [`'${n}'`, `"${n}"`, `\`${n}\``, `'${n}.`, `.${n}'`]) if (lower.includes(q)) return 3;
  const word = new RegExp(`(^|[^\\w$])${escapeRegExp(n)}($|[^\\w$])`);
  return word.test(lower) ? 1 : 0;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The statement's beginning up to its first binding or line end: what a knex.raw call spells literally. */
function leadingText(sql: string): string {
  const first = sql.trim().split('\n')[0] ?? '';
  const cut = first.search(/[?$']/);
  return (cut === -1 ? first : first.slice(0, cut)).slice(0, 48);
}

function normalize(text: string): string {
  return text.toLowerCase().replace(/["`]/g, '').replace(/\s+/g, ' ').trim();
}

/** Object names a statement mentions, read with the parser: relations, and the rest (columns, indexes, constraints). */
export async function namesInStatement(sql: string): Promise<{ relations: string[]; others: string[] }> {
  const relations = new Set<string>();
  const others = new Set<string>();
  const typeNames = new Set<string>(['pg_catalog']);
  try {
    await ensureParser();
    const parsed = parseSqlSync(sql);
    const add = (set: Set<string>, value: unknown) => {
      if (typeof value === 'string' && value.length > 1) set.add(value);
    };
    for (const statement of parsed) {
      walk(statement.ast, (kind, body) => {
        if (kind === 'TypeName' || kind === 'A_Const' || kind === 'FuncCall') return false;
        if (kind === 'RangeVar') add(relations, body.relname);
        // A statement's own target (ALTER TABLE, CREATE INDEX ON, UPDATE …) is a plain field, not a RangeVar node.
        const target = body.relation as { relname?: unknown } | undefined;
        if (target && typeof target === 'object') add(relations, target.relname);
        if (kind === 'ColumnDef') {
          add(others, body.colname);
          // Its type name is a plain field whose String nodes the walk would take for object names.
          const typeName = body.typeName as { names?: { String?: { sval?: string } }[] } | undefined;
          for (const part of typeName?.names ?? []) if (part.String?.sval) typeNames.add(part.String.sval);
        }
        if (kind === 'IndexStmt') add(others, body.idxname);
        if (kind === 'Constraint') add(others, body.conname);
        if (kind === 'AlterTableCmd') add(others, body.name);
        if (kind === 'IndexElem') add(others, body.name);
        if (kind === 'RenameStmt') {
          add(others, body.subname);
          add(others, body.newname);
        }
        if (kind === 'String') add(others, body.sval);
        return true;
      });
    }
  } catch {
    // Not parseable: the error's own names still locate it.
  }
  for (const r of [...relations, ...typeNames]) others.delete(r);
  return { relations: [...relations], others: [...others] };
}
