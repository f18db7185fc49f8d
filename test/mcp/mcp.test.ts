import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, copyExample } from '../helpers/cli.js';

/**
 * `knexsafe mcp` as an assistant meets it: the built CLI spawned over stdio, driven by the SDK's
 * own client (which validates every structured result against the tool's output schema).
 */
describe('knexsafe mcp (built CLI over stdio, examples/shop)', () => {
  let project: string;
  let client: Client;
  let stderr = '';
  const clientErrors: Error[] = [];
  let made: string;
  let fixCode: string;

  const call = async (name: string, args: Record<string, unknown>, onprogress?: (p: { progress: number; message?: string }) => void) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000, ...(onprogress ? { onprogress } : {}) })) as CallToolResult;

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
    project = copyExample('shop');
    // The shop's first two migrations (users, products) are chain enough, and every tool replays it.
    for (const file of fs.readdirSync(path.join(project, 'migrations'))) if (file > '20240103') fs.rmSync(path.join(project, 'migrations', file));
    // A knexfile that prints on load: on stdout, it would break the protocol's framing.
    const knexfile = path.join(project, 'knexfile.js');
    fs.writeFileSync(knexfile, `console.log('knexfile loaded');\nprocess.stdout.write('raw stdout write\\n');\n${fs.readFileSync(knexfile, 'utf8')}`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', DATABASE_URL: undefined, NODE_ENV: undefined })) if (v !== undefined) env[k] = v;
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--cwd', project], env, stderr: 'pipe' });
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    client = new Client({ name: 'knexsafe-test', version: '0' });
    client.onerror = (error) => clientErrors.push(error);
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it('lists the tools, without migrate_latest unless started with --allow-apply', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['make_migration', 'check_migrations', 'verify_migrations', 'fix_migration', 'schema', 'status', 'doctor', 'explain_rule']));
    expect(names).not.toContain('migrate_latest');
    const check = tools.find((t) => t.name === 'check_migrations')!;
    expect(Object.keys(check.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['names', 'pending', 'all']));
    expect(check.outputSchema).toBeDefined();
    expect(check.annotations?.readOnlyHint).toBe(true);
  });

  it('make_migration returns the file without writing it, and writes it with write: true', async () => {
    const dir = path.join(project, 'migrations');
    const before = fs.readdirSync(dir);
    const preview = await call('make_migration', { name: 'create_posts_table' });
    expect(preview.isError).toBeFalsy();
    const shown = preview.structuredContent as { written: boolean; files: { path: string; content: string }[] };
    expect(shown.written).toBe(false);
    expect(shown.files[0]!.path).toMatch(/^migrations\/\d{14}_create_posts_table\.js$/);
    expect(shown.files[0]!.content).toContain("await knex.schema.createTable('posts'");
    expect(fs.readdirSync(dir)).toEqual(before);

    const result = await call('make_migration', { name: 'add_index_on_products_sku', simple: true, write: true });
    const written = result.structuredContent as { written: boolean; understood: string; files: { path: string; name: string; content: string }[] };
    expect(written.written).toBe(true);
    expect(written.understood).toBe('index products_sku_index on products (sku) (simple form)');
    expect(written.files[0]!.path).toMatch(/^migrations\/\d{14}_add_index_on_products_sku\.js$/);
    expect(fs.readFileSync(path.join(project, written.files[0]!.path), 'utf8')).toBe(written.files[0]!.content);
    made = written.files[0]!.name;
  });

  it('check_migrations finds the index built without CONCURRENTLY, with the lock and fix code, and reports progress', async () => {
    const progress: string[] = [];
    const result = await call('check_migrations', { names: [made] }, (p) => progress.push(p.message ?? ''));
    expect(result.isError).toBeFalsy();
    const report = result.structuredContent as {
      ok: boolean;
      summary: { error: number };
      findings: { rule: string; location: string; lock?: { mode: string; relation: string }; fix?: { code: string }; docs: string }[];
    };
    expect(report.ok).toBe(false);
    const finding = report.findings.find((f) => f.rule === 'index-not-concurrent');
    expect(finding).toBeDefined();
    expect(finding!.location).toBe(`migrations/${made}:8:14`);
    expect(finding!.lock).toEqual(expect.objectContaining({ mode: 'SHARE', relation: 'public.products' }));
    expect(finding!.fix!.code).toContain('exports.config = { transaction: false };');
    expect(finding!.fix!.code).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS products_sku_index ON products (sku)');
    expect(finding!.docs).toBe('knexsafe://rules/index-not-concurrent');
    fixCode = finding!.fix!.code;
    // The text content is the same result, as JSON, for clients that do not read structured content.
    expect(JSON.parse((result.content[0] as { text: string }).text)).toEqual(report);
    expect(progress.some((m) => m.includes(made))).toBe(true);
  });

  it('fix_migration returns the diff and writes nothing without write: true', async () => {
    const file = path.join(project, 'migrations', made);
    const before = fs.readFileSync(file, 'utf8');
    const result = await call('fix_migration', { names: [made], rules: ['index-not-concurrent'] });
    expect(result.isError).toBeFalsy();
    const fixed = result.structuredContent as { written: boolean; diff: string; changes: { kind: string; name: string; rules: string[] }[] };
    expect(fixed.written).toBe(false);
    expect(fixed.changes).toEqual([expect.objectContaining({ kind: 'edited', name: made, rules: ['index-not-concurrent'] })]);
    expect(fixed.diff).toContain(`+++ b/migrations/${made}`);
    expect(fixed.diff).toContain("+  await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS products_sku_index ON products (sku)');");
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('verify_migrations proves the made migration reversible', async () => {
    const result = await call('verify_migrations', { names: [made] });
    expect(result.isError).toBeFalsy();
    const report = result.structuredContent as { ok: boolean; migrations: { name: string; reversible: boolean; diff: string[] }[] };
    expect(report.ok).toBe(true);
    expect(report.migrations).toEqual([expect.objectContaining({ name: made, reversible: true, diff: [] })]);
  });

  it('schema returns the tables the chain builds up to a migration', async () => {
    const result = await call('schema', { to: '20240101090000_create_users_table', tables: ['users'] });
    const schema = result.structuredContent as { upTo: string; tables: { name: string; columns: { name: string; type: string; nullable: boolean }[] }[] };
    expect(schema.upTo).toBe('20240101090000_create_users_table.js');
    expect(schema.tables.map((t) => t.name)).toEqual(['users']);
    expect(schema.tables[0]!.columns.find((c) => c.name === 'email')).toEqual(expect.objectContaining({ type: 'character varying(255)', nullable: false }));
    // Before the rename migration: the column is still `name`.
    expect(schema.tables[0]!.columns.map((c) => c.name)).toContain('name');
  });

  it('sees a migration edited between calls: with the fix code pasted in, check is clean', async () => {
    fs.writeFileSync(path.join(project, 'migrations', made), fixCode);
    const again = await call('check_migrations', { names: [made] });
    expect(again.isError).toBeFalsy();
    expect(again.structuredContent).toEqual(expect.objectContaining({ ok: true, findings: [] }));
  });

  it('serves the rule docs as resources', async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(['knexsafe://rules', 'knexsafe://rules/index-not-concurrent', 'knexsafe://rules/missing-lock-timeout']));
    const page = await client.readResource({ uri: 'knexsafe://rules/index-not-concurrent' });
    const content = page.contents[0] as { mimeType?: string; text: string };
    expect(content.mimeType).toBe('text/markdown');
    expect(content.text).toMatch(/^# index-not-concurrent\n/);
  });

  it('kept stdout for the protocol: what the knexfile printed went to stderr', () => {
    expect(clientErrors).toEqual([]);
    expect(stderr).toContain('knexfile loaded');
    expect(stderr).toContain('raw stdout write');
  });
});
