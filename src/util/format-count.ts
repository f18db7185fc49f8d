/**
 * A count rounded to a whole number, with thousands separators (`1,234,567`), as
 * `toLocaleString('en-US')` prints it but without loading ICU's number formatting (~20 ms the
 * first time, on check's path).
 */
export function formatCount(n: number): string {
  const whole = String(Math.abs(Math.round(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n <= -0.5 ? `-${whole}` : whole;
}
