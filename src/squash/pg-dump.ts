import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { libpqEnvironment } from '../db/libpq-env.js';
import { KnexsafeError } from '../errors.js';
import { parseSql, statementKind } from '../sql/index.js';

const run = promisify(execFile);

/**
 * The server's own pg_dump as the DDL source, for a server shadow: `--schema-only --no-owner
 * --no-privileges`, split into pre-data and post-data so the baseline can load rows in between
 * (as a pg_dump restore does). Its output is a psql script: the meta-commands (`\restrict`,
 * `\unrestrict`) and the session settings (`SET …`, `SELECT pg_catalog.set_config(…)`) are
 * dropped — a migration must not change its connection's settings — and every statement is read
 * with PostgreSQL's parser, not with patterns.
 */
export interface PgDumpBinary {
  path: string;
  major: number;
  version: string;
}

/** pg_dump binaries to try: $KNEXSAFE_PG_DUMP, the Debian/Ubuntu layout, then PATH. */
function candidates(): string[] {
  const out: string[] = [];
  if (process.env.KNEXSAFE_PG_DUMP) out.push(process.env.KNEXSAFE_PG_DUMP);
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs
      .readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) out.push(path.join(root, v, 'bin', 'pg_dump'));
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir) out.push(path.join(dir, 'pg_dump'));
  }
  return out.filter((p, i) => out.indexOf(p) === i && fs.existsSync(p));
}

/** The newest pg_dump that can dump a server of `serverMajor` (pg_dump must not be older). */
export async function findPgDump(serverMajor: number): Promise<PgDumpBinary | undefined> {
  let best: PgDumpBinary | undefined;
  for (const file of candidates()) {
    try {
      const { stdout } = await run(file, ['--version']);
      const match = /(\d+)(?:\.(\d+))?/.exec(stdout);
      if (!match) continue;
      const major = Number(match[1]);
      if (major < serverMajor) continue;
      if (!best || major > best.major) best = { path: file, major, version: stdout.trim() };
    } catch {
      // Not runnable: try the next one.
    }
  }
  return best;
}

export interface DumpedDdl {
  preData: string[];
  postData: string[];
}

/**
 * Dumps the database behind `url`, leaving out `excludeRelations` (qualified, quoted names: knex's
 * history tables and the sequences they own). The connection, password included, travels in
 * pg_dump's environment only, never on its command line (readable by every local user).
 */
export async function dumpDdl(binary: PgDumpBinary, url: string, excludeRelations: string[]): Promise<DumpedDdl> {
  const connection = await libpqEnvironment(url);
  if (!connection.ok)
    throw new KnexsafeError('PG_DUMP_FAILED', `pg_dump cannot be pointed at the shadow database: ${connection.reason}.`, {
      exitCode: 1,
      hint: 'Use --ddl catalog to generate the baseline without pg_dump.',
    });
  const env = connection.env;
  const base = ['--schema-only', '--no-owner', '--no-privileges', '--no-tablespaces'];
  for (const r of excludeRelations) base.push(`--exclude-table=${r}`);
  const dump = async (section: string) => {
    try {
      const { stdout } = await run(binary.path, [...base, `--section=${section}`], { env, maxBuffer: 256 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? String(error);
      throw new KnexsafeError('PG_DUMP_FAILED', `pg_dump (${binary.version}) failed on the shadow database: ${stderr.trim().split('\n')[0]}`, {
        exitCode: 1,
        hint: 'Use --ddl catalog to generate the baseline without pg_dump.',
        cause: error,
      });
    }
  };
  return { preData: await cleanDump(await dump('pre-data')), postData: await cleanDump(await dump('post-data')) };
}

/** Statements of a pg_dump script that a migration should run: no meta-commands, no session settings. */
export async function cleanDump(script: string): Promise<string[]> {
  // psql meta-commands are whole lines starting with a backslash (pg_dump writes \restrict and
  // \unrestrict, and \connect in other modes); they are not SQL and the parser would reject them.
  const sql = script
    .split('\n')
    .filter((line) => !line.startsWith('\\'))
    .join('\n');
  const statements = await parseSql(sql);
  const out: string[] = [];
  for (const s of statements) {
    const kind = statementKind(s.ast);
    if (kind === 'VariableSetStmt') continue;
    if (kind === 'SelectStmt' && isSetConfigCall(s.ast)) continue;
    out.push(withoutLeadingComments(s.sql));
  }
  return out;
}

function isSetConfigCall(ast: unknown): boolean {
  const select = (ast as { SelectStmt?: { targetList?: { ResTarget?: { val?: { FuncCall?: { funcname?: { String?: { sval?: string } }[] } } } }[] } }).SelectStmt;
  const targets = select?.targetList ?? [];
  return (
    targets.length > 0 &&
    targets.every((t) => {
      const names = t.ResTarget?.val?.FuncCall?.funcname?.map((n) => n.String?.sval) ?? [];
      return names[names.length - 1] === 'set_config';
    })
  );
}

/** pg_dump's `-- Name: …` headers sit between statements; the parser gives them to the next one. */
function withoutLeadingComments(statement: string): string {
  const lines = statement.split('\n');
  while (lines.length && (lines[0]!.trim() === '' || lines[0]!.trimStart().startsWith('--'))) lines.shift();
  return lines.join('\n').trim();
}
