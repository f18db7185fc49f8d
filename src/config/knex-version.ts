import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The version of a `knex` package resolvable from `fromDir` (node's resolution), if any. */
export function knexVersionFrom(fromDir: string): { version: string; packageJson: string } | undefined {
  try {
    const packageJson = createRequire(path.join(fromDir, 'noop.js')).resolve('knex/package.json');
    const { version } = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version?: string };
    return version ? { version, packageJson } : undefined;
  } catch {
    return undefined;
  }
}

/** The knex knexsafe itself runs migrations with. */
export function bundledKnexVersion(): string {
  return knexVersionFrom(path.dirname(createRequire(import.meta.url).resolve('knex')))?.version ?? 'unknown';
}

const major = (version: string) => Number(/^(\d+)\./.exec(version)?.[1] ?? NaN);

/**
 * knexsafe runs migrations with its own knex. A project on another major version may behave
 * differently under it (knex 1.0 changed what `.returning()` resolves to, for one): say so up front
 * rather than let a migration fail in a way `npx knex` would not.
 */
export function knexVersionWarning(projectDir: string): string | undefined {
  const project = knexVersionFrom(projectDir);
  const ours = bundledKnexVersion();
  if (!project || Number.isNaN(major(project.version)) || major(project.version) === major(ours)) return undefined;
  return `This project uses knex ${project.version} (${project.packageJson}); knexsafe runs migrations with knex ${ours}. Between major versions knex's behaviour changes (e.g. what .returning() resolves to), so a migration can act differently here than under npx knex.`;
}

/**
 * For a migration that failed on the shadow: when the project's knex has another major version
 * than knexsafe's, the failure may be knexsafe's knex's alone (`npx knex` would pass). Said with
 * the failure itself, not only as a warning at the top.
 */
export function knexVersionNote(projectDir: string): string | undefined {
  const project = knexVersionFrom(projectDir);
  const ours = bundledKnexVersion();
  if (!project || Number.isNaN(major(project.version)) || major(project.version) === major(ours)) return undefined;
  return `knexsafe ran this migration with knex ${ours}; this project uses knex ${project.version}, which behaves differently (e.g. what .returning() resolves to): this failure may not happen under npx knex`;
}
