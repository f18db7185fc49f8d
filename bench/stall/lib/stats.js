// Latency statistics over recorded writes. Times are milliseconds on one monotonic clock.

/**
 * @param {{start: Float64Array|number[], end: Float64Array|number[], ok: Uint8Array|number[], n: number}} rec
 * @param {number} from window start (ms)
 * @param {number} to window end (ms)
 * @param {'overlap'|'inside'} mode overlap: any write that was in flight during the window; inside: started and ended in it
 */
export function windowStats(rec, from, to, mode = 'overlap') {
  const lat = [];
  let errors = 0;
  let worstAt = null;
  let worst = -1;
  for (let i = 0; i < rec.n; i++) {
    const s = rec.start[i];
    const e = rec.end[i];
    const take = mode === 'overlap' ? e >= from && s <= to : s >= from && e <= to;
    if (!take) continue;
    const d = e - s;
    lat.push(d);
    if (!rec.ok[i]) errors++;
    if (d > worst) {
      worst = d;
      worstAt = s;
    }
  }
  lat.sort((a, b) => a - b);
  const n = lat.length;
  const pct = (p) => (n === 0 ? 0 : lat[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)]);
  return {
    writes: n,
    errors,
    max: n ? lat[n - 1] : 0,
    p50: pct(50),
    p99: pct(99),
    over100: lat.filter((d) => d > 100).length,
    over1000: lat.filter((d) => d > 1000).length,
    worstStart: worstAt,
    seconds: (to - from) / 1000,
  };
}

/**
 * Timeline for the chart: for each bucket, the longest time any write had been waiting by the end of that
 * bucket (a write stuck behind a lock shows as a ramp that drops when the lock is released).
 */
export function bucketMax(rec, from, to, bucketMs) {
  const nb = Math.max(1, Math.ceil((to - from) / bucketMs));
  const out = new Array(nb).fill(0);
  for (let i = 0; i < rec.n; i++) {
    const s = rec.start[i];
    const e = rec.end[i];
    if (e < from || s > to) continue;
    const b0 = Math.max(0, Math.floor((s - from) / bucketMs));
    const b1 = Math.min(nb - 1, Math.floor((e - from) / bucketMs));
    for (let b = b0; b <= b1; b++) {
      const at = Math.min(e, from + (b + 1) * bucketMs);
      const age = at - s;
      if (age > out[b]) out[b] = age;
    }
  }
  return out;
}
