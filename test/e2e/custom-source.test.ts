import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';

/** A knexfile with its own migrationSource (Wiki.js orders its migrations by semver, not by name). */
describe('knexfile migrationSource', () => {
  it('lists, runs and verifies migrations in the order the source gives', { timeout: 180_000 }, async () => {
    const dir = makeProject({
      'knexfile.js': `const path = require('path');
const fs = require('fs');
const dir = path.join(__dirname, 'db');
const semver = (a, b) => a.split('.').map(Number).reduce((d, x, i) => d || x - Number(b.split('.')[i]), 0);
module.exports = {
  client: 'pg',
  migrations: {
    tableName: 'migrations',
    migrationSource: {
      async getMigrations() { return fs.readdirSync(dir).map((f) => f.slice(0, -3)).sort(semver); },
      getMigrationName(m) { return m + '.js'; },
      getMigration(m) { return require(path.join(dir, m + '.js')); },
    },
  },
};
`,
      'db/2.0.0.js': `exports.up = (knex) => knex.schema.createTable('pages', (t) => { t.increments('id'); });\nexports.down = (knex) => knex.schema.dropTable('pages');\n`,
      'db/2.10.0.js': `exports.up = (knex) => knex.schema.alterTable('pages', (t) => { t.string('title'); });\nexports.down = (knex) => knex.schema.alterTable('pages', (t) => { t.dropColumn('title'); });\n`,
      'db/2.9.0.js': `exports.up = (knex) => knex.schema.alterTable('pages', (t) => { t.string('path'); });\nexports.down = (knex) => knex.schema.alterTable('pages', (t) => { t.dropColumn('path'); });\n`,
    });
    const db = ['--db', `embedded:${path.join(dir, '.db')}`];
    const latest = await runCli(['latest', '--cwd', dir, ...db, '--json']);
    expect(latest.code, latest.stderr).toBe(0);
    expect(parseJson<{ migrations: { name: string }[] }>(latest.stdout).migrations.map((m) => m.name)).toEqual(['2.0.0.js', '2.9.0.js', '2.10.0.js']);
    const status = parseJson<{ applied: number; pending: number }>((await runCli(['status', '--cwd', dir, ...db, '--json'])).stdout);
    expect(status).toMatchObject({ applied: 3, pending: 0 });
    const verify = parseJson<{ ok: boolean; migrations: { name: string }[] }>((await runCli(['verify', '--cwd', dir, '--json'])).stdout);
    expect(verify.ok).toBe(true);
    expect(verify.migrations.map((m) => m.name)).toEqual(['2.0.0.js', '2.9.0.js', '2.10.0.js']);
    // squash proves a baseline for the source's order (2.10.0 is kept although "2.9.0_baseline" sorts after it by name)…
    const dry = await runCli(['squash', '--to', '2.9.0', '--dry-run', '--json', '--cwd', dir]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/"ok": true/);
    // …but does not write files into a folder it does not own.
    const write = await runCli(['squash', '--to', '2.9.0', '--cwd', dir]);
    expect(write.code).toBe(2);
    expect(write.stderr).toMatch(/its own migrationSource/);
  });

  it('a source that lists { file, directory } items: findings point at the file, down-missing fires', { timeout: 120_000 }, async () => {
    const dir = makeProject({
      'knexfile.js': `const path = require('path');
const fs = require('fs');
const directory = path.join(__dirname, 'server', 'db');
module.exports = {
  client: 'pg',
  migrations: {
    migrationSource: {
      async getMigrations() { return fs.readdirSync(directory).sort().map((file) => ({ file, directory })); },
      getMigrationName(m) { return m.file; },
      getMigration(m) { return require(path.join(m.directory, m.file)); },
    },
  },
};
`,
      'server/db/1.0.0.js': `exports.up = (knex) => knex.schema.createTable('pages', (t) => { t.bigIncrements('id'); t.string('title'); });\nexports.down = (knex) => {};\n`,
    });
    const r = await runCli(['check', '--cwd', dir, '--json', '--max-severity', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const findings = parseJson<{ findings: { rule: string; file: string; line?: number }[] }>(r.stdout).findings;
    const missing = findings.find((f) => f.rule === 'down-missing');
    expect(missing, JSON.stringify(findings)).toBeDefined();
    expect(missing?.file).toMatch(/server\/db\/1\.0\.0\.js$/);
    // Statement findings carry the knex call's line, read from the file the source named.
    expect(findings.find((f) => f.rule === 'prefer-text-over-varchar')?.line).toBe(1);
  });
});
