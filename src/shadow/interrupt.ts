/**
 * What must run before the process dies on Ctrl-C or SIGTERM: dropping shadow databases and
 * closing embedded ones. A light module (no knex, no pg) so that it is armed from the first
 * moment something needs undoing.
 */
const cleanups = new Set<() => Promise<unknown>>();
let installed = false;

/** Runs `cleanup` if the process is interrupted; the returned function disarms it. */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  if (!installed) {
    installed = true;
    const onSignal = (signal: NodeJS.Signals) => {
      const pending = [...cleanups].map((c) => c().catch(() => undefined));
      void Promise.all(pending).finally(() => {
        process.exit(signal === 'SIGINT' ? 130 : 143);
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

/** Runs every armed cleanup now: the process is about to end without the work that armed them finishing. */
export async function runInterruptCleanups(): Promise<void> {
  const pending = [...cleanups].map((c) => c().catch(() => undefined));
  cleanups.clear();
  await Promise.all(pending);
}
