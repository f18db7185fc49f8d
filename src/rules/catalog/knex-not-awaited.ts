import type { CallSite } from '../../capture/types.js';
import type { MigrationUnit, Rule } from '../types.js';
import { awaitable } from '../js-source.js';

/** The migration's file with `await ` put before the statement that starts on `line`, if that is still valid code. */
function withAwait(unit: MigrationUnit, site: CallSite): string | undefined {
  const lines = unit.source.split('\n');
  const text = lines[site.line - 1];
  if (text === undefined) return undefined;
  const indent = /^\s*/.exec(text)?.[0] ?? '';
  const rest = text.slice(indent.length);
  // Only a call that starts its own statement: `knex.raw(…)`, `trx.schema.alterTable(…)`.
  if (!/^[A-Za-z_$][\w$]*\s*[.(]/.test(rest) || /^(await|return|const|let|var|if|for|while)\b/.test(rest)) return undefined;
  lines[site.line - 1] = `${indent}await ${rest}`;
  return awaitable(lines.join('\n'), site.line);
}

/**
 * A knex builder is a lazy thenable: `knex.raw(…)` or `knex.schema.alterTable(…)` without `await`
 * (or `return`) builds the query and never sends it. The migration "succeeds", knex records it as
 * applied, and the change is missing from every database — or, if something thens it later, it runs
 * after the migration, outside its transaction. kutt's `20200510140704_domains.js` has one.
 */
export const knexNotAwaited: Rule = {
  meta: {
    id: 'knex-not-awaited',
    category: 'knex',
    severity: 'error',
    summary: 'A knex query or schema builder created in the migration is never run: it is not awaited or returned',
  },
  migration(unit, context) {
    for (const site of unit.neverRun ?? []) {
      const line = unit.source.split('\n')[site.line - 1]?.trim() ?? '';
      const fixed = withAwait(unit, site);
      // A template literal would break the inline code quote: show the call up to it.
      const shown = line.includes('`') ? `${line.slice(0, line.indexOf('`'))}…` : line.length > 80 ? `${line.slice(0, 77)}…` : line;
      context.report({
        site,
        message: `This knex call is never run: nothing awaits or returns it${shown ? ` (\`${shown}\`)` : ''}`,
        why: 'knex builders only send their SQL when awaited (or .then()ed). Without await the migration finishes without it, knex records the migration as applied, and the statement is missing from every database the migration runs on.',
        fix: {
          ...(fixed ? { wholeMigration: true } : {}),
          description: fixed ? 'Await it, so it runs in order inside the migration (and its transaction).' : 'Await it (or return it), in an async up, so it runs in order inside the migration.',
          code: fixed ?? `await ${line.replace(/;?\s*$/, ';')}`,
        },
      });
    }
  },
};
