import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, copyExample } from '../helpers/cli.js';

/** Failures come back as tool errors with the CLI's one-paragraph message, and the server goes on. */
describe('knexsafe mcp: failures are tool errors', () => {
  let project: string;
  let client: Client;

  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult;

  beforeAll(async () => {
    project = copyExample('shop');
    for (const file of fs.readdirSync(path.join(project, 'migrations'))) if (file > '20240103') fs.rmSync(path.join(project, 'migrations', file));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', DATABASE_URL: undefined, NODE_ENV: undefined })) if (v !== undefined) env[k] = v;
    client = new Client({ name: 'knexsafe-test', version: '0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--cwd', project], env, stderr: 'ignore' }));
  });

  afterAll(async () => {
    await client?.close();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it('a broken migration file is a clean tool error (message, no stack) and the server goes on', async () => {
    const broken = '20991231000000_broken.js';
    fs.writeFileSync(
      path.join(project, 'migrations', broken),
      'exports.up = async function (knex) {\n  await knex.schema.alterTable("users", (t) => {\n    t.string("x"\n  });\n};\nexports.down = async () => {};\n',
    );
    try {
      const checked = await call('check_migrations', { names: [broken] });
      expect(checked.isError).toBe(true);
      const text = (checked.content[0] as { text: string }).text;
      expect(text).toContain(`${broken} failed on the shadow database: Syntax error in migration migrations/${broken}:4:2`);
      expect(text).not.toMatch(/\n\s+at /);
      expect(text.split('\n')).toHaveLength(1);

      const schema = await call('schema', {});
      expect(schema.isError).toBe(true);
      const message = (schema.content[0] as { text: string }).text;
      expect(message).toMatch(/^Replaying the migrations on a shadow database failed: Syntax error in migration migrations\/20991231000000_broken\.js:4:2/);
      expect(message).toContain('\nhint: Fix that migration');
      expect(message).not.toMatch(/\n\s+at /);
      expect(schema.structuredContent).toBeUndefined();

      const unknown = await call('explain_rule', { rule: 'index-concurrent' });
      expect(unknown.isError).toBe(true);
      expect((unknown.content[0] as { text: string }).text).toMatch(/^"index-concurrent" is not a rule id\. Rules with a similar name: index-not-concurrent\./);
    } finally {
      fs.rmSync(path.join(project, 'migrations', broken));
    }
    const explained = await call('explain_rule', { rule: 'index-not-concurrent' });
    expect(explained.isError).toBeFalsy();
    expect((explained.structuredContent as { severity: string }).severity).toBe('error');
  });

  it('a promise a migration leaves to reject fails that tool call, not the server', async () => {
    const stray = '20991231000001_stray_promise.js';
    fs.writeFileSync(
      path.join(project, 'migrations', stray),
      "exports.up = async function (knex) {\n  await knex.schema.createTable('t', (t) => t.increments());\n  setTimeout(() => Promise.reject(new Error('late boom')), 20);\n};\nexports.down = async function (knex) {\n  await knex.schema.dropTable('t');\n};\n",
    );
    try {
      const checked = await call('check_migrations', { names: [stray] });
      expect(checked.isError).toBe(true);
      // Said as the CLI says it: after the migration had run (or, had the timer fired sooner, as its failure).
      const text = (checked.content[0] as { text: string }).text;
      expect(text).toContain(stray);
      expect(text).toContain('a promise the migration did not await was rejected: late boom.');
      expect(text).not.toMatch(/\n\s+at /);
    } finally {
      fs.rmSync(path.join(project, 'migrations', stray));
    }
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(0);
  });
});
