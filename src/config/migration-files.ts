import fs from 'node:fs';
import path from 'node:path';
import type { MigrationSettings } from '../config/resolve.js';
import { displayPath } from '../util/paths.js';

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
