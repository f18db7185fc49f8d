import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { createConnection as createServerConnection, type WatchDog } from 'vscode-languageserver';
import {
  CodeActionKind,
  createProtocolConnection,
  DiagnosticSeverity,
  ProposedFeatures,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocuments,
  TextDocumentSyncKind,
  CodeLensRefreshRequest,
  DidChangeConfigurationNotification,
  type CodeAction,
  type CodeLens,
  type Connection,
  type Diagnostic,
  type Hover,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { sourceStyle } from '../codegen/index.js';
import { KNEXFILE_NAMES } from '../config/find-up.js';
import { errorMessage } from '../errors.js';
import { fixText, placeSnippet } from '../fix/apply.js';
import { isWholeFileFix } from '../fix/run.js';
import { REASON_PLACEHOLDER } from '../rules/suppression.js';
import type { Finding, Severity } from '../rules/types.js';
import { MigrationAnalyser, type AnalyserOptions, type FileAnalysis, type FollowingAnalysis } from './analyse.js';

/**
 * `knexsafe lsp --stdio`: check's findings, verify's reversibility and fix's code in the editor,
 * for the migrations of the project the knexfile describes. stdout carries the protocol alone.
 */

export interface ServerOptions extends AnalyserOptions {
  /** Quiet time after the last keystroke before the buffer is analysed (default 600 ms). */
  debounceMs?: number;
  /** Also run and judge the migrations after the edited one, on every analysis (default false; the client's `knexsafe.analyzeFollowing` setting). */
  analyzeFollowing?: boolean;
}

/** The command (also a code lens on the first line) that runs the migrations after a file once: arguments [uri]. */
export const CHECK_FOLLOWING_COMMAND = 'knexsafe.checkFollowing';

const SEVERITY: Record<Severity, DiagnosticSeverity> = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information };
const SOURCE = 'knexsafe';

/** What the diagnostics are made from: a file's own analysis, or one as a migration after the edited one. */
type Judged = Pick<FileAnalysis, 'findings'> & Partial<Pick<FileAnalysis, 'failure' | 'earlierFailure' | 'verdict' | 'shadowFailure'>> & { notRun?: string };

/** What a diagnostic carries for the code actions: which finding of the analysis it is. */
interface DiagnosticData {
  finding?: number;
}

interface Analysed {
  version: number;
  text: string;
  analysis: FileAnalysis;
  /** With the reversibility proof (not only check's findings). */
  complete: boolean;
}

/** Serves until the client says exit (or goes); resolves to the process's exit code. */
export async function serveStdio(options: ServerOptions): Promise<number> {
  // The protocol owns stdout: everything else written there (a migration's console.log, a
  // library's notice) goes to stderr, which editors show as the server's log.
  const protocolOut = process.stdout.write.bind(process.stdout) as (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
  const toStderr = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  process.stdout.write = toStderr;
  for (const method of ['log', 'info', 'debug'] as const) console[method] = (...args: unknown[]) => console.error(...args);
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      protocolOut(chunk, callback);
    },
  });
  // The library's own node watchdog ends the process with process.exit on `exit` (which the exit
  // trap would take for a migration's): this one lets the server close its shadows first.
  let shutdownReceived = false;
  let closedWith!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (closedWith = resolve));
  const watchDog: WatchDog = {
    get shutdownReceived() {
      return shutdownReceived;
    },
    set shutdownReceived(value: boolean) {
      shutdownReceived = value;
    },
    // An editor that goes away closes our stdin: no polling of its process.
    initialize: () => undefined,
    exit: (code) => closedWith(code),
  };
  const reader = new StreamMessageReader(process.stdin);
  const writer = new StreamMessageWriter(output);
  const connection = createServerConnection((logger) => createProtocolConnection(reader, writer, logger), watchDog, ProposedFeatures.all);
  // The protocol's exit code: 0 after a shutdown request, 1 when the client just left.
  process.stdin.on('end', () => closedWith(shutdownReceived ? 0 : 1));
  process.stdin.on('close', () => closedWith(shutdownReceived ? 0 : 1));
  const server = startServer(connection, options);
  connection.listen();
  const code = await closed;
  await server.close();
  return code;
}

export function startServer(connection: Connection, options: ServerOptions): { close(): Promise<void> } {
  const documents = new TextDocuments(TextDocument);
  let analyser: MigrationAnalyser | undefined;
  let debounceMs = options.debounceMs ?? 600;
  const latest = new Map<string, Analysed>();
  const timers = new Map<string, NodeJS.Timeout>();
  let toldNoProject = false;
  let analyzeFollowing = options.analyzeFollowing === true;
  // The client asks for code lenses when it likes (often before the first analysis is done): told to ask again.
  let lensRefresh = false;
  // Documents whose next analysis runs the migrations after them (the command, once).
  const followOnce = new Set<string>();
  // Files that got diagnostics as a migration after the edited one, not from their own analysis.
  const publishedAsFollowing = new Set<string>();

  // A migration's stray rejection or exception must not end the server: it is logged.
  process.on('unhandledRejection', (reason) => connection.console.error(`knexsafe: unhandled rejection: ${errorMessage(reason)}`));
  process.on('uncaughtException', (error) => connection.console.error(`knexsafe: uncaught exception: ${errorMessage(error)}`));

  connection.onInitialize((params) => {
    const root = params.rootUri ? fileURLToPath(params.rootUri) : params.workspaceFolders?.[0] ? fileURLToPath(params.workspaceFolders[0].uri) : undefined;
    const init = (params.initializationOptions ?? {}) as { debounceMs?: number; analyzeFollowing?: boolean };
    if (typeof init.debounceMs === 'number' && init.debounceMs >= 0) debounceMs = init.debounceMs;
    if (typeof init.analyzeFollowing === 'boolean') analyzeFollowing = init.analyzeFollowing;
    lensRefresh = params.capabilities.workspace?.codeLens?.refreshSupport === true;
    analyser = new MigrationAnalyser({ ...options, ...(options.cwd === undefined && options.knexfile === undefined && root ? { cwd: root } : {}) });
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: [CHECK_FOLLOWING_COMMAND] },
      },
      serverInfo: { name: 'knexsafe' },
    };
  });

  // `settings.knexsafe.analyzeFollowing`, from a client that pushes its configuration.
  connection.onNotification(DidChangeConfigurationNotification.type, (params) => {
    const settings = (params.settings ?? {}) as { knexsafe?: { analyzeFollowing?: unknown } };
    const wanted = settings.knexsafe?.analyzeFollowing;
    if (typeof wanted !== 'boolean' || wanted === analyzeFollowing) return;
    analyzeFollowing = wanted;
    if (lensRefresh) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
    if (!wanted) {
      // Turned off: what was said about later files from another file's analysis goes.
      for (const uri of publishedAsFollowing) if (!documents.get(uri)) void connection.sendDiagnostics({ uri, diagnostics: [] });
      publishedAsFollowing.clear();
    }
  });

  // One analysis at a time (each opens a shadow); per document only the newest text waits.
  let running: Promise<void> = Promise.resolve();
  const queued = new Set<string>();
  const schedule = (uri: string) => {
    if (queued.has(uri)) return;
    queued.add(uri);
    running = running
      .then(async () => {
        queued.delete(uri);
        const doc = documents.get(uri);
        if (doc) await analyse(doc);
      })
      // The queue goes on whatever one analysis did.
      .catch((error: unknown) => connection.console.error(`knexsafe: ${errorMessage(error)}`));
  };
  // The newest version each document was scheduled at: a change event for it (didOpen raises one) adds nothing.
  const scheduledVersion = new Map<string, number>();
  const soon = (uri: string) => {
    clearTimeout(timers.get(uri));
    timers.delete(uri);
    const doc = documents.get(uri);
    if (!doc) return;
    // Saved as last analysed (the debounced analysis of the buffer came first): nothing new.
    if (latest.get(uri)?.version === doc.version && latest.get(uri)?.complete && !queued.has(uri)) return;
    scheduledVersion.set(uri, doc.version);
    schedule(uri);
  };

  const analyse = async (doc: TextDocument) => {
    if (!analyser || !doc.uri.startsWith('file:')) return;
    const file = fileURLToPath(doc.uri);
    const text = doc.getText();
    const version = doc.version;
    let analysis: FileAnalysis | undefined;
    const follow = analyzeFollowing || followOnce.delete(doc.uri);
    let done = false;
    // The full set, then a log line: a client (or a test) reading the log knows this version's diagnostics are complete.
    const complete = async (full: FileAnalysis) => {
      done = true;
      latest.set(doc.uri, { version, text, analysis: full, complete: true });
      await connection.sendDiagnostics({ uri: doc.uri, version, diagnostics: diagnosticsOf(full, text) });
      if (lensRefresh && !analyzeFollowing && full.after > 0) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
      connection.console.log(
        `knexsafe: ${full.migration} version ${version} analysed in ${Math.round(full.durationMs)} ms (${full.fromCache} earlier migrations from the cache, ${full.ran} run; shadow${full.shadow ? ` (${full.shadow})` : ''} ${full.standby ? 'opened ahead' : 'opened now'}; ${Object.entries(
          full.timings,
        )
          .filter(([k, v]) => k !== 'following' || v > 0)
          .map(([k, v]) => `${k} ${Math.round(v)}`)
          .join(', ')} ms)`,
      );
    };
    try {
      // check's findings first; the reversibility proof's come with the full set; the migrations after it last.
      analysis = await analyser.analyse(
        file,
        text,
        async (partial) => {
          latest.set(doc.uri, { version, text, analysis: partial, complete: false });
          await connection.sendDiagnostics({ uri: doc.uri, version, diagnostics: diagnosticsOf(partial, text) });
        },
        follow ? { textOf: (f) => documents.get(pathToFileURL(f).href)?.getText(), analysed: complete } : undefined,
      );
    } catch (error) {
      // No knexfile, a knexfile that does not load: said once, no diagnostics.
      if (!toldNoProject) connection.console.warn(`knexsafe: ${errorMessage(error)}`);
      toldNoProject = true;
      return;
    }
    if (!analysis) return;
    toldNoProject = false;
    if (!done) await complete(analysis);
    if (analysis.following) {
      latest.set(doc.uri, { version, text, analysis, complete: true });
      for (const later of analysis.following) await publishFollowing(later);
      connection.console.log(`knexsafe: ${analysis.following.length} migrations after ${analysis.migration} version ${version} analysed in ${Math.round(analysis.timings.following)} ms`);
    }
  };

  /** A later migration's diagnostics, as the edited one leaves the chain: on its own URI, with its open buffer's version. */
  const publishFollowing = async (later: FollowingAnalysis) => {
    const uri = pathToFileURL(later.file).href;
    const open = documents.get(uri);
    let text = open?.getText();
    if (text === undefined) {
      try {
        text = fs.readFileSync(later.file, 'utf8');
      } catch {
        text = '';
      }
    }
    publishedAsFollowing.add(uri);
    // No code actions from these: the actions of an open file come from its own analysis.
    const diagnostics = diagnosticsOf(later, text).map(({ data: _data, ...d }) => d);
    await connection.sendDiagnostics({ uri, ...(open ? { version: open.version } : {}), diagnostics });
  };

  documents.onDidOpen((e) => soon(e.document.uri));
  documents.onDidSave((e) => {
    const file = e.document.uri.startsWith('file:') ? fileURLToPath(e.document.uri) : '';
    // A changed knexfile changes the project (directories, options): read it again.
    if (KNEXFILE_NAMES.includes(path.basename(file))) analyser?.forget();
    soon(e.document.uri);
  });
  documents.onDidChangeContent((e) => {
    // The first content comes with didOpen, handled there.
    if (e.document.version <= (scheduledVersion.get(e.document.uri) ?? -1)) return;
    clearTimeout(timers.get(e.document.uri));
    timers.set(
      e.document.uri,
      setTimeout(() => {
        timers.delete(e.document.uri);
        schedule(e.document.uri);
      }, debounceMs),
    );
  });
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    timers.delete(e.document.uri);
    latest.delete(e.document.uri);
    scheduledVersion.delete(e.document.uri);
    void analyser?.dropStandby();
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  // The migrations after a file, once (the code lens, or any client's workspace/executeCommand).
  connection.onExecuteCommand(async (params) => {
    if (params.command !== CHECK_FOLLOWING_COMMAND) return null;
    const uri = typeof params.arguments?.[0] === 'string' ? params.arguments[0] : undefined;
    if (!uri || !documents.get(uri)) return { analysed: 0 };
    followOnce.add(uri);
    schedule(uri);
    await running;
    return { analysed: latest.get(uri)?.analysis.following?.length ?? 0 };
  });

  connection.onCodeLens((params): CodeLens[] => {
    const analysed = latest.get(params.textDocument.uri);
    if (!analysed?.complete || analyzeFollowing || !analysed.analysis.after) return [];
    const n = analysed.analysis.after;
    return [
      {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        command: { title: `knexsafe: check the ${n} migration${n === 1 ? '' : 's'} after this one`, command: CHECK_FOLLOWING_COMMAND, arguments: [params.textDocument.uri] },
      },
    ];
  });

  connection.onHover((params): Hover | null => {
    const analysed = latest.get(params.textDocument.uri);
    if (!analysed) return null;
    const line = params.position.line + 1;
    const here = analysed.analysis.findings.filter((f) => !f.suppressed && (f.line ?? 1) === line);
    if (here.length === 0) return null;
    return { contents: { kind: 'markdown', value: here.map(hoverText).join('\n\n---\n\n') } };
  });

  connection.onCodeAction((params): CodeAction[] => {
    const analysed = latest.get(params.textDocument.uri);
    if (!analysed) return [];
    const actions: CodeAction[] = [];
    for (const diagnostic of params.context.diagnostics) {
      if (diagnostic.source !== SOURCE) continue;
      const index = (diagnostic.data as DiagnosticData | undefined)?.finding;
      const finding = index === undefined ? undefined : analysed.analysis.findings[index];
      if (!finding) continue;
      const edit = fixEdit(params.textDocument.uri, analysed, finding);
      if (edit) actions.push({ title: `Fix: ${finding.fix!.description}`, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], edit, isPreferred: true });
      const snippet = snippetEdit(params.textDocument.uri, analysed, finding);
      if (snippet)
        actions.push({
          title: `Fix: insert the fix's code (${snippet.where}): ${finding.fix!.description}`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [diagnostic],
          edit: snippet.edit,
          isPreferred: !edit,
        });
      actions.push({
        title: `Suppress ${finding.rule} here (knexsafe-ignore, with a reason)`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        edit: suppressionEdit(params.textDocument.uri, analysed, finding),
      });
    }
    return actions;
  });

  documents.listen(connection);
  return {
    // The analysis under way ends first (its shadow is closed with it), then what is left.
    close: async () => {
      for (const timer of timers.values()) clearTimeout(timer);
      queued.clear();
      await running;
      await analyser?.close();
    },
  };
}

/** The package's docs folder (docs ship with it), as file URLs for the editor to open. */
function docsUrl(relative: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return pathToFileURL(path.join(dir, relative)).href;
}

/** A range on `line` (1-based) from `column` (1-based) to the end of the line's text. */
function rangeAt(text: string, line: number | undefined, column: number | undefined) {
  const lines = text.split('\n');
  const at = Math.min(Math.max((line ?? 1) - 1, 0), Math.max(lines.length - 1, 0));
  const content = (lines[at] ?? '').replace(/\s+$/, '');
  const indent = content.length - content.trimStart().length;
  const start = column !== undefined ? Math.min(column - 1, content.length) : indent;
  return { start: { line: at, character: start }, end: { line: at, character: Math.max(content.length, start) } };
}

export function diagnosticsOf(analysis: Judged, text: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  analysis.findings.forEach((f, i) => {
    if (f.suppressed) return;
    out.push({
      range: rangeAt(text, f.line, f.column),
      severity: SEVERITY[f.severity],
      source: SOURCE,
      code: f.rule,
      codeDescription: { href: docsUrl(f.docs) },
      message: f.lock ? `${f.message} (${f.lock.mode} on ${f.lock.relation}: ${f.lock.blocks.description})` : f.message,
      data: { finding: i } satisfies DiagnosticData,
    });
  });
  if (analysis.shadowFailure) {
    out.push({
      range: rangeAt(text, 1, undefined),
      severity: DiagnosticSeverity.Warning,
      source: SOURCE,
      code: 'shadow-unavailable',
      message: `Not checked: knexsafe could not open its shadow database (${analysis.shadowFailure}).`,
    });
  }
  if (analysis.notRun) {
    out.push({ range: rangeAt(text, 1, undefined), severity: DiagnosticSeverity.Warning, source: SOURCE, code: 'not-checked', message: `Not checked: ${analysis.notRun}` });
  }
  if (analysis.earlierFailure) {
    out.push({
      range: rangeAt(text, 1, undefined),
      severity: DiagnosticSeverity.Warning,
      source: SOURCE,
      code: 'earlier-migration-failed',
      message: `Not checked: the earlier migration ${analysis.earlierFailure.migration} fails on the shadow (${analysis.earlierFailure.message}).`,
    });
  }
  if (analysis.failure) {
    const site = analysis.failure.site;
    out.push({
      range: rangeAt(text, site?.line, site?.column),
      severity: DiagnosticSeverity.Error,
      source: SOURCE,
      code: 'migration-failed',
      message: `This migration fails on the shadow${analysis.failure.sqlState ? ` (SQLSTATE ${analysis.failure.sqlState})` : ''}: ${analysis.failure.message}`,
    });
  }
  const verdict = analysis.verdict;
  if (verdict && verdict.status !== 'reversible') {
    const line = downLine(text);
    for (const f of verdict.findings) {
      // check's rules may have said it already (a down that is empty): once is enough.
      if (analysis.findings.some((g) => g.rule === f.rule && !g.suppressed)) continue;
      const docs = `docs/rules/${f.rule}.md`;
      const documented = fs.existsSync(fileURLToPath(docsUrl(docs)));
      out.push({
        range: rangeAt(text, line, undefined),
        severity: DiagnosticSeverity.Warning,
        source: SOURCE,
        code: f.rule,
        ...(documented ? { codeDescription: { href: docsUrl(docs) } } : {}),
        message: `Not reversible (up → down → up): ${f.message}${
          f.changes?.length
            ? ` — ${f.changes
                .slice(0, 3)
                .map((c) => c.message)
                .join('; ')}`
            : ''
        }`,
      });
    }
  }
  return out;
}

/** The line of the down function (1-based), else of up, else the first. */
function downLine(text: string): number {
  const lines = text.split('\n');
  for (const name of ['down', 'up']) {
    const at = lines.findIndex((l) => new RegExp(`(exports\\.${name}\\b|\\bfunction\\s+${name}\\b|\\b(const|let)\\s+${name}\\b|^\\s*(async\\s+)?${name}\\s*\\()`).test(l));
    if (at >= 0) return at + 1;
  }
  return 1;
}

function hoverText(f: Finding): string {
  const parts = [`**knexsafe ${f.rule}** (${f.severity}): ${f.message}`];
  if (f.lock) {
    parts.push(`**Lock:** \`${f.lock.mode}\` on \`${f.lock.relation}\` — ${f.lock.blocks.description}. It waits for ${f.lock.waitsFor}.`);
    if (f.lock.held) parts.push(`Held since ${f.lock.held.since.migration}${f.lock.held.since.line ? `:${f.lock.held.since.line}` : ''}: \`${f.lock.held.mode}\` — ${f.lock.held.blocks.description}.`);
    if (f.lock.later) parts.push(`Later in the transaction: \`${f.lock.later.mode}\` — ${f.lock.later.blocks.description}, until commit.`);
  }
  if (f.sql) parts.push(`\`\`\`sql\n${f.sql}\n\`\`\``);
  parts.push(`**Why:** ${f.why}`);
  if (f.fix) parts.push(`**Fix:** ${f.fix.description}`);
  // A whole-file fix is a code action; a snippet is for the reader to adapt.
  if (f.fix && !isWholeFileFix(f.fix.code)) parts.push(`\`\`\`js\n${f.fix.code.trim()}\n\`\`\``);
  parts.push(`[${f.rule} docs](${docsUrl(f.docs)})`);
  return parts.join('\n\n');
}

/** The fix `knexsafe fix` writes, as an edit of the analysed text plus the migrations it adds. */
function fixEdit(uri: string, analysed: Analysed, f: Finding): WorkspaceEdit | undefined {
  if (!f.fix || !isWholeFileFix(f.fix.code)) return undefined;
  const file = fileURLToPath(uri);
  const migration = path.basename(file);
  const directory = path.dirname(file);
  let taken: Set<string>;
  try {
    taken = new Set(fs.readdirSync(directory));
  } catch {
    taken = new Set([migration]);
  }
  const written = fixText(f.fix.code, migration, analysed.text, sourceStyle(analysed.text, migration), taken);
  const whole = { start: { line: 0, character: 0 }, end: { line: analysed.text.split('\n').length, character: 0 } };
  return {
    documentChanges: [
      { textDocument: { uri, version: analysed.version }, edits: [{ range: whole, newText: written.text }] },
      ...written.added.flatMap(({ name, text }) => {
        const added = pathToFileURL(path.join(directory, name)).href;
        return [
          { kind: 'create' as const, uri: added, options: { ignoreIfExists: false, overwrite: false } },
          { textDocument: { uri: added, version: null }, edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: text }] },
        ];
      }),
    ],
  };
}

/** A snippet fix put where it says it goes (placeSnippet, shared with src/fix), as an edit of the whole analysed text. */
function snippetEdit(uri: string, analysed: Analysed, f: Finding): { edit: WorkspaceEdit; where: string } | undefined {
  if (!f.fix || f.fix.byHand || isWholeFileFix(f.fix.code)) return undefined;
  const placed = placeSnippet(f.fix.code, analysed.text);
  if (placed === undefined) return undefined;
  const whole = { start: { line: 0, character: 0 }, end: { line: analysed.text.split('\n').length, character: 0 } };
  return { where: 'first statement of up', edit: { documentChanges: [{ textDocument: { uri, version: analysed.version }, edits: [{ range: whole, newText: placed }] }] } };
}

/** `// knexsafe-ignore <rule>: <placeholder>` above the finding's line, indented as it is: until the placeholder is replaced, the finding stays (see REASON_PLACEHOLDER). */
function suppressionEdit(uri: string, analysed: Analysed, f: Finding): WorkspaceEdit {
  const line = Math.max((f.line ?? 1) - 1, 0);
  const content = analysed.text.split('\n')[line] ?? '';
  const indent = /^\s*/.exec(content)?.[0] ?? '';
  const comment = analysed.text.includes('\r\n') ? '\r\n' : '\n';
  return {
    documentChanges: [
      {
        textDocument: { uri, version: analysed.version },
        edits: [{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, newText: `${indent}// knexsafe-ignore ${f.rule}: ${REASON_PLACEHOLDER}${comment}` }],
      },
    ],
  };
}
