import { subscribe } from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import v8 from 'node:v8';

/**
 * V8 settings for a command that runs for seconds, not hours. Only the CLI sets them: the library
 * leaves the host process's flags alone. Imported first by main.ts, before anything compiles
 * WebAssembly. Measured on the bench chain on a two-core machine (bench/README.md):
 *
 * - WebAssembly runs on the baseline compiler (Liftoff) alone. By default V8 also recompiles hot
 *   WebAssembly with TurboFan on background threads: for PGlite (PostgreSQL in WebAssembly) and
 *   libpg-query, seconds of CPU that a short command never earns back, taken from the cores the
 *   shadow's PostgreSQL and the main thread need. check spent 0.37 s (server shadow) and 3 s
 *   (embedded) of CPU on it, and ran 5 % and 20 % faster without.
 * - JavaScript is optimized only once it is ~15 times hotter than V8's default asks: check then
 *   used 0.3 s less CPU (1.8 s → 1.5 s), compiling less of what runs a few hundred times. Set on
 *   V8 11 (Node 20) only, where the flag was measured: V8 reports a flag it does not know on stderr.
 * - The young generation stops growing at its first size (semi-spaces of 1–2 MB): V8 doubles it up to
 *   16 MB semi-spaces (32 MB, touched, of an embedded check's ~206 MB peak) though the live heap is
 *   ~20 MB. Peak −18 to −20 MiB on the 120-migration chains, CPU unchanged within noise
 *   (bench/results/embedded-lean-2026-12-08.md). `--max-semi-space-size` would say it directly but
 *   is read only at start-up. V8 raises a growth factor below 2 back to 2 whenever an isolate starts
 *   (a worker thread: the embedded shadow's watchdog), so it is set again once each worker is online.
 * - WebAssembly functions are validated when they are first compiled, not all up front: V8 compiles
 *   them lazily already, and a command calls a small part of a module. libpg-query's 1.7 MB took
 *   ~50 M instructions (~12 ms of CPU) to validate at every `check file.sql`, PGlite's more. The
 *   modules are the packages' own and valid (a broken function would fail when first called, not at
 *   load). V8 11 only, as above.
 */
v8.setFlagsFromString('--liftoff-only');
if (Number(process.versions.v8.split('.')[0]) === 11) {
  v8.setFlagsFromString('--interrupt-budget=1048576');
  v8.setFlagsFromString('--wasm-lazy-validation');
}

const YOUNG_GENERATION_STAYS = '--semi-space-growth-factor=1';
v8.setFlagsFromString(YOUNG_GENERATION_STAYS);
subscribe('worker_threads', (message) => {
  (message as { worker: Worker }).worker.once('online', () => v8.setFlagsFromString(YOUNG_GENERATION_STAYS));
});
