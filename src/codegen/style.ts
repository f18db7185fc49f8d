import { createRequire } from 'node:module';
import type * as Diff from 'diff';
import { NEXT_MIGRATION } from './migration.js';

// Loaded when a fix is written into a file: check builds fixes through this module, and the diff
// package is 21 files for Node to load on every run.
let diff: typeof Diff | undefined;
function diffArrays(before: string[], after: string[]): Diff.ArrayChange<string>[] {
  diff ??= createRequire(import.meta.url)('diff') as typeof Diff;
  return diff.diffArrays(before, after);
}

/**
 * The style of a project's own migration file, read from its text, and generated code rewritten
 * in it: module syntax (CommonJS, ES module, TypeScript), `async function` or arrow, quotes,
 * indentation, semicolons and line endings. `knexsafe fix` writes fixes into the user's files with
 * it, so that the diff looks like a person wrote it.
 */
export interface SourceStyle {
  module: 'cjs' | 'esm' | 'ts';
  /** `exports.up = async (knex) => {` / `export const up = async (knex) => {` rather than a function. */
  arrow: boolean;
  quote: "'" | '"';
  /** One level of indentation: two or four spaces, or a tab. */
  indent: string;
  semicolons: boolean;
  eol: '\n' | '\r\n';
  /** TypeScript: the file's own import of the Knex type, kept as the user wrote it. */
  knexImport?: string;
  /**
   * CommonJS with `async function up(knex)` declarations and one `module.exports = { up, down }`
   * at the end: that block, as the file writes it.
   */
  exportsObject?: string;
}

const GENERATED_INDENT = '  ';

/** Reads the style of a migration file (its text and its file name: `.ts` is TypeScript). */
export function sourceStyle(source: string, file: string): SourceStyle {
  const text = source.replace(/\r\n/g, '\n');
  const ts = /\.(ts|mts|cts)$/.test(file);
  const esm = /^\s*export\s+(async\s+function|function|const|let|default)\b/m.test(text);
  const cjs = /^\s*(module\.)?exports\.\w+\s*=|^\s*module\.exports\s*=/m.test(text);
  const module: SourceStyle['module'] = ts && !cjs ? 'ts' : esm && !cjs ? 'esm' : ts ? 'ts' : /\.mjs$/.test(file) && !cjs ? 'esm' : cjs || !esm ? 'cjs' : 'esm';
  const arrow = /^\s*(exports\.up\s*=|export\s+const\s+up\s*=)\s*(async\s*)?(\([^)]*\)|\w+)\s*(:[^=]*)?=>/m.test(text);
  const scan = scanLines(text.split('\n'));
  let single = 0;
  let double = 0;
  for (const line of scan)
    for (const s of line.strings) {
      if (s.quote === "'") single++;
      else if (s.quote === '"') double++;
    }
  const indents = text
    .split('\n')
    .filter((l, i) => !scan[i]!.startsInLiteral && /^\s+\S/.test(l))
    .map((l) => /^\s+/.exec(l)![0]);
  const tab = indents.filter((i) => i.startsWith('\t')).length > indents.length / 2;
  const widths = indents.filter((i) => !i.includes('\t')).map((i) => i.length);
  const smallest = widths.length ? Math.min(...widths) : 2;
  const statementEnds = text.split('\n').filter((l, i) => !scan[i]!.endsInLiteral && /[^\s{([,]\s*$/.test(stripLineComment(l)) && !/^\s*(\/\/|\*|\/\*)/.test(l));
  const withSemicolon = statementEnds.filter((l) => /;\s*$/.test(stripLineComment(l))).length;
  const knexImport = ts ? /^import\s[^\n]*\bKnex\b[^\n]*from\s+['"]knex['"];?$/m.exec(text)?.[0] : undefined;
  const declared = /^(async\s+)?function\s+up\s*\(/m.test(text);
  const exportsObject = declared ? /^module\.exports\s*=\s*\{[^}]*\bup\b[^}]*\}\s*;?[ \t]*$/m.exec(text)?.[0] : undefined;
  return {
    module,
    arrow,
    quote: double > single ? '"' : "'",
    indent: tab ? '\t' : smallest === 4 ? '    ' : '  ',
    semicolons: statementEnds.length === 0 || withSemicolon * 2 >= statementEnds.length,
    eol: source.includes('\r\n') ? '\r\n' : '\n',
    ...(knexImport ? { knexImport } : {}),
    ...(exportsObject ? { exportsObject } : {}),
  };
}

/**
 * Generated migration files (one or more, NEXT_MIGRATION between them; CommonJS as codegen writes
 * them, or already in a module style by `inModuleStyle`) rewritten in `style`. Line for line but for
 * the TypeScript import, so callers can match lines with the original.
 */
export function inSourceStyle(code: string, style: SourceStyle): string {
  return code
    .split(NEXT_MIGRATION)
    .map((file) => restyleFile(file.replace(/\r\n/g, '\n'), style).replace(/\n/g, style.eol))
    .join(NEXT_MIGRATION);
}

/**
 * A whole-file fix for `original`, in its style, keeping every line the fix did not change exactly
 * as it was: only the lines the fix adds or changes are rewritten in the file's style. The result is
 * the file's new text.
 */
export function fitToOriginal(original: string, fixed: string, file: string, style: SourceStyle = sourceStyle(original, file)): string {
  const before = original.replace(/\r\n/g, '\n').split('\n');
  const raw = fixed.replace(/\r\n/g, '\n');
  const restyled = restyleFile(raw, style).split('\n');
  const rawLines = withExportsObject(withImportLine(raw, style), style).split('\n');
  // restyleFile is line for line once the import line is settled (withImportLine does it for both).
  // A line of the fix that is one of the file's own stays as it is; any other is written in its
  // style. Where both the line and its restyled form are the file's own (`};` and `}`), whichever
  // reading changes fewer lines wins.
  const own = new Set(before);
  const pick = (preferRaw: boolean) =>
    rawLines.map((line, i) => {
      const styled = restyled[i] ?? line;
      if (own.has(line) && (preferRaw || !own.has(styled))) return line;
      return styled;
    });
  const changed = (lines: string[]) => diffArrays(before, lines).reduce((n, p) => n + (p.added ? p.value.length : 0), 0);
  const [first, second] = [pick(true), pick(false)];
  const merged = changed(second) < changed(first) ? second : first;
  const out: string[] = [];
  const parts = diffArrays(before, merged);
  // A doc comment right above an up or down the fix keeps (`/** @param … */`) stays with it, also
  // when the fix puts lines of its own (a comment, the config) above the function.
  let doc: string[] = [];
  parts.forEach((part, k) => {
    if (part.removed) {
      const next = parts.slice(k + 1).find((p) => !p.added);
      // The doc block at the end of what the fix removes, if it ends right above the function.
      const start = part.value.map((l) => /^\s*\/\*\*/.test(l)).lastIndexOf(true);
      const block = start < 0 ? [] : part.value.slice(start);
      const isDoc = block.length > 0 && /\*\/\s*$/.test(block[block.length - 1]!) && block.every((l) => /^\s*(\/\*\*|\*)/.test(l));
      if (isDoc && next && !next.removed && UP_OR_DOWN.test(next.value[0] ?? '')) doc = block;
      return;
    }
    if (!part.added && UP_OR_DOWN.test(part.value[0] ?? '')) {
      out.push(...doc);
      doc = [];
    }
    out.push(...part.value);
  });
  let text = withHeaderOf(original, out.join('\n'));
  if (!text.endsWith('\n') && original.endsWith('\n')) text += '\n';
  return text.replace(/\n/g, style.eol);
}

/**
 * `text` under the licence or copyright comment `original` opens with (then a blank line), as a
 * person rewriting or splitting the file keeps it. A comment right above the code (a
 * doc comment of up) is not a header.
 */
export function withHeaderOf(original: string, text: string): string {
  const lines = original.replace(/\r\n/g, '\n').split('\n');
  let end = -1;
  if (/^\s*\/\*/.test(lines[0] ?? '')) end = lines.findIndex((l) => l.includes('*/'));
  else if (/^\s*\/\//.test(lines[0] ?? '')) end = lines.findIndex((l) => !/^\s*\/\//.test(l)) - 1;
  if (end < 0 || (lines[end + 1] ?? '').trim() !== '') return text;
  const header = lines.slice(0, end + 1);
  // Only a licence block: a comment describing what the old file did may not fit the new one.
  if (!/copyright|licen[cs]e|spdx|\(c\)|©/i.test(header.join('\n'))) return text;
  if (text.startsWith(header.join('\n'))) return text;
  return `${header.join('\n')}\n\n${text}`;
}

function withImportLine(file: string, style: SourceStyle): string {
  if (style.module !== 'ts' || !/\bknex: Knex\b/.test(file)) return file;
  const generated = /^import type \{ Knex \} from 'knex';\n\n?/m;
  const own = style.knexImport ?? `import type { Knex } from ${style.quote}knex${style.quote}${style.semicolons ? ';' : ''}`;
  if (file.includes(own)) return file;
  if (generated.test(file)) return file.replace(/^import type \{ Knex \} from 'knex';$/m, own);
  // After the leading comment lines, where the generated import goes (inModuleStyle).
  const lines = file.split('\n');
  let at = 0;
  while (at < lines.length && /^\s*\/\//.test(lines[at]!)) at++;
  lines.splice(at, 0, own, ...(lines[at] === '' ? [] : ['']));
  return lines.join('\n');
}

const UP_OR_DOWN = /^(exports\.(up|down)\s*=|export\s+(async\s+)?(function|const)\s+(up|down)\b|(async\s+)?function\s+(up|down)\b)/;

const HEADER = [
  /^exports\.(up|down) = async function \((knex)?\) \{$/,
  /^export async function (up|down)\((knex)?(?:: Knex)?\)(?:: Promise<void>)? \{$/,
  /^exports\.(up|down) = async \((knex)?\) => \{$/,
];

/**
 * The file's own `module.exports = { up, down }` at the end (with `config` added when the file has
 * one), for files that declare their functions and export them in one object.
 */
function withExportsObject(file: string, style: SourceStyle): string {
  const block = style.exportsObject;
  if (style.module !== 'cjs' || !block || !/^(exports\.up\b|(async\s+)?function\s+up\b)/m.test(file) || /^module\.exports\s*=/m.test(file)) return file;
  let out = block;
  if (/^(exports\.config|const config) = /m.test(file) && !/\bconfig\b/.test(block)) {
    // As the block lists its names: one a line (`  down,`) or all on one line.
    const multi = /\n([ \t]+)\w+,?[ \t]*\n\}/.exec(block);
    out = multi ? block.replace(/(,?)([ \t]*)\n\}/, (_m, comma: string, space: string) => `${comma || ','}${space}\n${multi[1]}config,\n}`) : block.replace(/\s*\}/, ', config }');
  }
  return `${file.replace(/\n+$/, '')}\n\n${out}\n`;
}

function header(name: string, knex: boolean, style: SourceStyle): { open: string; close: string } {
  const param = knex ? (style.module === 'ts' ? 'knex: Knex' : 'knex') : '';
  const returns = style.module === 'ts' ? ': Promise<void>' : '';
  if (style.module === 'cjs' && style.exportsObject) return { open: `async function ${name}(${param}) {`, close: '}' };
  if (style.module === 'cjs') return style.arrow ? { open: `exports.${name} = async (${param}) => {`, close: '};' } : { open: `exports.${name} = async function (${param}) {`, close: '};' };
  return style.arrow ? { open: `export const ${name} = async (${param})${returns} => {`, close: '};' } : { open: `export async function ${name}(${param})${returns} {`, close: '}' };
}

function restyleFile(file: string, style: SourceStyle): string {
  const lines = withExportsObject(withImportLine(moduleSyntax(file, style), style), style).split('\n');
  const scan = scanLines(lines);
  const out = lines.map((line, i) => {
    const info = scan[i]!;
    let l = requote(line, info.strings, style.quote);
    if (!info.startsInLiteral) l = reindent(l, style.indent);
    if (!style.semicolons && !info.endsInLiteral) {
      const next = lines.slice(i + 1).find((n) => n.trim() !== '');
      // A line that starts with ( [ or ` would continue the statement without its semicolon.
      if (!next || !/^\s*[([`]/.test(next)) l = dropSemicolon(l);
    }
    return l;
  });
  return out.join('\n');
}

/** Rewrites the up/down/config lines (at the start of a line) for the module style; their closing `};` too. */
function moduleSyntax(file: string, style: SourceStyle): string {
  const lines = file.split('\n');
  let closing = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const match = HEADER.map((h) => h.exec(line)).find((m) => m);
    if (match) {
      const h = header(match[1]!, Boolean(match[2]), style);
      lines[i] = h.open;
      closing = true;
      continue;
    }
    if (closing && /^\};?$/.test(line)) {
      lines[i] = header('up', false, style).close;
      closing = false;
      continue;
    }
    lines[i] = line.replace(/^(exports\.config|export const config) = /, style.module !== 'cjs' ? 'export const config = ' : style.exportsObject ? 'const config = ' : 'exports.config = ');
  }
  if (style.module !== 'ts') return lines.filter((l, i) => !(l === "import type { Knex } from 'knex';" && i < 5)).join('\n');
  return lines.join('\n');
}

function reindent(line: string, unit: string): string {
  if (unit === GENERATED_INDENT) return line;
  const lead = /^ */.exec(line)![0].length;
  const levels = Math.floor(lead / GENERATED_INDENT.length);
  return unit.repeat(levels) + ' '.repeat(lead % GENERATED_INDENT.length) + line.slice(lead);
}

function requote(line: string, strings: StringSpan[], quote: "'" | '"'): string {
  let out = line;
  // From the end, so earlier offsets stay valid.
  for (const s of [...strings].reverse()) {
    if (s.quote === '`' || s.quote === quote) continue;
    const body = line.slice(s.start + 1, s.end - 1);
    if (body.includes(quote)) continue;
    const other = s.quote;
    const unescaped = body.replace(new RegExp(`\\\\${other}`, 'g'), other);
    out = out.slice(0, s.start) + quote + unescaped + quote + out.slice(s.end);
  }
  return out;
}

function dropSemicolon(line: string): string {
  const code = stripLineComment(line);
  const m = /;(\s*)$/.exec(code);
  if (!m) return line;
  return code.slice(0, m.index) + m[1] + line.slice(code.length);
}

/** The line without a trailing `// comment` (a `//` inside a string is not one: good enough for generated code). */
function stripLineComment(line: string): string {
  const scan = scanLines([line])[0]!;
  return scan.commentAt === undefined ? line : line.slice(0, scan.commentAt).trimEnd();
}

interface StringSpan {
  start: number;
  /** Index after the closing quote. */
  end: number;
  quote: "'" | '"' | '`';
}

interface LineScan {
  /** The line begins inside a template literal or block comment: its leading whitespace is content. */
  startsInLiteral: boolean;
  endsInLiteral: boolean;
  /** String literals that open and close on this line. */
  strings: StringSpan[];
  /** Where a `//` comment starts. */
  commentAt?: number;
}

/** A small JavaScript scanner: where strings, template literals and comments are, line by line. */
function scanLines(lines: string[]): LineScan[] {
  type Mode = 'code' | 'block' | 'template';
  // Template literals nest through ${ … }: each level remembers the brace depth it opened at.
  const stack: { mode: Mode; depth: number }[] = [{ mode: 'code', depth: 0 }];
  let depth = 0;
  const result: LineScan[] = [];
  for (const line of lines) {
    const startMode = stack[stack.length - 1]!.mode;
    const scan: LineScan = { startsInLiteral: startMode !== 'code', endsInLiteral: false, strings: [] };
    let i = 0;
    while (i < line.length) {
      const top = stack[stack.length - 1]!;
      const ch = line[i]!;
      if (top.mode === 'block') {
        if (line.startsWith('*/', i)) {
          stack.pop();
          i += 2;
        } else i++;
        continue;
      }
      if (top.mode === 'template') {
        if (ch === '\\') i += 2;
        else if (ch === '`') {
          stack.pop();
          i++;
        } else if (line.startsWith('${', i)) {
          stack.push({ mode: 'code', depth });
          depth++;
          i += 2;
        } else i++;
        continue;
      }
      if (line.startsWith('//', i)) {
        scan.commentAt = i;
        break;
      }
      if (line.startsWith('/*', i)) {
        stack.push({ mode: 'block', depth });
        i += 2;
        continue;
      }
      if (ch === "'" || ch === '"') {
        let j = i + 1;
        while (j < line.length && line[j] !== ch) j += line[j] === '\\' ? 2 : 1;
        scan.strings.push({ start: i, end: Math.min(j + 1, line.length), quote: ch });
        i = j + 1;
        continue;
      }
      if (ch === '`') {
        const start = i;
        stack.push({ mode: 'template', depth });
        i++;
        // A template literal closed on the same line, with no ${ }, counts as a string of the line.
        const close = line.indexOf('`', i);
        if (close !== -1 && !line.slice(i, close).includes('${') && !line.slice(i, close).includes('\\')) {
          stack.pop();
          scan.strings.push({ start, end: close + 1, quote: '`' });
          i = close + 1;
        }
        continue;
      }
      if (ch === '{') depth++;
      else if (ch === '}') {
        depth--;
        if (stack.length > 1 && top.mode === 'code' && top.depth === depth) stack.pop();
      }
      i++;
    }
    scan.endsInLiteral = stack[stack.length - 1]!.mode !== 'code';
    result.push(scan);
  }
  return result;
}
