import type { Rule } from '../types.js';
import { addPrimaryKeyLocks } from './add-primary-key-locks.js';
import { checkNotValid } from './check-not-valid.js';
import { concurrentlyInTransaction } from './concurrently-in-transaction.js';
import { dropIndexNotConcurrent } from './drop-index-not-concurrent.js';
import { foreignKeyNotValid } from './foreign-key-not-valid.js';
import { uniqueConstraintLocks } from './unique-constraint-locks.js';
import { validateInSameTransaction } from './validate-in-same-transaction.js';

/** Index and constraint lock hazards (one module each; shared fix code in locks-a-fixes.ts). */
export const RULES: readonly Rule[] = [dropIndexNotConcurrent, concurrentlyInTransaction, uniqueConstraintLocks, addPrimaryKeyLocks, foreignKeyNotValid, checkNotValid, validateInSameTransaction];
