import { KnexsafeError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `5s`, `500ms`, `1.5 s`, `2min`, `1h`, `0` (disabled) → milliseconds. Numbers (from config) are
 * milliseconds, as in PostgreSQL's own settings.
 */
export function parseDuration(value: string | number, what: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  } else {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)?\s*$/i.exec(value);
    if (match) {
      const unit = (match[2] ?? 'ms').toLowerCase();
      return Math.round(Number(match[1]) * (UNITS[unit] ?? 1));
    }
  }
  throw new KnexsafeError('BAD_OPTION', `${what} takes a duration such as 5s, 500ms or 2min, not "${String(value)}".`);
}

/** Milliseconds as PostgreSQL reads a time setting (`5000ms`; `0` disables it). */
export function pgDuration(ms: number): string {
  return `${Math.max(0, Math.round(ms))}ms`;
}

export function humanDuration(ms: number): string {
  if (ms === 0) return 'off';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(2))} s`;
  return `${ms} ms`;
}
