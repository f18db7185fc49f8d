/** Whole knex migration files for generated fixes (CommonJS, as `knex migrate:make` writes them). */

/** Separates the files of a multi-migration fix. */
export const NEXT_MIGRATION = '// ---- next migration ----';

export interface MigrationCode {
  /** Comment lines at the top of the file (without `//`). */
  comment: string[];
  /** `exports.config = { transaction: false }`. */
  noTransaction?: boolean;
  /** Top-level lines between the config and `exports.up` (constants). */
  preamble?: string[];
  up: string[];
  down: string[];
}

/** One migration file: config first, body lines indented under async up and down. */
export function migrationCode(m: MigrationCode): string {
  const body = (lines: string[]) => lines.map((l) => (l === '' ? '' : `  ${l}`));
  return [
    ...m.comment.map((c) => `// ${c}`.trimEnd()),
    ...(m.noTransaction ? ['exports.config = { transaction: false };', ''] : m.comment.length ? [''] : []),
    ...(m.preamble?.length ? [...m.preamble, ''] : []),
    'exports.up = async function (knex) {',
    ...body(m.up),
    '};',
    '',
    `exports.down = async function (${m.down.some((l) => !l.trimStart().startsWith('//')) ? 'knex' : ''}) {`,
    ...body(m.down),
    '};',
    '',
  ].join('\n');
}

export interface MigrationSpec {
  /** Comment lines at the top (without `// `). */
  comment?: string[];
  /** Body lines, already indented. */
  up: string[];
  down: string[];
  /** Opt out of knex's transaction; the string is the comment above `exports.config`. */
  noTransaction?: string;
}

/** One migration file whose body lines come indented, with `exports.config` (and why) at the end. */
export function migrationFile(spec: MigrationSpec): string {
  return [
    ...(spec.comment ?? []).map((c) => `// ${c}`),
    `exports.up = async function (knex) {`,
    ...spec.up,
    `};`,
    ``,
    `exports.down = async function (knex) {`,
    ...(spec.down.length ? spec.down : ['  // Nothing to undo.']),
    `};`,
    ...(spec.noTransaction !== undefined ? [``, `// ${spec.noTransaction}`, `exports.config = { transaction: false };`] : []),
  ].join('\n');
}

/** Several migration files of one fix, in order. */
export function migrations(files: string[]): string {
  return files.map((f) => f.trim()).join(`\n\n${NEXT_MIGRATION}\n\n`);
}

export type MigrationModuleStyle = 'cjs' | 'esm' | 'ts';

/**
 * Generated migration files (CommonJS, as written above) in the module style of the project's
 * migration: `export async function up(knex)` for ES modules, typed for TypeScript. Only the lines
 * this module writes are rewritten.
 */
export function inModuleStyle(code: string, style: MigrationModuleStyle): string {
  if (style === 'cjs') return code;
  const param = style === 'ts' ? 'knex: Knex' : 'knex';
  const returns = style === 'ts' ? ': Promise<void>' : '';
  return code
    .split(NEXT_MIGRATION)
    .map((file) => {
      const out = file
        .replace(/^exports\.(up|down) = async function \((knex)?\) \{$/gm, (_, name: string, knex?: string) => `export async function ${name}(${knex ? param : ''})${returns} {`)
        .replace(/^exports\.config = /gm, 'export const config = ');
      return style === 'ts' && /\(knex: Knex\)/.test(out) ? `import type { Knex } from 'knex';\n${out.startsWith('\n') ? '' : '\n'}${out.replace(/^\n+/, '')}` : out;
    })
    .join(NEXT_MIGRATION);
}
