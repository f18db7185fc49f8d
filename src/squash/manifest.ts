import fs from 'node:fs';
import path from 'node:path';
import { KnexsafeError } from '../errors.js';

/** The folder, inside a migrations folder, that holds one sub-folder per squash. */
export const ARCHIVE_FOLDER = '_squashed';
export const MANIFEST_FILE = 'squash.json';

/**
 * What a squash replaced, written next to the archived files. `--apply-history` reads it to know
 * which knex_migrations rows the baseline stands for.
 */
export interface SquashManifest {
  knexsafe: 'squash';
  version: 1;
  createdAt: string;
  /** The baseline's migration name (file name with extension). */
  baseline: string;
  /** The squashed migration names, in knex order. */
  replaces: string[];
  tableName: string;
  schemaName?: string;
  ddlSource: 'catalog' | 'pg_dump';
  shadow: string;
  proof: { schemaEqual: boolean; dataEqual: boolean; keptEqual: boolean | null; verify: string };
  data: { included: boolean; tables: { table: string; rows: number }[] };
  files: { name: string; from: string; to: string }[];
}

export interface FoundManifest {
  file: string;
  manifest: SquashManifest;
}

/** Manifests under `<dir>/_squashed/*\/squash.json` of every migrations folder (plus explicit ones), oldest first. */
export function findManifests(directories: string[], explicit: string[] = []): FoundManifest[] {
  const files = new Set<string>();
  for (const dir of directories) {
    const root = path.join(dir, ARCHIVE_FOLDER);
    if (!fs.existsSync(root)) continue;
    for (const entry of fs.readdirSync(root)) {
      const file = path.join(root, entry, MANIFEST_FILE);
      if (fs.existsSync(file)) files.add(file);
    }
  }
  for (const e of explicit) {
    const file = fs.existsSync(e) && fs.statSync(e).isDirectory() ? path.join(e, MANIFEST_FILE) : e;
    if (!fs.existsSync(file)) throw new KnexsafeError('SQUASH_NO_MANIFEST', `${file} does not exist.`, { hint: 'Give the squash.json of the archive folder (or the folder).' });
    files.add(path.resolve(file));
  }
  const found = [...files].map((file) => ({ file, manifest: readManifest(file) }));
  return found.sort((a, b) => (a.manifest.createdAt < b.manifest.createdAt ? -1 : a.manifest.createdAt > b.manifest.createdAt ? 1 : 0));
}

function readManifest(file: string): SquashManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new KnexsafeError('SQUASH_BAD_MANIFEST', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  const m = parsed as Partial<SquashManifest>;
  if (m.knexsafe !== 'squash' || typeof m.baseline !== 'string' || !Array.isArray(m.replaces) || m.replaces.some((r) => typeof r !== 'string')) {
    throw new KnexsafeError('SQUASH_BAD_MANIFEST', `${file} is not a knexsafe squash manifest (it needs "baseline" and "replaces").`);
  }
  return m as SquashManifest;
}
