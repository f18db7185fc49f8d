import { knexVersionWarning } from './knex-version.js';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Knex } from 'knex';
import { KnexsafeError } from '../errors.js';
import { registerSecret, redactSecrets } from '../util/redact.js';
import { skippedFileWarnings, type CustomMigrationSource, type MigrationSettings } from './migration-files.js';
import { findUp, KNEXFILE_NAMES } from './find-up.js';
import { defaultExport, importUserModule } from './load-module.js';
import { setProjectDir } from './project-modules.js';
import { knexEnvironmentSchema, knexsafeSettingsSchema, POSTGRES_CLIENTS, type KnexEnvironment, type KnexsafeSettings } from './schema.js';

export type MigrationExtension = 'js' | 'ts' | 'mjs' | 'cjs';

/** Options every command accepts; they mirror knex's CLI flags. */
export interface ProjectOptions {
  cwd?: string;
  knexfile?: string;
  env?: string;
  migrationsDir?: string;
  client?: string;
  connection?: string;
  /** `embedded` (in memory) or `embedded:<dir>` (persisted PGlite) instead of a server. */
  db?: string;
}

// Defined beside the listing that reads them (migration-files.ts imports nothing from here).
export type { CustomMigrationSource, MigrationSettings };

export interface SeedSettings {
  directories: string[];
  loadExtensions: string[];
  sortDirsSeparately: boolean;
  recursive: boolean;
  extension?: string;
  stub?: string;
}

export type TargetSpec =
  | { kind: 'server'; connection: Knex.Config['connection']; source: 'knexfile' | 'DATABASE_URL' | '--connection' | 'the targets list' }
  | { kind: 'embedded'; dataDir?: string; source: '--db' }
  | { kind: 'none' };

export interface ProjectConfig {
  /** Directory relative paths are resolved against: the knexfile's directory, else the working directory. */
  baseDir: string;
  knexfile?: string;
  env: string;
  environments: string[];
  /** The environment's knex options, passed through to knex (pool, searchPath, ...). */
  knexOptions: Record<string, unknown>;
  /** The knexfile's own client class (a PostgreSQL dialect), when it gives one instead of a name. */
  userClient?: unknown;
  target: TargetSpec;
  searchPath?: string | string[];
  migrations: MigrationSettings;
  seeds: SeedSettings;
  knexsafe: KnexsafeSettings;
  /** Extension new files get unless the user says otherwise. */
  defaultExtension: MigrationExtension;
  /** Things about the project the user should know before trusting a result (e.g. another knex major). */
  warnings: string[];
}

/**
 * knex's own default `loadExtensions`, read from the knex that runs the migrations: `.mjs`, `.mts`
 * and `.cts` are not in it, so knex never runs such files unless the knexfile lists them.
 */
export const DEFAULT_LOAD_EXTENSIONS: string[] = [
  ...(createRequire(import.meta.url)('knex/lib/migrations/common/MigrationsLoader.js') as { DEFAULT_LOAD_EXTENSIONS: readonly string[] }).DEFAULT_LOAD_EXTENSIONS,
];

/**
 * Reads the project as the CLI does: knexfile (or `--knexfile`, `DATABASE_URL`), environment, knexsafe settings.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app', env: 'production' });
 * console.log(project.migrations.directories);
 */
export async function resolveProject(options: ProjectOptions = {}): Promise<ProjectConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  if (!fs.existsSync(cwd)) {
    throw new KnexsafeError('CWD_NOT_FOUND', `The working directory ${cwd} does not exist.`, {
      hint: 'Check the --cwd path.',
    });
  }

  const knexfile = locateKnexfile(cwd, options.knexfile);
  const baseDir = knexfile ? path.dirname(knexfile) : cwd;
  setProjectDir(baseDir);
  const envName = options.env ?? process.env.NODE_ENV ?? 'development';

  let environments: string[] = [];
  let env: KnexEnvironment = {};
  let rootKnexsafe: unknown;
  if (knexfile) {
    const exported = await loadKnexfile(knexfile);
    const selected = selectEnvironment(exported, envName, knexfile, options.env !== undefined);
    environments = selected.environments;
    env = validateEnvironment(selected.config, knexfile, selected.label);
    rootKnexsafe = (exported as Record<string, unknown>).knexsafe;
  }

  const clientName = options.client ?? (typeof env.client === 'string' ? env.client : undefined);
  if (typeof env.client === 'function' && options.client === undefined) {
    // A custom client class (e.g. a PGlite dialect) is accepted only if it is a PostgreSQL dialect.
    const dialect = (env.client as { prototype?: { dialect?: string } }).prototype?.dialect;
    if (dialect !== 'postgresql') throw clientNotPostgres(String(dialect ?? 'custom class'), knexfile);
  } else if (clientName !== undefined && !POSTGRES_CLIENTS.includes(clientName as (typeof POSTGRES_CLIENTS)[number])) {
    throw clientNotPostgres(clientName, knexfile);
  }

  const target = resolveTarget(options, env);
  const migrations = resolveMigrations(env, baseDir, options.migrationsDir);
  const customSource = env.migrations?.migrationSource;
  if (customSource !== undefined && options.migrationsDir === undefined) migrations.custom = await listCustomSource(customSource, migrations, knexfile);
  const seeds = resolveSeeds(env, baseDir);
  const knexsafe = await loadKnexsafeSettings(baseDir, env.knexsafe ?? rootKnexsafe, knexfile);

  const knexOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!['client', 'connection', 'migrations', 'seeds', 'knexsafe'].includes(key)) knexOptions[key] = value;
  }

  return {
    baseDir,
    ...(knexfile ? { knexfile } : {}),
    env: envName,
    environments,
    knexOptions,
    ...(typeof env.client === 'function' && options.client === undefined ? { userClient: env.client } : {}),
    target,
    ...(env.searchPath !== undefined ? { searchPath: env.searchPath } : {}),
    migrations,
    seeds,
    knexsafe,
    defaultExtension: detectExtension(knexfile, migrations, baseDir),
    warnings: [knexVersionWarning(baseDir), ...skippedFileWarnings(migrations)].filter((w): w is string => w !== undefined),
  };
}

function locateKnexfile(cwd: string, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) {
      throw new KnexsafeError('KNEXFILE_NOT_FOUND', `The knexfile ${file} given with --knexfile does not exist.`, {
        hint: 'Check the path; relative paths are resolved from --cwd (or the current directory).',
      });
    }
    return file;
  }
  return findUp(cwd, KNEXFILE_NAMES).found;
}

/** Explains where we looked, for commands that cannot work without a knexfile or connection. */
export function knexfileNotFound(cwd: string): KnexsafeError {
  const { searched } = findUp(cwd, KNEXFILE_NAMES);
  const shown = searched.length > 4 ? [...searched.slice(0, 3), '…', searched[searched.length - 1]] : searched;
  return new KnexsafeError('KNEXFILE_NOT_FOUND', `No knexfile found: looked for ${KNEXFILE_NAMES.join(', ')} in ${shown.join(', ')}, and DATABASE_URL is not set.`, {
    hint: 'Run knexsafe in your project folder, pass --knexfile <path>, set DATABASE_URL, or use --db embedded[:<dir>]. `knexsafe init` creates a knexfile.',
  });
}

async function loadKnexfile(file: string): Promise<unknown> {
  const mod = await importUserModule(file, 'knexfile');
  let exported = defaultExport(mod);
  if (typeof exported === 'function') {
    try {
      exported = await (exported as () => unknown)();
    } catch (error) {
      throw new KnexsafeError('KNEXFILE_FAILED', `The knexfile ${file} exports a function that threw: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }
  if (!exported || typeof exported !== 'object') {
    throw new KnexsafeError('INVALID_KNEXFILE', `The knexfile ${file} does not export a configuration object (got ${typeof exported}).`, {
      hint: 'Export an object such as `module.exports = { development: { client: "pg", connection: ... } }`.',
    });
  }
  return exported;
}

const FLAT_KEYS = ['client', 'connection', 'migrations', 'seeds', 'pool', 'searchPath'];

function selectEnvironment(exported: unknown, envName: string, file: string, envWasExplicit: boolean): { config: unknown; environments: string[]; label: string } {
  const obj = exported as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => k !== 'default' && k !== 'knexsafe' && k !== '__esModule');
  const isFlat = keys.some((k) => FLAT_KEYS.includes(k));
  if (isFlat) {
    return { config: obj, environments: [], label: 'configuration' };
  }
  const environments = keys.filter((k) => obj[k] && typeof obj[k] === 'object');
  if (obj[envName] && typeof obj[envName] === 'object') {
    return { config: obj[envName], environments, label: `environment "${envName}"` };
  }
  const source = envWasExplicit ? '--env' : process.env.NODE_ENV ? 'NODE_ENV' : 'the default environment';
  throw new KnexsafeError('UNKNOWN_ENV', `The knexfile ${file} has no environment "${envName}" (from ${source}). Known environments: ${environments.length ? environments.join(', ') : '(none)'}.`, {
    hint: `Pass --env with one of them${environments[0] ? `, e.g. --env ${environments[0]}` : ''}.`,
    details: { environments },
  });
}

function validateEnvironment(config: unknown, file: string, label: string): KnexEnvironment {
  const parsed = knexEnvironmentSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new KnexsafeError('INVALID_KNEXFILE', `The ${label} in ${file} is not a valid knex configuration: ${problems}.`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  const connection = parsed.data.connection;
  if (typeof connection === 'string') registerSecret(passwordOfUrl(connection));
  if (connection && typeof connection === 'object') registerSecret((connection as Record<string, unknown>).password);
  return parsed.data;
}

function passwordOfUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.password ? decodeURIComponent(parsed.password) : undefined;
  } catch {
    return undefined;
  }
}

function clientNotPostgres(client: string, knexfile: string | undefined): KnexsafeError {
  return new KnexsafeError('CLIENT_NOT_POSTGRES', `knexsafe works with PostgreSQL only, but ${knexfile ? `the knexfile ${knexfile}` : '--client'} names the client "${client}".`, {
    hint: `Use client "pg" (aliases: ${POSTGRES_CLIENTS.join(', ')}).`,
  });
}

function resolveTarget(options: ProjectOptions, env: KnexEnvironment): TargetSpec {
  if (options.db !== undefined) {
    const db = options.db;
    if (db === 'embedded' || db === 'pglite') return { kind: 'embedded', source: '--db' };
    const match = /^(?:embedded|pglite):(.+)$/.exec(db);
    if (match?.[1]) return { kind: 'embedded', dataDir: path.resolve(options.cwd ?? process.cwd(), match[1]), source: '--db' };
    if (/^postgres(ql)?:\/\//.test(db)) {
      registerSecret(passwordOfUrl(db));
      return { kind: 'server', connection: db, source: '--connection' };
    }
    throw new KnexsafeError('BAD_DB_OPTION', `--db takes "embedded", "embedded:<dir>" or a postgres:// URL, not "${redactSecrets(db)}".`);
  }
  if (options.connection !== undefined) {
    registerSecret(passwordOfUrl(options.connection));
    return { kind: 'server', connection: options.connection, source: '--connection' };
  }
  if (env.connection !== undefined && env.connection !== null && env.connection !== '') {
    return { kind: 'server', connection: env.connection as Knex.Config['connection'], source: 'knexfile' };
  }
  const url = process.env.DATABASE_URL;
  if (url) {
    registerSecret(passwordOfUrl(url));
    return { kind: 'server', connection: url, source: 'DATABASE_URL' };
  }
  return { kind: 'none' };
}

function toList(value: string | string[] | undefined, fallback: string): string[] {
  if (value === undefined) return [fallback];
  return Array.isArray(value) ? value : [value];
}

function resolveMigrations(env: KnexEnvironment, baseDir: string, override: string | undefined): MigrationSettings {
  const m = env.migrations ?? {};
  const dirs = override !== undefined ? [override] : toList(m.directory, './migrations');
  return {
    // knex's CLI changes to the knexfile's folder first: --migrations-directory is relative to it too.
    directories: dirs.map((d) => path.resolve(baseDir, d)),
    tableName: m.tableName ?? 'knex_migrations',
    ...(m.schemaName ? { schemaName: m.schemaName } : {}),
    loadExtensions: m.loadExtensions ?? DEFAULT_LOAD_EXTENSIONS,
    sortDirsSeparately: m.sortDirsSeparately ?? false,
    disableTransactions: m.disableTransactions ?? false,
    disableMigrationsListValidation: m.disableMigrationsListValidation ?? false,
    ...(m.extension ? { extension: m.extension } : {}),
    ...(m.stub ? { stub: path.resolve(baseDir, m.stub) } : {}),
  };
}

function resolveSeeds(env: KnexEnvironment, baseDir: string): SeedSettings {
  const s = env.seeds ?? {};
  return {
    directories: toList(s.directory, './seeds').map((d) => path.resolve(baseDir, d)),
    loadExtensions: s.loadExtensions ?? DEFAULT_LOAD_EXTENSIONS,
    sortDirsSeparately: s.sortDirsSeparately ?? false,
    recursive: s.recursive ?? false,
    ...(s.extension ? { extension: s.extension } : {}),
    ...(s.stub ? { stub: path.resolve(baseDir, s.stub) } : {}),
  };
}

const SETTINGS_FILES = ['knexsafe.config.ts', 'knexsafe.config.mts', 'knexsafe.config.js', 'knexsafe.config.mjs', 'knexsafe.config.cjs', 'knexsafe.config.json'];

async function loadKnexsafeSettings(baseDir: string, fromKnexfile: unknown, knexfile: string | undefined): Promise<KnexsafeSettings> {
  let raw: unknown = fromKnexfile;
  let source = knexfile ? `the "knexsafe" key of ${knexfile}` : '';
  for (const name of SETTINGS_FILES) {
    const file = path.join(baseDir, name);
    if (!fs.existsSync(file)) continue;
    if (name.endsWith('.json')) {
      try {
        raw = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (error) {
        throw new KnexsafeError('INVALID_CONFIG', `${file} is not valid JSON: ${(error as Error).message}`);
      }
    } else {
      raw = defaultExport(await importUserModule(file, 'knexsafe config'));
    }
    source = file;
    break;
  }
  if (raw === undefined) return {};
  const parsed = knexsafeSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new KnexsafeError('INVALID_CONFIG', `The knexsafe settings in ${source} are invalid: ${problems}.`);
  }
  return parsed.data;
}

function detectExtension(knexfile: string | undefined, migrations: MigrationSettings, baseDir: string): MigrationExtension {
  const configured = migrations.extension?.replace(/^\./, '');
  if (configured === 'js' || configured === 'ts' || configured === 'mjs' || configured === 'cjs') return configured;
  // The most common extension among existing migrations wins: that is the project's style.
  const counts = new Map<MigrationExtension, number>();
  for (const dir of migrations.directories) {
    // A missing folder, or a file given for one, is reported by the command that lists migrations.
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir)) {
      const ext = path.extname(f).slice(1);
      // A file knex skips is no example to follow: a new one like it would never run either.
      if (f.endsWith('.d.ts') || !migrations.loadExtensions.includes(`.${ext}`)) continue;
      if (ext === 'js' || ext === 'ts' || ext === 'mjs' || ext === 'cjs') counts.set(ext, (counts.get(ext) ?? 0) + 1);
    }
  }
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  if (best) return best[0];
  if (knexfile) {
    const ext = path.extname(knexfile).slice(1);
    if (ext === 'ts' || ext === 'mts' || ext === 'cts') return 'ts';
    // knex's default loadExtensions leaves .mjs out: knex's own make writes .js then, and so does knexsafe.
    if (ext === 'mjs' && migrations.loadExtensions.includes('.mjs')) return 'mjs';
    if (ext === 'cjs') return 'cjs';
  }
  void baseDir;
  return 'js';
}

async function listCustomSource(source: unknown, settings: MigrationSettings, knexfile: string | undefined): Promise<CustomMigrationSource> {
  const s = source as Partial<CustomMigrationSource['source']> | null;
  if (!s || typeof s.getMigrations !== 'function' || typeof s.getMigrationName !== 'function' || typeof s.getMigration !== 'function') {
    throw new KnexsafeError('INVALID_KNEXFILE', `migrations.migrationSource in ${knexfile ?? 'the configuration'} must have getMigrations, getMigrationName and getMigration, as knex requires.`);
  }
  const valid = s as CustomMigrationSource['source'];
  let items: unknown[];
  try {
    items = await valid.getMigrations(settings.loadExtensions);
  } catch (error) {
    throw new KnexsafeError('MIGRATION_SOURCE_FAILED', `The knexfile's migrationSource.getMigrations() threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { source: valid, items: items.map((item) => ({ name: valid.getMigrationName(item), item })) };
}
