import { jsIsEsm } from '../util/module-type.js';

export type FileExtension = 'js' | 'ts' | 'mjs' | 'cjs';
export type ModuleStyle = 'cjs' | 'esm' | 'ts';

/** How a new file of this extension must export its functions in this folder. */
export function moduleStyle(extension: FileExtension, directory: string): ModuleStyle {
  if (extension === 'ts') return 'ts';
  if (extension === 'mjs') return 'esm';
  if (extension === 'cjs') return 'cjs';
  return jsIsEsm(directory) ? 'esm' : 'cjs';
}

export function isFileExtension(value: string): value is FileExtension {
  return value === 'js' || value === 'ts' || value === 'mjs' || value === 'cjs';
}
