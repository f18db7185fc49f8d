import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProject } from '../../src/config/resolve.js';
import { replayBefore, selectMigrations } from '../../src/migrations/selection.js';
import { verifyMigrations, type VerifyReport } from '../../src/verify/verify.js';
import { makeProject, REPO_ROOT } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * verify reads the schema and the probe rows incrementally: after each up, down and re-up only
 * the relations the migration's transaction locked (or what changed since the last read). Each
 * project is verified both ways here; the verdicts must be the same. (CI sets
 * KNEXSAFE_CHECK_INCREMENTAL=1: every incremental snapshot is then also proven equal to a whole one.)
 */

/** Rows change where no statement of the migration names the table: a trigger, a cascade, a partition, inheritance. */
const INDIRECT = {
  'knexfile.js': `module.exports = { client: 'pg', migrations: { directory: __dirname + '/migrations' } };\n`,
  'migrations/20240101000000_base.js': `
exports.up = (knex) => knex.raw(\`
  create table accounts (id serial primary key, balance int not null default 0);
  create table ledger (id serial primary key, account_id int references accounts on delete cascade, amount int);
  create table events (id serial, region text not null, note text, primary key (id, region)) partition by list (region);
  create table events_eu partition of events for values in ('eu');
  create table events_us partition of events for values in ('us');
  create table animals (id int primary key, name text);
  create table dogs (good boolean) inherits (animals);
  create table bumps (id serial primary key);
  create function bump() returns trigger language plpgsql as $$ begin update accounts set balance = balance + 1; return new; end $$;
  create trigger bump after insert on bumps for each statement execute function bump();
\`);
exports.down = (knex) => knex.raw('drop table bumps, dogs, animals, events, ledger, accounts; drop function bump()');
`,
  'migrations/20240102000000_seed.js': `
exports.up = (knex) => knex.raw(\`
  insert into events (region, note) values ('eu', 'a'), ('us', 'b');
  insert into dogs (id, name, good) values (100, 'rex', true);
\`);
exports.down = (knex) => knex.raw("delete from events where note in ('a', 'b'); delete from dogs where id = 100");
`,
  // A trigger on another table changes accounts; down does not undo it.
  'migrations/20240103000000_trigger_writes.js': `
exports.up = (knex) => knex('bumps').insert({});
exports.down = (knex) => knex('bumps').where('id', '>', 3).del();
`,
  // The cascade empties ledger; down cannot bring its rows back.
  'migrations/20240104000000_cascade.js': `
exports.up = (knex) => knex.raw('delete from accounts where id = 1');
exports.down = () => {};
`,
  // Written through the partition, read through its parent.
  'migrations/20240105000000_partition.js': `
exports.up = (knex) => knex('events_eu').update({ note: 'changed' });
exports.down = () => {};
`,
  // Written through the child, read through its parent.
  'migrations/20240106000000_inherited.js': `
exports.up = (knex) => knex('dogs').update({ name: 'max' });
exports.down = () => {};
`,
  'migrations/20240107000000_harmless.js': `
exports.up = (knex) => knex.schema.alterTable('accounts', (t) => { t.text('memo'); });
exports.down = (knex) => knex.schema.alterTable('accounts', (t) => { t.dropColumn('memo'); });
`,
};

async function verifyBothWays(cwd: string, shadowUrl: string | undefined) {
  const run = async (incremental: boolean) => {
    const project = await resolveProject({ cwd });
    const selection = await selectMigrations(project, {}, 'all');
    const snapshotCounts = { full: 0, incremental: 0 };
    const report = await verifyMigrations({
      project,
      files: selection.files,
      selection: selection.selected,
      replay: replayBefore(selection),
      ...(shadowUrl ? { shadowUrl } : {}),
      incremental,
      snapshotCounts,
    });
    return { report, snapshotCounts };
  };
  return { incremental: await run(true), whole: await run(false) };
}

/** The report without what varies from run to run (timings; which load of a migration module ran, in a file's site). */
function verdicts(report: VerifyReport) {
  const stable = { verdicts: report.verdicts.map(({ timings: _t, ...v }) => v), probe: report.probe, notReached: report.notReached, ok: report.ok };
  return JSON.parse(JSON.stringify(stable).replace(/\?knexsafe=\d+/g, '')) as unknown;
}

function loss(report: VerifyReport, name: string): string[] {
  return report.verdicts.find((v) => v.name.includes(name))?.dataLoss.map((l) => l.message) ?? [];
}

function incrementalSuite(label: string, describeFn: typeof describe, shadowUrl: string | undefined) {
  describeFn(`verify's incremental reads give the verdicts of whole reads (${label} shadow)`, () => {
    it('rows changed by a trigger, a cascade, through a partition or an inherited child', async () => {
      const cwd = makeProject(INDIRECT, 'ks-verify-incremental-');
      try {
        const { incremental, whole } = await verifyBothWays(cwd, shadowUrl);
        expect(verdicts(incremental.report)).toEqual(verdicts(whole.report));
        // What the probe must see for the comparison to mean anything.
        expect(loss(whole.report, 'trigger_writes')).toEqual(['accounts: values changed in balance']);
        expect(loss(whole.report, 'cascade')).toEqual(expect.arrayContaining([expect.stringMatching(/^ledger: /)]));
        expect(loss(whole.report, 'partition')).toEqual(['events: values changed in note']);
        expect(loss(whole.report, 'inherited')).toEqual(expect.arrayContaining(['animals: values changed in name']));
        expect(incremental.snapshotCounts.incremental).toBeGreaterThan(0);
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });

    it('a generated chain of 24 migrations and the broken fixture', async () => {
      const chain = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-verify-chain-'));
      try {
        execFileSync(process.execPath, [path.join(REPO_ROOT, 'bench/chains/generate.mjs'), chain, '--count', '24'], { stdio: 'ignore' });
        const generated = await verifyBothWays(chain, shadowUrl);
        expect(verdicts(generated.incremental.report)).toEqual(verdicts(generated.whole.report));
        // The first snapshot is whole, and those after a renamed table (the chain renames one, up
        // and down); the others (three per migration) re-read what changed.
        expect(generated.incremental.snapshotCounts.full).toBeLessThanOrEqual(6);
        expect(generated.incremental.snapshotCounts.incremental).toBeGreaterThan(3 * 20);
        const broken = await verifyBothWays(path.join(REPO_ROOT, 'test/fixtures/verify-broken'), shadowUrl);
        expect(verdicts(broken.incremental.report)).toEqual(verdicts(broken.whole.report));
      } finally {
        fs.rmSync(chain, { recursive: true, force: true });
      }
    }, 240_000);
  });
}

incrementalSuite('embedded', describe, undefined);
incrementalSuite('server', describeServer, SERVER_URL);
