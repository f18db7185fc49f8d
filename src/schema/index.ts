export * from './types.js';
export { snapshotSchema, KNEX_TABLES, type SnapshotOptions } from './snapshot.js';
export { compareText } from '../util/compare-text.js';
export { diffSchemas, type DiffOptions } from './diff.js';
export { formatDiff, summarizeDiff, type FormatDiffOptions } from './format.js';
export { displayName, displaySql } from './names.js';
export { normalizeViewDefinition, ensureViewParser } from './view-definition.js';
