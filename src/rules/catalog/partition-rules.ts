import type { Rule } from '../types.js';
import { attachPartitionScan } from './attach-partition-scan.js';
import { detachPartitionNotConcurrent } from './detach-partition-not-concurrent.js';

/** Partitioned-table hazards (one module each; shared knowledge in ../partitions.ts). */
export const RULES: readonly Rule[] = [attachPartitionScan, detachPartitionNotConcurrent];
