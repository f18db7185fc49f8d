import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveProject } from '../../src/config/resolve.js';
import { replayBefore, selectMigrations } from '../../src/migrations/selection.js';
import { verifyMigrations, type VerifyReport } from '../../src/verify/verify.js';
import { makeProject } from '../helpers/cli.js';
import { BASE, CHAINS, KNEXFILE, LOST } from '../helpers/reup-chains.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * The probe rows verify keeps for the next migration are read after a migration's down; its
 * second up then changes the table again (adds, fills, renames a column). The next migration must
 * start from the rows as that up left them, or data loss in such a column goes unseen: a guard
 * that the tables the second up touched are read again (incremental verdicts equal whole ones,
 * and the loss is reported).
 */
async function verify(cwd: string, shadowUrl: string | undefined, incremental: boolean): Promise<VerifyReport> {
  const project = await resolveProject({ cwd });
  const selection = await selectMigrations(project, {}, 'all');
  return verifyMigrations({ project, files: selection.files, selection: selection.selected, replay: replayBefore(selection), ...(shadowUrl ? { shadowUrl } : {}), incremental });
}

function verdicts(report: VerifyReport) {
  return JSON.parse(JSON.stringify(report.verdicts.map(({ timings: _t, ...v }) => v)).replace(/\?knexsafe=\d+/g, '')) as unknown;
}

function suite(label: string, describeFn: typeof describe, shadowUrl: string | undefined) {
  describeFn(`verify compares the next migration with the rows the second up left (${label} shadow)`, () => {
    for (const [name, files] of Object.entries(CHAINS)) {
      it(name, async () => {
        const cwd = makeProject({ 'knexfile.js': KNEXFILE, 'migrations/20240101000000_base.js': BASE, ...files }, 'ks-verify-reup-');
        try {
          const incremental = await verify(cwd, shadowUrl, true);
          const whole = await verify(cwd, shadowUrl, false);
          const drop = incremental.verdicts.find((v) => v.name.includes('_drop'))!;
          const lost = LOST[name]!;
          expect(drop.status).toBe(lost.length ? 'not-reversible' : 'reversible');
          // The column dropped holds the values the migration before's second up left.
          expect(drop.dataLoss.map((l) => [...l.columns].sort())).toEqual(lost.length ? [lost] : []);
          expect(verdicts(incremental)).toEqual(verdicts(whole));
        } finally {
          fs.rmSync(cwd, { recursive: true, force: true });
        }
      }, 60_000);
    }
  });
}

suite('embedded', describe, undefined);
suite('server', describeServer, SERVER_URL);
