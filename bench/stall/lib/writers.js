// Concurrent writers: N loops over one pg Pool, each doing single-row writes back to back (with an optional
// think time) and recording every write's start and end on the monotonic clock.
import pg from 'pg';

export const WRITER_APP = 'ks_stall_writer';

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Writers {
  /**
   * @param {{ url: string, writers: number, thinkMs: number, maxUserId: number, accounts: number, tag: string }} o
   */
  constructor(o) {
    this.o = o;
    this.pool = new pg.Pool({
      connectionString: o.url,
      max: o.writers,
      application_name: WRITER_APP,
      connectionTimeoutMillis: 10_000,
    });
    this.pool.on('error', () => {}); // an idle client dropped by DROP DATABASE … FORCE during cleanup
    const cap = 1 << 20;
    this.rec = { start: new Float64Array(cap), end: new Float64Array(cap), ok: new Uint8Array(cap), kind: new Uint8Array(cap), n: 0 };
    this.kinds = ['update users', 'insert users', 'update accounts'];
    this.errors = new Map();
    this.stopped = false;
    this.loops = [];
    this.seq = 0;
  }

  async start() {
    // Open every connection up front so connection set-up is not measured as write latency.
    const clients = await Promise.all(Array.from({ length: this.o.writers }, () => this.pool.connect()));
    for (const c of clients) c.release();
    for (let i = 0; i < this.o.writers; i++) this.loops.push(this.loop(i));
  }

  nextWrite() {
    const r = Math.random();
    if (r < 0.6) {
      const id = 1 + Math.floor(Math.random() * this.o.maxUserId);
      return [0, 'UPDATE users SET amount = amount + 1, score = score + 1, updated_at = now() WHERE id = $1', [id]];
    }
    if (r < 0.85) {
      const n = ++this.seq;
      const account = 1 + Math.floor(Math.random() * this.o.accounts);
      return [1, 'INSERT INTO users (email, name, account_id, amount, score, created_at) VALUES ($1, $2, $3, 0, 0, now())', [`writer-${this.o.tag}-${n}@example.com`, `Writer ${n}`, account]];
    }
    const account = 1 + Math.floor(Math.random() * this.o.accounts);
    return [2, 'UPDATE accounts SET balance = balance + 1, updated_at = now() WHERE id = $1', [account]];
  }

  record(s, e, ok, kind) {
    const r = this.rec;
    if (r.n >= r.start.length) {
      for (const k of ['start', 'end', 'ok', 'kind']) {
        const bigger = new r[k].constructor(r[k].length * 2);
        bigger.set(r[k]);
        r[k] = bigger;
      }
    }
    r.start[r.n] = s;
    r.end[r.n] = e;
    r.ok[r.n] = ok ? 1 : 0;
    r.kind[r.n] = kind;
    r.n++;
  }

  async loop() {
    while (!this.stopped) {
      const [kind, sql, params] = this.nextWrite();
      const s = now();
      let ok = true;
      try {
        await this.pool.query(sql, params);
      } catch (err) {
        ok = false;
        const key = `${this.kinds[kind]}: ${err.code ?? ''} ${String(err.message).slice(0, 120)}`;
        this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
        if (this.stopped) break;
      }
      this.record(s, now(), ok, kind);
      if (this.o.thinkMs > 0) await sleep(this.o.thinkMs);
    }
  }

  async stop() {
    this.stopped = true;
    await Promise.allSettled(this.loops);
    await this.pool.end().catch(() => {});
  }
}
