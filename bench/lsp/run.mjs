#!/usr/bin/env node
// Save-to-diagnostics latency of `knexsafe lsp --stdio` (issue 24) on a generated chain
// (bench/chains/generate.mjs, 300 migrations by default), embedded shadow, warm cache: the built
// CLI is driven over stdio by the LSP protocol client; the newest migration is opened (the first
// analysis runs the chain before it and stores the shadow state), then saved --saves times, each
// time with a new comment at its end (new bytes, so it runs again). Latency: from didSave sent to
// its publishDiagnostics received. The server's own breakdown (window/logMessage) says where the
// time went.
// Usage: node bench/lsp/run.mjs [--count 300] [--saves 7] [--idle <ms between saves, 8000>] [--name <suffix, default the date>]
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import protocol from 'vscode-languageserver-protocol/node';
import { builtCli, flag, root } from '../args.mjs';

// A CommonJS package: its names come from the default export.
const {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DidSaveTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} = protocol;

const count = Number(flag('count', '300'));
const saves = Number(flag('saves', '7'));
// Time between one save's diagnostics and the next save: the user typing. The server opens the
// next shadow meanwhile.
const idleMs = Number(flag('idle', '8000'));
const name = flag('name', new Date().toISOString().slice(0, 10));
const cli = builtCli();

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-lsp-bench-'));
const chain = path.join(work, 'chain');
const cacheDir = path.join(work, 'cache');
spawnSync(process.execPath, [path.join(root, 'bench/chains/generate.mjs'), chain, '--count', String(count)], { stdio: 'ignore' });
const migrationsDir = path.join(chain, 'migrations');
const newest = path.join(migrationsDir, fs.readdirSync(migrationsDir).sort().at(-1));
const uri = pathToFileURL(newest).href;
const original = fs.readFileSync(newest, 'utf8');

const child = spawn(process.execPath, [cli, 'lsp', '--stdio'], {
  cwd: chain,
  env: (({ DATABASE_URL: _url, NODE_ENV: _env, ...rest }) => ({ ...rest, KNEXSAFE_STATE_CACHE_DIR: cacheDir }))(process.env),
});
let stderr = '';
child.stderr.on('data', (d) => (stderr += d.toString()));
const client = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
const logs = [];
const waiting = new Map();
// The first publication of a version is check's findings; the reversibility proof's follow, then
// the server logs "version N analysed".
const firstAt = new Map();
client.onNotification(PublishDiagnosticsNotification.type, (p) => {
  if (p.uri === uri && !firstAt.has(p.version)) firstAt.set(p.version, performance.now());
});
client.onNotification(LogMessageNotification.type, (p) => {
  logs.push(p.message);
  const done = / version (\d+) analysed/.exec(p.message);
  const resolve = done && waiting.get(Number(done[1]));
  if (resolve) {
    waiting.delete(Number(done[1]));
    resolve(performance.now());
  }
});
client.listen();
const diagnostics = (version) => new Promise((resolve) => waiting.set(version, resolve));

await client.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: pathToFileURL(chain).href, capabilities: {} });
await client.sendNotification(InitializedNotification.type, {});

let version = 1;
let started = performance.now();
await client.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'javascript', version, text: original } });
await diagnostics(version);
const openMs = performance.now() - started;
const openLog = logs.at(-1);

const runs = [];
for (let i = 0; i < saves; i++) {
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const text = `${original}// save ${i} ${Date.now()}\n`;
  fs.writeFileSync(newest, text);
  version++;
  await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
  started = performance.now();
  await client.sendNotification(DidSaveTextDocumentNotification.type, { textDocument: { uri } });
  const done = await diagnostics(version);
  runs.push({ first: firstAt.get(version) - started, ms: done - started, log: logs.at(-1) });
}
await client.sendRequest(ShutdownRequest.type);
await client.sendNotification(ExitNotification.type);
fs.writeFileSync(newest, original);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const load = os.loadavg()[0].toFixed(2);
const lines = [
  `# knexsafe lsp: save-to-diagnostics latency — ${name}`,
  '',
  `Chain: \`bench/chains/generate.mjs --count ${count}\`, the newest migration edited, embedded shadow, warm cache (state of the ${count - 1} before it stored by the first analysis).`,
  `Client: vscode-languageserver-protocol over the built CLI's stdio (\`node dist/cli/main.js lsp --stdio\`). Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${load} at the end.`,
  '',
  `| what | ms |`,
  `|---|--:|`,
  `| didOpen → diagnostics (first analysis: the chain before the file runs, its state is stored) | ${Math.round(openMs)} |`,
  `| didSave → check's diagnostics (first publication), median of ${saves} saves ${idleMs / 1000} s apart | **${Math.round(median(runs.map((r) => r.first)))}** |`,
  `| didSave → all diagnostics (with up → down → up), median | **${Math.round(median(runs.map((r) => r.ms)))}** |`,
  `| each save, first / all | ${runs.map((r) => `${Math.round(r.first)} / ${Math.round(r.ms)}`).join(', ')} |`,
  '',
  "The server's breakdown (window/logMessage) of the first analysis and of each save:",
  '',
  '```',
  openLog ?? '',
  ...runs.map((r) => r.log ?? ''),
  '```',
  '',
];
const out = path.join(root, 'bench/results', `lsp-${name}.md`);
fs.writeFileSync(out, lines.join('\n'));
console.log(lines.join('\n'));
console.log(`written to ${path.relative(process.cwd(), out)}`);
// The server removes its scratch copies as it exits: the folder goes after it.
if (child.exitCode === null) await new Promise((resolve) => child.on('exit', resolve));
fs.rmSync(work, { recursive: true, force: true });
