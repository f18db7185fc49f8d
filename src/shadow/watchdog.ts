import { Worker } from 'node:worker_threads';

/** How long a migration (and, on a server shadow, a statement) may run on a shadow by default. */
export const ANALYSIS_TIMEOUT_MS = 5 * 60_000;

/**
 * The last resort for the embedded shadow. PGlite runs PostgreSQL on the main thread and ignores
 * statement_timeout, so a statement that never ends (pg_sleep(1e6), a runaway recursive query)
 * keeps every timer of this thread from firing, Ctrl-C included. This worker thread watches a
 * deadline the main thread sets before each migration: once it has passed by GRACE_MS (the main
 * thread, had it been free, would have ended the migration itself), it prints why, removes the
 * shadow's folder and ends the process — it cannot be stopped more gently.
 */
const GRACE_MS = 2000;

const WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const deadline = new Float64Array(workerData.shared);
setInterval(() => {
  const at = deadline[0];
  if (at > 0 && Date.now() > at + ${GRACE_MS}) {
    try { fs.writeSync(2, workerData.message.replace('{migration}', workerData.names[deadline[1]] || 'a migration') + '\\n'); } catch {}
    try { if (workerData.dataDir) fs.rmSync(workerData.dataDir, { recursive: true, force: true }); } catch {}
    process.kill(process.pid, 'SIGKILL');
  }
}, 250);
`;

export interface Watchdog {
  /** A migration starts: it must end within the timeout. `index` names it in the message. */
  arm(index: number): void;
  disarm(): void;
  stop(): Promise<void>;
}

export function startWatchdog(options: { timeoutMs: number; dataDir: string | undefined; names: string[] }): Watchdog {
  const shared = new SharedArrayBuffer(16);
  const deadline = new Float64Array(shared);
  const message = `error knexsafe ended itself: {migration} ran longer than --timeout ${Math.round(options.timeoutMs / 1000)} s on the embedded shadow, inside one statement. PGlite (PostgreSQL in WebAssembly) ignores statement_timeout and cannot interrupt a statement, so the process was killed (exit 137) and the shadow removed. Use --shadow-url for a shadow where a statement is cancelled cleanly, or raise --timeout.`;
  const worker = new Worker(WORKER, { eval: true, workerData: { shared, dataDir: options.dataDir, message, names: options.names } });
  worker.unref();
  return {
    arm(index) {
      deadline[1] = index;
      deadline[0] = Date.now() + options.timeoutMs;
    },
    disarm() {
      deadline[0] = 0;
    },
    async stop() {
      deadline[0] = 0;
      await worker.terminate();
    },
  };
}
