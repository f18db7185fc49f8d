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
const T = '(?:\\w+\\.)?"?(\\w+)"?';
/** What a statement does, as a name: patterns in the order a recipe step is best named by. */
const ACTIONS: [RegExp, (m: RegExpExecArray) => string][] = [
  [/alterTable\('(\w+)'[\s\S]*?\.dropColumn\('(\w+)'\)/, (m) => `drop_${m[2]}_from_${m[1]}`],
  [new RegExp(`ALTER TABLE ${T} DROP COLUMN (?:IF EXISTS )?"?(\\w+)"?`, 'i'), (m) => `drop_${m[2]}_from_${m[1]}`],
  [new RegExp(`UPDATE ${T} SET "?(\\w+)"?`, 'i'), (m) => `backfill_${m[1]}_${m[2]}`],
  [/VALIDATE CONSTRAINT "?(\w+)"?/i, (m) => `validate_${m[1]}`],
  [new RegExp(`ALTER TABLE ${T} ALTER COLUMN "?(\\w+)"? SET NOT NULL`, 'i'), (m) => `set_${m[2]}_not_null_in_${m[1]}`],
  [/ADD CONSTRAINT "?(\w+)"? [^'`]*NOT VALID/i, (m) => `add_${m[1]}_not_valid`],
  [new RegExp(`ALTER TABLE ${T} ADD COLUMN (?:IF NOT EXISTS )?"?(\\w+)"?`, 'i'), (m) => `add_${m[2]}_to_${m[1]}`],
  [new RegExp(`createTable\\('(\\w+)'|CREATE TABLE (?:IF NOT EXISTS )?${T}`, 'i'), (m) => `create_${m[1] ?? m[2]}_table`],
  [new RegExp(`ALTER TABLE ${T} ALTER COLUMN "?(\\w+)"? (?:SET DATA )?TYPE`, 'i'), (m) => `change_${m[2]}_type_in_${m[1]}`],
  [/RENAME COLUMN "?(\w+)"? TO "?(\w+)"?/i, (m) => `rename_${m[1]}_to_${m[2]}`],
  [new RegExp(`ALTER TABLE ${T} RENAME TO "?(\\w+)"?`, 'i'), (m) => `rename_${m[1]}_to_${m[2]}`],
  [/DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?(?:\w+\.)?"?(\w+)"?/i, (m) => `drop_index_${m[1]}`],
  [/CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?"?(\w+)"?/i, (m) => `create_index_${m[1]}`],
  [/ADD CONSTRAINT "?(\w+)"?/i, (m) => `add_${m[1]}`],
];

/**
 * What a migration's SQL or knex calls do, in a few words: `drop_name_from_users`, `validate_x`,
 * `backfill_users_full_name`. A recipe's step by what matters most in it (`first` false); other
 * migrations (statements moved out of one) by their first statement.
 */
function whatItDoes(code: string, first: boolean): string | undefined {
  const found = ACTIONS.map(([re, name]) => {
    const m = re.exec(code);
    return m ? { at: m.index, name: name(m) } : undefined;
  }).filter((f): f is { at: number; name: string } => f !== undefined);
  if (first) found.sort((a, b) => a.at - b.at);
  return found[0]?.name;
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
  // Only a recipe's own step comments name a step; other comments explain a detail.
  const step = /^(\d+\.|(Expand \/ contract, )?step \d+ of \d+)/i.test(comment);
  // Comments, and the drop of an INVALID index a failed CONCURRENTLY build left, say nothing of what it does.
  const said = up
    .split('\n')
    .filter((l) => !/^\s*\/\//.test(l) && !/\bleftover\b/.test(l))
    .join('\n');
  const fromCode = whatItDoes(said, !step);
  if (fromCode) return fromCode;
  if (!step) return `${originalSlug.replace(/(_rest)+$/, '')}_rest`;
  const lead = comment
    .replace(/^\d+\.\s*/, '')
    .replace(/^(Expand \/ contract, )?step \d+ of \d+(\s*\([^)]*\))?:\s*/i, '')
    .split(/[,;.(—–]/)[0]!;
  return slugify(lead, 5) || `${originalSlug}_step`;
}
