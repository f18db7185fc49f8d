import { redactSecrets } from './util/redact.js';

/** Exit codes are a contract: 0 ok, 1 findings or failures, 2 usage / configuration error. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error meant for the user: a stable code, one readable paragraph, and the exit code the CLI
 * should return. Anything else that escapes is a bug and is reported as such.
 */
export class KnexsafeError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    options: { exitCode?: ExitCode; hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KnexsafeError';
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.usage;
    this.hint = options.hint === undefined ? undefined : redactSecrets(options.hint);
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isKnexsafeError(error: unknown): error is KnexsafeError {
  return error instanceof KnexsafeError;
}

/** Reads the SQLSTATE of a driver error (pg and PGlite both put it on `code`). */
export function sqlState(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return redactSecrets(error.message);
  return redactSecrets(String(error));
}
