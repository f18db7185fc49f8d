import type { Rule } from '../types.js';
import { downMissing } from './down-missing.js';
import { dropTable } from './drop-table.js';
import { knexAlterDropsDefault } from './knex-alter-drops-default.js';
import { knexDropUniqueOnIndex } from './knex-drop-unique-on-index.js';
import { knexEnumTypeLeak } from './knex-enum-type-leak.js';
import { knexNotAwaited } from './knex-not-awaited.js';
import { knexUnsignedIgnored } from './knex-unsigned-ignored.js';
import { preferBigintIds } from './prefer-bigint-ids.js';
import { preferIdentity } from './prefer-identity.js';
import { preferJsonb } from './prefer-jsonb.js';
import { preferTextOverVarchar } from './prefer-text-over-varchar.js';
import { preferTimestamptz } from './prefer-timestamptz.js';
import { renameColumn } from './rename-column.js';
import { renameTable } from './rename-table.js';

/** Breaking changes, knex pitfalls, reversibility and style. */
export const RULES: readonly Rule[] = [
  dropTable,
  renameColumn,
  renameTable,
  knexAlterDropsDefault,
  knexEnumTypeLeak,
  knexUnsignedIgnored,
  knexDropUniqueOnIndex,
  knexNotAwaited,
  downMissing,
  preferTextOverVarchar,
  preferTimestamptz,
  preferBigintIds,
  preferIdentity,
  preferJsonb,
];
