import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  CodeLensRefreshRequest,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { CLI } from '../helpers/cli.js';

/**
 * The built CLI's `lsp --stdio`, driven by the protocol library editors use: what it published and
 * logged, and waits on both.
 */
export interface LspClient {
  child: ChildProcessWithoutNullStreams;
  client: ProtocolConnection;
  init: InitializeResult;
  published: PublishDiagnosticsParams[];
  logs: string[];
  /** workspace/codeLens/refresh requests the server sent. */
  lensRefreshes(): number;
  stderr(): string;
  /** Waits for a log line matching `pattern` (after `from` lines already seen), then returns it. */
  logged(pattern: RegExp, from?: number): Promise<string>;
  /** The diagnostics published last for `uri` at `version`, once "<migration> version N analysed" is logged for it. */
  diagnosticsFor(uri: string, version: number): Promise<Diagnostic[]>;
  /** The last diagnostics published for `uri` (any version) so far. */
  lastFor(uri: string): Diagnostic[] | undefined;
  open(uri: string, text: string, version?: number): Promise<void>;
  /** shutdown, exit; resolves to the exit code. */
  stop(): Promise<number | null>;
}

export async function startLsp(options: { cwd: string; args?: string[]; env?: Record<string, string | undefined>; initializationOptions?: Record<string, unknown> }): Promise<LspClient> {
  const child = spawn(process.execPath, [CLI, ...(options.args ?? ['lsp', '--stdio'])], { cwd: options.cwd, env: { ...process.env, DATABASE_URL: undefined, NODE_ENV: undefined, ...options.env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published: PublishDiagnosticsParams[] = [];
  const logs: string[] = [];
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  client.onNotification(PublishDiagnosticsNotification.type, (params) => {
    published.push(params);
    wake();
  });
  client.onNotification(LogMessageNotification.type, (params) => {
    logs.push(params.message);
    wake();
  });
  let lensRefreshes = 0;
  client.onRequest(CodeLensRefreshRequest.type, () => {
    lensRefreshes++;
  });
  client.listen();
  const until = <T>(what: string, look: () => T | undefined): Promise<T> =>
    new Promise((resolve, reject) => {
      // A hang says what the server logged, instead of a bare timeout.
      const timer = setTimeout(() => reject(new Error(`${what}: nothing after 150 s; server log:\n${logs.join('\n').slice(-2000)}\nstderr:\n${stderr.slice(-3000)}`)), 150_000);
      const waiter = () => {
        const found = look();
        if (found === undefined) return;
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(waiter), 1);
        resolve(found);
      };
      waiters.push(waiter);
      waiter();
    });
  const init = await client.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(options.cwd).href,
    capabilities: { workspace: { workspaceEdit: { documentChanges: true }, codeLens: { refreshSupport: true } } },
    initializationOptions: { debounceMs: 50, ...options.initializationOptions },
  });
  await client.sendNotification(InitializedNotification.type, {});
  return {
    child,
    client,
    init,
    published,
    logs,
    lensRefreshes: () => lensRefreshes,
    stderr: () => stderr,
    logged: (pattern, from = 0) => until(`log ${pattern}`, () => logs.slice(from).find((l) => pattern.test(l))),
    diagnosticsFor: (uri, version) =>
      until(`diagnostics of ${uri} version ${version}`, () => {
        const name = decodeURIComponent(uri.slice(uri.lastIndexOf('/') + 1));
        if (!logs.some((l) => l.includes(`${name} version ${version} analysed`))) return undefined;
        return published.filter((p) => p.uri === uri && p.version === version).at(-1)?.diagnostics;
      }),
    lastFor: (uri) => published.filter((p) => p.uri === uri).at(-1)?.diagnostics,
    open: (uri, text, version = 1) => client.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'javascript', version, text } }),
    stop: async () => {
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await client.sendRequest(ShutdownRequest.type);
      await client.sendNotification(ExitNotification.type);
      const code = await exited;
      client.dispose();
      return code;
    },
  };
}

/** The first migration of the lsp tests' chains: a users table. */
export const USERS = `exports.up = async function (knex) {
  await knex.schema.createTable('users', (t) => {
    t.bigIncrements('id');
    t.text('email');
  });
};

exports.down = async function (knex) {
  await knex.schema.dropTable('users');
};
`;
