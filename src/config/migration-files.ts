import fs from 'node:fs';
import path from 'node:path';
import { KnexsafeError } from '../errors.js';
import { displayPath } from '../util/paths.js';

/** A knexfile's own `migrations.migrationSource`, listed once at load time. */
export interface CustomMigrationSource {
  source: { getMigrations(loadExtensions?: readonly string[]): Promise<unknown[]> | unknown[]; getMigrationName(item: unknown): string; getMigration(item: unknown): unknown };
  items: { name: string; item: unknown }[];
}

export interface MigrationSettings {
  directories: string[];
  /** Set when the knexfile gives its own migrationSource (knex then ignores the directories). */
  custom?: CustomMigrationSource;
  tableName: string;
  schemaName?: string;
  loadExtensions: string[];
  sortDirsSeparately: boolean;
  disableTransactions: boolean;
  disableMigrationsListValidation: boolean;
  extension?: string;
  stub?: string;
}

/** One migration file. `name` is knex's identity for it: the file name with its extension. */
export interface MigrationFile {
  name: string;
  /** The file on disk; for a custom migrationSource, the best guess (directory + name) or the name. */
  file: string;
  directory: string;
  /** Set for migrations listed by the knexfile's own migrationSource: loaded through it. */
  custom?: { load(): Promise<unknown> };
}

/** Lists migration files exactly as knex's FsMigrations does (same filter, same order). */
export function listMigrationFiles(settings: Pick<MigrationSettings, 'directories' | 'loadExtensions' | 'sortDirsSeparately' | 'custom'>): MigrationFile[] {
  if (settings.custom) {
    const { source, items } = settings.custom;
    return items.map(({ name, item }) => {
      // Sources often list { file, directory } items (knex's own FsMigrations shape, wiki.js): use them.
      const own = item && typeof item === 'object' ? (item as { file?: unknown; directory?: unknown }) : undefined;
      const itemFiles = typeof own?.directory === 'string' ? [...(typeof own.file === 'string' ? [path.resolve(own.directory, own.file)] : []), path.resolve(own.directory, name)] : [];
      const guess = [...itemFiles, ...settings.directories.map((d) => path.join(d, name))].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
      return { name, file: guess ?? name, directory: guess ? path.dirname(guess) : '', custom: { load: async () => source.getMigration(item) } };
    });
  }
  const entries: MigrationFile[] = [];
  for (const directory of settings.directories) {
    if (!fs.existsSync(directory)) {
      throw new KnexsafeError('MIGRATIONS_DIR_MISSING', `The migrations directory ${directory} does not exist.`, {
        hint: 'Create it (knexsafe init, or knexsafe make <name>), or point --migrations-dir / the knexfile at the right folder.',
        details: { directory },
      });
    }
    if (!fs.statSync(directory).isDirectory()) {
      throw new KnexsafeError('MIGRATIONS_DIR_NOT_A_DIRECTORY', `The migrations directory ${directory} is a file, not a folder.`, {
        hint: 'Point --migrations-dir (or migrations.directory in the knexfile) at the folder that holds the migration files.',
        details: { directory },
      });
    }
    let files = fs.readdirSync(directory);
    if (settings.sortDirsSeparately) files = [...files].sort();
    for (const name of files) entries.push({ name, file: path.join(directory, name), directory });
  }
  // knex sorts with lodash sortBy: code-unit order, stable.
  const ordered = settings.sortDirsSeparately ? entries : [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // By extension alone, as knex does: a `.d.ts` is a `.ts` to knex, which then refuses it (no up).
  // What this leaves out, knex never runs: src/config/migration-files.ts warns about it.
  return ordered.filter((m) => settings.loadExtensions.includes(path.extname(m.name)));
}

/**
 * Extensions of files that look like migration modules. knex lists a folder's files by
 * `loadExtensions` alone; one of these left out of that list is a migration knex never runs,
 * and says nothing about (README.md or a .sql file next to the migrations is not).
 */
const MODULE_EXTENSIONS = new Set(['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts', '.jsx', '.tsx', '.coffee', '.litcoffee', '.ls', '.eg', '.iced', '.co']);

export interface SkippedFiles {
  /** Files in a migrations folder whose extension is not in loadExtensions. */
  byExtension: string[];
  /**
   * Subfolders of a migrations folder holding modules named like migrations (a leading number, as
   * knex's timestamps): knex reads only the folder's own files. Helpers the migrations import are
   * not named so, and are not reported.
   */
  subfolders: { folder: string; files: string[] }[];
}

function isModule(name: string, loadExtensions: readonly string[]): boolean {
  const ext = path.extname(name);
  return MODULE_EXTENSIONS.has(ext) || loadExtensions.includes(ext);
}

function modulesUnder(folder: string, loadExtensions: readonly string[], depth = 0): string[] {
  if (depth > 4) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) out.push(...modulesUnder(full, loadExtensions, depth + 1));
    } else if (isModule(entry.name, loadExtensions) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/**
 * What in the migrations folders knex's FsMigrations leaves out (see listMigrationFiles): modules
 * with an extension not in `loadExtensions`, and modules in subfolders. knexsafe does not run them
 * either; it says so, since knex does not. A custom migrationSource lists its own files: nothing here.
 */
export function findSkippedFiles(settings: Pick<MigrationSettings, 'directories' | 'loadExtensions' | 'custom'>): SkippedFiles {
  const skipped: SkippedFiles = { byExtension: [], subfolders: [] };
  if (settings.custom) return skipped;
  for (const directory of settings.directories) {
    if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) continue;
    for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
        // Tests of migrations kept next to them (joplin: migrations/tests/<timestamp>_x.test.ts) are not migrations.
        const files = modulesUnder(full, settings.loadExtensions).filter((f) => /^\d/.test(path.basename(f)) && !/\.(test|spec)\.[cm]?[jt]sx?$/.test(f));
        if (files.length) skipped.subfolders.push({ folder: full, files });
      } else if (!settings.loadExtensions.includes(path.extname(entry.name)) && isModule(entry.name, settings.loadExtensions)) {
        skipped.byExtension.push(full);
      }
    }
  }
  return skipped;
}

/** One warning per skipped file (by extension) and per subfolder, saying knex will never run them. */
export function skippedFileWarnings(settings: Pick<MigrationSettings, 'directories' | 'loadExtensions' | 'custom'>): string[] {
  const { byExtension, subfolders } = findSkippedFiles(settings);
  const list = settings.loadExtensions.join(', ');
  const warnings = byExtension.map(
    (file) =>
      `${displayPath(file)}: knex will never run it — ${path.extname(file)} is not in the migrations' loadExtensions (${list}), so knex skips it without a word (and knexsafe skips it too). Rename it, or list the extension in the knexfile: migrations: { loadExtensions: [${[...settings.loadExtensions, path.extname(file)].map((e) => `'${e}'`).join(', ')}] }.`,
  );
  for (const { folder, files } of subfolders) {
    const shown = files.slice(0, 3).map((f) => path.relative(folder, f));
    warnings.push(
      `${displayPath(folder)}${path.sep}: knex will never run the ${files.length} module${files.length === 1 ? '' : 's'} in this subfolder (${shown.join(', ')}${files.length > shown.length ? ', …' : ''}) — knex reads only the files directly in a migrations directory. Move them up, or list the folder in migrations.directory.`,
    );
  }
  return warnings;
}
