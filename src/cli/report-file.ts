import fs from 'node:fs';
import path from 'node:path';
import { KnexsafeError, errorMessage } from '../errors.js';
import { redactSecrets } from '../util/redact.js';
import type { Output } from './output.js';

/** Formats `--output <file>` takes: the ones meant to be opened or posted rather than piped. */
export const FILE_FORMATS = ['html', 'markdown'] as const;

export function checkOutputFlag(format: string, output: string | undefined): void {
  if (output !== undefined && !(FILE_FORMATS as readonly string[]).includes(format)) {
    throw new KnexsafeError('BAD_OPTION', `--output goes with --format html or --format markdown (not ${format}); other formats print to stdout, redirect them with >.`);
  }
}

/** A report to stdout, or to `output` (relative to the shell's directory, as a redirect would be). */
export function emitReport(out: Output, text: string, output: string | undefined): void {
  if (output === undefined) {
    out.raw(text);
    return;
  }
  writeReportFile(output, text);
  out.error(`Wrote ${output}`);
}

export function writeReportFile(file: string, text: string): void {
  try {
    fs.writeFileSync(path.resolve(file), redactSecrets(text));
  } catch (error) {
    throw new KnexsafeError('OUTPUT_FAILED', `Could not write ${file}: ${errorMessage(error)}`);
  }
}

/** Where a markdown report's timeline picture goes: next to it, `report.md` → `report.timeline.svg`. */
export function timelineSvgPath(output: string): string {
  const ext = path.extname(output);
  return `${ext ? output.slice(0, -ext.length) : output}.timeline.svg`;
}
