import fs from 'node:fs';
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ProjectOptions } from '../config/resolve.js';
import { errorMessage, isKnexsafeError } from '../errors.js';
import { fileSystemProblem, isFileSystemError } from '../util/make-dir.js';
import { knexsafeRoot, knexsafeVersion } from '../util/package-version.js';
import { redactObject, redactSecrets } from '../util/redact.js';
import * as schemas from './schemas.js';
import { reserveStdout } from './stdout-guard.js';
import { checkTool, doctorTool, explainTool, fixTool, latestTool, makeMigrationTool, ruleUri, schemaTool, statusTool, verifyTool, type ToolContext } from './tools.js';

export interface McpServerOptions {
  /** The project's options (cwd absolute): every tool works on this project. */
  project: ProjectOptions;
  shadowUrl?: string;
  /** Expose `migrate_latest`, the one tool that writes to the target database. */
  allowApply?: boolean;
  /** Stack traces of failures on stderr. */
  debug?: boolean;
}

type Extra = {
  _meta?: { progressToken?: string | number } & Record<string, unknown>;
  sendNotification: (notification: { method: 'notifications/progress'; params: { progressToken: string | number; progress: number; message?: string } }) => Promise<void>;
};

const INSTRUCTIONS = `knexsafe checks, verifies and writes Knex.js migrations for PostgreSQL, on a disposable shadow database (the project's own database is only ever read).
Before writing a migration by hand, call schema for the tables it touches, or make_migration with a descriptive name (add_<col>_to_<table>, add_index_on_<table>_<col>, create_<table>_table, change_<col>_to_<type>_in_<table>, …).
After writing or changing one, call check_migrations with its name: each finding has the lock it takes, why it matters in production and ready-to-paste fix code; fix_migration applies those fixes. Then verify_migrations proves its down undoes its up.
Nothing is written to the project unless a tool's input says write: true.`;

/**
 * Failures a migration left behind it (a timer that throws, a promise nobody awaited), as the
 * command's process-wide handlers hear of them: they fail the tool call that ran the migration,
 * as they fail a CLI run, instead of ending the server.
 */
const escapedFailures: string[] = [];
export function reportEscapedFailure(message: string): void {
  escapedFailures.push(message);
}

/** Builds the server: tools and the rule docs as resources. Connect it to a transport to serve. */
export function createMcpServer(options: McpServerOptions): McpServer {
  const server = new McpServer({ name: 'knexsafe', version: knexsafeVersion() }, { instructions: INSTRUCTIONS });
  // One tool call at a time: a call runs the user's migrations in this process (exit trap, module
  // caches, console routing), and two shadows at once would only compete for the same cores.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  const context = (extra: Extra): ToolContext => {
    const token = extra._meta?.progressToken;
    let step = 0;
    return {
      project: options.project,
      ...(options.shadowUrl ? { shadowUrl: options.shadowUrl } : {}),
      progress: (message) => {
        if (token === undefined) return;
        step += 1;
        void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: step, message: redactSecrets(message) } }).catch(() => undefined);
      },
    };
  };

  /** Runs a tool; a failure comes back as a tool error with the CLI's message, never as a crash. */
  const tool =
    <I, O extends Record<string, unknown>>(work: (input: I, ctx: ToolContext) => Promise<O | { output: O; failure?: string }>) =>
    async (input: I, extra: Extra): Promise<CallToolResult> =>
      serialized(async () => {
        escapedFailures.length = 0;
        try {
          const result = await work(input, context(extra));
          const returned = 'output' in result && typeof result.output === 'object' ? (result as { output: O; failure?: string }) : { output: result as O, failure: undefined };
          const { output } = returned;
          const escaped = escapedFailures.splice(0);
          const failure = escaped.length ? [returned.failure, ...escaped, 'hint: Whatever a migration starts must end before it returns: await it.'].filter(Boolean).join('\n') : returned.failure;
          const structured = redactObject(output) as Record<string, unknown>;
          return {
            content: [{ type: 'text', text: failure ? redactSecrets(failure) : JSON.stringify(structured, null, 2) }],
            structuredContent: structured,
            ...(failure ? { isError: true } : {}),
          };
        } catch (error) {
          return toolError(error, options.debug === true);
        }
      });

  const readOnly = { readOnlyHint: true, destructiveHint: false, openWorldHint: false } as const;
  const writesWhenAsked = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } as const;

  server.registerTool(
    'make_migration',
    {
      title: 'Make a migration',
      description:
        'Write a knex migration from its name: up and its exact inverse as down, with the lock-safe pattern for tables that hold data (CREATE INDEX CONCURRENTLY, NOT VALID + VALIDATE, batched backfills, expand/contract type changes), read against the schema the migrations build. Returns path and content; writes the file(s) only with write: true.',
      inputSchema: schemas.makeInput,
      outputSchema: schemas.makeOutput,
      annotations: writesWhenAsked,
    },
    tool(makeMigrationTool),
  );
  server.registerTool(
    'check_migrations',
    {
      title: 'Check migrations',
      description:
        'Run migrations on a shadow database and report what would hurt in production: locks that stop traffic, table rewrites, breaking changes, knex pitfalls. Each finding has rule, file:line, the lock, why, and fix code. Default: the pending migrations when the knexfile names a reachable database, else all. A migration that fails to load or run is a tool error with its message.',
      inputSchema: schemas.checkInput,
      outputSchema: schemas.checkOutput,
      annotations: readOnly,
    },
    tool(checkTool),
  );
  server.registerTool(
    'verify_migrations',
    {
      title: 'Verify migrations',
      description: "Prove each migration's down undoes its up: up → down → up on a shadow database, schema and data compared. Returns reversible, or what down failed to restore and the data it lost.",
      inputSchema: schemas.verifyInput,
      outputSchema: schemas.verifyOutput,
      annotations: readOnly,
    },
    tool(verifyTool),
  );
  server.registerTool(
    'fix_migration',
    {
      title: 'Fix migrations',
      description:
        'Apply the fixes check_migrations offers (rewrite migrations, add new ones for multi-step recipes), proven on a shadow database. Migrations the target has applied are never edited. Returns the unified diff; writes only with write: true, and then checks and verifies the result.',
      inputSchema: schemas.fixInput,
      outputSchema: schemas.fixOutput,
      annotations: writesWhenAsked,
    },
    tool(fixTool),
  );
  server.registerTool(
    'schema',
    {
      title: 'Schema of the migrations',
      description: 'The schema (tables, columns, constraints, indexes, enums, views) the migrations build up to a migration, replayed on a shadow database: what to write the next migration against.',
      inputSchema: schemas.schemaInput,
      outputSchema: schemas.schemaOutput,
      annotations: readOnly,
    },
    tool(schemaTool),
  );
  server.registerTool(
    'status',
    {
      title: 'Migration status',
      description: 'Applied and pending migrations on the target database (read-only); without a configured database, the migration files in the order knex runs them.',
      inputSchema: {},
      outputSchema: schemas.statusOutput,
      annotations: readOnly,
    },
    tool((_input: Record<string, never>, ctx) => statusTool(ctx)),
  );
  server.registerTool(
    'doctor',
    {
      title: 'Doctor',
      description: "Diagnose the target database read-only: knex's stale lock, missing files, ordering, partial runs and schema drift, each with the fix as commands. Needs a configured database.",
      inputSchema: schemas.doctorInput,
      outputSchema: schemas.doctorOutput,
      annotations: readOnly,
    },
    tool(doctorTool),
  );
  server.registerTool(
    'explain_rule',
    {
      title: 'Explain a rule',
      description: 'What a knexsafe rule catches, the lock involved and the safe pattern: its docs page.',
      inputSchema: schemas.explainInput,
      outputSchema: schemas.explainOutput,
      annotations: readOnly,
    },
    tool((input: schemas.ExplainInput) => explainTool(input)),
  );
  if (options.allowApply) {
    server.registerTool(
      'migrate_latest',
      {
        title: 'Apply pending migrations',
        description:
          'knexsafe latest on the target database: checks the pending migrations first and stops on errors, sets lock_timeout with retries, backs up what destructive migrations drop. Default: the plan only; write: true applies it.',
        inputSchema: schemas.latestInput,
        outputSchema: schemas.latestOutput,
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      },
      tool(latestTool),
    );
  }
  registerRuleResources(server);
  return server;
}

/** docs/rules/*.md, each as a resource (knexsafe://rules/<id>); the index as knexsafe://rules. */
function registerRuleResources(server: McpServer): void {
  const dir = path.join(knexsafeRoot() ?? '.', 'docs', 'rules');
  if (!fs.existsSync(dir)) return;
  for (const entry of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const file = path.join(dir, entry);
    const id = entry.replace(/\.md$/, '');
    const index = id === 'README';
    const uri = index ? 'knexsafe://rules' : ruleUri(id);
    const heading = /^#\s+(.+)$/m.exec(fs.readFileSync(file, 'utf8'))?.[1]?.trim();
    server.registerResource(
      index ? 'rules' : id,
      uri,
      {
        title: index ? 'knexsafe rules' : (heading ?? id),
        description: index ? 'Every rule knexsafe checks, with links to their pages' : `knexsafe rule ${id}: what it catches and the safe pattern`,
        mimeType: 'text/markdown',
      },
      async () => ({ contents: [{ uri, mimeType: 'text/markdown', text: fs.readFileSync(file, 'utf8') }] }),
    );
  }
}

/** A failure as the CLI would print it (message, then the hint), as a tool error: never a stack. */
export function toolError(error: unknown, debug: boolean): CallToolResult {
  const known = isFileSystemError(error) ? fileSystemProblem(error) : error;
  let text: string;
  if (isKnexsafeError(known)) text = `${known.message}${known.hint ? `\nhint: ${known.hint}` : ''}`;
  else text = `${errorMessage(known)}\nThis looks like a knexsafe bug: start the server with --debug for the stack on stderr, and please report it.`;
  if (debug) process.stderr.write(`${redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  return { content: [{ type: 'text', text }], isError: true };
}

/**
 * Serves over stdio until the client goes (stdin ends) or the transport closes. stdout is the
 * protocol's alone meanwhile (see reserveStdout).
 */
export async function serveStdio(options: McpServerOptions): Promise<void> {
  const { protocolOut, release } = reserveStdout();
  const server = createMcpServer(options);
  const transport = new StdioServerTransport(process.stdin, protocolOut);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.stdin.once('close', () => resolve());
  });
  await server.connect(transport);
  process.stderr.write(`knexsafe MCP server on stdio — project ${options.project.cwd ?? process.cwd()}${options.allowApply ? ' (migrate_latest enabled)' : ''}\n`);
  try {
    await closed;
  } finally {
    await server.close().catch(() => undefined);
    release();
  }
}
