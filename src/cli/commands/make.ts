import type { Command } from 'commander';
import type { MakeResult } from '../../make/run.js';
import { KnexsafeError } from '../../errors.js';
import { grammarLines } from '../../make/grammar.js';
import { describeIntent } from '../../make/describe.js';
import { TYPE_WORDS_HELP } from '../../make/types.js';
import { displayPath } from '../../util/paths.js';
import { globalOptions, makeOutput, projectOptions } from '../context.js';
import type { Output } from '../output.js';

// Loaded on use, so `--help` and other commands do not pay for these modules.
const make = () => import('../../make/run.js');

interface MakeFlags {
  extension?: string;
  print?: boolean;
  stub?: boolean;
  simple?: boolean;
  backup?: boolean;
  values?: string;
  set?: string;
  batchSize?: string;
  onDelete?: string;
  type?: string[];
  lockTimeout?: string;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function helpText(): string {
  return [
    '',
    'Names knexsafe understands (snake_case; table and column names may contain underscores and are',
    'matched against the schema your migrations build, replayed on an embedded shadow database):',
    ...grammarLines().map((l) => `  ${l}`),
    '',
    'Each writes up and its exact inverse as down, with the safe pattern for tables that hold data:',
    '  index: CREATE INDEX CONCURRENTLY (no transaction); unique: unique index concurrently, then the',
    '  constraint USING INDEX (2 files); foreign key: NOT VALID, then VALIDATE (2 files); NOT NULL: CHECK',
    '  NOT VALID, then VALIDATE + SET NOT NULL (2 files); backfill: batches outside one long transaction;',
    '  a type change that rewrites the table: online expand / contract (new column, trigger, batched copy,',
    '  swap; 3-5 files); DDL on existing tables sets lock_timeout first. --simple writes the plain forms',
    '  instead (small tables). A dropped column is copied first so down can restore its values',
    '  (--no-backup to skip). More: docs/make.md.',
    '',
    ...wrap(`Types (change_<col>_to_<type>, --type): ${TYPE_WORDS_HELP}.`, 100),
    'Any other name gets knex’s plain stub.',
    '',
    'Examples:',
    '  $ knexsafe make create_posts_table -x ts',
    '  $ knexsafe make add_email_to_users',
    '  $ knexsafe make add_age_and_bio_to_users --type age:integer',
    '  $ knexsafe make add_index_on_orders_user_id_and_created_at',
    '  $ knexsafe make change_price_to_decimal_12_2_in_products',
    '  $ knexsafe make add_foreign_key_on_orders_user_id --on-delete cascade',
    '  $ knexsafe make backfill_users_display_name --set "first_name || \' \' || last_name"',
    '  $ knexsafe make create_order_status_enum --values pending,shipped,delivered',
    '  $ knexsafe make add_index_on_users_email --print --json',
  ].join('\n');
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new KnexsafeError('BAD_OPTION', `${flag} takes a positive whole number, not "${value}".`);
  return n;
}

function render(out: Output, result: MakeResult): void {
  out.result(result);
  if (out.json) return;
  for (const w of result.warnings) out.warn(w);
  if (!result.written) {
    if (result.files.length === 1) {
      out.raw(result.content);
      return;
    }
    for (const f of result.files) {
      out.raw(`// ---- ${displayPath(f.path)} (${f.role}) ----\n${f.content}\n`);
    }
    return;
  }
  if (result.intent.kind !== 'stub') out.line(`${out.c.dim('Understood:')} ${describeIntent(result.intent)}`);
  for (const f of result.files) {
    out.line(`${out.c.green('✓')} Created migration ${displayPath(f.path)}${result.files.length > 1 ? out.c.dim(`  (${f.role})`) : ''}`);
  }
}

export function registerMakeCommand(program: Command): void {
  program
    .command('make <name>')
    .alias('migrate:make')
    .description('Create a timestamped migration whose up and exact-inverse down are written from its name (knex migrate:make)')
    .option('-x, --extension <ext>', 'file type: js, ts, mjs or cjs (default: what the project uses)')
    .option('--print', 'print the file(s) instead of writing them')
    .option('--stub', 'write knex’s plain stub, whatever the name says')
    .option('--simple', 'the plain forms (plain index, unique, foreign key, SET NOT NULL, one-statement backfill) for small tables')
    .option('--no-backup', 'drop columns without keeping their values for down')
    .option('--values <list>', 'enum values, comma-separated (create_<type>_enum, add_<col>_enum_to_<table>)')
    .option('--set <expression>', 'SQL expression a backfill writes (backfill_<table>_<col>)')
    .option('--batch-size <n>', 'rows per batch of a backfill (default 1000)')
    .option('--on-delete <action>', 'ON DELETE of a foreign key: cascade, restrict, set null, set default, no action')
    .option('-t, --type <column:type>', 'type of an added column, instead of the guess from its name (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--lock-timeout <duration>', 'lock_timeout set before DDL on existing tables (default 5s)')
    .addHelpText('after', helpText())
    .action(async (name: string, opts: MakeFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const out = makeOutput(g);
      const batchSize = positiveInteger(opts.batchSize, '--batch-size');
      const result = await (await make()).makeMigration({
        ...projectOptions(g),
        name,
        ...(opts.extension ? { extension: opts.extension } : {}),
        ...(opts.print ? { print: true } : {}),
        ...(opts.stub ? { stub: true } : {}),
        ...(opts.simple ? { simple: true } : {}),
        ...(opts.backup === false ? { backup: false } : {}),
        ...(opts.values !== undefined
          ? {
              values: opts.values
                .split(',')
                .map((v) => v.trim())
                .filter(Boolean),
            }
          : {}),
        ...(opts.set !== undefined ? { set: opts.set } : {}),
        ...(batchSize !== undefined ? { batchSize } : {}),
        ...(opts.onDelete !== undefined ? { onDelete: opts.onDelete } : {}),
        ...(opts.type?.length ? { types: opts.type } : {}),
        ...(opts.lockTimeout !== undefined ? { lockTimeout: opts.lockTimeout } : {}),
        ...(g.shadowUrl ? { shadowUrl: g.shadowUrl } : {}),
      });
      render(out, result);
    });
}
