import path from 'node:path';
import { KnexsafeError } from '../errors.js';
import type { FileExtension, ModuleStyle } from '../make/module-style.js';

/**
 * The baseline migration file: one `knex.raw` of the whole up script and one of the down script,
 * in the project's module style. The SQL goes through knex.raw, which turns every `?` into a
 * positional parameter unless it is written `\?`; and it sits in a template literal, where `\`,
 * `` ` `` and `${` must be escaped.
 */
export interface BaselineHeader {
  command: string;
  replaced: string[];
  archive: string;
  ddlSource: string;
  dataTables: { table: string; rows: number }[];
  dataIncluded: boolean;
}

export function renderBaseline(style: ModuleStyle, header: BaselineHeader, up: string, down: string): string {
  const comment = headerComment(header);
  const upBody = up.trim() ? `  await knex.raw(${templateLiteral(up)});\n` : '';
  const downBody = down.trim() ? `  await knex.raw(${templateLiteral(down)});\n` : '';
  if (style === 'ts') {
    return `${comment}import type { Knex } from 'knex';\n\nexport async function up(knex: Knex): Promise<void> {\n${upBody}}\n\nexport async function down(knex: Knex): Promise<void> {\n${downBody}}\n`;
  }
  if (style === 'esm') {
    return `${comment}export async function up(knex) {\n${upBody}}\n\nexport async function down(knex) {\n${downBody}}\n`;
  }
  return `${comment}exports.up = async function (knex) {\n${upBody}};\n\nexports.down = async function (knex) {\n${downBody}};\n`;
}

function headerComment(h: BaselineHeader): string {
  const first = h.replaced[0] ?? '';
  const last = h.replaced[h.replaced.length - 1] ?? '';
  const lines = [
    `Baseline: the schema built by ${h.replaced.length} migration${h.replaced.length === 1 ? '' : 's'}, ${first}${h.replaced.length > 1 ? ` … ${last}` : ''},`,
    `squashed by \`${h.command}\` (DDL from ${h.ddlSource}).`,
    '',
    'knexsafe proved on a shadow PostgreSQL that this file builds exactly the schema the chain built',
    '(schema snapshots equal, rows and sequence values equal) and that down undoes up.',
    `The replaced files are archived in ${h.archive} (squash.json there lists them).`,
    '',
    'Databases that already ran those migrations: run `knexsafe squash --apply-history` on them before',
    'the next migrate:latest. New databases just run this file.',
  ];
  if (h.dataTables.length) {
    lines.push('');
    lines.push(
      h.dataIncluded
        ? `Rows the chain inserted are recreated: ${h.dataTables.map((t) => `${t.table} (${t.rows})`).join(', ')}.`
        : `Rows the chain inserted are NOT recreated (--no-data): ${h.dataTables.map((t) => `${t.table} (${t.rows})`).join(', ')}.`,
    );
  }
  return `/**\n${lines.map((l) => (l ? ` * ${l}` : ' *')).join('\n')}\n */\n\n`;
}

/** A JS template literal whose value, after knex's `?` handling, is exactly `sql`. */
export function templateLiteral(sql: string): string {
  if (/\\\?/.test(sql)) {
    throw new KnexsafeError(
      'SQUASH_UNREPRESENTABLE',
      'The baseline SQL contains a backslash right before a question mark, which knex.raw cannot pass through unchanged (it strips the backslashes in front of every `?`).',
      { exitCode: 1, hint: 'Find the function or default with `\\?` in the squashed migrations; write it differently (e.g. chr(63)) and squash again.' },
    );
  }
  const forKnex = sql.replace(/\?/g, '\\?');
  const escaped = forKnex.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
  return `\`\n${escaped}\n\``;
}

/**
 * The baseline's file name: the last squashed migration's prefix (its timestamp, or whatever
 * leads its name), then `_baseline`. It must sort before every migration that stays, and it
 * keeps the squashed range's place in time: files made later sort after it.
 */
export function baselineFileName(lastSquashed: string, kept: readonly string[], extension: FileExtension, override?: string): string {
  const stem = override ?? `${leadingPrefix(lastSquashed)}_baseline`;
  if (/[\\/]/.test(stem)) throw new KnexsafeError('BAD_NAME', `--name ${stem}: give a file name, not a path.`);
  const name = `${stem.replace(/\.(js|ts|mjs|cjs)$/, '')}.${extension}`;
  const after = kept.filter((k) => !(name < k));
  if (after.length) {
    throw new KnexsafeError('SQUASH_BAD_NAME', `The baseline ${name} would sort after ${after[0]}, a migration that is kept: knex would run them in the wrong order.`, {
      hint: 'Pass --name with a name that sorts before every kept migration (knex orders files by name).',
    });
  }
  return name;
}

function leadingPrefix(name: string): string {
  const stem = name.slice(0, name.length - path.extname(name).length);
  const underscore = stem.indexOf('_');
  if (underscore > 0) return stem.slice(0, underscore);
  // `20171030-01-add-things`, `2.5.128`: keep the leading digits and separators.
  const match = /^[0-9][0-9.-]*[0-9]/.exec(stem);
  return match ? match[0] : stem;
}
