import type { QualifiedName } from '../sql/facts.js';
import { QUOTED_KEYWORDS } from './keywords.js';

/**
 * SQL text for generated code: identifiers, qualified names and string literals, written the way
 * PostgreSQL's quote_ident / quote_literal write them, so generated SQL is valid for every name a
 * migration can use (reserved words, mixed case, non-ASCII, quotes, names at the 63-byte limit).
 */

/** PostgreSQL's identifier limit (NAMEDATALEN - 1): longer names are cut. */
export const MAX_IDENTIFIER_BYTES = 63;

/** The name as PostgreSQL stores it: cut to 63 bytes on a character boundary, as PostgreSQL itself cuts it. */
export function limitName(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name;
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > MAX_IDENTIFIER_BYTES) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** An identifier, quoted only when it must be (quote_ident's test: lower-case ASCII, digits, `_`, not a reserved keyword). */
export function ident(name: string): string {
  const stored = limitName(name);
  return /^[a-z_][a-z0-9_]*$/.test(stored) && !QUOTED_KEYWORDS.has(stored) ? stored : `"${stored.replace(/"/g, '""')}"`;
}

/** Splits a `schema.name` key (knexsafe's snapshot keys) at the first dot; a bare name has no schema. */
export function splitQualified(qualified: string): { schema?: string; name: string } {
  const dot = qualified.indexOf('.');
  return dot < 0 ? { name: qualified } : { schema: qualified.slice(0, dot), name: qualified.slice(dot + 1) };
}

/** The bare name of a `schema.name` key. */
export function bareName(qualified: string): string {
  return splitQualified(qualified).name;
}

/** The schema of a `schema.name` key (`public` when bare). */
export function schemaOf(qualified: string): string {
  return splitQualified(qualified).schema ?? 'public';
}

/** A relation for generated SQL: `users`, `app.users`, `"UserAccounts"`, `app."order"` (public left implicit). */
export function sqlName(name: QualifiedName | string): string {
  const { schema, name: bare } = typeof name === 'string' ? splitQualified(name) : { schema: name.schema, name: name.name };
  return schema && schema !== 'public' ? `${ident(schema)}.${ident(bare)}` : ident(bare);
}

/** `schema.name` with the schema kept as given (even `public`): for names from configuration (knexfile schemaName). */
export function sqlQualified(schema: string | undefined, name: string): string {
  return schema ? `${ident(schema)}.${ident(name)}` : ident(name);
}

/** An object named `name` in the schema of `table` (an index, a sequence, a type beside its table). */
export function sqlNameBeside(table: string, name: string): string {
  return sqlName({ schema: schemaOf(table), name });
}

/** A comma-separated list of column identifiers. */
export function columnList(columns: readonly string[]): string {
  return columns.map(ident).join(', ');
}

/** A SQL string literal, as quote_literal writes it (E'' when the text has backslashes, so it reads the same whatever standard_conforming_strings says). */
export function sqlString(value: string): string {
  const quoted = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

/** `to_regclass('app."Users_idx"')`'s argument for a relation: the qualified name as a string literal. */
export function regclassLiteral(name: QualifiedName | string): string {
  return sqlString(sqlName(name));
}

/**
 * The name PostgreSQL gives an object it names itself (makeObjectName): `name1_name2_label`, the
 * longer of name1 and name2 shortened, byte by byte, until the whole fits in 63 bytes
 * (`users_email_key`, `users_pkey`). knex's own names (`users_email_unique`) are not cut this way.
 */
export function pgObjectName(name1: string, name2: string | undefined, label: string): string {
  const overhead = (name2 !== undefined ? 1 : 0) + (label ? label.length + 1 : 0);
  const available = MAX_IDENTIFIER_BYTES - overhead;
  let n1 = Buffer.byteLength(name1, 'utf8');
  let n2 = name2 !== undefined ? Buffer.byteLength(name2, 'utf8') : 0;
  while (n1 + n2 > available) {
    if (n1 > n2) n1--;
    else n2--;
  }
  const clip = (text: string, max: number) => {
    let out = '';
    for (const ch of text) {
      if (Buffer.byteLength(out + ch, 'utf8') > max) break;
      out += ch;
    }
    return out;
  };
  return [clip(name1, n1), ...(name2 !== undefined ? [clip(name2, n2)] : []), ...(label ? [label] : [])].join('_');
}
