import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import type { ProjectConfig } from '../config/resolve.js';
import type { Shadow } from '../shadow/shadow.js';
import { parseSql, statementKind } from '../sql/parse.js';
import { libpqEnvironment } from '../db/libpq-env.js';
import { redactSecrets } from '../util/redact.js';

const run = promisify(execFile);

/**
 * A copy of the target's schema on a shadow: `pg_dump --schema-only` of the target (read-only:
 * one REPEATABLE READ transaction taking ACCESS SHARE locks), loaded statement by statement.
 * pg_dump may be missing on the user's machine; callers then fall back to replaying migrations.
 */

export interface PgDumpTool {
  path: string;
  major: number;
}

export type SchemaDump = { ok: true; sql: string; tool: PgDumpTool } | { ok: false; reason: string };

function candidates(): string[] {
  const out: string[] = [];
  if (process.env.KNEXSAFE_PG_DUMP) out.push(process.env.KNEXSAFE_PG_DUMP);
  const roots = ['/usr/lib/postgresql', '/usr/pgsql', '/opt/homebrew/opt', '/usr/local/opt'];
  for (const root of roots) {
    if (!fs.existsSync(root)) continue;
    for (const entry of fs.readdirSync(root)) {
      const bin = path.join(root, entry, 'bin', 'pg_dump');
      if (fs.existsSync(bin)) out.push(bin);
    }
  }
  out.push('pg_dump');
  return out;
}

/** The newest pg_dump that can dump a server of `serverMajor` (pg_dump must be at least as new). */
export async function findPgDump(serverMajor: number): Promise<PgDumpTool | { reason: string }> {
  const found: PgDumpTool[] = [];
  for (const candidate of candidates()) {
    try {
      const { stdout } = await run(candidate, ['--version'], { timeout: 10_000 });
      const major = Number(/(\d+)(?:\.\d+)?/.exec(stdout)?.[1]);
      if (Number.isFinite(major)) found.push({ path: candidate, major });
    } catch {
      // Not installed there.
    }
  }
  const usable = found.filter((t) => t.major >= serverMajor).sort((a, b) => b.major - a.major);
  // The one the user named wins when it can dump this server.
  const named = usable.find((t) => t.path === process.env.KNEXSAFE_PG_DUMP);
  if (named) return named;
  if (usable[0]) return usable[0];
  if (found.length) return { reason: `pg_dump ${Math.max(...found.map((t) => t.major))} is older than the server (${serverMajor}); set KNEXSAFE_PG_DUMP to a newer one` };
  return { reason: 'pg_dump is not installed (set KNEXSAFE_PG_DUMP to its path)' };
}

export async function dumpTargetSchema(project: ProjectConfig, serverMajor: number): Promise<SchemaDump> {
  if (project.target.kind !== 'server') return { ok: false, reason: 'the target is not a PostgreSQL server' };
  // The connection (password included) reaches pg_dump through its environment only, never argv.
  const conn = await libpqEnvironment(project.target.connection);
  if (!conn.ok) return { ok: false, reason: conn.reason };
  const tool = await findPgDump(serverMajor);
  if (!('path' in tool)) return { ok: false, reason: tool.reason };
  try {
    const { stdout } = await run(tool.path, ['--schema-only', '--no-owner', '--no-privileges', '--no-publications', '--no-subscriptions', '--no-security-labels', '--no-tablespaces'], {
      env: { PGCONNECT_TIMEOUT: '10', ...conn.env },
      timeout: 120_000,
      maxBuffer: 512 * 1024 * 1024,
    });
    return { ok: true, sql: stdout, tool };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    return { ok: false, reason: `pg_dump failed: ${redactSecrets(stderr || (error as Error).message)}` };
  }
}

export interface LoadResult {
  statements: number;
  /** Statements the shadow refused (an extension it lacks, …): the copy is incomplete there. */
  failed: { statement: string; error: string }[];
}

/** Statements of a dump that may fail on the shadow without making the copy wrong. */
function harmless(sql: string, kind: string): boolean {
  if (kind === 'CommentStmt' && /^comment on extension/i.test(sql)) return true;
  if (kind === 'CreateSchemaStmt' && /^create schema public\b/i.test(sql)) return true;
  return kind === 'VariableSetStmt';
}

/**
 * Loads a plain-format dump into the shadow. psql meta-commands (`\restrict`, `\connect`) are left
 * out; the session settings the dump changes (search_path = '') are put back afterwards.
 */
export async function loadSchemaDump(shadow: Shadow, dump: string): Promise<LoadResult> {
  const text = dump
    .split('\n')
    .filter((line) => !line.startsWith('\\'))
    .join('\n');
  const statements = await parseSql(text);
  const result: LoadResult = { statements: statements.length, failed: [] };
  await withRawSession(shadow, async (exec) => {
    const saved = (await exec('show search_path')) as { rows?: { search_path: string }[] }[] | { rows?: { search_path: string }[] };
    const first = Array.isArray(saved) ? saved[0] : saved;
    const searchPath = first?.rows?.[0]?.search_path ?? '"$user", public';
    try {
      for (const statement of statements) {
        try {
          await exec(statement.sql);
        } catch (error) {
          if (harmless(statement.sql, statementKind(statement.ast))) continue;
          result.failed.push({ statement: statement.sql.slice(0, 200), error: (error as Error).message });
        }
      }
    } finally {
      await exec('reset all');
      await exec(`select pg_catalog.set_config('search_path', '${searchPath.replace(/'/g, "''")}', false)`);
    }
  });
  return result;
}

/** Runs SQL on the shadow's own session, past knex (and past the capture recorder). */
async function withRawSession(shadow: Shadow, fn: (exec: (sql: string) => Promise<unknown>) => Promise<void>): Promise<void> {
  if (shadow.embedded) {
    const pglite = shadow.embedded.pglite;
    await fn(async (sql) => (await pglite.exec(sql))[0]);
    return;
  }
  const client = (shadow.knex as Knex & { client: { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<void> } }).client;
  const connection = (await client.acquireConnection()) as { query(sql: string): Promise<unknown> };
  try {
    await fn((sql) => connection.query(sql));
  } finally {
    await client.releaseConnection(connection);
  }
}
