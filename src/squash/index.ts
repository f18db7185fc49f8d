export { squash, type SquashOptions, type SquashResult, type SquashProof, type DdlSource } from './squash.js';
export { applySquashHistory, restoreSquashHistory, classify, type ApplyHistoryOptions, type ApplyHistoryResult, type RestoreHistoryResult, type HistoryRow, type ManifestState } from './history.js';
export { findManifests, ARCHIVE_FOLDER, MANIFEST_FILE, type SquashManifest } from './manifest.js';
export { readCatalog } from './catalog.js';
export type { CatalogModel } from '../schema/catalog-model.js';
export { generateDdl, type BaselineDdl } from './ddl.js';
export { readBaselineData, dataFingerprint, diffFingerprints } from './data.js';
export { findPgDump, dumpDdl, cleanDump } from './pg-dump.js';
export { renderBaseline, baselineFileName, templateLiteral } from './baseline-file.js';
