import type { Rule } from '../types.js';

export const RULES: readonly Rule[] = [];
