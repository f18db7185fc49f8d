import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveProject } from '../../src/config/resolve.js';
import { loadTargets, projectForTarget } from '../../src/fleet/targets.js';
import { makeProject } from '../helpers/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function projectWith(files: Record<string, string>) {
  const dir = makeProject({ 'migrations/.keep': '', ...files }, 'ks-fleet-targets-');
  dirs.push(dir);
  return { dir, project: await resolveProject({ cwd: dir }) };
}

const KNEXFILE = (extra = '') => `module.exports = { client: 'pg', connection: 'postgresql://app:Hunter2-Secret@db.internal:6432/main', migrations: { directory: './migrations' }${extra} };\n`;

describe('fleet targets', () => {
  it('reads a targets file: URLs, comments, names without passwords', async () => {
    const { dir, project } = await projectWith({
      'knexfile.js': KNEXFILE(),
      'fleet.txt': '# shards\npostgresql://app:Pw-One-123@eu.db:5432/shop   # europe\n\n  postgresql://app:Pw-Two-456@us.db:5432/shop\npostgresql://app@us.db:5432/billing\n',
    });
    const targets = await loadTargets(project, { file: 'fleet.txt', cwd: dir });
    // Two databases called shop: named with their host; billing is unique.
    expect(targets.map((t) => t.name)).toEqual(['eu.db:5432/shop', 'us.db:5432/shop', 'billing']);
    expect(JSON.stringify(targets.map((t) => t.name))).not.toMatch(/Pw-/);
    expect(targets[0]!.connection).toBe('postgresql://app:Pw-One-123@eu.db:5432/shop');
  });

  it('filters with --only and --except globs, and says so when nothing is left', async () => {
    const { dir, project } = await projectWith({
      'knexfile.js': KNEXFILE(),
      'fleet.json': JSON.stringify(['tenant_eu_1', 'tenant_eu_2', 'tenant_us_1', { database: 'tenant_us_2', name: 'us-two' }]),
    });
    const only = await loadTargets(project, { file: 'fleet.json', cwd: dir, only: ['tenant_eu_*'], except: ['*_2'] });
    expect(only.map((t) => t.name)).toEqual(['tenant_eu_1']);
    // A database name is the configured connection pointed at that database.
    expect(only[0]!.connection).toBe('postgresql://app:Hunter2-Secret@db.internal:6432/tenant_eu_1');
    const named = await loadTargets(project, { file: 'fleet.json', cwd: dir, only: ['us-*,tenant_us_?'] });
    expect(named.map((t) => t.name)).toEqual(['tenant_us_1', 'us-two']);
    await expect(loadTargets(project, { file: 'fleet.json', cwd: dir, only: ['nobody'] })).rejects.toThrow(/No target is left after --only\/--except/);
  });

  it('rejects a line that is not a URL without echoing its password', async () => {
    const { dir, project } = await projectWith({ 'knexfile.js': KNEXFILE(), 'bad.txt': 'postgresql://a:Ok-Pw-1@h/db\nhost=h password=Leaky-Pw-2 dbname=x\n' });
    const error = await loadTargets(project, { file: 'bad.txt', cwd: dir }).catch((e: Error) => e);
    expect(String(error)).toMatch(/Line 2 of the targets file .* is not a postgres:\/\/ URL/);
    expect(String(error)).not.toContain('Leaky-Pw-2');
  });

  it('takes schema targets from a config function; each gets its searchPath and knex schemaName', async () => {
    const { project } = await projectWith({
      'knexfile.js': KNEXFILE(`, searchPath: ['shared', 'public'], knexsafe: { targets: async () => [{ schema: 'tenant_a' }, { schema: 'tenant_b', name: 'Bee' }] }`),
    });
    const targets = await loadTargets(project, { fromConfig: true });
    expect(targets.map((t) => [t.name, t.schema, t.database])).toEqual([
      ['tenant_a', 'tenant_a', 'main'],
      ['Bee', 'tenant_b', 'main'],
    ]);
    const scoped = projectForTarget(project, targets[0]!);
    expect(scoped.searchPath).toEqual(['tenant_a', 'public']);
    expect(scoped.knexOptions.searchPath).toEqual(['tenant_a', 'public']);
    expect(scoped.migrations.schemaName).toBe('tenant_a');
    expect(project.migrations.schemaName).toBeUndefined();
  });

  it('explains a missing fleet', async () => {
    const { project } = await projectWith({ 'knexfile.js': KNEXFILE() });
    await expect(loadTargets(project, { fromConfig: true })).rejects.toThrow(/no knexsafe.targets/);
    expect(path.isAbsolute(project.baseDir)).toBe(true);
  });
});
