import type { Rule } from '../types.js';
import { addColumnNotNullNoDefault } from './add-column-not-null-no-default.js';
import { addColumnVolatileDefault } from './add-column-volatile-default.js';
import { columnTypeRewrite } from './column-type-rewrite.js';
import { lockHeldAcrossBatch } from './lock-held-across-batch.js';
import { missingLockTimeout } from './missing-lock-timeout.js';
import { setNotNullScan } from './set-not-null-scan.js';
import { tableRewrite } from './table-rewrite.js';
import { rowByRowBackfill } from './row-by-row-backfill.js';
import { unbatchedBackfill } from './unbatched-backfill.js';
import { unexplainedLock } from './unexplained-lock.js';

/** Rewrites, scans and lock duration: NOT NULL, defaults, type changes, batches, lock_timeout, backfills. */
export const RULES: readonly Rule[] = [
  setNotNullScan,
  addColumnVolatileDefault,
  addColumnNotNullNoDefault,
  columnTypeRewrite,
  tableRewrite,
  lockHeldAcrossBatch,
  missingLockTimeout,
  unbatchedBackfill,
  rowByRowBackfill,
  unexplainedLock,
];
