import path from 'node:path';
import { knexTimestamp } from '../util/timestamp.js';

/**
 * File names for the migrations a fix adds. knex runs migrations in file-name order, so the steps
 * of a recipe get timestamps right after the migration they come from (before the next one), and
 * a migration for an applied one goes after the last.
 */

const STAMP = /^(\d{14})(?=_)/;

function stampToMs(stamp: string): number {
  const n = (from: number, to: number) => Number(stamp.slice(from, to));
  return Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14));
}

/**
 * Names for `slugs.length` new migrations right after `after` and before `next` (file names, with
 * extension), not in `taken`. Timestamps one second apart when there is room; otherwise the new
 * files extend the original's name (`…_users_2_backfill.js` sorts right after `…_users.js`).
 */
export function namesAfter(after: string, next: string | undefined, slugs: string[], taken: ReadonlySet<string>): string[] {
  const ext = path.extname(after);
  const stem = after.slice(0, after.length - ext.length);
  const stamp = STAMP.exec(after)?.[1];
  const fits = (names: string[]) => names.every((n, i) => n > after && (next === undefined || n < next) && !taken.has(n) && (i === 0 || n > names[i - 1]!));
  if (stamp && !Number.isNaN(stampToMs(stamp))) {
    const base = stampToMs(stamp);
    const names = slugs.map((slug, i) => `${knexTimestamp(new Date(base + (i + 1) * 1000))}_${slug}${ext}`);
    if (fits(names)) return names;
  }
  return slugs.map((slug, i) => `${stem}_${i + 2}_${slug}${ext}`);
}

/** A name for a new migration after every existing one (`last`): now, or a second after the last. */
export function nameAtEnd(last: string | undefined, slug: string, ext: string, taken: ReadonlySet<string>, now = new Date()): string {
  const lastStamp = last ? STAMP.exec(last)?.[1] : undefined;
  let when = now.getTime();
  if (lastStamp && stampToMs(lastStamp) >= when) when = stampToMs(lastStamp) + 1000;
  for (;;) {
    const name = `${knexTimestamp(new Date(when))}_${slug}${ext}`;
    if (!taken.has(name) && (last === undefined || name > last)) return name;
    when += 1000;
  }
}

const STOP = new Set(['a', 'an', 'the', 'of', 'in', 'on', 'to', 'and', 'by', 'its', 'it', 'this', 'that', 'so', 'with']);

function slugify(text: string, words = 6): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((w, i) => w && (i === 0 || !STOP.has(w)))
    .slice(0, words)
    .join('_');
}

/** What a migration's SQL or knex calls do, in a few words: `drop_name_from_users`, `validate_x`, `backfill_users_full_name`. */
function whatItDoes(code: string): string | undefined {
  const knexDrop = /alterTable\('(\w+)'[\s\S]*?\.dropColumn\('(\w+)'\)/.exec(code);
  if (knexDrop) return `drop_${knexDrop[2]}_from_${knexDrop[1]}`;
  const drop = /ALTER TABLE (?:\w+\.)?"?(\w+)"? DROP COLUMN (?:IF EXISTS )?"?(\w+)"?/i.exec(code);
  if (drop) return `drop_${drop[2]}_from_${drop[1]}`;
  const update = /UPDATE (?:\w+\.)?"?(\w+)"? SET "?(\w+)"?/i.exec(code);
  if (update) return `backfill_${update[1]}_${update[2]}`;
  const validate = /VALIDATE CONSTRAINT "?(\w+)"?/i.exec(code);
  if (validate) return `validate_${validate[1]}`;
  const notNull = /ALTER TABLE (?:\w+\.)?"?(\w+)"? ALTER COLUMN "?(\w+)"? SET NOT NULL/i.exec(code);
  if (notNull) return `set_${notNull[2]}_not_null_in_${notNull[1]}`;
  const notValid = /ADD CONSTRAINT "?(\w+)"? [^'`]*NOT VALID/i.exec(code);
  if (notValid) return `add_${notValid[1]}_not_valid`;
  const add = /ALTER TABLE (?:\w+\.)?"?(\w+)"? ADD COLUMN (?:IF NOT EXISTS )?"?(\w+)"?/i.exec(code);
  if (add) return `add_${add[2]}_to_${add[1]}`;
  const index = /CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?"?(\w+)"?/i.exec(code);
  if (index) return `create_index_${index[1]}`;
  return undefined;
}

/**
 * A name for one migration of a recipe: from its first comment (`// 2. Backfill full_name from name
 * in batches` → `backfill_full_name_from_name_batches`), or from what its SQL does.
 */
export function slugForPart(code: string, original: string): string {
  const comment = /^\s*\/\/\s*(.+)$/m.exec(code)?.[1] ?? '';
  const originalSlug = original.replace(/\.[^.]+$/, '').replace(/^\d+_/, '');
  // What the SQL does names it best; the comment when the SQL says nothing recognisable.
  // The up function only: a down that re-adds what up drops says the opposite.
  const up = code.split(/^(?:exports\.down|export (?:async function|const) down)\b/m)[0]!;
  const fromCode = whatItDoes(up.replace(/^\s*\/\/.*$/gm, ''));
  if (fromCode) return fromCode;
  const lead = comment
    .replace(/^\d+\.\s*/, '')
    .replace(/^(Expand \/ contract, )?step \d+ of \d+(\s*\([^)]*\))?:\s*/i, '')
    .split(/[,;.(—–]/)[0]!;
  if (/^The statements of .* after this change/.test(comment)) return `${originalSlug.replace(/(_rest)+$/, '')}_rest`;
  return slugify(lead, 5) || `${originalSlug}_step`;
}
