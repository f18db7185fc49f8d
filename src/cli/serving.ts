/**
 * A command that serves requests until its client goes (`knexsafe mcp`) must outlive a failure
 * nobody awaited: main ends a one-shot command on one (src/cli/main.ts), but a server reports it
 * and goes on serving. While a handler is set here, main hands such failures to it instead.
 */
let handler: ((reason: unknown) => void) | undefined;

export function takeEscapedFailures(take: ((reason: unknown) => void) | undefined): void {
  handler = take;
}

export function escapedFailureHandler(): ((reason: unknown) => void) | undefined {
  return handler;
}
