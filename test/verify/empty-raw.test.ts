import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/run.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * knex 3's pg client rejects `knex.raw('')` with "The query is empty" (a down that joins sidecar
 * .sql files when there are none). The server shadow sent it behind a deferred BEGIN, where it ran.
 */
for (const [label, describeFn, shadowUrl] of [
  ['embedded', describe, undefined],
  ['server', describeServer, SERVER_URL],
] as const) {
  describeFn(`an empty knex.raw fails as under knex (${label} shadow)`, () => {
    it("down-failed with knex's message", { timeout: 60_000 }, async () => {
      const dir = makeProject({
        'migrations/20240101000000_fn.js': `exports.up = (knex) => knex.raw('create function one() returns int language sql as $$ select 1 $$');
exports.down = (knex) => knex.raw([].join('\\n'));
`,
      });
      const report = await verify({ cwd: dir, ...(shadowUrl ? { shadowUrl } : {}) });
      expect(report.verdicts.map((v) => [v.status, v.findings.map((f) => f.rule)])).toEqual([['not-reversible', ['down-failed']]]);
      expect(report.verdicts[0]?.findings[0]?.message).toContain('The query is empty');
    });
  });
}
