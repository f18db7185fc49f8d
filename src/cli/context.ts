import type { Command } from 'commander';
import type { ProjectConfig, ProjectOptions } from '../config/resolve.js';
import type { Database } from '../db/connect.js';
import { Output, colorWanted } from './output.js';

/** Flags every command accepts (they mirror knex's CLI). */
export interface GlobalOptions {
  knexfile?: string;
  cwd?: string;
  env?: string;
  migrationsDir?: string;
  client?: string;
  connection?: string;
  db?: string;
  shadowUrl?: string;
  json?: boolean;
  format?: string;
  debug?: boolean;
  color?: boolean;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function projectOptions(g: GlobalOptions): ProjectOptions {
  return {
    ...(g.cwd !== undefined ? { cwd: g.cwd } : {}),
    ...(g.knexfile !== undefined ? { knexfile: g.knexfile } : {}),
    ...(g.env !== undefined ? { env: g.env } : {}),
    ...(g.migrationsDir !== undefined ? { migrationsDir: g.migrationsDir } : {}),
    ...(g.client !== undefined ? { client: g.client } : {}),
    ...(g.connection !== undefined ? { connection: g.connection } : {}),
    ...(g.db !== undefined ? { db: g.db } : {}),
  };
}

export function makeOutput(g: GlobalOptions): Output {
  const json = g.json === true || g.format === 'json';
  return new Output(json, g.debug === true, colorWanted(g.color));
}

/** Resolves the project, opens the target, runs `fn`, and always closes the connection. */
export async function withTarget<T>(g: GlobalOptions, fn: (db: Database, project: ProjectConfig) => Promise<T>): Promise<T> {
  // Loaded on use: `--help` and file-only commands start without knex and the database drivers.
  const [{ resolveProject }, { openTarget }] = await Promise.all([import('../config/resolve.js'), import('../db/connect.js')]);
  const project = await resolveProject(projectOptions(g));
  const db = await openTarget(project);
  try {
    return await fn(db, project);
  } finally {
    await db.close();
  }
}
