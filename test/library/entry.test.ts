import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

/** The package entry, as another program imports it (the built dist, via package.json "exports"). */
describe('library entry', () => {
  it('exports the API every command is built on', async () => {
    const api = (await import(path.join(REPO_ROOT, 'dist/index.js'))) as Record<string, unknown>;
    for (const name of [
      'resolveProject',
      'openTarget',
      'fix',
      'migrateLatest',
      'migrationStatus',
      'check',
      'verify',
      'makeMigration',
      'guardedLatest',
      'backfill',
      'backupPending',
      'runDoctor',
      'forgetMigration',
      'explainFailure',
      'squash',
      'applySquashHistory',
    ]) {
      expect(typeof api[name], name).toBe('function');
    }
  });

  it('builds the bin as an executable file, so the package bin runs directly (npx knexsafe after npm test)', () => {
    const bin = path.join(REPO_ROOT, 'dist/cli/main.js');
    expect(fs.statSync(bin).mode & 0o111).toBe(0o111);
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(version);
  });

  it('bundles the bin: its modules of dist/ come from dist/cli/chunks, not one file each', () => {
    const cli = path.join(REPO_ROOT, 'dist/cli');
    const relativeImports = (file: string) => [...fs.readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
    const chunks = fs.readdirSync(path.join(cli, 'chunks')).map((f) => path.join(cli, 'chunks', f));
    expect(chunks.length).toBeGreaterThan(0);
    for (const file of [path.join(cli, 'main.js'), ...chunks]) {
      for (const spec of relativeImports(file)) expect(path.resolve(path.dirname(file), spec).startsWith(path.join(cli, 'chunks')), `${file}: ${spec}`).toBe(true);
    }
  });

  it('checks the example project through the API: findings at the knex call, nothing failed', async () => {
    const { check } = (await import(path.join(REPO_ROOT, 'dist/index.js'))) as typeof import('../../src/index.js');
    const report = await check({ cwd: path.join(REPO_ROOT, 'examples/shop'), all: true });
    expect(report.migrations).toHaveLength(9);
    expect(report.migrations.filter((m) => m.failed)).toEqual([]);
    const rules = new Set(report.findings.map((f) => f.rule));
    expect(rules.has('column-type-rewrite')).toBe(true);
    expect(report.findings.every((f) => f.file.endsWith('.js') || f.file.endsWith('.ts'))).toBe(true);
  });
});
