import type { KnexsafeSettings } from '../config/schema.js';
import { KnexsafeError } from '../errors.js';
import { parseDuration } from '../util/duration.js';

/** How a guarded run limits and retries its statements. */
export interface GuardSettings {
  lockTimeoutMs: number;
  /** undefined: the server's statement_timeout stays. */
  statementTimeoutMs?: number;
  /** undefined: the server's idle_in_transaction_session_timeout stays. */
  idleInTransactionTimeoutMs?: number;
  /**
   * A migration that sends no statement for this long is ended (also outside any transaction,
   * where the server's idle_in_transaction_session_timeout does not reach it); 0 = never.
   */
  idleTimeoutMs: number;
  /** A migration that runs longer than this is ended (its running statement cancelled); 0 = no limit. */
  migrationTimeoutMs: number;
  /** Attempts after the first one when a statement hits lock_timeout (or a deadlock). */
  retries: number;
  /** Wait before the first retry; doubles each time up to maxRetryDelayMs. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  applicationName: string;
}

export interface GuardSettingOptions {
  lockTimeout?: string | number;
  statementTimeout?: string | number;
  idleTimeout?: string | number;
  /** Longest a single migration may run (`--timeout`). */
  timeout?: string | number;
  retries?: number | string;
  retryDelay?: string | number;
}

export const GUARD_DEFAULTS = {
  lockTimeoutMs: 5000,
  idleInTransactionTimeoutMs: 60_000,
  retries: 5,
  retryDelayMs: 2000,
  maxRetryDelayMs: 30_000,
  applicationName: 'knexsafe',
} as const;

/** Flags win over the knexsafe config (`lockTimeout`, `statementTimeout`, `retries`), which win over the defaults. */
export function resolveGuardSettings(options: GuardSettingOptions, config: KnexsafeSettings): GuardSettings {
  const lock = options.lockTimeout ?? config.lockTimeout;
  const statement = options.statementTimeout ?? config.statementTimeout;
  const idle = options.idleTimeout;
  const retriesRaw = options.retries ?? config.retries;
  const retries = retriesRaw === undefined ? GUARD_DEFAULTS.retries : Number(retriesRaw);
  if (!Number.isInteger(retries) || retries < 0) throw new KnexsafeError('BAD_OPTION', `--retries takes a whole number (0 or more), not "${String(retriesRaw)}".`);
  const lockTimeoutMs = lock === undefined ? GUARD_DEFAULTS.lockTimeoutMs : parseDuration(lock, '--lock-timeout');
  if (lockTimeoutMs === 0) {
    throw new KnexsafeError('BAD_OPTION', '--lock-timeout 0 would let a migration queue for its lock forever, blocking every query behind it.', {
      hint: 'Give a bound such as 5s; use --retries to wait out a busy table instead.',
    });
  }
  return {
    lockTimeoutMs,
    ...(statement !== undefined ? { statementTimeoutMs: parseDuration(statement, '--statement-timeout') } : {}),
    idleInTransactionTimeoutMs: idle === undefined ? GUARD_DEFAULTS.idleInTransactionTimeoutMs : parseDuration(idle, '--idle-timeout'),
    idleTimeoutMs: idle === undefined ? GUARD_DEFAULTS.idleInTransactionTimeoutMs : parseDuration(idle, '--idle-timeout'),
    migrationTimeoutMs: options.timeout === undefined ? 0 : parseDuration(options.timeout, '--timeout'),
    retries,
    retryDelayMs: options.retryDelay === undefined ? GUARD_DEFAULTS.retryDelayMs : parseDuration(options.retryDelay, '--retry-delay'),
    maxRetryDelayMs: GUARD_DEFAULTS.maxRetryDelayMs,
    applicationName: GUARD_DEFAULTS.applicationName,
  };
}

/** Wait before retry number `attempt` (1-based): exponential, capped, with ±20% jitter so that runs do not retry in step. */
export function retryDelay(settings: GuardSettings, attempt: number, random = Math.random): number {
  const base = Math.min(settings.retryDelayMs * 2 ** (attempt - 1), Math.max(settings.maxRetryDelayMs, settings.retryDelayMs));
  return Math.round(base * (0.8 + 0.4 * random()));
}
