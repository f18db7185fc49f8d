import { CORE_RULES } from './catalog/core.js';
import { RULES as LOCK_RULES_A } from './catalog/locks-a.js';
import { RULES as LOCK_RULES_B } from './catalog/locks-b.js';
import { RULES as OTHER_RULES } from './catalog/other.js';
import { RULES as PARTITION_RULES } from './catalog/partition-rules.js';
import type { Rule } from './types.js';

/** Every rule knexsafe applies, one module each (src/rules/catalog/<id>.ts). */
export const ALL_RULES: readonly Rule[] = [...CORE_RULES, ...LOCK_RULES_A, ...LOCK_RULES_B, ...OTHER_RULES, ...PARTITION_RULES];

/**
 * The rule of this id (as findings and `knexsafe explain` name it), if there is one.
 * @example
 * console.log(ruleById('index-not-concurrent')?.meta.summary);
 */
export function ruleById(id: string): Rule | undefined {
  return ALL_RULES.find((r) => r.meta.id === id);
}
