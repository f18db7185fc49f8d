import fs from 'node:fs';
import path from 'node:path';
import { resolveProject, type ProjectOptions } from '../config/resolve.js';
import { KnexsafeError } from '../errors.js';
import { isFileExtension, moduleStyle, type FileExtension } from '../make/module-style.js';
import { renderMigration, renderSeed } from '../make/stubs.js';
import { timestampedPath, validateFileStem, writeNewFile } from '../make/write.js';

export interface MakeOptions extends ProjectOptions {
  name: string;
  extension?: string;
  /** Show the file instead of writing it. */
  print?: boolean;
}

export interface MakeResult {
  path: string;
  extension: FileExtension;
  content: string;
  written: boolean;
  /** What knexsafe understood from the name; 'stub' when it wrote knex's plain stub. */
  intent: { kind: string; [key: string]: unknown };
  warnings: string[];
}

export function parseExtension(value: string | undefined): FileExtension | undefined {
  if (value === undefined) return undefined;
  const v = value.replace(/^\./, '');
  if (!isFileExtension(v)) {
    throw new KnexsafeError('BAD_EXTENSION', `-x takes js, ts, mjs or cjs, not "${value}".`);
  }
  return v;
}

export async function makeMigration(options: MakeOptions): Promise<MakeResult> {
  const project = await resolveProject(options);
  const stem = validateFileStem(options.name, 'migration');
  const extension = parseExtension(options.extension) ?? project.defaultExtension;
  const directory = project.migrations.directories[project.migrations.directories.length - 1] ?? path.join(project.baseDir, 'migrations');
  const file = timestampedPath(directory, stem, extension);
  const content = project.migrations.stub && fs.existsSync(project.migrations.stub)
    ? fs.readFileSync(project.migrations.stub, 'utf8')
    : renderMigration(moduleStyle(extension, directory), { up: [], down: [] });
  if (!options.print) writeNewFile(file, content);
  return { path: file, extension, content, written: !options.print, intent: { kind: 'stub' }, warnings: [] };
}

export interface SeedMakeOptions extends ProjectOptions {
  name: string;
  extension?: string;
  print?: boolean;
}

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
  return { path: file, extension, content, written: !options.print, intent: { kind: 'seed' }, warnings: [] };
}
