import { beforeAll, describe, expect, it } from 'vitest';
import { ensureViewParser, normalizeViewDefinition } from '../../src/schema/view-definition.js';

// Inputs are pg_get_viewdef output of PostgreSQL 15; outputs are what PostgreSQL 16+ prints for the same view.
describe('normalizeViewDefinition', () => {
  beforeAll(async () => {
    await ensureViewParser();
  });

  it('drops the qualifiers PostgreSQL 15 prints for a single-table query', () => {
    expect(normalizeViewDefinition("SELECT users.id,\n    users.email\n   FROM public.users\n  WHERE ((users.name)::text <> 'anon'::text);")).toBe(
      "SELECT id,\n    email\n   FROM public.users\n  WHERE ((name)::text <> 'anon'::text);",
    );
  });

  it('keeps qualifiers of joins, set operations, nested queries and whole-row references', () => {
    const join = 'SELECT u.id,\n    o.total\n   FROM (public.users u\n     JOIN public.orders o ON ((o.user_id = u.id)));';
    expect(normalizeViewDefinition(join)).toBe(join);
    const union = 'SELECT users.id\n   FROM public.users\nUNION\n SELECT orders.user_id AS id\n   FROM public.orders;';
    expect(normalizeViewDefinition(union)).toBe(union);
    expect(
      normalizeViewDefinition('SELECT users.id,\n    users.name\n   FROM public.users\n  WHERE (EXISTS ( SELECT 1\n           FROM public.orders o\n          WHERE (o.user_id = users.id)));'),
    ).toBe('SELECT id,\n    name\n   FROM public.users\n  WHERE (EXISTS ( SELECT 1\n           FROM public.orders o\n          WHERE (o.user_id = users.id)));');
    expect(normalizeViewDefinition('SELECT to_json(u.*) AS j,\n    u.id\n   FROM public.users u;')).toBe('SELECT to_json(u.*) AS j,\n    id\n   FROM public.users u;');
  });

  it('edits at byte positions, so non-ASCII text before a reference is safe', () => {
    expect(normalizeViewDefinition("SELECT users.id,\n    (users.name || 'é→'::text) AS n\n   FROM public.users\n  WHERE (users.name <> 'ü'::text);")).toBe(
      "SELECT id,\n    (name || 'é→'::text) AS n\n   FROM public.users\n  WHERE (name <> 'ü'::text);",
    );
  });

  it('handles quoted identifiers and leaves CTE bodies qualified', () => {
    expect(normalizeViewDefinition('SELECT users."Weird Col",\n    users."select"\n   FROM public.users;')).toBe('SELECT "Weird Col",\n    "select"\n   FROM public.users;');
    expect(normalizeViewDefinition('WITH big AS (\n         SELECT orders.user_id\n           FROM public.orders\n        )\n SELECT big.user_id\n   FROM big;')).toBe(
      'WITH big AS (\n         SELECT orders.user_id\n           FROM public.orders\n        )\n SELECT user_id\n   FROM big;',
    );
  });

  it('leaves text it cannot parse as it is', () => {
    expect(normalizeViewDefinition('not sql at all')).toBe('not sql at all');
  });
});
