import fs from 'node:fs';
import path from 'node:path';
import { KnexsafeError } from '../errors.js';
import { KNEXFILE_NAMES } from '../config/find-up.js';
import { moduleStyle } from '../make/module-style.js';
import { parseExtension } from '../make/run.js';

export interface InitOptions {
  cwd?: string;
  extension?: string;
}

export interface InitResult {
  knexfile: string;
  created: string[];
}

/** A knexfile in the shape of the seed: per-environment, DATABASE_URL-aware, no password in the file. */
export function renderKnexfile(style: 'cjs' | 'esm' | 'ts', databaseName: string): string {
  // development and test differ only in the database name and the seeds folder.
  const local = (database: string, seeds: string) => `{
    client: 'pg',
    connection: process.env.DATABASE_URL || {
      host: process.env.PGHOST || '127.0.0.1',
      port: Number(process.env.PGPORT || 5432),
      user: process.env.PGUSER || 'postgres',
      password: process.env.PGPASSWORD,
      database: ${database},
    },
    migrations: {
      directory: './migrations',
      tableName: 'knex_migrations',
    },${seeds}
  }`;
  const body = `{
  development: ${local(
    `process.env.PGDATABASE || '${databaseName}_dev'`,
    `
    seeds: {
      directory: './seeds',
    },`,
  )},

  test: ${local(`'${databaseName}_test'`, '')},

  production: {
    client: 'pg',
    connection: process.env.DATABASE_URL,
    migrations: {
      directory: './migrations',
      tableName: 'knex_migrations',
    },
    pool: { min: 2, max: 10 },
  },
}`;
  if (style === 'ts') return `import type { Knex } from 'knex';\n\nconst config: { [env: string]: Knex.Config } = ${body};\n\nexport default config;\n`;
  if (style === 'esm') return `/** @type { Record<string, import("knex").Knex.Config> } */\nexport default ${body};\n`;
  return `/** @type { Record<string, import("knex").Knex.Config> } */\nmodule.exports = ${body};\n`;
}

/**
 * `knexsafe init`: writes a knexfile and the migrations and seeds folders; never overwrites a knexfile.
 * @example
 * const { knexfile, created } = initProject({ cwd: '/srv/app' });
 */
export function initProject(options: InitOptions = {}): InitResult {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const existing = KNEXFILE_NAMES.map((n) => path.join(cwd, n)).find((f) => fs.existsSync(f));
  if (existing) {
    throw new KnexsafeError('FILE_EXISTS', `${existing} already exists; init does not overwrite it.`, {
      hint: 'Delete it first if you really want a fresh knexfile.',
    });
  }
  const extension = parseExtension(options.extension) ?? 'js';
  const knexfile = path.join(cwd, `knexfile.${extension}`);
  const databaseName =
    path
      .basename(cwd)
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_') || 'app';
  fs.mkdirSync(cwd, { recursive: true });
  fs.writeFileSync(knexfile, renderKnexfile(moduleStyle(extension, cwd), databaseName), { flag: 'wx' });
  const created = [knexfile];
  for (const dir of ['migrations', 'seeds']) {
    const full = path.join(cwd, dir);
    if (!fs.existsSync(full)) {
      fs.mkdirSync(full, { recursive: true });
      created.push(`${full}${path.sep}`);
    }
  }
  return { knexfile, created };
}
