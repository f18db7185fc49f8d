/**
 * Words of a migration name: snake_case checks, vague-name warnings, and the small amount of
 * English inflection the grammar needs (user_id → users).
 */

/** `AddEmailToUsers`, `add-email-to-users`, `add email to users` → `add_email_to_users`. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[\s\-.]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '')
    .toLowerCase();
}

export function isSnakeCase(name: string): boolean {
  return /^[a-z0-9]+(_[a-z0-9]+)*$/.test(name);
}

/** Words that say a change happened without saying which. */
const VAGUE_WORDS = new Set([
  'update',
  'updates',
  'fix',
  'fixes',
  'change',
  'changes',
  'misc',
  'stuff',
  'temp',
  'tmp',
  'test',
  'wip',
  'migration',
  'migrations',
  'new',
  'patch',
  'tweak',
  'tweaks',
  'cleanup',
  'modify',
  'modifications',
  'edit',
  'edits',
  'schema',
  'db',
  'database',
  'refactor',
  'more',
  'various',
  'another',
  'final',
  'todo',
  'init',
  'initial',
  'stuff',
  'things',
  'alter',
  'tables',
  'table',
  'columns',
  'column',
  'v2',
  'v3',
  'again',
  'work',
]);

/**
 * A warning with a suggestion when the name does not say what changes (`update`, `fix_users`,
 * `changes_2`), or undefined. `tables` (known table names) makes the suggestion concrete.
 */
export function vagueNameWarning(words: string[], tables: string[] = []): string | undefined {
  const meaningful = words.filter((w) => !/^\d+$/.test(w));
  if (meaningful.length === 0) return `The name says nothing about the change. ${suggestion(undefined)}`;
  const vague = meaningful.filter((w) => VAGUE_WORDS.has(w));
  const rest = meaningful.filter((w) => !VAGUE_WORDS.has(w));
  if (vague.length === meaningful.length || (VAGUE_WORDS.has(meaningful[0]!) && rest.length <= 1)) {
    const table = rest.length === 1 ? (tables.find((t) => t === rest[0]) ?? rest[0]) : undefined;
    return `"${words.join('_')}" is vague: a name should say what changes, so that the history reads as a changelog and the down can be written from it. ${suggestion(table)}`;
  }
  return undefined;
}

function suggestion(table: string | undefined): string {
  const t = table ?? '<table>';
  return `Try e.g. add_<column>_to_${t}, drop_<column>_from_${t}, rename_<old>_to_<new>_in_${t}, change_<column>_to_<type>_in_${t}, add_index_on_${t}_<columns>, or create_${table ?? '<table>'}_table (knexsafe make --help lists every shape).`;
}

/** Plural spellings a singular noun may have as a table name, most likely first. */
export function pluralCandidates(singular: string): string[] {
  const out: string[] = [];
  const irregular: Record<string, string> = { person: 'people', child: 'children', man: 'men', woman: 'women', mouse: 'mice', datum: 'data', index: 'indices', status: 'statuses' };
  if (irregular[singular]) out.push(irregular[singular]);
  if (/[^aeiou]y$/.test(singular)) out.push(`${singular.slice(0, -1)}ies`);
  if (/(s|x|z|ch|sh)$/.test(singular)) out.push(`${singular}es`);
  out.push(`${singular}s`, singular);
  return [...new Set(out)];
}

/** `orders` → `order`, `categories` → `category`, `addresses` → `address`; unchanged when not plural. */
export function singular(plural: string): string {
  const irregular: Record<string, string> = { people: 'person', children: 'child', men: 'man', women: 'woman', mice: 'mouse', data: 'datum', statuses: 'status' };
  const words = plural.split('_');
  const last = words[words.length - 1] ?? plural;
  let one: string;
  if (irregular[last]) one = irregular[last];
  else if (/[^aeiou]ies$/.test(last)) one = `${last.slice(0, -3)}y`;
  else if (/(ss|x|z|ch|sh)es$/.test(last)) one = last.slice(0, -2);
  else if (/[^s]s$/.test(last)) one = last.slice(0, -1);
  else one = last;
  words[words.length - 1] = one;
  return words.join('_');
}

/** PostgreSQL cuts identifiers at 63 bytes; knexsafe keeps generated names within it, readably. */
export function identifierWithin63(name: string): string {
  if (Buffer.byteLength(name) <= 63) return name;
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const suffix = `_${hash.toString(36).slice(0, 6)}`;
  return name.slice(0, 63 - suffix.length) + suffix;
}
