/**
 * Reading a knex migration's JavaScript / TypeScript text, for the knex-specific rules that the
 * SQL alone cannot decide (`.unsigned()` leaves no trace in the SQL; which column call emitted a
 * statement; what `down` does when check only runs `up`) and for fixes that rewrite the user's
 * own file. A small tokenizer — strings, template literals, comments and regular expressions are
 * recognised, so code inside them is never mistaken for calls — and helpers over its tokens.
 * It does not build a syntax tree: every helper answers `undefined` when the code does not have
 * the plain shape migrations are written in, and the rules then stay silent or fall back.
 */
import { rememberLast } from '../util/remember.js';

export type JsTokenType = 'ident' | 'string' | 'template' | 'number' | 'punct' | 'regex';

export interface JsToken {
  type: JsTokenType;
  /** The token's text as written. */
  text: string;
  /** Strings, and templates without `${}`: the value (escapes decoded). */
  value?: string;
  start: number;
  end: number;
  /** 1-based line of the token's first character. */
  line: number;
}

const PUNCTUATORS = [
  '>>>=',
  '...',
  '===',
  '!==',
  '**=',
  '<<=',
  '>>=',
  '>>>',
  '&&=',
  '||=',
  '??=',
  '=>',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '??',
  '?.',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '**',
  '<<',
  '>>',
];

/** After these, a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_KEYWORDS = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

function isIdentStart(c: string): boolean {
  return /[A-Za-z_$\u00c0-\uffff]/.test(c);
}

function isIdentPart(c: string): boolean {
  return /[A-Za-z0-9_$\u00c0-\uffff]/.test(c);
}

function decodeEscapes(raw: string): string {
  return raw.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])/g, (_, e: string) => {
    if (e.startsWith('u{')) return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
    if (e.length === 5 && e[0] === 'u') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (e.length === 3 && e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    switch (e) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case '0':
        return '\0';
      case '\n':
      case '\r\n':
        return '';
      default:
        return e;
    }
  });
}

/** Splits JavaScript / TypeScript source into tokens, without comments and whitespace. */
export function tokenizeJs(source: string): JsToken[] {
  const tokens: JsToken[] = [];
  let i = 0;
  let line = 1;
  const n = source.length;
  const advanceTo = (end: number) => {
    for (let k = i; k < end; k++) if (source.charCodeAt(k) === 10) line++;
    i = end;
  };
  const push = (type: JsTokenType, end: number, value?: string) => {
    const token: JsToken = { type, text: source.slice(i, end), start: i, end, line };
    if (value !== undefined) token.value = value;
    tokens.push(token);
    advanceTo(end);
  };
  const regexAllowed = () => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.type === 'punct') return !(prev.text === ')' || prev.text === ']' || prev.text === '}');
    if (prev.type === 'ident') return REGEX_AFTER_KEYWORDS.has(prev.text);
    return false;
  };
  /** End of a template literal starting at `start` (the backtick); whether it has `${}`. */
  const templateEnd = (start: number): { end: number; substitutions: boolean } => {
    let k = start + 1;
    let substitutions = false;
    while (k < n) {
      const c = source[k];
      if (c === '\\') k += 2;
      else if (c === '`') return { end: k + 1, substitutions };
      else if (c === '$' && source[k + 1] === '{') {
        substitutions = true;
        k = expressionEnd(k + 2);
      } else k++;
    }
    return { end: n, substitutions };
  };
  /** Index after the `}` closing a `${` substitution that starts at `start`. */
  const expressionEnd = (start: number): number => {
    let depth = 1;
    let k = start;
    while (k < n && depth > 0) {
      const c = source[k]!;
      if (c === '{') depth++;
      else if (c === '}') depth--;
      else if (c === '`') {
        k = templateEnd(k).end;
        continue;
      } else if (c === '"' || c === "'") {
        k = stringEnd(k);
        continue;
      } else if (c === '/' && source[k + 1] === '/') {
        while (k < n && source[k] !== '\n') k++;
        continue;
      } else if (c === '/' && source[k + 1] === '*') {
        const close = source.indexOf('*/', k + 2);
        k = close < 0 ? n : close + 2;
        continue;
      }
      k++;
    }
    return k;
  };
  const stringEnd = (start: number): number => {
    const quote = source[start];
    let k = start + 1;
    while (k < n && source[k] !== quote && source[k] !== '\n') k += source[k] === '\\' ? 2 : 1;
    return Math.min(k + 1, n);
  };

  while (i < n) {
    const c = source[i]!;
    if (c === '\n' || c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff' || c === '\u00a0') {
      advanceTo(i + 1);
      continue;
    }
    if (c === '#' && i === 0 && source[1] === '!') {
      const end = source.indexOf('\n');
      advanceTo(end < 0 ? n : end);
      continue;
    }
    if (c === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i);
      advanceTo(end < 0 ? n : end);
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      advanceTo(end < 0 ? n : end + 2);
      continue;
    }
    if (c === '"' || c === "'") {
      const end = stringEnd(i);
      push('string', end, decodeEscapes(source.slice(i + 1, end - 1)));
      continue;
    }
    if (c === '`') {
      const { end, substitutions } = templateEnd(i);
      if (substitutions) push('template', end);
      else push('template', end, decodeEscapes(source.slice(i + 1, end - 1)));
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      let k = i + 1;
      while (k < n && /[0-9A-Za-z_.]/.test(source[k]!)) k++;
      push('number', k);
      continue;
    }
    if (isIdentStart(c) || c === '\\') {
      let k = i + 1;
      while (k < n && isIdentPart(source[k]!)) k++;
      push('ident', k);
      continue;
    }
    if (c === '/' && regexAllowed()) {
      let k = i + 1;
      let inClass = false;
      while (k < n && source[k] !== '\n') {
        const d = source[k];
        if (d === '\\') k += 2;
        else {
          if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          else if (d === '/' && !inClass) break;
          k++;
        }
      }
      k++;
      while (k < n && isIdentPart(source[k]!)) k++;
      push('regex', Math.min(k, n));
      continue;
    }
    const p = PUNCTUATORS.find((x) => source.startsWith(x, i));
    push('punct', i + (p?.length ?? 1));
  }
  return tokens;
}

/** The token of type punct with this text. */
export function isPunct(token: JsToken | undefined, text: string): boolean {
  return token?.type === 'punct' && token.text === text;
}

export function isIdent(token: JsToken | undefined, text?: string): boolean {
  return token?.type === 'ident' && (text === undefined || token.text === text);
}

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** Index of the bracket closing the one at `open`, or -1. */
export function matchingClose(tokens: JsToken[], open: number): number {
  const opener = tokens[open]?.text ?? '';
  const closer = OPENERS[opener];
  if (!closer) return -1;
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.type !== 'punct') continue;
    if (t.text === opener) depth++;
    else if (t.text === closer && --depth === 0) return k;
  }
  return -1;
}

/** Index of the bracket opening the one at `close`, or -1. */
export function matchingOpen(tokens: JsToken[], close: number): number {
  const closer = tokens[close]?.text ?? '';
  const opener = CLOSERS[closer];
  if (!opener) return -1;
  let depth = 0;
  for (let k = close; k >= 0; k--) {
    const t = tokens[k]!;
    if (t.type !== 'punct') continue;
    if (t.text === closer) depth++;
    else if (t.text === opener && --depth === 0) return k;
  }
  return -1;
}

export interface JsCall {
  name: string;
  /** Index of the name token. */
  nameIndex: number;
  open: number;
  close: number;
  /** Token ranges of the arguments: [first, last] inclusive. */
  args: [number, number][];
  line: number;
}

/** The call `name(...)` whose name token is at `nameIndex`. */
export function callAt(tokens: JsToken[], nameIndex: number): JsCall | undefined {
  const name = tokens[nameIndex];
  if (name?.type !== 'ident' || !isPunct(tokens[nameIndex + 1], '(')) return undefined;
  const open = nameIndex + 1;
  const close = matchingClose(tokens, open);
  if (close < 0) return undefined;
  const args: [number, number][] = [];
  let start = open + 1;
  let depth = 0;
  for (let k = open + 1; k < close; k++) {
    const t = tokens[k]!;
    if (t.type === 'punct' && OPENERS[t.text]) depth++;
    else if (t.type === 'punct' && CLOSERS[t.text]) depth--;
    else if (depth === 0 && isPunct(t, ',')) {
      if (k > start) args.push([start, k - 1]);
      start = k + 1;
    }
  }
  if (close > start) args.push([start, close - 1]);
  return { name: name.text, nameIndex, open, close, args, line: name.line };
}

/** The literal string value of argument `n` of a call (a plain string or template without `${}`). */
export function stringArg(tokens: JsToken[], call: JsCall, n: number): string | undefined {
  const arg = call.args[n];
  if (!arg || arg[0] !== arg[1]) return undefined;
  const t = tokens[arg[0]]!;
  return t.type === 'string' || t.type === 'template' ? t.value : undefined;
}

/** String values in argument `n`: a single string, or an array literal of strings. */
export function stringListArg(tokens: JsToken[], call: JsCall, n: number): string[] | undefined {
  const single = stringArg(tokens, call, n);
  if (single !== undefined) return [single];
  const arg = call.args[n];
  if (!arg || !isPunct(tokens[arg[0]], '[') || matchingClose(tokens, arg[0]) !== arg[1]) return undefined;
  const out: string[] = [];
  for (let k = arg[0] + 1; k < arg[1]; k++) {
    const t = tokens[k]!;
    if (isPunct(t, ',')) continue;
    if ((t.type === 'string' || t.type === 'template') && t.value !== undefined) out.push(t.value);
    else return undefined;
  }
  return out;
}

/** Method calls `.name(` (or `?.name(`) with one of these names. */
export function methodCalls(tokens: JsToken[], names: ReadonlySet<string>): JsCall[] {
  const out: JsCall[] = [];
  tokens.forEach((t, k) => {
    if (t.type !== 'ident' || !names.has(t.text)) return;
    const prev = tokens[k - 1];
    if (!isPunct(prev, '.') && !isPunct(prev, '?.')) return;
    const call = callAt(tokens, k);
    if (call) out.push(call);
  });
  return out;
}

export interface JsChain {
  /** Index of the chain's first token (`knex`, `table`, …). */
  root: number;
  /** Index of the chain's last token (the closing parenthesis of its last call). */
  end: number;
  calls: JsCall[];
}

/** The member chain `root.a(…).b.c(…)` that contains the call. */
export function chainOf(tokens: JsToken[], call: JsCall): JsChain {
  const calls: JsCall[] = [call];
  // Backwards: `.name(…)` and `.name` links down to the root.
  let k = call.nameIndex;
  for (;;) {
    const dot = tokens[k - 1];
    if (!isPunct(dot, '.') && !isPunct(dot, '?.')) break;
    const before = tokens[k - 2];
    if (isPunct(before, ')')) {
      const open = matchingOpen(tokens, k - 2);
      const name = open - 1;
      const previous = callAt(tokens, name);
      if (open < 0 || !previous) break;
      calls.unshift(previous);
      k = name;
    } else if (before?.type === 'ident') {
      // A property link (`knex.schema`): a call would end with `)`.
      k -= 2;
    } else break;
  }
  const root = k;
  // Forwards.
  let end = call.close;
  for (;;) {
    if (!isPunct(tokens[end + 1], '.') && !isPunct(tokens[end + 1], '?.')) break;
    const name = end + 2;
    if (tokens[name]?.type !== 'ident') break;
    const next = callAt(tokens, name);
    if (next) {
      calls.push(next);
      end = next.close;
    } else end = name;
  }
  return { root, end, calls };
}

/** The innermost call with one of `names` whose argument list contains token `index`. */
export function enclosingCall(tokens: JsToken[], index: number, names: ReadonlySet<string>): JsCall | undefined {
  let depth = 0;
  for (let k = index - 1; k >= 0; k--) {
    const t = tokens[k]!;
    if (t.type !== 'punct') continue;
    if (CLOSERS[t.text]) depth++;
    else if (OPENERS[t.text]) {
      if (depth > 0) {
        depth--;
        continue;
      }
      if (t.text === '(' && tokens[k - 1]?.type === 'ident' && names.has(tokens[k - 1]!.text)) {
        const call = callAt(tokens, k - 1);
        if (call && call.close > index) return call;
      }
    }
  }
  return undefined;
}

/** The first token index at or after a 1-based line. */
export function firstTokenOnOrAfterLine(tokens: JsToken[], line: number): number {
  const k = tokens.findIndex((t) => t.line >= line);
  return k < 0 ? tokens.length : k;
}

// ---------------------------------------------------------------------------------------------
// Migration functions

export interface JsFunction {
  /** First token of the function (`async`, `function`, `(` or the parameter). */
  start: number;
  /** Last token of the function (its closing brace, or the end of an expression body). */
  end: number;
  async: boolean;
  /** Parameter list: indices of `(` and `)`, or of the single bare parameter. */
  params: [number, number];
  /** `{ … }` body: indices of the braces; undefined for an expression-bodied arrow. */
  body?: [number, number];
  /** Expression body of an arrow: [first, last]. */
  expression?: [number, number];
}

const EXPRESSION_STOP = new Set([';', ',', ')', ']', '}']);

/** A function expression, arrow or method starting at `k`. */
export function functionAt(tokens: JsToken[], k: number, method = false): JsFunction | undefined {
  const start = k;
  let isAsync = false;
  if (isIdent(tokens[k], 'async') && !isPunct(tokens[k + 1], '=>') && !isPunct(tokens[k + 1], ',')) {
    isAsync = true;
    k++;
  }
  if (isIdent(tokens[k], 'function')) {
    k++;
    if (isPunct(tokens[k], '*')) k++;
    if (tokens[k]?.type === 'ident') k++;
    return withParams(k, false);
  }
  if (method && tokens[k]?.type === 'ident' && isPunct(tokens[k + 1], '(')) return withParams(k + 1, false);
  if (isPunct(tokens[k], '(')) return withParams(k, true);
  if (tokens[k]?.type === 'ident' && isPunct(tokens[k + 1], '=>')) return afterArrow(k + 2, [k, k]);
  return undefined;

  function withParams(open: number, arrow: boolean): JsFunction | undefined {
    if (!isPunct(tokens[open], '(')) return undefined;
    const close = matchingClose(tokens, open);
    if (close < 0) return undefined;
    let next = close + 1;
    // TypeScript return type: `): Promise<void> {` / `): Promise<void> =>`.
    if (isPunct(tokens[next], ':')) {
      let depth = 0;
      while (next < tokens.length) {
        const t = tokens[next]!;
        if (isPunct(t, '<')) depth++;
        else if (isPunct(t, '>')) depth--;
        else if (isPunct(t, '>>')) depth -= 2;
        else if (depth <= 0 && (isPunct(t, '{') || isPunct(t, '=>'))) break;
        next++;
      }
    }
    if (arrow) {
      if (!isPunct(tokens[next], '=>')) return undefined;
      return afterArrow(next + 1, [open, close]);
    }
    if (!isPunct(tokens[next], '{')) return undefined;
    const end = matchingClose(tokens, next);
    if (end < 0) return undefined;
    return { start, end, async: isAsync, params: [open, close], body: [next, end] };
  }

  function afterArrow(bodyStart: number, params: [number, number]): JsFunction | undefined {
    if (isPunct(tokens[bodyStart], '{')) {
      const end = matchingClose(tokens, bodyStart);
      if (end < 0) return undefined;
      return { start, end, async: isAsync, params, body: [bodyStart, end] };
    }
    let depth = 0;
    let j = bodyStart;
    for (; j < tokens.length; j++) {
      const t = tokens[j]!;
      if (t.type === 'punct' && OPENERS[t.text]) depth++;
      else if (t.type === 'punct' && CLOSERS[t.text]) {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && t.type === 'punct' && EXPRESSION_STOP.has(t.text)) break;
    }
    if (j === bodyStart) return undefined;
    return { start, end: j - 1, async: isAsync, params, expression: [bodyStart, j - 1] };
  }
}

/** `function name(` / `const name = …` declared at the top level of the file. */
function declaredFunction(tokens: JsToken[], name: string): JsFunction | undefined {
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (isIdent(t, 'function') && isIdent(tokens[k + 1], name)) {
      const start = isIdent(tokens[k - 1], 'async') ? k - 1 : k;
      return functionAt(tokens, start);
    }
    if ((isIdent(t, 'const') || isIdent(t, 'let') || isIdent(t, 'var')) && isIdent(tokens[k + 1], name) && isPunct(tokens[k + 2], '=')) {
      return functionAt(tokens, k + 3);
    }
  }
  return undefined;
}

/** Where the `up` or `down` export of a migration is defined, in the shapes knex migrations use. */
export function migrationFunction(tokens: JsToken[], name: 'up' | 'down'): JsFunction | undefined {
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    // exports.down = … / module.exports.down = …
    if (isIdent(t, 'exports') && isPunct(tokens[k + 1], '.') && isIdent(tokens[k + 2], name) && isPunct(tokens[k + 3], '=')) {
      if (isIdent(tokens[k + 4], name) || (tokens[k + 4]?.type === 'ident' && isPunct(tokens[k + 5], ';'))) {
        const reference = tokens[k + 4]!.text;
        if (!isIdent(tokens[k + 4], 'async')) return declaredFunction(tokens, reference);
      }
      return functionAt(tokens, k + 4);
    }
    // export async function down(…) / export const down = …
    if (isIdent(t, 'export')) {
      let j = k + 1;
      if (isIdent(tokens[j], 'async')) j++;
      if (isIdent(tokens[j], 'function') && isIdent(tokens[j + 1], name)) return functionAt(tokens, k + 1);
      if ((isIdent(tokens[k + 1], 'const') || isIdent(tokens[k + 1], 'let')) && isIdent(tokens[k + 2], name)) {
        let e = k + 3;
        if (isPunct(tokens[e], ':')) while (e < tokens.length && !isPunct(tokens[e], '=')) e++;
        if (isPunct(tokens[e], '=')) return functionAt(tokens, e + 1);
      }
    }
    // module.exports = { up, down() {}, down: … } / export default { … }
    const objectStart =
      isIdent(t, 'module') && isPunct(tokens[k + 1], '.') && isIdent(tokens[k + 2], 'exports') && isPunct(tokens[k + 3], '=') && isPunct(tokens[k + 4], '{')
        ? k + 4
        : isIdent(t, 'export') && isIdent(tokens[k + 1], 'default') && isPunct(tokens[k + 2], '{')
          ? k + 2
          : -1;
    if (objectStart >= 0) {
      const found = objectMember(tokens, objectStart, name);
      if (found) return found;
    }
  }
  return undefined;
}

function objectMember(tokens: JsToken[], open: number, name: string): JsFunction | undefined {
  const close = matchingClose(tokens, open);
  let depth = 0;
  for (let k = open + 1; k < close; k++) {
    const t = tokens[k]!;
    if (t.type === 'punct' && OPENERS[t.text]) depth++;
    else if (t.type === 'punct' && CLOSERS[t.text]) depth--;
    if (depth !== 0) continue;
    const atMemberStart = isPunct(tokens[k - 1], '{') || isPunct(tokens[k - 1], ',');
    if (!atMemberStart) continue;
    const key = isIdent(t, 'async') && isIdent(tokens[k + 1], name) ? k + 1 : isIdent(t, name) || (t.type === 'string' && t.value === name) ? k : -1;
    if (key < 0) continue;
    const after = tokens[key + 1];
    if (isPunct(after, ':')) return functionAt(tokens, key + 2);
    if (isPunct(after, '(')) return functionAt(tokens, k, true);
    if (isPunct(after, ',') || isPunct(after, '}')) return declaredFunction(tokens, name);
  }
  return undefined;
}

/** A function that does nothing: `{}`, `{ ; }`, `{ return; }`, `{ return Promise.resolve(); }`, `() => undefined`. */
export function isEmptyFunction(tokens: JsToken[], fn: JsFunction): boolean {
  const texts = fn.body ? tokens.slice(fn.body[0] + 1, fn.body[1]).map((t) => t.text) : tokens.slice(fn.expression![0], fn.expression![1] + 1).map((t) => t.text);
  const code = texts.filter((t) => t !== ';').join(' ');
  if (fn.body) return code === '' || code === 'return' || code === 'return Promise . resolve ( )' || code === 'return null' || code === 'return undefined';
  return code === 'undefined' || code === 'null' || code === 'Promise . resolve ( )' || code === '{ }';
}

// ---------------------------------------------------------------------------------------------
// Knex column definitions

/** knex TableBuilder methods that define a column (`table.string('email')`). */
export const KNEX_COLUMN_METHODS: ReadonlySet<string> = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'bigint',
  'decimal',
  'float',
  'double',
  'real',
  'bit',
  'boolean',
  'serial',
  'date',
  'datetime',
  'timestamp',
  'time',
  'year',
  'geometry',
  'geography',
  'point',
  'char',
  'varchar',
  'tinytext',
  'tinyText',
  'text',
  'mediumtext',
  'mediumText',
  'longtext',
  'longText',
  'binary',
  'varbinary',
  'tinyblob',
  'tinyBlob',
  'mediumblob',
  'mediumBlob',
  'blob',
  'longblob',
  'longBlob',
  'enum',
  'set',
  'bool',
  'dateTime',
  'increments',
  'bigincrements',
  'bigIncrements',
  'integer',
  'biginteger',
  'bigInteger',
  'string',
  'json',
  'jsonb',
  'uuid',
  'enu',
  'specificType',
]);

export interface ColumnDefinition {
  chain: JsChain;
  /** The column-type call, e.g. `integer('user_id')`. */
  call: JsCall;
  line: number;
  /** Names of the calls after the type call: `unsigned`, `notNullable`, `alter`, … */
  modifiers: string[];
}

/**
 * The knex column definition of `column` at or after a line (the call site of the schema-builder
 * statement that emitted it): the first `table.<type>('column', …)` there.
 */
export function findColumnDefinition(tokens: JsToken[], column: string, fromLine: number, filter?: (d: ColumnDefinition) => boolean): ColumnDefinition | undefined {
  const from = firstTokenOnOrAfterLine(tokens, fromLine);
  for (let k = from; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.type !== 'ident' || !KNEX_COLUMN_METHODS.has(t.text) || !isPunct(tokens[k - 1], '.')) continue;
    const call = callAt(tokens, k);
    if (!call) continue;
    // knex's increments() / bigIncrements() without a name define `id`.
    const unnamedId = column === 'id' && call.args.length === 0 && (t.text === 'increments' || t.text === 'bigIncrements' || t.text === 'bigincrements');
    if (stringArg(tokens, call, 0) !== column && !unnamedId) continue;
    const chain = chainOf(tokens, call);
    const at = chain.calls.indexOf(call);
    const definition: ColumnDefinition = { chain, call, line: call.line, modifiers: chain.calls.slice(at + 1).map((c) => c.name) };
    if (!filter || filter(definition)) return definition;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Edits

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

export function applyEdits(source: string, edits: TextEdit[]): string {
  let out = source;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The indentation of the line a source offset is on. */
export function indentationAt(source: string, offset: number): string {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(source.slice(lineStart))?.[0] ?? '';
}

export interface StatementPlace {
  /** The whole statement is `await <chain>;` (or `<chain>;`) inside a block: code can follow it. */
  standalone: boolean;
  /** It starts with `await` (so the function is async). */
  awaited: boolean;
  /** Offset right after the statement (after its `;` when there is one). */
  after: number;
  /** Offset of the statement's first character (its `await`, when awaited). */
  start: number;
  /** The chain's root identifier (`knex`, `trx`). */
  root: string;
  chain: JsChain;
}

/** Where the statement containing a chain begins and ends, to add code after it. */
export function statementOf(tokens: JsToken[], chain: JsChain): StatementPlace {
  let first = chain.root;
  const awaited = isIdent(tokens[first - 1], 'await');
  if (awaited) first--;
  const before = tokens[first - 1];
  const standalone = !before || isPunct(before, ';') || isPunct(before, '{') || isPunct(before, '}');
  const semicolon = isPunct(tokens[chain.end + 1], ';');
  return {
    standalone,
    awaited,
    after: semicolon ? tokens[chain.end + 1]!.end : tokens[chain.end]!.end,
    start: tokens[first]!.start,
    root: tokens[chain.root]!.text,
    chain,
  };
}

/** The statement chain (`knex.schema.alterTable(…)`) that contains token `index`, through enclosing builder callbacks. */
export function outerStatementChain(tokens: JsToken[], index: number): JsChain | undefined {
  const schemaCalls = new Set(['alterTable', 'table', 'createTable', 'createTableIfNotExists', 'createTableLike', 'transaction']);
  let k = index;
  let chain: JsChain | undefined;
  for (;;) {
    const call = tokens[k]?.type === 'ident' ? callAt(tokens, k) : undefined;
    if (call) chain = chainOf(tokens, call);
    const enclosing = enclosingCall(tokens, chain ? chain.root : k, schemaCalls);
    if (!enclosing || enclosing.name === 'transaction') return chain;
    k = enclosing.nameIndex;
  }
}

/**
 * An edit that runs `code(root)` (e.g. `knex.raw('DROP TYPE …')`) right after the statement that
 * contains token `index` (a call name, or a SQL string inside `knex.raw(…)`): a new `await …;`
 * line after an awaited statement, else `.then(() => …)` chained onto it.
 */
export function insertAfterStatement(source: string, tokens: JsToken[], index: number, code: (root: string) => string): TextEdit | undefined {
  let k = index;
  if (tokens[k]?.type === 'string' || tokens[k]?.type === 'template') {
    const raw = enclosingCall(tokens, k, new Set(['raw']));
    if (!raw) return undefined;
    k = raw.nameIndex;
  }
  const chain = outerStatementChain(tokens, k);
  if (!chain) return undefined;
  const place = statementOf(tokens, chain);
  if (place.standalone && place.awaited) {
    const lineStart = source.lastIndexOf('\n', place.start - 1) + 1;
    const ownLine = source.slice(lineStart, place.start).trim() === '';
    return { start: place.after, end: place.after, text: `${ownLine ? `\n${indentationAt(source, place.start)}` : ' '}await ${code(place.root)};` };
  }
  const end = tokens[chain.end]!.end;
  return { start: end, end, text: `.then(() => ${code(place.root)})` };
}

/** The tokens of a function's body (or expression), for searching inside it. */
export function functionRange(fn: JsFunction): [number, number] {
  return fn.body ?? fn.expression!;
}

/** `tokenizeJs`, remembered for the last few sources (every rule of a migration reads the same file). */
export const tokensOf: (source: string) => JsToken[] = rememberLast(8, tokenizeJs);

// ---------------------------------------------------------------------------------------------
// Editing a migration's source (fixes that insert a statement)

/** The identifier the statement on `line` calls knex through (`knex`, `trx`, `db` ...); JS source, not SQL. */
export function knexVariableOn(source: string, line: number): string {
  const text = source.split('\n')[line - 1] ?? '';
  // up's own parameter: what a call like `await addColumns(knex)` passes the knex instance as.
  const param =
    /\b(?:exports\.up|export\s+const\s+up|up)\s*=\s*(?:async\s*)?(?:function\s*[\w$]*\s*)?\(\s*([A-Za-z_$][\w$]*)/.exec(source)?.[1] ?? /\bfunction\s+up\s*\(\s*([A-Za-z_$][\w$]*)/.exec(source)?.[1];
  const method = /\bawait\s+([A-Za-z_$][\w$]*)\s*\./.exec(text) ?? /^\s*(?:return\s+)?([A-Za-z_$][\w$]*)\s*\./.exec(text);
  // `await knex('t')…` / `await trx('t')…` call the knex instance; `await addColumns(knex)` passes it
  // to a helper, which is not knex.
  const call = /\bawait\s+([A-Za-z_$][\w$]*)\s*\(\s*([A-Za-z_$][\w$]*)?/.exec(text);
  const passesKnex = call !== null && call[2] !== undefined && call[2] === (param ?? 'knex');
  const name = method?.[1] ?? (call && !passesKnex ? call[1] : undefined);
  return name && !['Promise', 'console', 'this'].includes(name) ? name : (param ?? 'knex');
}

/** `source` with `lines` inserted before line `line` (1-based), indented like that line. */
export function insertLines(source: string, line: number, lines: string[]): string {
  const all = source.split('\n');
  const indent = /^\s*/.exec(all[line - 1] ?? '')?.[0] ?? '';
  all.splice(line - 1, 0, ...lines.map((l) => `${indent}${l}`));
  return all.join('\n');
}

const NOT_METHODS = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'function', 'return', 'await', 'typeof']);

/** The innermost function whose `{ … }` body holds token `index`. */
function enclosingFunction(tokens: JsToken[], index: number): JsFunction | undefined {
  let innermost: JsFunction | undefined;
  for (let k = 0; k < index; k++) {
    // `async function` / `async (…) =>` start at `async`: the same function seen from its next token is not async.
    if (isIdent(tokens[k - 1], 'async')) continue;
    // `function up(…) {` seen from its name would look like a method `up(…) {`.
    if (isIdent(tokens[k - 1], 'function')) continue;
    const method = tokens[k]?.type === 'ident' && !NOT_METHODS.has(tokens[k]!.text);
    const fn = functionAt(tokens, k, method);
    if (!fn?.body || !(fn.body[0] < index && index < fn.body[1])) continue;
    if (!innermost || fn.start > innermost.start) innermost = fn;
  }
  return innermost;
}

/**
 * The edited file if its new `await` (first token on `line`) stands in an async function. A plain
 * `exports.up = function (knex) { return … }` around it is made async (knex still gets its promise);
 * inside anything else (a non-async callback) there is no safe edit, and the caller offers a template.
 */
export function awaitable(source: string, line: number): string | undefined {
  const tokens = tokensOf(source);
  const at = firstTokenOnOrAfterLine(tokens, line);
  // Only where a statement may start: not inside `Promise.all([ … ])`, an argument list or an expression.
  const before = tokens[at - 1];
  if (!before || !['{', ';', '}', ')'].some((p) => isPunct(before, p))) return undefined;
  const fn = enclosingFunction(tokens, at);
  if (!fn) return undefined;
  if (fn.async) return source;
  const own = (['up', 'down'] as const).map((name) => migrationFunction(tokens, name)).some((m) => m?.start === fn.start);
  if (!own) return undefined;
  const first = tokens[fn.start]!;
  return `${source.slice(0, first.start)}async ${source.slice(first.start)}`;
}
