import type { Rule } from '../types.js';
import { dropTable } from './drop-table.js';
import { knexAlterDropsDefault } from './knex-alter-drops-default.js';
import { knexDropUniqueOnIndex } from './knex-drop-unique-on-index.js';
import { knexEnumTypeLeak } from './knex-enum-type-leak.js';
import { knexUnsignedIgnored } from './knex-unsigned-ignored.js';
import { renameColumn } from './rename-column.js';
import { renameTable } from './rename-table.js';

/** Breaking changes, knex pitfalls, reversibility and style. */
export const RULES: readonly Rule[] = [dropTable, renameColumn, renameTable, knexAlterDropsDefault, knexEnumTypeLeak, knexUnsignedIgnored, knexDropUniqueOnIndex];
