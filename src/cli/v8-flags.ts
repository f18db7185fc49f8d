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
