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
    expect(fixed.diff).toContain('+  await knex.raw(\'CREATE INDEX CONCURRENTLY IF NOT EXISTS products_sku_index ON products (sku)\');');
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

  it('serves the rule docs as resources', async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(['knexsafe://rules', 'knexsafe://rules/index-not-concurrent', 'knexsafe://rules/missing-lock-timeout']));
    const page = await client.readResource({ uri: 'knexsafe://rules/index-not-concurrent' });
    const content = page.contents[0] as { mimeType?: string; text: string };
    expect(content.mimeType).toBe('text/markdown');
    expect(content.text).toMatch(/^# index-not-concurrent\n/);
  });

  it('a broken migration file is a clean tool error (message, no stack) and the server goes on', async () => {
    const broken = '20991231000000_broken.js';
    fs.writeFileSync(path.join(project, 'migrations', broken), 'exports.up = async function (knex) {\n  await knex.schema.alterTable("users", (t) => {\n    t.string("x"\n  });\n};\nexports.down = async () => {};\n');
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

  it('kept stdout for the protocol: what the knexfile printed went to stderr', () => {
    expect(clientErrors).toEqual([]);
    expect(stderr).toContain('knexfile loaded');
    expect(stderr).toContain('raw stdout write');
  });
});
