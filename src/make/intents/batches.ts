import { ident, jsString as js } from '../../codegen/index.js';
import { indent } from './writer.js';

// Key-range batch loops, for backfills and the copy step of an expand/contract type change.

/**
 * Lines of a loop that walks the table's key in order, BATCH_SIZE keys at a time, and runs one
 * UPDATE per key range (`updateCode`: a JS string expression ending in `BETWEEN ? AND ?`). Each
 * statement commits on its own when the migration runs without a transaction; the loop ends
 * whatever the UPDATE writes.
 */
export function keysetLoop(table: string, key: string, updateCode: string, ts: boolean): string[] {
  const t = ident(table);
  const k = ident(key);
  const prop = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${js(key)}]`;
  const bang = ts ? '!' : '';
  return [
    ts ? `let last: string | number | null = null;` : `let last = null;`,
    `for (;;) {`,
    ...indent([
      `const { rows }${ts ? `: { rows: { ${/^[A-Za-z_$][\w$]*$/.test(key) ? key : js(key)}: string | number }[] }` : ''} = await knex.raw(`,
      ...indent([
        `last === null`,
        `  ? ${js(`SELECT ${k} FROM ${t} ORDER BY ${k} LIMIT ?`)}`,
        `  : ${js(`SELECT ${k} FROM ${t} WHERE ${k} > ? ORDER BY ${k} LIMIT ?`)},`,
        `last === null ? [BATCH_SIZE] : [last, BATCH_SIZE],`,
      ]),
      `);`,
      `if (rows.length === 0) break;`,
      `last = rows[rows.length - 1]${bang}${prop};`,
      `await knex.raw(${updateCode}, [rows[0]${bang}${prop}, last]);`,
      `await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));`,
    ]),
    `}`,
  ];
}

export function batchPreamble(size: number): string[] {
  return [`const BATCH_SIZE = ${size};`, `const PAUSE_MS = 50; // between batches: lets replicas, WAL archiving and autovacuum keep up`];
}
