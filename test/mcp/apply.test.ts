import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, copyExample } from '../helpers/cli.js';

/** The one tool that writes to the target database: there only with --allow-apply, and only with write: true. */
describe('knexsafe mcp --allow-apply (embedded target database)', () => {
  let project: string;
  let client: Client;

  beforeAll(async () => {
    project = copyExample('shop');
    for (const file of fs.readdirSync(path.join(project, 'migrations'))) if (file > '20240102') fs.rmSync(path.join(project, 'migrations', file));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', DATABASE_URL: undefined, NODE_ENV: undefined })) if (v !== undefined) env[k] = v;
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, '--db', 'embedded:.target', 'mcp', '--cwd', project, '--allow-apply'], env, stderr: 'ignore' });
    client = new Client({ name: 'knexsafe-test', version: '0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;

  it('exposes migrate_latest, which plans without write: true and applies with it', async () => {
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'migrate_latest')?.annotations?.destructiveHint).toBe(true);

    const plan = (await call('migrate_latest', {})).structuredContent as { applied: boolean; pending: string[] };
    expect(plan.applied).toBe(false);
    expect(plan.pending).toEqual(['20240101090000_create_users_table.js']);
    const run = (await call('migrate_latest', { write: true })).structuredContent as { applied: boolean; batch: number; migrations: { name: string }[] };
    expect(run.applied).toBe(true);
    expect(run.batch).toBe(1);
    // Both still pending after the plan: nothing ran then.
    expect(run.migrations.map((m) => m.name)).toEqual(plan.pending);
    const after = (await call('status', {})).structuredContent as { target: string; applied: number; pending: number };
    expect(after.target).toContain(path.join(project, '.target'));
    expect([after.applied, after.pending]).toEqual([1, 0]);
    // Five embedded databases open in turn (the target, created by the first call, three times; a shadow for each check): 27 s measured here under load, more when the machine is busier.
  }, 150_000);
});
