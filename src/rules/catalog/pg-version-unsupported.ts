import { versionFeatures } from '../../sql/version-support.js';
import type { Rule } from '../types.js';

/**
 * A statement the target's PostgreSQL rejects, though the shadow ran it: the embedded shadow is
 * PostgreSQL 18 and a server shadow may be newer than the target. Judged only against a version
 * that is known (--pg-version, the config's pgVersion, or the target's server_version_num): with
 * none, advice is for the shadow's own version, which has just accepted the statement.
 */
export const pgVersionUnsupported: Rule = {
  meta: {
    id: 'pg-version-unsupported',
    category: 'breaking',
    severity: 'error',
    summary: "a statement the target's PostgreSQL version rejects, though the newer shadow accepted it",
  },
  statement(statement, context) {
    if (!context.pgVersionKnown) return;
    const [feature] = versionFeatures(statement.ast).filter((f) => f.since > context.pgVersion);
    if (!feature) return;
    // Tables a uuidv7() of the project's own would serve: it is no longer PostgreSQL 18's.
    if (feature.id === 'uuidv7' && hasOwnFunction(context.migration.schemaBefore?.functions ?? {}, context.migration.schemaAfter?.functions ?? {})) return;
    if (feature.id === 'gen-random-uuid' && hasPgcrypto(context)) return;
    context.report({
      statement,
      message: `${feature.what} is rejected by PostgreSQL ${context.pgVersion}: it needs PostgreSQL ${feature.since} or later`,
      why:
        `The target runs PostgreSQL ${context.pgVersion}; ${feature.what} arrived in PostgreSQL ${feature.since}. The shadow (a newer PostgreSQL) ran it, so everything else here looks fine — ` +
        'but on the target this statement fails and the migration with it (its transaction rolled back, or, without one, half applied).',
      fix: {
        description: `${feature.instead} Or, if the target is newer than PostgreSQL ${context.pgVersion}, say so with --pg-version (or pgVersion in knexsafe's config).`,
        code: `// PostgreSQL ${context.pgVersion}: ${feature.instead}`,
      },
    });
  },
};

function hasOwnFunction(...maps: Record<string, unknown>[]): boolean {
  return maps.some((m) => Object.keys(m).some((key) => /(^|\.)uuidv[47]\(/.test(key) && !key.startsWith('pg_catalog.')));
}

function hasPgcrypto(context: Parameters<NonNullable<Rule['statement']>>[1]): boolean {
  const m = context.migration;
  if (m.schemaBefore?.extensions.pgcrypto || m.schemaAfter?.extensions.pgcrypto) return true;
  return m.statements.some((s) => /create\s+extension\s+(if\s+not\s+exists\s+)?"?pgcrypto/i.test(s.sql));
}
