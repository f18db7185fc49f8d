import v8 from 'node:v8';

/**
 * WebAssembly runs on V8's baseline compiler (Liftoff) alone. By default V8 also recompiles hot
 * WebAssembly with TurboFan on background threads: for PGlite (PostgreSQL in WebAssembly) and
 * libpg-query, seconds of CPU that a short command never earns back. On a two-core machine those
 * threads took the cores the shadow's PostgreSQL and the main thread needed: check on the bench
 * chain spent 0.37 s (server shadow) and 3 s (embedded) of CPU on them, and ran 5 % and 20 %
 * faster without. Only the CLI sets this: the library leaves the host process's flags alone.
 * Imported first by main.ts, before anything compiles WebAssembly.
 */
v8.setFlagsFromString('--liftoff-only');
