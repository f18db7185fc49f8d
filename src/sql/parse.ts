import type { Node } from 'libpg-query';
import { rememberLast } from '../util/remember.js';

/** One statement of a SQL text, read by PostgreSQL's own parser. */
export interface ParsedStatement {
  /** The statement's own text, without the separating semicolon. */
  sql: string;
  /** Character offset of the statement in the input. */
  offset: number;
  /** The statement node, e.g. `{ IndexStmt: {...} }`. */
  ast: Node;
}

export class SqlParseError extends Error {
  constructor(
    message: string,
    readonly position: number | undefined,
  ) {
    super(message);
    this.name = 'SqlParseError';
  }
}

// The parser (~60 ms to load, more to compile) loads on first need, not with every module that
// imports this one: the CLI's help texts do.
let parser: typeof import('libpg-query') | undefined;
let ready: Promise<void> | undefined;

export function ensureParser(): Promise<void> {
  ready ??= import('libpg-query').then(async (lib) => {
    await lib.loadModule();
    parser = lib;
  });
  return ready;
}

export async function parseSql(sql: string): Promise<ParsedStatement[]> {
  await ensureParser();
  return parseSqlSync(sql);
}

// The capture engine reads each statement before running it and the analysis reads it again
// moments later: the last few texts are remembered.
const parseRemembered = rememberLast(64, parseUncached);

/** Needs `ensureParser()` to have resolved once in this process. The statements returned are shared: read them, never change them. */
export function parseSqlSync(sql: string): ParsedStatement[] {
  return parseRemembered(sql);
}

function parseUncached(sql: string): ParsedStatement[] {
  if (!parser) throw new Error('parseSqlSync: ensureParser() has not resolved yet');
  let result;
  try {
    result = parser.parseSync(sql);
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    throw new SqlParseError((error as Error).message, details?.cursorPosition);
  }
  // libpg_query reports byte offsets into the UTF-8 text: in ASCII text they are character offsets.
  const bytes = Buffer.from(sql, 'utf8');
  const ascii = bytes.length === sql.length;
  const out: ParsedStatement[] = [];
  // Characters before each statement, counted on from the previous one: decoding the whole prefix
  // again for every statement made a 1,000-statement file quadratic.
  let byteAt = 0;
  let charAt = 0;
  for (const raw of result.stmts ?? []) {
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    const text = ascii ? sql.slice(start, end) : bytes.subarray(start, end).toString('utf8');
    const leading = text.length - text.trimStart().length;
    if (!ascii) {
      charAt += bytes.subarray(byteAt, start).toString('utf8').length;
      byteAt = start;
    }
    if (!raw.stmt) continue;
    out.push({
      sql: text.trim(),
      offset: (ascii ? start : charAt) + leading,
      ast: raw.stmt,
    });
  }
  return out;
}

/** The node type of a statement, e.g. `IndexStmt`. */
export function statementKind(ast: Node): string {
  return Object.keys(ast)[0] ?? 'Unknown';
}
