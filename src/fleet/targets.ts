import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { ProjectConfig } from '../config/resolve.js';
import { fleetTargetSchema, type FleetTargetSpec } from '../config/schema.js';
import { KnexsafeError, errorMessage } from '../errors.js';
import { redactSecrets, registerSecret } from '../util/redact.js';

/** One database (or one schema of a database) of the fleet. */
export interface FleetTarget {
  /** What people see: never holds a password (built from host, port, database, schema only). */
  name: string;
  /** How to reach it; may hold a password, so it is never printed. */
  connection: Knex.Config['connection'];
  database?: string;
  /** Schema-per-tenant: the tenant's schema (searchPath and knex's migrations.schemaName). */
  schema?: string;
}

export interface TargetSelection {
  /** `--targets <file>`: one connection URL per line (`#` comments), or a JSON array. */
  file?: string;
  /** `--targets` without a file: the `knexsafe.targets` setting. */
  fromConfig?: boolean;
  /** `--targets-query <sql>`: run on the configured connection; one column of URLs, database or schema names. */
  query?: string;
  /** Glob patterns (`*`, `?`) on target names; comma-separated lists are split. */
  only?: string[];
  except?: string[];
  cwd?: string;
}

type Kind = 'url' | 'database' | 'schema';
interface RawTarget {
  kind: Kind;
  value: string;
  name?: string;
  /** For database/schema entries given with a connection of their own. */
  connection?: string;
  /** A schema entry's database, when not the connection's own. */
  database?: string;
}

/** Lists the fleet: from a file, a query and/or the config, filtered by --only / --except. */
export async function loadTargets(project: ProjectConfig, selection: TargetSelection): Promise<FleetTarget[]> {
  const raw: RawTarget[] = [];
  if (selection.file !== undefined) raw.push(...readTargetsFile(path.resolve(selection.cwd ?? process.cwd(), selection.file)));
  if (selection.query !== undefined) raw.push(...(await queryTargets(project, selection.query, '--targets-query')));
  if (selection.fromConfig || (selection.file === undefined && selection.query === undefined)) raw.push(...(await configTargets(project)));
  if (raw.length === 0) {
    throw new KnexsafeError('NO_TARGETS', 'The fleet is empty: no target was listed.', {
      hint: 'Pass --targets <file> (one connection URL per line), --targets-query <sql>, or set knexsafe.targets in the config (docs/fleet.md).',
    });
  }
  const targets = nameTargets(raw.map((r) => toTarget(project, r)));
  const only = patterns(selection.only);
  const except = patterns(selection.except);
  const kept = targets.filter((t) => (only.length === 0 || only.some((p) => p.test(t.name))) && !except.some((p) => p.test(t.name)));
  if (kept.length === 0) {
    throw new KnexsafeError(
      'NO_TARGETS',
      `No target is left after --only/--except (${targets.length} listed, e.g. ${targets
        .slice(0, 3)
        .map((t) => t.name)
        .join(', ')}).`,
      {
        hint: 'Patterns match target names as shown in the summary; `*` matches any text, `?` one character.',
      },
    );
  }
  return kept;
}

export function readTargetsFile(file: string): RawTarget[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new KnexsafeError('TARGETS_FILE', `Cannot read the targets file ${file}: ${errorMessage(error)}.`, { hint: 'Check the path given to --targets.' });
  }
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new KnexsafeError('TARGETS_FILE', `The targets file ${file} starts like JSON but is not valid JSON: ${errorMessage(error)}.`);
    }
    return specsToRaw(parsed, `the targets file ${file}`);
  }
  const out: RawTarget[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    // `#` starts a comment at the start of a line or after a space (a URL's own `#` is percent-encoded).
    const value = line.replace(/(^|\s)#.*$/, '').trim();
    if (!value) return;
    if (!/^postgres(ql)?:\/\//i.test(value)) {
      throw new KnexsafeError('TARGETS_FILE', `Line ${i + 1} of the targets file ${file} is not a postgres:// URL: "${redactSecrets(value)}".`, {
        hint: 'One connection URL per line (postgresql://user@host:5432/db); `#` starts a comment. For database or schema names, use a JSON array of {"database": …} / {"schema": …}.',
      });
    }
    out.push({ kind: 'url', value });
  });
  return out;
}

function specsToRaw(specs: unknown, where: string): RawTarget[] {
  if (!Array.isArray(specs)) throw new KnexsafeError('INVALID_TARGETS', `${where} gives ${typeof specs} where a list of targets was expected.`);
  return specs.map((spec, i) => {
    const parsed = fleetTargetSchema.safeParse(spec);
    if (!parsed.success) {
      throw new KnexsafeError('INVALID_TARGETS', `Target ${i + 1} in ${where} is invalid: ${parsed.error.issues.map((x) => x.message).join('; ')}.`, {
        hint: 'A target is a connection URL string, or an object with "connection", "database" and/or "schema" (and an optional "name").',
      });
    }
    return specToRaw(parsed.data, where);
  });
}

function specToRaw(spec: FleetTargetSpec, where: string): RawTarget {
  if (typeof spec === 'string') return { kind: looksLikeUrl(spec) ? 'url' : 'database', value: spec };
  const named = spec.name !== undefined ? { name: spec.name } : {};
  const own = spec.connection !== undefined ? { connection: spec.connection } : {};
  if (spec.schema !== undefined) return { kind: 'schema', value: spec.schema, ...named, ...own, ...(spec.database ? { database: spec.database } : {}) };
  if (spec.database !== undefined) return { kind: 'database', value: spec.database, ...named, ...own };
  if (spec.connection !== undefined) return { kind: 'url', value: spec.connection, ...named };
  throw new KnexsafeError('INVALID_TARGETS', `A target in ${where} names neither a connection, a database nor a schema.`);
}

async function configTargets(project: ProjectConfig): Promise<RawTarget[]> {
  const setting = project.knexsafe.targets;
  if (setting === undefined) {
    throw new KnexsafeError('NO_TARGETS', 'There is no fleet to run on: --targets was given without a file, and the config has no knexsafe.targets.', {
      hint: 'Pass --targets <file> (one connection URL per line) or --targets-query <sql>, or add knexsafe.targets to the knexfile (docs/fleet.md).',
    });
  }
  if (typeof setting === 'function') {
    let listed: unknown;
    try {
      listed = await (setting as () => unknown)();
    } catch (error) {
      throw new KnexsafeError('INVALID_TARGETS', `The knexsafe.targets function threw: ${errorMessage(error)}`, { exitCode: 1 });
    }
    return specsToRaw(listed, 'the list the knexsafe.targets function returned');
  }
  if (Array.isArray(setting)) return specsToRaw(setting, 'knexsafe.targets');
  return queryTargets(project, setting.query, 'knexsafe.targets.query');
}

const COLUMN_KINDS: Record<string, Kind> = {
  url: 'url',
  connection: 'url',
  connection_string: 'url',
  database: 'database',
  datname: 'database',
  db: 'database',
  database_name: 'database',
  schema: 'schema',
  schema_name: 'schema',
  nspname: 'schema',
  tenant_schema: 'schema',
};

/** Runs a listing query on the configured connection (read-only); its first column names the targets. */
async function queryTargets(project: ProjectConfig, sql: string, where: string): Promise<RawTarget[]> {
  const { openTarget } = await import('../db/connect.js');
  if (project.target.kind !== 'server') {
    throw new KnexsafeError('NO_CONNECTION', `${where} needs a database to run on, and no server connection is configured.`, {
      hint: 'Add a connection to the knexfile, set DATABASE_URL, or pass --connection.',
    });
  }
  const db = await openTarget(project);
  let rows: Record<string, unknown>[];
  let column: string | undefined;
  try {
    const result = (await db.knex.raw(sql)) as { rows: Record<string, unknown>[]; fields?: { name: string }[] };
    rows = result.rows;
    column = result.fields?.[0]?.name;
  } catch (error) {
    throw new KnexsafeError('TARGETS_QUERY', `${where} failed on ${db.description}: ${errorMessage(error)}`, {
      hint: 'Run the query by hand (psql) to check it; it must return one column of URLs, database names or schema names.',
    });
  } finally {
    await db.close();
  }
  if (!column) return [];
  const kind = COLUMN_KINDS[column.toLowerCase()];
  return rows
    .map((r) => r[column!])
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .map((value) => ({ kind: kind ?? (looksLikeUrl(value) ? 'url' : 'database'), value }));
}

function looksLikeUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

function toTarget(project: ProjectConfig, raw: RawTarget): FleetTarget & { long: string; explicit?: string } {
  if (raw.kind === 'url') {
    const url = parseUrl(raw.value);
    return { connection: raw.value, database: url.database, long: `${url.host}/${url.database}`, name: url.database, ...(raw.name ? { explicit: raw.name } : {}) };
  }
  const base = raw.connection ?? baseConnection(project, raw);
  const database = raw.kind === 'database' ? raw.value : (raw.database ?? databaseOf(base));
  const connection = raw.kind === 'database' || raw.database ? withDatabase(base, database) : base;
  const host = typeof connection === 'string' ? parseUrl(connection).host : hostOf(connection);
  if (raw.kind === 'database') return { connection, database, long: `${host}/${database}`, name: database, ...(raw.name ? { explicit: raw.name } : {}) };
  return { connection, database, schema: raw.value, long: `${host}/${database}/${raw.value}`, name: raw.value, ...(raw.name ? { explicit: raw.name } : {}) };
}

function baseConnection(project: ProjectConfig, raw: RawTarget): Knex.Config['connection'] {
  if (project.target.kind !== 'server') {
    throw new KnexsafeError('NO_CONNECTION', `The target "${raw.value}" is a ${raw.kind} name, but there is no server connection to find it on.`, {
      hint: 'Add a connection to the knexfile, set DATABASE_URL, or pass --connection; or list full connection URLs instead.',
    });
  }
  return project.target.connection;
}

function parseUrl(value: string): { host: string; database: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new KnexsafeError('INVALID_TARGETS', `Not a valid connection URL: "${redactSecrets(value)}".`, { hint: 'Write it as postgresql://user@host:5432/database.' });
  }
  if (url.password) registerSecret(decodeURIComponent(url.password));
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres';
  return { host: `${url.hostname || 'localhost'}${url.port ? `:${url.port}` : ''}`, database };
}

function databaseOf(connection: Knex.Config['connection']): string {
  if (typeof connection === 'string') return parseUrl(connection).database;
  const c = connection as Record<string, unknown>;
  if (typeof c.connectionString === 'string') return parseUrl(c.connectionString).database;
  return typeof c.database === 'string' ? c.database : 'postgres';
}

function hostOf(connection: Knex.Config['connection']): string {
  const c = connection as Record<string, unknown>;
  if (typeof c.connectionString === 'string') return parseUrl(c.connectionString).host;
  return `${typeof c.host === 'string' ? c.host : 'localhost'}${c.port !== undefined ? `:${String(c.port)}` : ''}`;
}

/** The same connection to another database of the same server. */
function withDatabase(connection: Knex.Config['connection'], database: string): Knex.Config['connection'] {
  if (typeof connection === 'string') {
    const url = new URL(connection);
    url.pathname = `/${encodeURIComponent(database)}`;
    return url.toString();
  }
  if (connection && typeof connection === 'object' && typeof connection !== 'function') {
    const c = connection as Record<string, unknown>;
    if (typeof c.connectionString === 'string') return { ...c, connectionString: withDatabase(c.connectionString, database) } as Knex.Config['connection'];
    return { ...c, database } as Knex.Config['connection'];
  }
  throw new KnexsafeError('INVALID_TARGETS', 'Database-name targets need a connection URL or object in the config, not a connection function.', {
    hint: 'List full connection URLs as targets instead.',
  });
}

/** Short names (database, schema) when they are unique across the fleet, else with host (and database). */
function nameTargets(targets: (FleetTarget & { long: string; explicit?: string })[]): FleetTarget[] {
  const shortCount = new Map<string, number>();
  for (const t of targets) shortCount.set(t.name, (shortCount.get(t.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  return targets.map(({ long, explicit, ...t }) => {
    let name = redactSecrets(explicit ?? ((shortCount.get(t.name) ?? 0) > 1 ? long : t.name));
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    if (n > 1) name = `${name}#${n}`;
    return { ...t, name };
  });
}

function patterns(list: string[] | undefined): RegExp[] {
  return (list ?? [])
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter(Boolean)
    .map(
      (p) =>
        new RegExp(
          `^${p
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
        ),
    );
}

/** The project as it applies to one target: its connection, and for a schema its searchPath and knex's schemaName. */
export function projectForTarget(base: ProjectConfig, target: FleetTarget): ProjectConfig {
  const project: ProjectConfig = { ...base, target: { kind: 'server', connection: target.connection, source: 'the targets list' } };
  if (target.schema === undefined) return project;
  const rest = base.searchPath === undefined ? ['public'] : (Array.isArray(base.searchPath) ? base.searchPath : [base.searchPath]).slice(1);
  const searchPath = [target.schema, ...rest.filter((s) => s !== target.schema)];
  return {
    ...project,
    searchPath,
    knexOptions: { ...base.knexOptions, searchPath },
    migrations: { ...base.migrations, schemaName: target.schema },
  };
}
