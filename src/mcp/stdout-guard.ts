import { Writable } from 'node:stream';

/**
 * Over stdio, stdout carries the protocol and nothing else: one stray line (a migration's
 * console.log, a knexfile's banner, knex's warnings, which it prints with console.log) breaks the
 * client's framing. From here on, only the returned stream writes to the real stdout; everything
 * else written to process.stdout, and console.log/info/debug, goes to stderr.
 */
export function reserveStdout(): { protocolOut: Writable; release(): void } {
  const stdout = process.stdout;
  const originalWrite = stdout.write.bind(stdout) as (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
  const consoleBefore = { log: console.log, info: console.info, debug: console.debug };
  const protocolOut = new Writable({
    write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void) {
      originalWrite(chunk, encoding, callback);
    },
  });
  stdout.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) =>
    (process.stderr.write as (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean)(chunk, encoding, callback)) as typeof stdout.write;
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  return {
    protocolOut,
    release() {
      stdout.write = originalWrite as typeof stdout.write;
      Object.assign(console, consoleBefore);
    },
  };
}
