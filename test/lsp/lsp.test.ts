import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CodeActionRequest,
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DidSaveTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type CodeAction,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type TextDocumentEdit,
  type TextEdit,
} from 'vscode-languageserver-protocol/node';
import { CLI, copyExample, runCli } from '../helpers/cli.js';

/**
 * `knexsafe lsp --stdio`, the built CLI, driven over stdio by a real LSP client (the protocol
 * library editors use) on a copy of the shop example: diagnostics from the unsaved buffer and on
 * save, errors in the file as diagnostics, reversibility, hover, and a code action whose edit,
 * applied and saved, clears the error.
 */

vi.setConfig({ testTimeout: 200_000 });

const RISKY = `exports.up = async function (knex) {
  console.log('hello from the migration');
  await knex.schema.alterTable('users', (table) => {
    table.index('email');
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.dropIndex('email');
  });
};
`;

const NAME = '20240110090000_add_index_on_users_email.js';

let project: string;
let cacheDir: string;
let child: ChildProcessWithoutNullStreams;
let client: ProtocolConnection;
let stderr = '';
const published: PublishDiagnosticsParams[] = [];
const logs: string[] = [];
const waiters: (() => void)[] = [];

/**
 * The diagnostics the server published last for `uri` at `version`: it publishes check's findings,
 * then everything once the reversibility proof is done, and logs "<migration> version N analysed"
 * after that.
 */
function diagnosticsFor(uri: string, version: number): Promise<Diagnostic[]> {
  return new Promise((resolve, reject) => {
    // A hang says what the server logged, instead of a bare timeout.
    const timer = setTimeout(() => reject(new Error(`no diagnostics for version ${version} after 100 s; server stderr:\n${stderr.slice(-3000)}`)), 100_000);
    const look = () => {
      if (!logs.some((l) => l.includes(` version ${version} analysed`))) return false;
      const found = published.filter((p) => p.uri === uri && p.version === version).at(-1);
      if (!found) return false;
      clearTimeout(timer);
      resolve(found.diagnostics);
      return true;
    };
    if (look()) return;
    const waiter = () => {
      if (look()) waiters.splice(waiters.indexOf(waiter), 1);
    };
    waiters.push(waiter);
  });
}

beforeAll(async () => {
  project = copyExample('shop');
  const migrations = path.join(project, 'migrations');
  // A chain of four, then the migration being written.
  for (const name of fs.readdirSync(migrations)) if (name > '20240105') fs.rmSync(path.join(migrations, name));
  fs.writeFileSync(path.join(migrations, NAME), RISKY);
  cacheDir = fs.mkdtempSync(path.join(path.dirname(project), 'ks-lsp-cache-'));
  child = spawn(process.execPath, [CLI, 'lsp', '--stdio'], { cwd: project, env: { ...process.env, KNEXSAFE_STATE_CACHE_DIR: cacheDir, DATABASE_URL: undefined, NODE_ENV: undefined } });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  client = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  client.onNotification(PublishDiagnosticsNotification.type, (params) => {
    published.push(params);
    for (const w of [...waiters]) w();
  });
  client.onNotification(LogMessageNotification.type, (params) => {
    logs.push(params.message);
    for (const w of [...waiters]) w();
  });
  client.listen();
  const init = await client.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(project).href,
    capabilities: { workspace: { workspaceEdit: { documentChanges: true } } },
    initializationOptions: { debounceMs: 50 },
  });
  expect(init.capabilities.codeActionProvider).toBeTruthy();
  expect(init.capabilities.hoverProvider).toBe(true);
  await client.sendNotification(InitializedNotification.type, {});
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill();
  client?.dispose();
  for (const dir of [project, cacheDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('knexsafe lsp --stdio', () => {
  it('reports, explains, fixes and clears a finding over the protocol', async () => {
    const file = path.join(project, 'migrations', NAME);
    const uri = pathToFileURL(file).href;
    let version = 1;

    // didOpen: the knex call's line (0-based 3: table.index is inside alterTable, which knexsafe
    // reports at the alterTable call on line 4 of the file), rule code, docs link.
    await client.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'javascript', version, text: RISKY } });
    let diagnostics = await diagnosticsFor(uri, version);
    // check's findings went out first, before the reversibility proof: the same finding.
    const early = published.filter((p) => p.uri === uri && p.version === version);
    expect(early.length).toBe(2);
    expect(early[0]!.diagnostics.map((d) => d.code)).toEqual(diagnostics.map((d) => d.code));
    const index = diagnostics.find((d) => d.code === 'index-not-concurrent');
    expect(index, JSON.stringify(diagnostics)).toBeDefined();
    expect(index!.severity).toBe(1);
    expect(index!.source).toBe('knexsafe');
    expect(index!.range.start.line).toBe(2);
    expect(index!.message).toMatch(/users_email_index on users is built without CONCURRENTLY/);
    expect(index!.codeDescription?.href).toMatch(/docs\/rules\/index-not-concurrent\.md$/);
    expect(fs.existsSync(fileURLToPath(index!.codeDescription!.href))).toBe(true);
    expect(diagnostics.find((d) => d.code === 'missing-lock-timeout')?.severity).toBe(2);
    // The buffer is reversible as written: no reversibility diagnostic.
    expect(diagnostics.some((d) => String(d.code).startsWith('down-'))).toBe(false);
    // The migration's console.log went to stderr, not into the protocol.
    expect(stderr).toContain('hello from the migration');

    // Hover: the lock, what it blocks, why.
    const hover = await client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 2, character: 10 } });
    const hoverText = JSON.stringify(hover?.contents);
    expect(hoverText).toContain('SHARE');
    expect(hoverText).toMatch(/blocks/);
    expect(hoverText).toContain('Why:');

    // didChange, unsaved: a syntax error is a diagnostic at its line, not a crashed server.
    const broken = RISKY.replace("table.index('email');", "table.index('email';");
    await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ text: broken }] });
    diagnostics = await diagnosticsFor(uri, version);
    const syntax = diagnostics.find((d) => d.code === 'migration-failed');
    expect(syntax, JSON.stringify(diagnostics)).toBeDefined();
    expect(syntax!.severity).toBe(1);
    expect(syntax!.range.start.line).toBe(3);
    // The user's file on disk was never touched.
    expect(fs.readFileSync(file, 'utf8')).toBe(RISKY);

    // An exception thrown by up: at the throw.
    const throwing = RISKY.replace("  console.log('hello from the migration');\n", "  console.log('hello from the migration');\n  if (knex) throw new Error('no orders today');\n");
    await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ text: throwing }] });
    diagnostics = await diagnosticsFor(uri, version);
    const thrown = diagnostics.find((d) => d.code === 'migration-failed');
    expect(thrown?.message).toMatch(/no orders today/);
    expect(thrown?.range.start.line).toBe(2);

    // A down that does not undo up: reversibility (up → down → up) as a diagnostic.
    const irreversible = RISKY.replace(/exports\.down = [\s\S]*$/, "exports.down = async function (knex) {\n  await knex.raw('select 1');\n};\n");
    await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ text: irreversible }] });
    diagnostics = await diagnosticsFor(uri, version);
    const down = diagnostics.find((d) => d.code === 'down-not-inverse');
    expect(down, JSON.stringify(diagnostics)).toBeDefined();
    expect(down!.message).toMatch(/^Not reversible \(up → down → up\): after down, the schema differs from before up .*users_email_index/);
    expect(down!.range.start.line).toBe(7);

    // Back to the file as saved, didSave: the error again.
    await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ text: RISKY }] });
    await client.sendNotification(DidSaveTextDocumentNotification.type, { textDocument: { uri } });
    diagnostics = await diagnosticsFor(uri, version);
    const again = diagnostics.find((d) => d.code === 'index-not-concurrent')!;
    expect(again).toBeDefined();

    // Code actions: the fix `knexsafe fix` writes, and a suppression with a reason placeholder.
    const actions = (await client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: again.range, context: { diagnostics: [again] } })) as CodeAction[];
    const fix = actions.find((a) => a.title.startsWith('Fix:'));
    expect(fix, JSON.stringify(actions.map((a) => a.title))).toBeDefined();
    const fixEdit = fix!.edit!.documentChanges![0] as TextDocumentEdit;
    expect(fixEdit.textDocument).toEqual({ uri, version });
    const fixed = (fixEdit.edits[0] as TextEdit).newText;
    expect(fixed).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users (email)');
    expect(fixed).toContain('exports.config = { transaction: false };');
    const suppress = actions.find((a) => a.title.startsWith('Suppress index-not-concurrent'));
    const suppressEdit = (suppress!.edit!.documentChanges![0] as TextDocumentEdit).edits[0] as TextEdit;
    expect(suppressEdit.range.start).toEqual({ line: 2, character: 0 });
    expect(suppressEdit.newText).toMatch(/^ {2}\/\/ knexsafe-ignore index-not-concurrent: REASON/);

    // Applied as it is, the placeholder silences nothing: the finding stays, and the comment
    // itself is an error until the reason is written.
    const lines = RISKY.split('\n');
    lines.splice(suppressEdit.range.start.line, 0, suppressEdit.newText.replace(/\n$/, ''));
    const placeholder = lines.join('\n');
    await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ text: placeholder }] });
    diagnostics = await diagnosticsFor(uri, version);
    expect(
      diagnostics.some((d) => d.code === 'index-not-concurrent'),
      JSON.stringify(diagnostics),
    ).toBe(true);
    const unwritten = diagnostics.find((d) => d.code === 'ignore-without-reason');
    expect(unwritten, JSON.stringify(diagnostics)).toBeDefined();
    expect(unwritten!.severity).toBe(1);
    expect(unwritten!.range.start.line).toBe(2);
    expect(unwritten!.message).toMatch(/still has the placeholder "REASON — why this is safe here" as its reason: write why it is safe here/);
    // A reason written in its place: silenced, and no complaint about the comment.
    const reasoned = placeholder.replace('REASON — why this is safe here', 'users has 40 rows in every environment');
    await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ text: reasoned }] });
    diagnostics = await diagnosticsFor(uri, version);
    expect(
      diagnostics.filter((d) => d.code === 'index-not-concurrent' || d.code === 'ignore-without-reason'),
      JSON.stringify(diagnostics),
    ).toEqual([]);

    // Applying the fix (the whole file, as the edit says), saving: the error is gone.
    fs.writeFileSync(file, fixed);
    await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ text: fixed }] });
    await client.sendNotification(DidSaveTextDocumentNotification.type, { textDocument: { uri } });
    diagnostics = await diagnosticsFor(uri, version);
    expect(
      diagnostics.filter((d) => d.severity === 1),
      JSON.stringify(diagnostics),
    ).toEqual([]);
    expect(diagnostics.some((d) => d.code === 'index-not-concurrent')).toBe(false);

    // shutdown, exit: the server ends with 0.
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await client.sendRequest(ShutdownRequest.type);
    await client.sendNotification(ExitNotification.type);
    expect(await exited).toBe(0);
    // It ended as servers do, not through a process.exit the exit trap took for a migration's.
    expect(stderr).not.toMatch(/process\.exit/);
    // Nothing left behind beside the migrations folder: the scratch copies (also the one of the
    // shadow opened ahead for the next save) went with the server.
    expect(fs.readdirSync(project).filter((n) => n.includes('knexsafe-lsp'))).toEqual([]);
  });

  it('refuses to start without --stdio, with a one-paragraph message and exit code 2', async () => {
    const r = await runCli(['lsp'], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/knexsafe lsp speaks the Language Server Protocol over stdio only: run it as `knexsafe lsp --stdio`/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
