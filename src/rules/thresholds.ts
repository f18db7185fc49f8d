import type { Thresholds } from './types.js';

/** Sizes above which a blocking lock on an existing table is an error rather than a warning. */
export const DEFAULT_THRESHOLDS: Thresholds = { largeTableRows: 100_000, largeTableBytes: 100 * 1024 * 1024 };
