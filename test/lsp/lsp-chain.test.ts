import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CodeActionRequest,
  CodeLensRequest,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  ExecuteCommandRequest,
  type CodeAction,
  type TextDocumentEdit,
  type TextEdit,
} from 'vscode-languageserver-protocol/node';
import { makeProject } from '../helpers/cli.js';
import { type LspClient, startLsp, USERS } from './client.js';

/**
 * `knexsafe lsp --stdio` over a chain, through the built CLI and the protocol client: the
 * migrations after the edited one (asked for by the command, its code lens or the setting), a
 * snippet fix put in place as a code action, and a knexfile whose own migrationSource lists the
 * migrations.
 */

vi.setConfig({ testTimeout: 200_000, hookTimeout: 60_000 });

const KNEXFILE = `module.exports = { client: 'pg', migrations: { directory: './migrations' } };\n`;
// The migration being edited: with the column, or (the edit) without it.
const WITH_NICKNAME = `exports.up = async function (knex) {
  await knex.raw("SET LOCAL lock_timeout = '5s'");
  await knex.schema.alterTable('users', (t) => {
    t.text('nickname');
  });
};

exports.down = async function (knex) {
  await knex.raw("SET LOCAL lock_timeout = '5s'");
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('nickname');
  });
};
`;
const WITHOUT_NICKNAME = `exports.up = async function (knex) {
  await knex.raw("SET LOCAL lock_timeout = '5s'");
  await knex.schema.alterTable('users', (t) => {
    t.text('handle');
  });
};

exports.down = async function (knex) {
  await knex.raw("SET LOCAL lock_timeout = '5s'");
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('handle');
  });
};
`;
// The one after it: uses the column.
const INDEX_NICKNAME = `exports.up = async function (knex) {
  await knex.raw("SET LOCAL lock_timeout = '5s'");
  await knex.schema.alterTable('users', (t) => {
    t.index('nickname');
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (t) => {
    t.dropIndex('nickname');
  });
};
`;

describe('knexsafe lsp: the migrations after the edited one', () => {
  let project: string;
  let cache: string;
  let lsp: LspClient;
  const file = (name: string) => path.join(project, 'migrations', name);
  const uriOf = (name: string) => pathToFileURL(file(name)).href;
  const EDITED = '20240102000000_add_nickname.js';
  const NEXT = '20240103000000_index_nickname.js';

  beforeAll(async () => {
    project = makeProject({
      'knexfile.js': KNEXFILE,
      'migrations/20240101000000_create_users.js': USERS,
      [`migrations/${EDITED}`]: WITH_NICKNAME,
      [`migrations/${NEXT}`]: INDEX_NICKNAME,
    });
    cache = fs.mkdtempSync(path.join(path.dirname(project), 'ks-lsp-cache-'));
    lsp = await startLsp({ cwd: project, env: { KNEXSAFE_STATE_CACHE_DIR: cache } });
    expect(lsp.init.capabilities.executeCommandProvider?.commands).toContain('knexsafe.checkFollowing');
  });

  afterAll(async () => {
    if (lsp && lsp.child.exitCode === null) lsp.child.kill();
    for (const dir of [project, cache]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('judges the later migrations only when asked, on their own URIs', async () => {
    const uri = uriOf(EDITED);
    const next = uriOf(NEXT);
    // The edit: the column the next migration indexes is gone. Alone, the edited file is fine.
    await lsp.open(uri, WITHOUT_NICKNAME, 1);
    const own = await lsp.diagnosticsFor(uri, 1);
    expect(
      own.filter((d) => d.severity === 1),
      JSON.stringify(own),
    ).toEqual([]);
    // Not asked: nothing about the next one.
    expect(lsp.published.some((p) => p.uri === next)).toBe(false);
    expect(lsp.logs.some((l) => / migrations after /.test(l))).toBe(false);

    // The code lens offers the command (the client was told to ask for lenses again once it was
    // analysed); running it judges the next migration once, on its URI.
    await expect.poll(() => lsp.lensRefreshes(), { timeout: 30_000 }).toBeGreaterThan(0);
    const lenses = await lsp.client.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
    expect(lenses?.map((l) => l.command?.title)).toEqual(['knexsafe: check the 1 migration after this one']);
    const lens = lenses![0]!.command!;
    const reply = await lsp.client.sendRequest(ExecuteCommandRequest.type, { command: lens.command, arguments: lens.arguments! });
    expect(reply).toEqual({ analysed: 1 });
    const failed = lsp.lastFor(next)!;
    const failure = failed.find((d) => d.code === 'migration-failed');
    expect(failure, JSON.stringify(failed)).toBeDefined();
    expect(failure!.message).toMatch(/column "nickname" does not exist/);
    expect(failure!.range.start.line).toBe(2);
    // The file on disk was never touched (the buffer ran from a scratch copy).
    expect(fs.readFileSync(file(EDITED), 'utf8')).toBe(WITH_NICKNAME);

    // The setting: every analysis of the edited file now runs the next one too.
    const seen = lsp.logs.length;
    await lsp.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { knexsafe: { analyzeFollowing: true } } });
    await lsp.client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [{ text: WITH_NICKNAME }] });
    await lsp.logged(new RegExp(`1 migrations after ${EDITED} version 2 analysed`), seen);
    const later = lsp.lastFor(next)!;
    expect(
      later.some((d) => d.code === 'migration-failed'),
      JSON.stringify(later),
    ).toBe(false);
    // The index on the existing users table, found in the next migration as the edit leaves the chain.
    const index = later.find((d) => d.code === 'index-not-concurrent');
    expect(index, JSON.stringify(later)).toBeDefined();
    expect(index!.range.start.line).toBe(2);
    // No lens while the setting runs them anyway.
    expect(await lsp.client.sendRequest(CodeLensRequest.type, { textDocument: { uri } })).toEqual([]);

    // A down that does not undo up (it renames the column away): up → down → up leaves both
    // columns, not the schema up leaves, so the next one is not judged on it.
    const diverging = WITH_NICKNAME.replace("t.dropColumn('nickname');", "t.renameColumn('nickname', 'nickname_old');");
    const seen3 = lsp.logs.length;
    await lsp.client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 3 }, contentChanges: [{ text: diverging }] });
    await lsp.logged(new RegExp(`1 migrations after ${EDITED} version 3 analysed`), seen3);
    expect((await lsp.diagnosticsFor(uri, 3)).some((d) => d.code === 'up-not-rerunnable' || d.code === 'down-not-inverse')).toBe(true);
    const notRun = lsp.lastFor(next)!;
    expect(
      notRun.map((d) => d.code),
      JSON.stringify(notRun),
    ).toEqual(['not-checked']);
    expect(notRun[0]!.message).toMatch(/does not come back to the schema its up leaves/);

    // Turned off: what was said about the next file from this one's analysis is taken back.
    const before = lsp.published.length;
    await lsp.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { knexsafe: { analyzeFollowing: false } } });
    // (The server may be busy opening the next shadow ahead: a generous wait.)
    await expect.poll(() => lsp.published.slice(before).find((p) => p.uri === next)?.diagnostics, { timeout: 60_000 }).toEqual([]);
  });

  it('offers a snippet fix put where it says it goes, and applying it clears the finding', async () => {
    // up is a plain function returning Promise.all: the lock_timeout cannot go before the
    // statement (no await there), so the rule's fix is a snippet for the first line of up.
    const name = '20240104000000_widen_in_parallel.js';
    const text = `exports.up = function (knex) {\n  return Promise.all([\n    knex.raw('ALTER TABLE users ADD COLUMN score integer'),\n  ]);\n};\n\nexports.down = async function (knex) {\n  await knex.raw('ALTER TABLE users DROP COLUMN score');\n};\n`;
    fs.writeFileSync(file(name), text);
    const uri = uriOf(name);
    await lsp.open(uri, text, 1);
    const diagnostics = await lsp.diagnosticsFor(uri, 1);
    const timeout = diagnostics.find((d) => d.code === 'missing-lock-timeout');
    expect(timeout, JSON.stringify(diagnostics)).toBeDefined();
    const actions = (await lsp.client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: timeout!.range, context: { diagnostics: [timeout!] } })) as CodeAction[];
    const snippet = actions.find((a) => a.title.startsWith("Fix: insert the fix's code (first statement of up)"));
    expect(snippet, JSON.stringify(actions.map((a) => a.title))).toBeDefined();
    expect(snippet!.isPreferred).toBe(true);
    const edit = snippet!.edit!.documentChanges![0] as TextDocumentEdit;
    expect(edit.textDocument).toEqual({ uri, version: 1 });
    const fixed = (edit.edits[0] as TextEdit).newText;
    // up made async for the await, the setting first in it, the rest as it was.
    expect(fixed).toBe(
      `exports.up = async function (knex) {\n  await knex.raw(\`SET LOCAL lock_timeout = '5s'\`);\n  return Promise.all([\n    knex.raw('ALTER TABLE users ADD COLUMN score integer'),\n  ]);\n};\n\nexports.down = async function (knex) {\n  await knex.raw('ALTER TABLE users DROP COLUMN score');\n};\n`,
    );
    await lsp.client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [{ text: fixed }] });
    const after = await lsp.diagnosticsFor(uri, 2);
    expect(
      after.some((d) => d.code === 'missing-lock-timeout'),
      JSON.stringify(after),
    ).toBe(false);
    expect(after.filter((d) => d.code === 'migration-failed')).toEqual([]);

    expect(await lsp.stop()).toBe(0);
  });
});

describe('knexsafe lsp: a knexfile with its own migrationSource', () => {
  let project: string;
  let lsp: LspClient;
  const dir = () => path.join(project, 'db', 'changes');

  beforeAll(async () => {
    // Lists db/changes/*.js except drafts, as knex's FsMigrations items ({ file, directory }), and
    // loads each with require: knex never sees the folder through its own migrations settings.
    const knexfile = `const fs = require('fs');
const path = require('path');
const dir = path.join(__dirname, 'db', 'changes');
class ChangesSource {
  async getMigrations() {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.js') && !f.includes('draft')).sort().map((file) => ({ file, directory: dir }));
  }
  getMigrationName(m) {
    return m.file;
  }
  async getMigration(m) {
    return require(path.join(m.directory, m.file));
  }
}
module.exports = { client: 'pg', migrations: { migrationSource: new ChangesSource() } };
`;
    project = makeProject({
      'knexfile.js': knexfile,
      'db/changes/001_create_users.js': USERS,
      'db/changes/002_add_nickname.js': WITH_NICKNAME,
      'db/changes/003_draft_notes.js': INDEX_NICKNAME,
    });
    lsp = await startLsp({ cwd: project });
  });

  afterAll(async () => {
    if (lsp && lsp.child.exitCode === null) lsp.child.kill();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it('finds its migrations through the source, runs the earlier ones through it, and judges the buffer', async () => {
    // The first analysis reads the project: the source lists three migrations.
    const users = pathToFileURL(path.join(dir(), '001_create_users.js')).href;
    await lsp.open(users, USERS, 1);
    expect((await lsp.diagnosticsFor(users, 1)).filter((d) => d.severity === 1)).toEqual([]);
    // Written since, listed by the source now, after two it loads itself: the table and column they make are there.
    const name = '004_index_nickname.js';
    fs.writeFileSync(path.join(dir(), name), INDEX_NICKNAME);
    const uri = pathToFileURL(path.join(dir(), name)).href;
    await lsp.open(uri, INDEX_NICKNAME, 1);
    const diagnostics = await lsp.diagnosticsFor(uri, 1);
    expect(
      diagnostics.filter((d) => d.code === 'migration-failed' || d.code === 'earlier-migration-failed'),
      JSON.stringify(diagnostics),
    ).toEqual([]);
    const index = diagnostics.find((d) => d.code === 'index-not-concurrent');
    expect(index, JSON.stringify(diagnostics)).toBeDefined();
    expect(index!.severity).toBe(1);
    expect(index!.range.start.line).toBe(2);
    // The unsaved buffer is what runs: the edit that indexes a column no earlier migration made fails.
    const broken = INDEX_NICKNAME.replace("t.index('nickname')", "t.index('missing')");
    await lsp.client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [{ text: broken }] });
    const failed = await lsp.diagnosticsFor(uri, 2);
    expect(failed.map((d) => `${String(d.code)}: ${d.message}`).join('\n')).toMatch(/column "missing" does not exist/);

    // A file the source leaves out is not a migration: nothing is published for it.
    const draft = pathToFileURL(path.join(dir(), '003_draft_notes.js')).href;
    await lsp.open(draft, INDEX_NICKNAME, 1);
    // Analyses run one at a time: once a later one is done, the draft's turn has passed.
    await lsp.client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: users, version: 2 }, contentChanges: [{ text: USERS }] });
    await lsp.diagnosticsFor(users, 2);
    expect(lsp.published.some((p) => p.uri === draft)).toBe(false);
    expect(await lsp.stop()).toBe(0);
  });
});
