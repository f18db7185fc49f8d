import { KnexsafeError, errorMessage, sqlState } from '../errors.js';
import { humanDuration } from '../util/duration.js';
import type { GuardObserver } from './session.js';

export type EndReason = 'timeout' | 'idle' | 'session-lost' | 'interrupted';

/** Thrown into knex in place of a migration that knexsafe ended; the guard rewrites it with the outcome. */
export class MigrationEnded extends Error {
  constructor(
    readonly reason: EndReason,
    readonly migration: string,
    message: string,
    readonly cancelled: number[],
    readonly sessionError?: unknown,
  ) {
    super(message);
    this.name = 'MigrationEnded';
  }
}

/**
 * Ends a migration that would otherwise never end: past `timeoutMs` (its running statements are
 * cancelled), idle for `idleMs` with no statement running (a promise that never settles), or when
 * the server killed the session of its transaction. `ended` rejects with a MigrationEnded then;
 * the guard races the migration against it, so knex rolls back and frees its lock.
 */
export function watchMigration(observer: GuardObserver, migration: string, limits: { timeoutMs: number; idleMs: number }): { ended: Promise<never>; stop(): void } {
  let stopped = false;
  let fail: (error: MigrationEnded) => void = () => undefined;
  const ended = new Promise<never>((_, reject) => (fail = reject));
  ended.catch(() => undefined);
  const timers: NodeJS.Timeout[] = [];
  const end = (error: MigrationEnded) => {
    if (stopped) return;
    stopped = true;
    for (const t of timers) clearTimeout(t);
    observer.onSessionLost = undefined;
    observer.onInterrupt = undefined;
    fail(error);
  };
  const started = performance.now();
  if (limits.timeoutMs > 0) {
    timers.push(
      setTimeout(() => {
        const pids = [...observer.inFlight.values()].filter((p): p is number => p !== undefined);
        // Ended first, so the cancelled statement's own error (57014) is not taken for a failure.
        end(
          new MigrationEnded(
            'timeout',
            migration,
            `Migration ${migration} ran longer than --timeout ${humanDuration(limits.timeoutMs)}, so knexsafe ended it${pids.length ? ` (cancelled its running statement, pid ${pids.join(', ')})` : ''}.`,
            pids,
          ),
        );
        void observer.cancel(pids);
      }, limits.timeoutMs),
    );
  }
  if (limits.idleMs > 0) {
    const look = () => {
      if (stopped) return;
      const idleFor = performance.now() - Math.max(observer.lastActivity, started);
      if (observer.inFlight.size === 0 && idleFor >= limits.idleMs) {
        end(
          new MigrationEnded(
            'idle',
            migration,
            `Migration ${migration} sent no statement for ${humanDuration(limits.idleMs)} (--idle-timeout) and none is running: it waits for something that never comes (a promise that never settles, a callback never called), so knexsafe ended it.`,
            [],
          ),
        );
        return;
      }
      timers.push(setTimeout(look, Math.max(50, limits.idleMs - (observer.inFlight.size ? 0 : idleFor))));
    };
    timers.push(setTimeout(look, limits.idleMs));
  }
  observer.onInterrupt = () => {
    const pids = [...observer.inFlight.values()].filter((p): p is number => p !== undefined);
    end(
      new MigrationEnded(
        'interrupted',
        migration,
        `Interrupted (Ctrl-C or SIGTERM) while migration ${migration} ran, so knexsafe ended it${pids.length ? ` (cancelled its running statement, pid ${pids.join(', ')})` : ''}.`,
        pids,
      ),
    );
    return observer.cancel(pids);
  };
  observer.onSessionLost = (error) => {
    const state = sqlState(error);
    end(
      new MigrationEnded(
        'session-lost',
        migration,
        `The server ended the session of migration ${migration}'s transaction${error ? ` (${state ? `SQLSTATE ${state}: ` : ''}${errorMessage(error)})` : ''} while the migration waited for something else, so knexsafe ended the migration.`,
        [],
        error,
      ),
    );
  };
  return {
    ended,
    stop() {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearTimeout(t);
      observer.onSessionLost = undefined;
      observer.onInterrupt = undefined;
    },
  };
}

/** The user-facing error for a migration knexsafe ended, with what is applied now and the lock's state. */
export function migrationEndedError(ended: MigrationEnded, outcome: string, hint: string): KnexsafeError {
  const code = ({ timeout: 'MIGRATION_TIMEOUT', idle: 'MIGRATION_IDLE', 'session-lost': 'SESSION_LOST', interrupted: 'INTERRUPTED' } as const)[ended.reason];
  return new KnexsafeError(code, `${ended.message} ${outcome}`, {
    exitCode: 1,
    cause: ended.sessionError ?? ended,
    hint,
    details: { migration: ended.migration, reason: ended.reason, ...(ended.cancelled.length ? { cancelledPids: ended.cancelled } : {}) },
  });
}
