import fs from 'node:fs';
import path from 'node:path';
import { resolveProject, type ProjectOptions } from '../config/resolve.js';
import { KnexsafeError } from '../errors.js';
import { generate, type GenerateOptions } from './generate.js';
import { grammarLines, matchShape, type Intent } from './grammar.js';
import { isFileExtension, moduleStyle, type FileExtension } from './module-style.js';
import { isSnakeCase, toSnakeCase, vagueNameWarning } from './naming.js';
import { loadProjectSchema, SchemaView } from './schema-lookup.js';
import { renderMigration, renderSeed } from './stubs.js';
import { consecutivePaths, validateFileStem, writeNewFile } from './write.js';
import { ensureParser } from '../sql/parse.js';

/** generate()'s options as the CLI gives them; `types` as `column:type` entries instead of a map. */
export interface MakeOptions extends ProjectOptions, Pick<GenerateOptions, 'simple' | 'backup' | 'values' | 'set' | 'batchSize' | 'onDelete' | 'lockTimeout'> {
  name: string;
  extension?: string;
  /** Show the file(s) instead of writing them. */
  print?: boolean;
  /** Write knex's plain stub whatever the name says. */
  stub?: boolean;
  /** Column types for add_<col>_to_<table>: `column:type` (type words as in change_<col>_to_<type>). */
  types?: string[];
  /** A server for the shadow database the schema is read from (default: embedded). */
  shadowUrl?: string;
  /** The clock, for tests. */
  now?: Date;
}

export interface MadeFile {
  path: string;
  content: string;
  /** What this file does in a multi-migration pattern. */
  role: string;
}

export interface MakeResult {
  /** The first (or only) file. */
  path: string;
  /** Every file written, in the order knex runs them. */
  paths: string[];
  files: MadeFile[];
  extension: FileExtension;
  /** The first file's content. */
  content: string;
  written: boolean;
  /** What knexsafe understood from the name; 'stub' when it wrote knex's plain stub. */
  intent: { kind: string; [key: string]: unknown };
  warnings: string[];
  /** Where the schema facts came from, when the name needed them. */
  schema?: string;
}

export function parseExtension(value: string | undefined): FileExtension | undefined {
  if (value === undefined) return undefined;
  const v = value.replace(/^\./, '');
  if (!isFileExtension(v)) {
    throw new KnexsafeError('BAD_EXTENSION', `-x takes js, ts, mjs or cjs, not "${value}".`);
  }
  return v;
}

function parseTypes(types: string[] | undefined): Record<string, string> | undefined {
  if (!types?.length) return undefined;
  const out: Record<string, string> = {};
  for (const entry of types.flatMap((t) => t.split(','))) {
    const [column, type] = entry.split(':').map((s) => s.trim());
    if (!column || !type) throw new KnexsafeError('BAD_OPTION', `--type takes <column>:<type>, e.g. --type age:integer, not "${entry}".`);
    out[column] = type;
  }
  return out;
}

/**
 * `knexsafe make <name>`: the migration(s) the name describes, both directions, in the project's style.
 * @example
 * const made = await makeMigration({ cwd: '/srv/app', name: 'add_email_to_users' });
 * console.log(made.paths);
 */
export async function makeMigration(options: MakeOptions): Promise<MakeResult> {
  const project = await resolveProject(options);
  const stem = validateFileStem(options.name, 'migration');
  const extension = parseExtension(options.extension) ?? project.defaultExtension;
  const directory = project.migrations.directories[project.migrations.directories.length - 1] ?? path.join(project.baseDir, 'migrations');
  const style = moduleStyle(extension, directory);
  const warnings: string[] = [];
  // knex lists migrations by loadExtensions alone: a file outside it is never run, and nothing says so.
  if (!project.migrations.custom && !project.migrations.loadExtensions.includes(`.${extension}`)) {
    warnings.push(
      `knex will never run a .${extension} migration in this project: .${extension} is not in the migrations' loadExtensions (${project.migrations.loadExtensions.join(', ')}). Add it in the knexfile (migrations: { loadExtensions: [${[...project.migrations.loadExtensions, `.${extension}`].map((e) => `'${e}'`).join(', ')}] }), or make the migration with another extension.`,
    );
  }

  const snake = toSnakeCase(stem);
  if (!isSnakeCase(stem)) {
    warnings.push(`"${stem}" is not snake_case: migration names read best as ${snake || 'lower_case_words'}, which knexsafe understood it as.`);
  }
  const words = snake.split('_').filter(Boolean);
  const shape = options.stub ? undefined : matchShape(words);

  if (!shape) {
    const vague = vagueNameWarning(words);
    if (vague) warnings.push(vague);
    else if (!options.stub && words[0] === 'drop' && words[words.length - 1] === 'table' && words.length > 2) {
      warnings.push(
        `knexsafe does not write ${stem} for you: its down would have to re-create the table with its data. Write it by hand, back the table up first (knexsafe backup), and let knexsafe verify check the down.`,
      );
    } else if (!options.stub) {
      warnings.push(`knexsafe does not know the shape of "${stem}", so this is knex's plain stub: write up and down by hand. Shapes it writes for you: ${grammarLines().join('; ')}.`);
    }
    const [file] = consecutivePaths(directory, project.migrations.directories, [stem], extension, options.now);
    const content = project.migrations.stub && fs.existsSync(project.migrations.stub) ? fs.readFileSync(project.migrations.stub, 'utf8') : renderMigration(style, { up: [], down: [] });
    if (!options.print) writeNewFile(file!, content);
    return {
      path: file!,
      paths: [file!],
      files: [{ path: file!, content, role: 'stub' }],
      extension,
      content,
      written: !options.print,
      intent: { kind: 'stub', shapes: grammarLines() },
      warnings,
    };
  }

  await ensureParser();
  const shadowUrl = options.shadowUrl ?? project.knexsafe.shadowUrl;
  const schema = shape.needsSchema ? await loadProjectSchema({ project, ...(shadowUrl ? { shadowUrl } : {}) }) : SchemaView.empty();
  const intent: Intent = shape.resolve(words, schema, warnings);
  const types = parseTypes(options.types);
  const generateOptions: GenerateOptions = {
    ...(options.simple ? { simple: true } : {}),
    ...(options.backup === false ? { backup: false } : {}),
    ...(options.values ? { values: options.values } : {}),
    ...(options.set !== undefined ? { set: options.set } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.onDelete !== undefined ? { onDelete: options.onDelete } : {}),
    ...(types ? { types } : {}),
    ...(options.lockTimeout !== undefined ? { lockTimeout: options.lockTimeout } : {}),
    pgVersion: project.knexsafe.pgVersion ?? 13,
    transactionsDisabled: project.migrations.disableTransactions,
    typescript: style === 'ts',
  };
  const generated = generate(intent, schema, generateOptions);
  warnings.push(...generated.warnings);

  const stems = generated.files.map((f) => `${stem}${f.suffix}`);
  const paths = consecutivePaths(directory, project.migrations.directories, stems, extension, options.now);
  const files: MadeFile[] = generated.files.map((f, i) => ({ path: paths[i]!, content: renderMigration(style, f.body), role: f.role }));
  if (!options.print) for (const f of files) writeNewFile(f.path, f.content);
  return {
    path: files[0]!.path,
    paths,
    files,
    extension,
    content: files[0]!.content,
    written: !options.print,
    intent: { ...intent, ...generated.details, shape: shape.pattern, ...(options.simple ? { simple: true } : {}) },
    warnings,
    ...(shape.needsSchema ? { schema: `the migrations replayed on ${shadowUrl ? 'a server shadow database' : 'an embedded shadow database'}` } : {}),
  };
}

export interface SeedMakeOptions extends ProjectOptions {
  name: string;
  extension?: string;
  print?: boolean;
}

/**
 * `knexsafe make:seed <name>`: a seed file (the knexfile's seeds.stub, or knexsafe's), in the project's style.
 * @example
 * await makeSeed({ cwd: '/srv/app', name: 'users' });
 */
export async function makeSeed(options: SeedMakeOptions): Promise<MakeResult> {
  const project = await resolveProject(options);
  const stem = validateFileStem(options.name, 'seed');
  const extension = parseExtension(options.extension) ?? project.defaultExtension;
  const directory = project.seeds.directories[project.seeds.directories.length - 1] ?? path.join(project.baseDir, 'seeds');
  const file = path.join(directory, `${stem}.${extension}`);
  if (fs.existsSync(file)) {
    throw new KnexsafeError('FILE_EXISTS', `The seed ${file} already exists.`, { hint: 'Pick another name or edit the existing seed.' });
  }
  const content = project.seeds.stub && fs.existsSync(project.seeds.stub) ? fs.readFileSync(project.seeds.stub, 'utf8') : renderSeed(moduleStyle(extension, directory));
  if (!options.print) writeNewFile(file, content);
  return { path: file, paths: [file], files: [{ path: file, content, role: 'seed' }], extension, content, written: !options.print, intent: { kind: 'seed' }, warnings: [] };
}
