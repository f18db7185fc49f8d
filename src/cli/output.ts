import pc from 'picocolors';
import type { Colors } from '../util/colors.js';
import { redactObject, redactSecrets } from '../util/redact.js';

export type { Colors } from '../util/colors.js';

/**
 * Everything the CLI prints goes through here: results to stdout (text or JSON), progress and
 * diagnostics to stderr, all redacted. With --json, stdout carries exactly one JSON document.
 */
export class Output {
  readonly c: Colors;

  constructor(
    readonly json: boolean,
    readonly debug: boolean,
    colorEnabled: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {
    this.c = pc.createColors(colorEnabled);
  }

  /** A line of the human result (suppressed under --json). */
  line(text = ''): void {
    if (!this.json) this.stdout.write(`${redactSecrets(text)}\n`);
  }

  /** Progress for people at a terminal; stderr, so that stdout stays parseable, and only on a TTY. */
  progress(text: string): void {
    if (!this.json && (this.stderr as { isTTY?: boolean }).isTTY) this.stderr.write(`${redactSecrets(text)}\n`);
  }

  /** Per-item results people want even in logs (migration timings): stderr, suppressed under --json. */
  status(text: string): void {
    if (!this.json) this.stderr.write(`${redactSecrets(text)}\n`);
  }

  warn(text: string): void {
    this.stderr.write(`${this.c.yellow('warning')} ${redactSecrets(text)}\n`);
  }

  /** The machine result: printed only under --json. */
  result(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(redactObject(value), jsonReplacer, 2)}\n`);
  }

  error(text: string): void {
    this.stderr.write(`${redactSecrets(text)}\n`);
  }

  raw(text: string): void {
    this.stdout.write(redactSecrets(text));
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

export function colorWanted(flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return pc.isColorSupported && Boolean(process.stdout.isTTY);
}

/** A plain text table; widths from the visible text (colour codes excluded). */
export function table(headers: string[], rows: string[][], c: Colors): string {
  // eslint-disable-next-line no-control-regex
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes, which start with ESC.
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - visible(s)));
  const head = headers.map((h, i) => c.bold(pad(h, widths[i] ?? 0))).join('  ');
  const body = rows.map((r) =>
    r
      .map((cell, i) => pad(cell, widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return [head.trimEnd(), ...body].join('\n');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}
