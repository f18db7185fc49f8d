import type { Rule } from '../types.js';
import { dropColumn } from './drop-column.js';
import { indexNotConcurrent } from './index-not-concurrent.js';
import { truncateTable } from './truncate-table.js';
import { pgVersionUnsupported } from './pg-version-unsupported.js';

/** Rules written with the engine, as the models for the others. */
export const CORE_RULES: readonly Rule[] = [indexNotConcurrent, dropColumn, truncateTable, pgVersionUnsupported];
