/**
 * How schema objects are named in messages: qualified names lose their `public.` prefix (the
 * snapshot and `SchemaChange.object` keep it); other schemas stay visible.
 */
export function displayName(qualified: string): string {
  return qualified.startsWith('public.') ? qualified.slice('public.'.length) : qualified;
}

/**
 * A printed SQL value (a default, a definition) made easier to read: a literal with a cast
 * (`'new'::character varying`) shows as the literal, `public.` qualifiers are dropped. For messages
 * only; comparisons always use the text PostgreSQL printed.
 */
export function displaySql(text: string | null): string {
  if (text === null) return 'none';
  const literal = /^('(?:[^']|'')*')::[\w ."$]+(?:\(\d+(?:,\d+)?\))?(?:\[\])*$/.exec(text);
  if (literal?.[1] !== undefined) return literal[1];
  return text.replace(/(^|[\s(,=])public\.(?=["A-Za-z_])/g, '$1');
}

/** `public.users.email` → `users.email`; `billing.invoices.total` stays. */
export function displayMember(qualifiedTable: string, member: string): string {
  return `${displayName(qualifiedTable)}.${member}`;
}
