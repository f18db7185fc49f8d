import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CaptureSession } from '../../src/capture/session.js';
import { resolveProject } from '../../src/config/resolve.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * verify's footprint: the relation locks a migration's transaction holds, read at its end (before
 * its COMMIT) by a statement prepared once per session. A migration that drops the session's
 * prepared statements must neither fail for it nor lose its footprint.
 */
const FILES = {
  'knexfile.js': `module.exports = { client: 'pg', migrations: { directory: __dirname + '/migrations' } };\n`,
  'migrations/20240101000000_a.js': `exports.up = (knex) => knex.raw('create table a (id int)');\nexports.down = (knex) => knex.raw('drop table a');\n`,
  'migrations/20240102000000_b.js': `exports.up = async (knex) => { await knex.raw('alter table a add column x int'); await knex.raw('deallocate all'); };\nexports.down = (knex) => knex.raw('alter table a drop column x');\n`,
  // Its lock read finds the prepared statement gone.
  'migrations/20240103000000_c.js': `exports.up = (knex) => knex.raw('create table c (id int)');\nexports.down = (knex) => knex.raw('drop table c');\n`,
};

function footprintSuite(label: string, describeFn: typeof describe, shadowUrl: string | undefined) {
  describeFn(`footprint at a migration's end (${label} shadow)`, () => {
    it('is read after each migration, also one that ran DEALLOCATE ALL, and the migration commits', async () => {
      const dir = makeProject(FILES, 'ks-footprint-end-');
      const project = await resolveProject({ cwd: dir });
      const session = await CaptureSession.open({ project, observeEffects: false, footprintAtEnd: true, ...(shadowUrl ? { shadowUrl } : {}) });
      try {
        const footprints: { error: unknown; complete: boolean | undefined; names: string[] | undefined }[] = [];
        for (const file of session.files) {
          const outcome = await session.up(file.name);
          const trace = outcome.traces[0];
          footprints.push({ error: outcome.error, complete: trace?.footprint?.complete, names: trace?.footprint?.names ? [...trace.footprint.names].sort() : undefined });
        }
        expect(footprints).toEqual([
          { error: undefined, complete: true, names: ['public.a'] },
          // DEALLOCATE is not a statement on a relation: its footprint is not vouched for.
          { error: undefined, complete: false, names: undefined },
          // Read again though b dropped the prepared read.
          { error: undefined, complete: true, names: ['public.c'] },
        ]);
        // Committed: b's column is there, and c ran after it.
        const columns = await session.knex.raw("select column_name from information_schema.columns where table_name = 'a' order by column_name");
        expect((columns.rows as { column_name: string }[]).map((r) => r.column_name)).toEqual(['id', 'x']);
      } finally {
        await session.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

footprintSuite('embedded', describe, undefined);
footprintSuite('server', describeServer, SERVER_URL);
