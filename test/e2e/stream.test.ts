import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { makeProject, parseJson, REPO_ROOT, runCli } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * A migration that reads a table with `.stream()` needs pg-query-stream, which the project installs
 * (knexsafe does not depend on it). knex requires it from its own folder; under knexsafe that is
 * knexsafe's, so the project's copy has to be found the way `npx knex` finds it.
 */
const migration = `exports.up = async (knex) => {
  await knex.schema.createTable('items', (t) => { t.increments('id'); t.text('name'); t.text('slug'); });
  await knex('items').insert([{ name: 'A b' }, { name: 'C d' }]);
  const rows = [];
  for await (const row of knex('items').select('id', 'name').stream()) rows.push(row);
  for (const row of rows) await knex('items').where({ id: row.id }).update({ slug: row.name.toLowerCase().replace(' ', '-') });
};
exports.down = (knex) => knex.schema.dropTable('items');
`;

describeServer('knex .stream() in a migration', () => {
  it("runs with the project's pg-query-stream on a server shadow, and says what is missing without it", { timeout: 60_000 }, async () => {
    const withPackage = makeProject({ 'migrations/001_items.js': migration });
    // The project's own copy, under the name the project requires (knexsafe's tree has it only under an alias).
    fs.mkdirSync(path.join(withPackage, 'node_modules'));
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules/pg-query-stream-for-tests'), path.join(withPackage, 'node_modules/pg-query-stream'), 'dir');
    const ok = await runCli(['check', '--all', '--cwd', withPackage, '--shadow-url', SERVER_URL, '--json', '--max-severity', 'none']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(parseJson<{ failures?: unknown[] }>(ok.stdout).failures ?? []).toEqual([]);

    const without = makeProject({ 'migrations/001_items.js': migration });
    const missing = await runCli(['check', '--all', '--cwd', without, '--shadow-url', SERVER_URL]);
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toContain("requires the 'pg-query-stream' package");
  });
});
