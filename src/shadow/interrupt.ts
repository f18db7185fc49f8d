import { exitImmediately, exitProcess } from '../util/exit-trap.js';

/**
 * What must run before the process dies on Ctrl-C, SIGTERM or a failure that cannot wait for the
 * command to finish: dropping shadow databases, removing embedded ones, ending a migration. A light
 * module (no knex, no pg) so that it is armed from the first moment something needs undoing.
 */
interface Cleanup {
  run: () => Promise<unknown>;
  /** What it does, for the line printed on Ctrl-C: "dropping the shadow database …". */
  what: string | (() => string | undefined) | undefined;
  /** Exit as soon as it is done, without another turn of the event loop (see onInterrupt). */
  atOnce: boolean;
}

const cleanups = new Set<Cleanup>();
let installed = false;
let stopping = false;

/**
 * How long the cleanups may take: Ctrl-C must end the process within 2 s, and one stuck on a
 * session that never comes back must not keep it. What is left then (a shadow folder or database)
 * is removed by the next run (src/db/embedded.ts, src/shadow/server-database.ts).
 */
const CLEANUP_LIMIT_MS = 1500;

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    // A second Ctrl-C: the user does not want to wait for the cleanups either.
    exitProcess(signal === 'SIGINT' ? 130 : 143);
  }
  const code = signal === 'SIGINT' ? 130 : 143;
  // setImmediate: a report the cleanups let the command print (latest's outcome) goes out first —
  // unless a cleanup removes an embedded database a migration may still be running on: its next
  // statement would spin forever in PGlite (in a microtask queued before ours) and never give the loop back.
  if ([...cleanups].some((c) => c.atOnce)) {
    // Its synchronous part (removing the folder) runs now; waiting for more would let the
    // migration's next statement run first. Nothing it started can end any better than this.
    void runInterruptCleanups(true);
    exitImmediately(code);
  }
  void runInterruptCleanups(true).finally(() => setImmediate(() => exitProcess(code)));
}

/**
 * Runs `cleanup` if the process is interrupted; the returned function disarms it. The signal
 * handlers are there only while something is armed: a program using the library (a test runner,
 * an editor's server) keeps its own Ctrl-C behaviour between knexsafe's runs.
 */
export function onInterrupt(cleanup: () => Promise<unknown>, what?: string | (() => string | undefined), options: { atOnce?: boolean } = {}): () => void {
  if (!installed) {
    installed = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const entry: Cleanup = { run: cleanup, what, atOnce: options.atOnce === true };
  cleanups.add(entry);
  return () => {
    cleanups.delete(entry);
    if (cleanups.size === 0 && installed && !stopping) {
      installed = false;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };
}

/**
 * Runs every armed cleanup now, the process being about to end without the work that armed them
 * finishing; resolves when they are done or after CLEANUP_LIMIT_MS. The timer also keeps the
 * process alive meanwhile: with nothing else pending, Node would end it before the report.
 * `say` prints "stopping: …" on stderr first (Ctrl-C), so the wait is never silent.
 */
export async function runInterruptCleanups(say = false): Promise<void> {
  stopping = true;
  const armed = [...cleanups];
  cleanups.clear();
  if (say) {
    const whats = [...new Set(armed.map((c) => (typeof c.what === 'function' ? c.what() : c.what)).filter((w): w is string => Boolean(w)))];
    process.stderr.write(`stopping: ${whats.length ? `${whats.join('; ')}…` : 'nothing to undo'}\n`);
  }
  const pending = armed.map((c) => c.run().catch(() => undefined));
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([Promise.all(pending).then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLEANUP_LIMIT_MS)))]);
  clearTimeout(timer);
  if (say && !done) process.stderr.write('stopping: not finished in time; the next knexsafe run removes what is left\n');
}
