import { describe, expect, it } from 'vitest';
import { formatCount } from '../../src/util/format-count.js';

describe('formatCount', () => {
  it('prints whole numbers as en-US does, rounding fractions', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 1_234_567, 100_000_000, -1234]) expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
    expect(formatCount(2_999_999.6)).toBe('3,000,000');
    expect(formatCount(-0.2)).toBe('0');
  });
});
