import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { check, type CheckReport } from '../../src/check/run.js';
import { NEXT_MIGRATION } from '../../src/codegen/index.js';
import { QUOTED_KEYWORDS } from '../../src/codegen/keywords.js';
import { verify } from '../../src/verify/run.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';
import { fillFixBlanks } from '../helpers/rule-tester.js';

/**
 * Fixes are valid for every name a migration can use. For each rule that offers a fix, its unsafe
 * case is generated with tables and columns of every shape — in a schema of their own
 * (`withSchema('app')`), reserved words, mixed case, 63-byte names, non-ASCII — and the fix it gets
 * must pass `check` (runs, no error) and `verify` (reversible) on both shadows.
 *
 * Bounded for two cores: each rule gets two of the four shapes (one in `app`, one in public), picked
 * by a seed (KNEXSAFE_PROPERTY_SEED, default 1) so that the run is reproducible; every shape is
 * used by half the rules. KNEXSAFE_PROPERTY_ALL=1 runs every rule with every shape.
 */

vi.setConfig({ testTimeout: 600_000 });

interface Names {
  /** Schema of the tables, or none (public). */
  schema?: string;
  table: string;
  column: string;
  /** A column the case adds. */
  added: string;
  /** A second table (referenced table, new name). */
  other: string;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** `prefix` padded to exactly 63 bytes. */
const long = (prefix: string, fill = 'x') => prefix + fill.repeat(63 - bytes(prefix));

// Every word PostgreSQL reserves (from the generated list), order and user first: one pair per case.
const RESERVED = ['order', 'user', ...[...QUOTED_KEYWORDS].filter((w) => w !== 'order' && w !== 'user')];

/** The four shapes; `n` makes the names of case n unique in the chain. */
const SHAPES: { label: string; names: (n: number) => Names }[] = [
  {
    label: 'reserved words in public',
    names: (n) => ({ table: RESERVED[n % RESERVED.length]!, column: 'user', added: 'order', other: RESERVED[(n + 1) % RESERVED.length]! }),
  },
  {
    label: "mixed case in withSchema('app')",
    names: (n) => ({ schema: 'app', table: `UserAccounts${n}`, column: 'EmailAddress', added: 'SignedUpAt', other: `TeamMembers${n}` }),
  },
  {
    label: "63-byte names in withSchema('app')",
    // The table stops short of 63 bytes: knex's own index names (table_column_index, cut to 63 bytes) would be the table's name.
    names: (n) => ({ schema: 'app', table: long(`t${n}_`).slice(0, 58), column: long('c_'), added: long('a_'), other: long(`o${n}_`) }),
  },
  {
    label: 'non-ASCII names in public',
    names: (n) => ({ table: `café_${n}_ünï`, column: 'prénom', added: 'größe', other: `表_${n}` }),
  },
];

const J = JSON.stringify;
const schemaOf = (s: Names) => (s.schema ? `knex.schema.withSchema(${J(s.schema)})` : 'knex.schema');
/** The table for knex's query builder and `??` bindings: `app.Users`. */
const qualified = (s: Names, table = s.table) => (s.schema ? `${s.schema}.${table}` : table);
const createTable = (s: Names, body: string, table = s.table) => `await ${schemaOf(s)}.createTable(${J(table)}, (t) => { ${body} });`;
const alterTable = (s: Names, body: string) => `await ${schemaOf(s)}.alterTable(${J(s.table)}, (t) => {\n  ${body}\n});`;
const enumTable = (s: Names) =>
  createTable(s, `t.increments('id'); t.enu(${J(s.column)}, ['a', 'b'], { useNative: true, enumName: ${J(`${s.table}_kind`.slice(0, 40))}${s.schema ? `, schemaName: ${J(s.schema)}` : ''} });`);
const plainTable = (s: Names) => createTable(s, `t.increments('id'); t.integer(${J(s.column)}); t.string('note');`);

interface Template {
  rule: string;
  setup: (s: Names) => string[];
  up: (s: Names) => string;
  down?: (s: Names) => string;
  /** The fix removes data by design: verify may say only that. */
  destroysData?: boolean;
}

// knex-drop-unique-on-index is left out: its unsafe case fails on purpose (the constraint does not
// exist), which would stop the chain; its rule test covers it in a project of its own.
const TEMPLATES: Template[] = [
  { rule: 'index-not-concurrent', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.index([${J(s.column)}]);`) },
  {
    rule: 'drop-index-not-concurrent',
    setup: (s) => [createTable(s, `t.increments('id'); t.integer(${J(s.column)}).index();`)],
    up: (s) => alterTable(s, `t.dropIndex([${J(s.column)}]);`),
  },
  { rule: 'unique-constraint-locks', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.unique([${J(s.column)}]);`) },
  {
    rule: 'add-primary-key-locks',
    setup: (s) => [createTable(s, `t.integer(${J(s.column)}).notNullable(); t.string('note');`)],
    up: (s) => alterTable(s, `t.primary([${J(s.column)}]);`),
  },
  {
    rule: 'foreign-key-not-valid',
    setup: (s) => [createTable(s, `t.increments('id');`, s.other), plainTable(s)],
    up: (s) => alterTable(s, `t.foreign(${J(s.column)}).references('id').inTable(${J(qualified(s, s.other))});`),
  },
  {
    rule: 'check-not-valid',
    setup: (s) => [plainTable(s)],
    up: (s) => `await knex.raw('ALTER TABLE ?? ADD CONSTRAINT ?? CHECK (?? > 0)', [${J(qualified(s))}, ${J(`${s.table}_positive`)}, ${J(s.column)}]);`,
  },
  {
    rule: 'validate-in-same-transaction',
    setup: (s) => [plainTable(s)],
    up: (s) =>
      [
        `await knex.raw('ALTER TABLE ?? ADD CONSTRAINT ?? CHECK (?? > 0) NOT VALID', [${J(qualified(s))}, 'positive', ${J(s.column)}]);`,
        `await knex.raw('ALTER TABLE ?? VALIDATE CONSTRAINT ??', [${J(qualified(s))}, 'positive']);`,
      ].join('\n'),
  },
  { rule: 'set-not-null-scan', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.dropNullable(${J(s.column)});`) },
  {
    rule: 'add-column-volatile-default',
    setup: (s) => [plainTable(s)],
    up: (s) => alterTable(s, `t.uuid(${J(s.added)}).defaultTo(knex.raw('gen_random_uuid()'));`),
  },
  { rule: 'add-column-not-null-no-default', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.integer(${J(s.added)}).notNullable();`) },
  { rule: 'column-type-rewrite', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.bigInteger(${J(s.column)}).alter();`) },
  {
    rule: 'unbatched-backfill',
    setup: (s) => [plainTable(s)],
    up: (s) => `await knex(${J(s.table)})${s.schema ? `.withSchema(${J(s.schema)})` : ''}.update({ ${J(s.column)}: 1 });`,
    destroysData: true,
  },
  { rule: 'missing-lock-timeout', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.text(${J(s.added)});`), down: (s) => alterTable(s, `t.dropColumn(${J(s.added)});`) },
  // Two columns in one statement: the fix drops both.
  { rule: 'drop-column', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.dropColumns(${J(s.column)}, 'note');`), destroysData: true },
  { rule: 'drop-table', setup: (s) => [plainTable(s)], up: (s) => `await ${schemaOf(s)}.dropTable(${J(s.table)});`, destroysData: true },
  // With an index, a unique constraint and a check on the column: the fix builds them again on the new one
  // (named: knex's names for both would be the same 63 bytes for the longest names).
  {
    rule: 'rename-column',
    setup: (s) => [
      plainTable(s),
      `${alterTable(s, `t.index([${J(s.column)}], 'rc_index'); t.unique([${J(s.column)}], { indexName: 'rc_unique' });`)}\nawait knex.raw('ALTER TABLE ?? ADD CONSTRAINT ?? CHECK (?? >= 0)', [${J(qualified(s))}, 'positive', ${J(s.column)}]);`,
    ],
    up: (s) => alterTable(s, `t.renameColumn(${J(s.column)}, ${J(s.added)});`),
  },
  { rule: 'rename-table', setup: (s) => [plainTable(s)], up: (s) => `await ${schemaOf(s)}.renameTable(${J(s.table)}, ${J(s.other)});` },
  {
    rule: 'truncate-table',
    setup: (s) => [plainTable(s)],
    up: (s) => `await knex(${J(s.table)})${s.schema ? `.withSchema(${J(s.schema)})` : ''}.truncate();`,
    destroysData: true,
  },
  {
    rule: 'knex-alter-drops-default',
    setup: (s) => [createTable(s, `t.increments('id'); t.integer(${J(s.column)}).notNullable().defaultTo(0);`)],
    up: (s) => alterTable(s, `t.integer(${J(s.column)}).alter();`),
  },
  {
    rule: 'knex-enum-type-leak',
    setup: (s) => [enumTable(s)],
    up: (s) => `await ${schemaOf(s)}.dropTable(${J(s.table)});`,
    down: (s) => enumTable(s),
    destroysData: true,
  },
  {
    rule: 'knex-unsigned-ignored',
    setup: (s) => [plainTable(s)],
    up: (s) => alterTable(s, `t.integer(${J(s.added)}).unsigned();`),
    down: (s) => alterTable(s, `t.dropColumn(${J(s.added)});`),
  },
  { rule: 'down-missing', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.text(${J(s.added)});`), destroysData: true },
  { rule: 'prefer-timestamptz', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.timestamp(${J(s.added)}, { useTz: false });`), down: (s) => alterTable(s, `t.dropColumn(${J(s.added)});`) },
  { rule: 'prefer-jsonb', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.json(${J(s.added)});`), down: (s) => alterTable(s, `t.dropColumn(${J(s.added)});`) },
  { rule: 'prefer-text-over-varchar', setup: (s) => [plainTable(s)], up: (s) => alterTable(s, `t.string(${J(s.added)});`), down: (s) => alterTable(s, `t.dropColumn(${J(s.added)});`) },
  {
    rule: 'prefer-identity',
    setup: (s) => (s.schema ? [`await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [${J(s.schema)}]);`] : []),
    up: (s) => createTable(s, `t.increments('id'); t.text(${J(s.column)});`, s.other),
    down: (s) => `await ${schemaOf(s)}.dropTable(${J(s.other)});`,
  },
];

const seed = Number(process.env.KNEXSAFE_PROPERTY_SEED ?? 1);
const all = process.env.KNEXSAFE_PROPERTY_ALL === '1';

interface Case {
  template: Template;
  shape: string;
  names: Names;
}

/** Each rule with two shapes (one in app, one in public), rotating with the seed; or every shape. */
function cases(): Case[] {
  const out: Case[] = [];
  TEMPLATES.forEach((template, i) => {
    const picks = all ? [0, 1, 2, 3] : [(i + seed) % 2 === 0 ? 0 : 3, (i + seed) % 2 === 0 ? 2 : 1];
    for (const p of picks) out.push({ template, shape: SHAPES[p]!.label, names: SHAPES[p]!.names(out.length) });
  });
  return out;
}

function body(up: string, down = ''): string {
  return `exports.up = async function (knex) {\n${up}\n};\n\nexports.down = async function (knex) {\n${down}\n};\n`;
}

/** One chain: app schema first, then each case's setups and its migration (or the files of its fix). */
function writeProject(list: Case[], files: (c: Case, i: number) => string[]): { dir: string; names: Map<number, string[]> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-fix-names-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  let counter = 100;
  const stamp = () => `20240101${String(counter++).padStart(6, '0')}`;
  fs.writeFileSync(path.join(dir, 'migrations', `${stamp()}_schema.js`), body(`await knex.raw('CREATE SCHEMA IF NOT EXISTS app');`));
  const names = new Map<number, string[]>();
  list.forEach((c, i) => {
    c.template.setup(c.names).forEach((s, j) => {
      fs.writeFileSync(path.join(dir, 'migrations', `${stamp()}_c${i}_setup_${j}.js`), body(s));
    });
    const own: string[] = [];
    files(c, i).forEach((content, j) => {
      const name = `${stamp()}_c${i}_case${j === 0 ? '' : `_${j}`}.js`;
      fs.writeFileSync(path.join(dir, 'migrations', name), content);
      own.push(name);
    });
    names.set(i, own);
  });
  return { dir, names };
}

const label = (c: Case, i: number) => `c${i} ${c.template.rule} (${c.shape}: ${c.names.schema ? `${c.names.schema}.` : ''}${c.names.table}.${c.names.column})`;

async function fixesHold(shadowUrl: string | undefined): Promise<void> {
  const list = cases();
  const withShadow = shadowUrl ? { shadowUrl } : {};

  // 1. The unsafe cases: each must be flagged by its rule, with a fix.
  const original = writeProject(list, (c) => [body(c.template.up(c.names), c.template.down?.(c.names) ?? '')]);
  const report: CheckReport = await check({ cwd: original.dir, all: true, ...withShadow });
  expect(
    report.migrations.filter((m) => m.failed).map((m) => `${m.name}: ${m.failed?.message}`),
    'the unsafe cases must run',
  ).toEqual([]);
  const fixes = new Map<number, string[]>();
  const missing: string[] = [];
  list.forEach((c, i) => {
    const name = original.names.get(i)![0]!;
    const finding = report.findings.find((f) => f.rule === c.template.rule && f.migration === name && f.fix);
    if (finding?.fix)
      fixes.set(
        i,
        finding.fix.code.split(NEXT_MIGRATION).map((s) => `${fillFixBlanks(s.trim())}\n`),
      );
    else
      missing.push(
        `${label(c, i)}: ${
          report.findings
            .filter((f) => f.migration === name)
            .map((f) => `${f.rule}${f.fix ? ' (fix)' : ''}`)
            .join(', ') || 'no finding'
        }`,
      );
  });
  expect(missing, 'every case gets a fix from its rule').toEqual([]);

  // 2. The fixes instead of the cases: they run, raise no error, and are reversible.
  const fixed = writeProject(list, (_, i) => fixes.get(i) ?? []);
  const caseOf = new Map<string, number>();
  for (const [i, names] of fixed.names) for (const n of names) caseOf.set(n, i);
  const fixedReport = await check({ cwd: fixed.dir, all: true, ...withShadow });
  const where = (migration: string) => {
    const i = caseOf.get(migration);
    return i === undefined ? migration : `${label(list[i]!, i)} ${migration}`;
  };
  expect(
    fixedReport.migrations.filter((m) => m.failed).map((m) => `${where(m.name)}: ${m.failed?.message}`),
    'fixes must run',
  ).toEqual([]);
  const errors = fixedReport.findings.filter((f) => caseOf.has(f.migration) && f.severity === 'error');
  expect(
    errors.map((f) => `${where(f.migration)}: ${f.rule}: ${f.message}`),
    'fixes must not raise errors',
  ).toEqual([]);

  const verified = await verify({ cwd: fixed.dir, names: [...caseOf.keys()], ...withShadow });
  const problems = verified.verdicts.flatMap((v) => {
    const c = list[caseOf.get(v.name)!]!;
    return v.findings.filter((f) => !(c.template.destroysData && f.rule === 'down-destroys-data')).map((f) => `${where(v.name)}: ${f.rule}: ${f.message}`);
  });
  expect(problems, 'fixes must be reversible').toEqual([]);
}

describe('fixes hold for every name shape', () => {
  it('generates distinct, valid names for each shape', () => {
    const list = cases();
    expect(new Set(list.map((c) => c.template.rule)).size).toBe(TEMPLATES.length);
    for (const c of list) for (const n of [c.names.table, c.names.column, c.names.added, c.names.other]) expect(bytes(n)).toBeLessThanOrEqual(63);
    const tables = list.flatMap((c) => [`${c.names.schema ?? 'public'}.${c.names.table}`, `${c.names.schema ?? 'public'}.${c.names.other}`]);
    expect(new Set(tables).size).toBe(tables.length);
  });

  it('on the embedded shadow', async () => {
    await fixesHold(undefined);
  });
});

describeServer('fixes hold for every name shape on the server', () => {
  it('on the server shadow', async () => {
    await fixesHold(SERVER_URL);
  });
});
