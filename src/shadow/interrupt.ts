import { exitProcess } from '../migrations/exit-trap.js';

/**
 * What must run before the process dies on Ctrl-C, SIGTERM or a failure that cannot wait for the
 * command to finish: dropping shadow databases and closing embedded ones. A light module (no knex,
 * no pg) so that it is armed from the first moment something needs undoing.
 */
const cleanups = new Set<() => Promise<unknown>>();
let installed = false;

/** How long the cleanups may take: one stuck on a session that never comes back must not keep the process. */
const CLEANUP_LIMIT_MS = 10_000;

/** Runs `cleanup` if the process is interrupted; the returned function disarms it. */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  if (!installed) {
    installed = true;
    const onSignal = (signal: NodeJS.Signals) => {
      void runInterruptCleanups().finally(() => {
        exitProcess(signal === 'SIGINT' ? 130 : 143);
      });
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/**
 * Runs every armed cleanup now, the process being about to end without the work that armed them
 * finishing; resolves when they are done or after CLEANUP_LIMIT_MS. The timer also keeps the
 * process alive meanwhile: with nothing else pending, Node would end it before the report.
 */
export async function runInterruptCleanups(): Promise<void> {
  const pending = [...cleanups].map((c) => c().catch(() => undefined));
  cleanups.clear();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(pending), new Promise((resolve) => (timer = setTimeout(resolve, CLEANUP_LIMIT_MS)))]);
  clearTimeout(timer);
}
