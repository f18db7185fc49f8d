#!/usr/bin/env node
// knexsafe next to its peers: squawk (squawk-cli, a Rust SQL linter) and pgfence (@flvmnt/pgfence).
//
//   node bench/peers/compare.mjs [--squawk PATH] [--pgfence PATH] [--no-knex] [--no-report] [--out-dir DIR]
//
// 1. Runs `knexsafe check <files> --json --pg-version <v>`, `squawk <files> --reporter json --pg-version <v>`
//    and `pgfence analyze --format sql --output json <files>` on every SQL case of test/fixtures/sql-cases
//    (one file per case; headers say what knexsafe must report and explain every expected difference).
// 2. Maps squawk's rules to knexsafe's (the CONCEPTS table below) and, per case and per rule, prints what
//    each tool flags, statement by statement.
// 3. Checks the acceptance statement: every squawk finding on a rule knexsafe has an equivalent for is
//    matched by knexsafe on the same statement, or explained by the case (`-- squawk-only:`); every
//    knexsafe finding squawk has no counterpart for is explained too (`-- knexsafe-only:` or a rule that
//    squawk lacks). Exit 1 otherwise, or when an explanation has gone stale.
// 4. Compares on knex migration projects (examples/shop, bench/peers/knex-project): knexsafe runs them on
//    its embedded shadow and sees the SQL knex emits; pgfence reads the files (only knex.raw strings);
//    squawk reads SQL only, so it gets the SQL case the migration emits (`// sql-case:` comment).
// 5. Writes bench/results/peers-<date>.md.
//
// Peers are installed outside the repository (they are not dependencies of knexsafe):
//   mkdir -p /tmp/peers && cd /tmp/peers && npm init -y && \
//     npm install squawk-cli @flvmnt/pgfence @typescript-eslint/typescript-estree
// (the last package is what pgfence's knex reader imports). Paths: --squawk / $SQUAWK_BIN, --pgfence /
// $PGFENCE_BIN; defaults /tmp/peers/node_modules/.bin/{squawk,pgfence}. pgfence is optional.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const started = performance.now();

const USAGE = `usage: node bench/peers/compare.mjs [options]
  --knexsafe PATH   knexsafe CLI (default dist/cli/main.js; another build to compare an older knexsafe)
  --squawk PATH     squawk binary (default $SQUAWK_BIN or /tmp/peers/node_modules/.bin/squawk)
  --pgfence PATH    pgfence binary (default $PGFENCE_BIN or /tmp/peers/node_modules/.bin/pgfence; skipped if missing)
  --cases DIR       SQL cases (default test/fixtures/sql-cases)
  --no-knex         skip the knex migration projects (examples/shop, bench/peers/knex-project)
  --shadow-url URL  shadow server for knexsafe on the knex projects (default: $KNEXSAFE_SHADOW_URL, else
                    postgres://postgres@127.0.0.1:5432/postgres when it accepts connections, else embedded);
                    'embedded' forces knexsafe's embedded PGlite shadow (same findings, slower)
  --out-dir DIR     where the report goes (default bench/results)
  --name NAME       report file name without .md (default peers-<date>)
  --no-report       print only, write nothing
  --verbose         print every case, not only the ones with differences`;

const { values: opts } = parseArgs({
  options: {
    knexsafe: { type: 'string', default: path.join(REPO, 'dist/cli/main.js') },
    squawk: { type: 'string', default: process.env.SQUAWK_BIN ?? '/tmp/peers/node_modules/.bin/squawk' },
    pgfence: { type: 'string', default: process.env.PGFENCE_BIN ?? '/tmp/peers/node_modules/.bin/pgfence' },
    cases: { type: 'string', default: path.join(REPO, 'test/fixtures/sql-cases') },
    knex: { type: 'boolean', default: true },
    'shadow-url': { type: 'string', default: process.env.KNEXSAFE_SHADOW_URL },
    'out-dir': { type: 'string', default: path.join(REPO, 'bench/results') },
    name: { type: 'string' },
    report: { type: 'boolean', default: true },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  allowNegative: true,
});
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

const INSTALL = `Install the peers outside the repository:
  mkdir -p /tmp/peers && cd /tmp/peers && npm init -y && npm install squawk-cli @flvmnt/pgfence @typescript-eslint/typescript-estree
then run again, or point --squawk / --pgfence (or $SQUAWK_BIN / $PGFENCE_BIN) at the binaries.`;
const KNEXSAFE = path.resolve(opts.knexsafe);
if (!fs.existsSync(KNEXSAFE)) fail(`${path.relative(REPO, KNEXSAFE)} is missing: run \`npm run build\` first.`);
if (!fs.existsSync(opts.squawk)) fail(`squawk not found at ${opts.squawk}.\n${INSTALL}`);
const havePgfence = fs.existsSync(opts.pgfence);
if (!havePgfence) console.error(`note: pgfence not found at ${opts.pgfence}; comparing with squawk only.\n${INSTALL}\n`);

function fail(message) {
  console.error(message);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Which rules mean the same thing. One row per squawk rule of squawk 2.66 (`squawk -i <rule>` accepts
// exactly these), plus the knexsafe rules squawk has nothing for. `scope`: where a finding is compared —
// the statement (default) or the whole file (timeouts are reported once per file, on different lines).

const SAME_LOCK_TIMEOUT =
  'knexsafe reports only locks that queue reads or writes on a table that existed before (ACCESS EXCLUSIVE, EXCLUSIVE, SHARE ROW EXCLUSIVE, SHARE); squawk asks for a lock_timeout before any DDL.';

/** @type {{ squawk?: string, knexsafe: string[], pgfence: string[], scope?: 'statement'|'file', note?: string, why?: string }[]} */
const CONCEPTS = [
  // ---- overlapping: knexsafe has an equivalent
  {
    squawk: 'adding-field-with-default',
    knexsafe: ['add-column-volatile-default', 'table-rewrite'],
    pgfence: ['add-column-non-constant-default', 'add-column-default-pre-pg11', 'add-column-stored-generated', 'add-column-serial'],
    note: 'ADD COLUMN that rewrites the table: volatile default, identity, generated STORED, any default before PostgreSQL 11.',
  },
  { squawk: 'adding-foreign-key-constraint', knexsafe: ['foreign-key-not-valid'], pgfence: ['add-constraint-fk-no-not-valid'] },
  { squawk: 'adding-not-nullable-field', knexsafe: ['set-not-null-scan'], pgfence: ['alter-column-set-not-null'] },
  { squawk: 'adding-required-field', knexsafe: ['add-column-not-null-no-default'], pgfence: ['add-column-not-null-no-default'] },
  {
    squawk: 'adding-serial-primary-key-field',
    knexsafe: ['add-primary-key-locks', 'add-column-volatile-default'],
    pgfence: ['add-pk-without-using-index', 'add-column-serial'],
    note: 'ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE; for ADD COLUMN serial PRIMARY KEY knexsafe reports the rewrite (add-column-volatile-default), which holds the same lock.',
  },
  { squawk: 'ban-char-field', knexsafe: ['prefer-text-over-varchar'], pgfence: [] },
  { squawk: 'ban-concurrent-index-creation-in-transaction', knexsafe: ['concurrently-in-transaction'], pgfence: ['concurrent-in-transaction'] },
  { squawk: 'ban-drop-column', knexsafe: ['drop-column'], pgfence: ['drop-column'] },
  { squawk: 'ban-drop-table', knexsafe: ['drop-table'], pgfence: ['drop-table'] },
  { squawk: 'ban-truncate-cascade', knexsafe: ['truncate-table'], pgfence: ['truncate-cascade', 'truncate'] },
  { squawk: 'changing-column-type', knexsafe: ['column-type-rewrite'], pgfence: ['alter-column-type'] },
  {
    squawk: 'constraint-missing-not-valid',
    knexsafe: ['check-not-valid', 'foreign-key-not-valid', 'validate-in-same-transaction', 'unique-constraint-locks', 'add-primary-key-locks'],
    pgfence: ['add-constraint-check-no-not-valid', 'add-constraint-fk-no-not-valid', 'not-valid-validate-same-tx', 'add-constraint-exclude', 'add-constraint-unique', 'add-pk-without-using-index'],
    note: 'squawk uses it for every constraint validated under lock (CHECK, FOREIGN KEY, UNIQUE, PRIMARY KEY, EXCLUDE, VALIDATE in the same transaction); knexsafe has one rule per kind, since the fix differs.',
  },
  { squawk: 'disallowed-unique-constraint', knexsafe: ['unique-constraint-locks'], pgfence: ['add-constraint-unique'] },
  { squawk: 'prefer-bigint-over-int', knexsafe: ['prefer-bigint-ids'], pgfence: ['prefer-bigint-over-int'], note: 'knexsafe judges keys only (serial, identity, primary key).' },
  { squawk: 'prefer-bigint-over-smallint', knexsafe: ['prefer-bigint-ids'], pgfence: ['prefer-bigint-over-int'], note: 'knexsafe judges keys only.' },
  { squawk: 'prefer-identity', knexsafe: ['prefer-identity'], pgfence: [] },
  {
    squawk: 'prefer-repack',
    knexsafe: ['table-rewrite'],
    pgfence: ['vacuum-full'],
    note: 'squawk only from --pg-version 19 (REPACK); knexsafe reports VACUUM FULL / CLUSTER as table rewrites on every version.',
  },
  { squawk: 'prefer-text-field', knexsafe: ['prefer-text-over-varchar'], pgfence: ['prefer-text-field'], note: 'knexsafe judges new columns only.' },
  { squawk: 'prefer-timestamp-tz', knexsafe: ['prefer-timestamptz'], pgfence: ['prefer-timestamptz'] },
  { squawk: 'renaming-column', knexsafe: ['rename-column'], pgfence: ['rename-column'] },
  { squawk: 'renaming-table', knexsafe: ['rename-table'], pgfence: ['rename-table'] },
  { squawk: 'require-concurrent-index-creation', knexsafe: ['index-not-concurrent'], pgfence: ['create-index-not-concurrent'] },
  { squawk: 'require-concurrent-index-deletion', knexsafe: ['drop-index-not-concurrent'], pgfence: ['drop-index-not-concurrent'] },
  { squawk: 'require-lock-timeout', knexsafe: ['missing-lock-timeout'], pgfence: ['missing-lock-timeout'], scope: 'file', note: SAME_LOCK_TIMEOUT },
  // ---- squawk rules knexsafe deliberately has no equivalent for
  {
    squawk: 'prefer-robust-stmts',
    knexsafe: [],
    pgfence: ['prefer-robust-create-index', 'prefer-robust-drop-index', 'prefer-robust-create-table', 'prefer-robust-drop-table'],
    why: 'By design. knex runs a migration in one transaction, so a failure rolls all of it back and it can simply run again; `knexsafe verify` proves up → down → up on a shadow instead of hoping IF [NOT] EXISTS makes reruns harmless. IF NOT EXISTS can even hide a half-built INVALID index after a failed CONCURRENTLY build; knexsafe’s own fixes drop such a leftover first and use IF [NOT] EXISTS only where a step runs outside a transaction.',
  },
  {
    squawk: 'require-statement-timeout',
    knexsafe: [],
    pgfence: ['missing-statement-timeout'],
    scope: 'file',
    why: 'Deliberately not required. The harm of a long statement is the lock it holds, and knexsafe reports those statements by name (index-not-concurrent, set-not-null-scan, column-type-rewrite, …) with a non-blocking fix; lock_timeout (missing-lock-timeout) bounds the wait that makes traffic queue. A statement_timeout would kill the legitimately long, non-blocking steps of those fixes (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT, batched backfills) half-way.',
  },
  { squawk: 'require-timeout-settings', knexsafe: [], pgfence: [], why: 'Accepted by squawk 2.66 as a name; it reports require-lock-timeout and require-statement-timeout instead (see those rows).' },
  {
    squawk: 'ban-drop-not-null',
    knexsafe: [],
    pgfence: [],
    why: 'Not a hazard on its own: DROP NOT NULL changes only the catalog (a brief ACCESS EXCLUSIVE lock, which missing-lock-timeout covers) and is the expand step of expand/contract, which knexsafe’s own fixes use. The accidental case — knex’s .alter() silently dropping NOT NULL the builder did not repeat — is knex-alter-drops-default, which needs the knex call (a knex project, not plain SQL).',
  },
  {
    squawk: 'ban-drop-database',
    knexsafe: [],
    pgfence: [],
    why: 'Not a migration operation: PostgreSQL refuses to drop the database a migration is connected to, and DROP DATABASE cannot run inside a transaction block (25001), which is how knex runs migrations; on a knex project `knexsafe check` reports that failure from the shadow. A statically checked .sql file gets no finding (a known gap, left as is).',
  },
  {
    squawk: 'transaction-nesting',
    knexsafe: [],
    pgfence: [],
    why: "Not covered. knex owns the transaction of a migration; a knex.raw('BEGIN')/('COMMIT') inside it commits knex’s transaction half-way. knexsafe’s analysis drops transaction-control statements before the rules run (src/rules/analyze.ts), so a rule needs a change there first — a follow-up, not a catalog-only change.",
  },
  {
    squawk: 'ban-uncommitted-transaction',
    knexsafe: [],
    pgfence: [],
    why: 'Plain-SQL only: knex opens and closes the migration transaction itself. (In a .sql file psql would roll back the unfinished transaction at the end.)',
  },
  {
    squawk: 'require-concurrent-partition-detach',
    knexsafe: [],
    pgfence: [],
    why: 'No dedicated rule: DETACH PARTITION is rare in knex migrations; its ACCESS EXCLUSIVE lock on the parent is reported by missing-lock-timeout. (DETACH … CONCURRENTLY needs PostgreSQL 14 and cannot run in a transaction.)',
  },
  {
    squawk: 'require-concurrent-reindex',
    knexsafe: [],
    pgfence: [],
    why: 'No dedicated rule: REINDEX is maintenance, rare in migrations; its locks (ACCESS EXCLUSIVE on the index, SHARE on the table) are reported by missing-lock-timeout.',
  },
  {
    squawk: 'require-enum-value-ordering',
    knexsafe: [],
    pgfence: [],
    why: 'Style, not safety: ADD VALUE without BEFORE/AFTER appends; the order only matters to ORDER BY on the enum. (knexsafe’s verify does report that an enum value cannot be removed by down.)',
  },
  { squawk: 'ban-create-domain-with-constraint', knexsafe: [], pgfence: [], why: 'Not covered: domains are rare in knex projects (no builder for them), and CREATE DOMAIN locks nothing.' },
  {
    squawk: 'ban-alter-domain-with-add-constraint',
    knexsafe: [],
    pgfence: [],
    why: 'Not covered: ALTER DOMAIN … ADD CONSTRAINT checks every column of that domain; knexsafe’s lock model does not follow a domain to the tables that use it. Rare in knex projects.',
  },
  {
    squawk: 'identifier-too-long',
    knexsafe: [],
    pgfence: [],
    why: 'Not a rule: PostgreSQL cuts every identifier to 63 bytes the same way in CREATE and DROP, so knex’s long generated names still work; a collision of two cut names makes the migration fail, which `knexsafe check` reports from the shadow.',
  },
  {
    squawk: 'ban-duplicate-column-assignments',
    knexsafe: [],
    pgfence: [],
    why: 'An error PostgreSQL raises itself (42601 "multiple assignments to same column"); on a knex project `knexsafe check` reports the failing migration from the shadow.',
  },
  {
    squawk: 'require-table-schema',
    knexsafe: [],
    pgfence: [],
    why: 'Opt-in in squawk (not run here). knex qualifies with withSchema(); knexsafe resolves unqualified names the way the database does.',
  },
  // ---- knexsafe rules squawk has nothing for (the ones the SQL cases exercise)
  { knexsafe: ['unbatched-backfill'], pgfence: ['update-in-migration', 'delete-without-where'], why: 'squawk has no rule for data changes (UPDATE / DELETE) in a migration.' },
  { knexsafe: ['prefer-jsonb'], pgfence: ['add-column-json'], why: 'squawk has no json → jsonb rule.' },
];
const REPORT_NOTES = `### Gaps this comparison found in knexsafe, and their fixes

With knexsafe as it was before (commit 8935bac), the script reported 6 missed squawk findings — 3 on rules knexsafe
already had, 3 on squawk rules it lacked — plus the cases' own expectations failing:

| squawk rule | cases | what knexsafe lacked | fix (commit) |
|---|---|---|---|
| \`require-lock-timeout\` | \`drop-index-knex\`, \`reindex-index\` | in a static \`.sql\` check, \`DROP INDEX\` / \`REINDEX INDEX\` lock a table the file does not name; only table locks were counted | \`missing-lock-timeout\` counts a blocking lock on an index whose table is unknown (89ee605) |
| \`constraint-missing-not-valid\` | \`exclude-constraint\` | \`ADD CONSTRAINT … EXCLUDE\` on an existing table (index build under ACCESS EXCLUSIVE) was not reported | \`unique-constraint-locks\` also reports EXCLUDE; no fix is printed, since PostgreSQL has neither NOT VALID nor USING INDEX for it (9f60c08) |
| \`ban-char-field\` | \`char-column-new-table\`, \`char-column-added\` | no rule | \`prefer-text-over-varchar\` also reports new \`char(n)\` / \`character(n)\` / \`bpchar\` columns (c0dbcfd) |
| \`ban-truncate-cascade\` | \`truncate-cascade\` | no rule | new rule \`truncate-table\`: TRUNCATE of an existing table (warning); with CASCADE an error naming the tables it also empties (5185019) |

Reproduce the "before" run with \`node bench/peers/compare.mjs --no-knex --knexsafe <older build>/dist/cli/main.js\`.

### Where knexsafe's verdict is more precise

- **PostgreSQL semantics and version.** A constant or stable default (\`default '0'\`, knex \`timestamps(true, true)\`'s
  \`CURRENT_TIMESTAMP\`) is stored in the catalog on PostgreSQL 11+; knexsafe and squawk agree, pgfence flags
  \`CURRENT_TIMESTAMP\` as non-constant. Before 11 (\`--pg-version 10\`) all three flag it. knexsafe also flags what
  squawk's rule does not count: adding a \`serial\` / \`bigserial\` column (knex \`bigIncrements()\` in \`alterTable\`) writes
  \`nextval()\` into every row, a rewrite; \`CLUSTER\` / \`VACUUM FULL\` rewrite on every version (squawk's \`prefer-repack\`
  waits for PostgreSQL 19).
- **What the file itself created.** An index on, or a DROP of, a table the same file creates is not a hazard (the table is
  empty and unused); squawk flags both unless told \`--assume-in-transaction\`.
- **Running the migration.** Statically, no tool can know whether \`alter column "title" type text\` rewrites: it depends
  on the current type. On the shadow knexsafe sees it: knex-project's \`change_products_title_to_text\` (varchar(255) →
  text via \`.alter()\`) keeps its relfilenode, so knexsafe reports only the lock_timeout, where squawk (and knexsafe's own
  static check of the same SQL) report a type change. The same run gives knex-only findings no SQL linter can make,
  e.g. \`knex-unsigned-ignored\` in examples/shop.
- **Keys, not every integer.** \`prefer-bigint-ids\` judges ids (serial, identity, primary key): an \`integer\` quantity
  does not overflow the way a busy table's id does. squawk's \`prefer-bigint-over-int\` flags every integer column.

### Where squawk says more

Every such case is in the tables above. In short: \`prefer-robust-stmts\` and \`require-statement-timeout\` (on nearly
every file) are deliberate non-goals; a lock_timeout before DDL that takes no lock that queues traffic (CONCURRENTLY,
CREATE TABLE AS, ALTER TYPE … ADD VALUE, CREATE DOMAIN, DROP DATABASE, a table the file creates) is not asked for;
\`transaction-nesting\` is a real knex hazard (a \`knex.raw('COMMIT')\` ends knex's migration transaction half-way) left
as a follow-up, because knexsafe's analysis drops transaction-control statements before the rules see them.

### pgfence

- Its knex reader analyses only string literals passed to \`knex.raw()\`. Schema-builder calls are skipped with a
  warning ("use knex.raw() for pgfence analysis"), query-builder calls such as \`knex('sessions').truncate()\` are not
  seen at all; on the two knex projects it reads a handful of raw statements while knexsafe sees every statement knex
  sends.
- A \`knex.raw()\` fragment that is not a statement — \`defaultTo(knex.raw('gen_random_uuid()'))\` — aborts the whole
  pgfence run ("syntax error at or near …"); the script then runs the files with \`knex.raw\` one by one.
- On SQL it agrees with squawk on most lock rules. It also flags statements both others accept (listed above), e.g.
  \`CURRENT_TIMESTAMP\` defaults and the \`SET NOT NULL\` that follows a validated \`CHECK (… IS NOT NULL)\` (no scan on
  PostgreSQL 12+), and it asks for lock_timeout, statement_timeout, application_name and
  idle_in_transaction_session_timeout on every file.
- pgfence 0.1.5 sometimes drops the first character of a statement's text in its JSON (\`lter table …\`); the script
  matches such statements by containment.`;
const OVERLAPPING = CONCEPTS.filter((c) => c.squawk && c.knexsafe.length);
const conceptOfSquawk = new Map(CONCEPTS.filter((c) => c.squawk).map((c) => [c.squawk, c]));
const isTimeoutFile = (c) => (c.scope ?? 'statement') === 'file';

// ---------------------------------------------------------------------------------------------
// Cases

/** Header lines `-- key: value` before the first SQL line. */
function readCase(file) {
  const text = fs.readFileSync(file, 'utf8');
  const headers = [];
  for (const line of text.split('\n')) {
    const m = /^--\s*([a-z-]+):\s*(.*)$/.exec(line);
    if (!m) break;
    headers.push([m[1], m[2].trim()]);
  }
  const get = (key) => headers.find(([k]) => k === key)?.[1];
  const split = (value) =>
    !value || value === 'none'
      ? []
      : value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const reasons = (key) =>
    headers
      .filter(([k]) => k === key)
      .map(([, v]) => {
        const i = v.indexOf(':');
        return { rule: v.slice(0, i).trim(), reason: v.slice(i + 1).trim(), used: false };
      });
  return {
    file,
    name: path.basename(file),
    text,
    focus: get('squawk') ?? '',
    description: get('case') ?? '',
    knex: get('knex'),
    pg: Number(get('pg') ?? 15),
    expect: split(get('expect')),
    squawkOnly: reasons('squawk-only'),
    knexsafeOnly: reasons('knexsafe-only'),
  };
}

const caseFiles = fs
  .readdirSync(opts.cases)
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => path.join(opts.cases, f));
if (caseFiles.length === 0) fail(`No .sql cases in ${opts.cases}.`);
const cases = caseFiles.map(readCase);

// Statements and their lines, read with the parser knexsafe uses (libpg-query), to compare per statement.
const { ensureParser, parseSqlSync } = await import(path.join(REPO, 'dist/sql/parse.js'));
await ensureParser();
for (const c of cases) {
  const parsed = parseSqlSync(c.text);
  c.statements = parsed.map((p, i) => ({ index: i, line: c.text.slice(0, p.offset).split('\n').length, sql: p.sql }));
}
function statementAt(c, line) {
  let found = 0;
  for (const s of c.statements) if (s.line <= line) found = s.index;
  return found;
}
const normalize = (sql) => sql.replace(/\s+/g, ' ').replace(/;\s*$/, '').trim().toLowerCase();

// ---------------------------------------------------------------------------------------------
// Running the tools

function run(command, args, { cwd = REPO, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: performance.now() - t0 });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout: '', stderr: String(error), ms: performance.now() - t0 });
    });
  });
}

/** Runs thunks with at most `limit` at a time (this machine has few cores; knexsafe starts PGlite). */
async function pool(thunks, limit) {
  const results = new Array(thunks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, thunks.length) }, async () => {
      while (next < thunks.length) {
        const i = next++;
        results[i] = await thunks[i]();
      }
    }),
  );
  return results;
}

function parseJson(result, tool) {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`${tool} did not print JSON (exit ${result.code}): ${(result.stderr || result.stdout).trim().slice(0, 600)}`);
  }
}

const versions = {};
{
  const [s, p, g] = await Promise.all([run(opts.squawk, ['--version']), havePgfence ? run(opts.pgfence, ['--version']) : Promise.resolve(undefined), run('git', ['rev-parse', '--short', 'HEAD'])]);
  const dirty = (await run('git', ['status', '--porcelain', '--', 'src'])).stdout.trim() ? ', with uncommitted changes in src/' : '';
  versions.squawk = s.stdout.trim().replace(/^squawk\s+/, '');
  versions.pgfence = p?.stdout.trim();
  versions.knexsafe = `${JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version} (git ${g.stdout.trim() || 'unknown'}${dirty})${KNEXSAFE === path.join(REPO, 'dist/cli/main.js') ? '' : ` at ${KNEXSAFE}`}`;
  versions.node = process.version;
}

// Every squawk rule of the table must exist in the installed squawk (it rejects unknown names).
{
  const names = CONCEPTS.filter((c) => c.squawk).map((c) => c.squawk);
  const check = await run(opts.squawk, ['--include', names.join(','), cases[0].file, '--reporter', 'json']);
  if (/invalid (value|rule name)/i.test(check.stderr)) fail(`The installed squawk (${versions.squawk}) does not know a rule of the CONCEPTS table: ${check.stderr.trim().split('\n')[0]}`);
}

const byPg = new Map();
for (const c of cases) byPg.set(c.pg, [...(byPg.get(c.pg) ?? []), c]);
const groups = [...byPg.entries()].sort(([a], [b]) => a - b);

// knexsafe's shadow for the knex projects: a temporary database on a server starts faster than PGlite.
const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
function reachable(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 500 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
let shadowUrl = opts['shadow-url'];
if (shadowUrl === 'embedded') shadowUrl = undefined;
else if (!shadowUrl && opts.knex && (await reachable('127.0.0.1', 5432))) shadowUrl = LOCAL_SERVER;
const shadowArgs = shadowUrl ? ['--shadow-url', shadowUrl] : [];

const knexDirs = opts.knex ? ['examples/shop', 'bench/peers/knex-project'].map((d) => path.join(REPO, d)) : [];
const knexFiles = knexDirs.flatMap((dir) =>
  fs
    .readdirSync(path.join(dir, 'migrations'))
    .filter((f) => /\.(c|m)?(j|t)s$/.test(f))
    .sort()
    .map((f) => ({ dir, name: f, file: path.join(dir, 'migrations', f) })),
);

/**
 * pgfence on knex files. It stops the whole run at the first knex.raw() string it cannot parse as SQL
 * (e.g. a column default such as knex.raw('gen_random_uuid()')), so when the run over all files fails,
 * the files without knex.raw() go in one run and each file with knex.raw() in a run of its own.
 */
async function pgfenceKnex(files) {
  const args = (list) => ['analyze', '--format', 'knex', '--output', 'json', ...list];
  const whole = await run(opts.pgfence, args(files));
  if (whole.code === 0 || whole.stdout.trim().startsWith('{')) return [{ files, result: whole }];
  const withRaw = files.filter((f) => /\.raw\s*\(/.test(fs.readFileSync(f, 'utf8')));
  const rest = files.filter((f) => !withRaw.includes(f));
  const runs = [];
  if (rest.length) runs.push({ files: rest, result: await run(opts.pgfence, args(rest)) });
  for (const f of withRaw) runs.push({ files: [f], result: await run(opts.pgfence, args([f])) });
  return runs;
}

const tasks = [
  // Slow ones (PGlite shadows) first.
  ...knexDirs.map((dir) => async () => ({ kind: 'knexsafe-project', dir, result: await run('node', [KNEXSAFE, 'check', '--cwd', dir, '--all', '--json', ...shadowArgs]) })),
  ...groups.map(([pg, list]) => async () => ({ kind: 'knexsafe', pg, result: await run('node', [KNEXSAFE, 'check', '--json', '--pg-version', String(pg), ...list.map((c) => c.file)]) })),
  ...groups.map(([pg, list]) => async () => ({ kind: 'squawk', pg, result: await run(opts.squawk, ['--reporter', 'json', '--pg-version', `${pg}.0`, ...list.map((c) => c.file)]) })),
  ...(havePgfence
    ? [
        ...groups.map(([pg, list]) => async () => ({
          kind: 'pgfence',
          pg,
          result: await run(opts.pgfence, ['analyze', '--format', 'sql', '--output', 'json', '--min-pg-version', String(pg), ...list.map((c) => c.file)]),
        })),
        ...knexDirs.map((dir) => async () => ({ kind: 'pgfence-knex', dir, runs: await pgfenceKnex(knexFiles.filter((k) => k.dir === dir).map((k) => k.file)) })),
      ]
    : []),
];
const results = await pool(tasks, Math.max(2, os.availableParallelism?.() ?? os.cpus().length));
if (process.env.PEERS_TIMING)
  for (const r of results) for (const x of r.runs ?? [r]) console.error(`${r.kind} ${r.pg ?? path.basename(r.dir ?? '')} ${x.files?.length ?? ''} ${(x.result.ms / 1000).toFixed(1)} s`);

// ---------------------------------------------------------------------------------------------
// Findings per case

for (const c of cases) {
  c.knexsafe = [];
  c.squawk = [];
  c.pgfence = [];
  c.pgfenceFile = [];
}
const caseByName = new Map(cases.map((c) => [c.name, c]));
for (const r of results) {
  if (r.kind === 'knexsafe') {
    const report = parseJson(r.result, 'knexsafe');
    for (const f of report.findings) {
      const c = caseByName.get(f.migration);
      if (!c || f.suppressed) continue;
      c.knexsafe.push({ rule: f.rule, statement: statementAt(c, f.line ?? 1), line: f.line, severity: f.severity });
    }
  } else if (r.kind === 'squawk') {
    const list = r.result.stdout.trim() ? parseJson(r.result, 'squawk') : [];
    for (const f of list) {
      const c = caseByName.get(path.basename(f.file));
      if (!c) continue;
      c.squawk.push({ rule: f.rule_name, statement: statementAt(c, f.line + 1), line: f.line + 1 });
    }
  } else if (r.kind === 'pgfence') {
    const report = parseJson(r.result, 'pgfence');
    for (const res of report.results) {
      const c = caseByName.get(path.basename(res.filePath));
      if (!c) continue;
      for (const check of res.checks) {
        // pgfence 0.1.5 sometimes cuts the first character(s) of a statement's text: fall back to containment.
        const text = normalize(check.statement);
        let i = c.statements.findIndex((s) => normalize(s.sql) === text);
        if (i < 0 && text.length > 10) i = c.statements.findIndex((s) => normalize(s.sql).includes(text));
        c.pgfence.push({ rule: check.ruleId, statement: i < 0 ? undefined : i, risk: check.risk });
      }
      for (const v of res.policyViolations ?? []) c.pgfenceFile.push({ rule: v.ruleId });
    }
  }
}

// Unknown squawk rules: the table must cover every rule the installed squawk reports.
const unknownSquawk = [...new Set(cases.flatMap((c) => c.squawk.map((f) => f.rule)).filter((r) => !conceptOfSquawk.has(r)))];

// ---------------------------------------------------------------------------------------------
// Comparison: per case, rows of (rule, statement). A squawk finding on an overlapping rule must be
// matched by a knexsafe finding of an equivalent rule on the same statement (the same file for
// lock_timeout), or explained; a knexsafe finding squawk has no counterpart for must be explained too.
// pgfence is placed on the same rows, for information.

const problems = [];
const differences = [];
/** The concept a knexsafe (or pgfence) rule stands for in this case: the case's focus first. */
function conceptFor(c, tool, rule) {
  const candidates = CONCEPTS.filter((x) => x[tool].includes(rule));
  return candidates.find((x) => x.squawk === c.focus) ?? candidates.find((x) => x.squawk) ?? candidates[0];
}
const PGFENCE_IGNORED = new Map(); // pgfence rules with no row (informational ones), with counts
for (const c of cases) {
  c.rows = [];
  const rowAt = (concept, statement) => c.rows.find((r) => r.concept === concept && r.statement === statement);
  const scopeOf = (concept, statement) => (isTimeoutFile(concept) ? undefined : statement);
  // squawk
  for (const f of c.squawk) {
    const concept = conceptOfSquawk.get(f.rule);
    if (!concept) continue;
    const statement = scopeOf(concept, f.statement);
    if (!rowAt(concept, statement)) c.rows.push({ concept, statement, squawk: true, knexsafe: [], pgfence: [] });
  }
  // knexsafe: on the squawk row it matches, else a row of its own
  for (const k of c.knexsafe) {
    const matching = c.rows.filter((r) => r.squawk && r.concept.knexsafe.includes(k.rule) && (r.statement === undefined || r.statement === k.statement));
    for (const r of matching) if (!r.knexsafe.includes(k.rule)) r.knexsafe.push(k.rule);
    if (matching.length) continue;
    const concept = conceptFor(c, 'knexsafe', k.rule) ?? { knexsafe: [k.rule], pgfence: [], label: k.rule };
    const statement = concept.squawk ? scopeOf(concept, k.statement) : k.statement;
    const row = rowAt(concept, statement);
    if (row) {
      if (!row.knexsafe.includes(k.rule)) row.knexsafe.push(k.rule);
    } else c.rows.push({ concept, statement, squawk: false, knexsafe: [k.rule], pgfence: [] });
  }
  // pgfence: statement checks and file-level policies
  for (const f of [...c.pgfence, ...c.pgfenceFile.map((x) => ({ ...x, statement: undefined }))]) {
    const candidates = CONCEPTS.filter((x) => x.pgfence.includes(f.rule));
    if (!candidates.length) {
      PGFENCE_IGNORED.set(f.rule, (PGFENCE_IGNORED.get(f.rule) ?? 0) + 1);
      continue;
    }
    const existing = c.rows.filter((r) => candidates.includes(r.concept) && (r.statement === undefined || f.statement === undefined || r.statement === f.statement));
    for (const r of existing) if (!r.pgfence.includes(f.rule)) r.pgfence.push(f.rule);
    if (existing.length) continue;
    const concept = candidates.find((x) => x.squawk === c.focus) ?? candidates[0];
    c.rows.push({ concept, statement: scopeOf(concept, f.statement ?? 0), squawk: false, knexsafe: [], pgfence: [f.rule] });
  }
  // verdicts
  for (const r of c.rows) {
    const label = r.concept.squawk ?? r.concept.label ?? r.concept.knexsafe[0];
    r.label = label;
    const overlapping = r.concept.squawk && r.concept.knexsafe.length > 0;
    if (r.squawk && r.knexsafe.length) r.verdict = 'same';
    else if (r.squawk && !overlapping) r.verdict = 'squawk (no knexsafe rule)';
    else if (r.squawk) {
      const explained = c.squawkOnly.find((e) => e.rule === r.concept.squawk);
      if (explained) {
        explained.used = true;
        r.verdict = 'squawk only';
        r.reason = explained.reason;
        differences.push({ case: c, direction: 'squawk-only', rule: r.concept.squawk, reason: explained.reason });
      } else {
        r.verdict = 'MISSED';
        problems.push(
          `${c.name}: squawk ${r.concept.squawk} on ${r.statement === undefined ? 'the file' : `statement ${r.statement + 1}`} has no knexsafe finding (${r.concept.knexsafe.join(' / ')}) and no "-- squawk-only: ${r.concept.squawk}:" explanation`,
        );
      }
    } else if (r.knexsafe.length) {
      const explained = r.knexsafe.map((rule) => c.knexsafeOnly.find((e) => e.rule === rule)).find(Boolean);
      if (explained) {
        explained.used = true;
        r.verdict = 'knexsafe only';
        r.reason = explained.reason;
        differences.push({ case: c, direction: 'knexsafe-only', rule: explained.rule, reason: explained.reason });
      } else if (!r.concept.squawk && r.concept.why) {
        r.verdict = 'knexsafe only';
        r.reason = r.concept.why;
        differences.push({ case: c, direction: 'knexsafe-only', rule: r.knexsafe[0], reason: r.concept.why, ruleLevel: true });
      } else {
        r.verdict = 'UNEXPLAINED';
        problems.push(`${c.name}: knexsafe ${r.knexsafe.join(', ')} on statement ${(r.statement ?? 0) + 1} has no squawk counterpart and no "-- knexsafe-only: ${r.knexsafe[0]}:" explanation`);
      }
    } else r.verdict = 'pgfence only';
  }
  c.rows.sort((a, b) => (a.statement ?? -1) - (b.statement ?? -1) || a.label.localeCompare(b.label));
  for (const e of [...c.squawkOnly, ...c.knexsafeOnly]) {
    if (!e.used) problems.push(`${c.name}: stale explanation for ${e.rule} (that difference no longer happens): ${e.reason}`);
  }
  // The case's own contract (also asserted by test/peers/sql-cases.test.ts).
  const got = [...new Set(c.knexsafe.map((k) => k.rule))].sort();
  const want = [...c.expect].sort();
  if (got.join() !== want.join()) problems.push(`${c.name}: knexsafe reports [${got.join(', ')}], the case expects [${want.join(', ')}]`);
}
if (unknownSquawk.length) problems.push(`squawk reported rules the CONCEPTS table does not know: ${unknownSquawk.join(', ')}`);

// ---------------------------------------------------------------------------------------------
// Per-rule summary (cases, not findings: a case counts once per tool and rule)

const summary = CONCEPTS.filter((x) => x.squawk || x.why).map((concept) => {
  const row = { concept, cases: 0, squawk: 0, knexsafe: 0, pgfence: 0, same: 0, squawkOnly: 0, knexsafeOnly: 0, missed: 0 };
  for (const c of cases) {
    const rows = c.rows.filter((r) => r.concept === concept);
    if (rows.length || c.focus === concept.squawk) row.cases++;
    if (rows.some((r) => r.squawk)) row.squawk++;
    if (rows.some((r) => r.knexsafe.length)) row.knexsafe++;
    if (rows.some((r) => r.pgfence.length)) row.pgfence++;
    if (rows.some((r) => r.verdict === 'same')) row.same++;
    if (rows.some((r) => r.verdict === 'squawk only')) row.squawkOnly++;
    if (rows.some((r) => r.verdict === 'knexsafe only')) row.knexsafeOnly++;
    if (rows.some((r) => r.verdict === 'MISSED')) row.missed++;
  }
  return row;
});

// ---------------------------------------------------------------------------------------------
// knex projects

const projects = [];
for (const dir of knexDirs) {
  const r = results.find((x) => x.kind === 'knexsafe-project' && x.dir === dir);
  const report = parseJson(r.result, `knexsafe check --cwd ${path.relative(REPO, dir)}`);
  const migrations = knexFiles
    .filter((k) => k.dir === dir)
    .map((k) => {
      const source = fs.readFileSync(k.file, 'utf8');
      const sqlCase = /\/\/\s*sql-case:\s*([\w-]+)/.exec(source)?.[1];
      const ks = report.findings.filter((f) => f.migration === k.name && !f.suppressed).map((f) => f.rule);
      const ran = report.migrations.find((m) => m.name === k.name);
      let pgf;
      const pr = results.find((x) => x.kind === 'pgfence-knex' && x.dir === dir)?.runs.find((x) => x.files.includes(k.file));
      if (pr) {
        try {
          const d = JSON.parse(pr.result.stdout);
          const res = d.results.find((x) => path.resolve(REPO, x.filePath) === k.file) ?? { checks: [], policyViolations: [], extractionWarnings: [], statementCount: 0 };
          pgf = {
            checks: res.checks.map((x) => x.ruleId),
            policy: (res.policyViolations ?? []).map((x) => x.ruleId),
            statements: res.statementCount ?? 0,
            skipped: (res.extractionWarnings ?? []).length,
          };
        } catch {
          pgf = { error: (pr.result.stderr || pr.result.stdout).trim().split('\n')[0] };
        }
      }
      const sc = sqlCase ? caseByName.get(`${sqlCase}.sql`) : undefined;
      return {
        name: k.name,
        sqlCase,
        failed: ran?.failed?.message,
        knexsafe: [...new Set(ks)].sort(),
        pgfence: pgf,
        squawkOnSql: sc ? [...new Set(sc.squawk.map((f) => f.rule))].sort() : undefined,
        knexsafeOnSql: sc ? [...new Set(sc.knexsafe.map((f) => f.rule))].sort() : undefined,
      };
    });
  projects.push({ dir: path.relative(REPO, dir), scope: report.scope, shadow: report.shadow, migrations, ms: r.result.ms });
}

// ---------------------------------------------------------------------------------------------
// Output

const runtimeMs = performance.now() - started;
const allRows = cases.flatMap((c) => c.rows);
const squawkOverlapping = allRows.filter((r) => r.squawk && r.concept.knexsafe.length).length;
const same = allRows.filter((r) => r.verdict === 'same').length;
const explainedSquawk = allRows.filter((r) => r.verdict === 'squawk only').length;
const misses = allRows.filter((r) => r.verdict === 'MISSED').length;
const mark = (b) => (b ? 'yes' : '—');
const list = (xs) => (xs?.length ? xs.join(', ') : '—');
const stmt = (s) => (s === undefined ? 'file' : `stmt ${s + 1}`);

const lines = [];
const say = (s = '') => lines.push(s);
say(`knexsafe ${versions.knexsafe} vs squawk ${versions.squawk}${havePgfence ? ` vs pgfence ${versions.pgfence}` : ''} on ${cases.length} SQL cases (${path.relative(REPO, opts.cases)})`);
say(opts.verbose ? '' : "(cases where the tools agree, and squawk's prefer-robust-stmts / require-statement-timeout, are left out; --verbose prints them)");
say('');
// squawk asks for these on nearly every file; knexsafe has no such rule by design (see the report).
const EVERYWHERE = new Set(['prefer-robust-stmts', 'require-statement-timeout']);
const shown = (r) => opts.verbose || !EVERYWHERE.has(r.label);
for (const c of cases) {
  const interesting = c.rows.some((r) => r.verdict !== 'same' && shown(r));
  if (!opts.verbose && !interesting) continue;
  say(`${c.name} (pg ${c.pg}) — ${c.description}`);
  for (const r of c.rows.filter(shown)) {
    say(
      `  ${stmt(r.statement).padEnd(7)} ${r.label.padEnd(44)} knexsafe ${mark(r.knexsafe.length).padEnd(3)} squawk ${mark(r.squawk).padEnd(3)} pgfence ${mark(r.pgfence.length).padEnd(3)} ${r.verdict}${r.reason ? `: ${r.reason}` : ''}`,
    );
  }
}
say('');
say('Per squawk rule (cases flagged by each tool):');
say(`  ${'squawk rule'.padEnd(45)} cases squawk knexsafe pgfence same squawk-only knexsafe-only missed`);
for (const row of summary.filter((r) => r.concept.squawk && r.concept.knexsafe.length)) {
  say(
    `  ${row.concept.squawk.padEnd(45)} ${String(row.cases).padStart(5)} ${String(row.squawk).padStart(6)} ${String(row.knexsafe).padStart(8)} ${String(row.pgfence).padStart(7)} ${String(row.same).padStart(4)} ${String(row.squawkOnly).padStart(11)} ${String(row.knexsafeOnly).padStart(13)} ${String(row.missed).padStart(6)}`,
  );
}
say('');
say('squawk rules without a knexsafe equivalent (cases squawk flags them in):');
for (const row of summary.filter((r) => r.concept.squawk && !r.concept.knexsafe.length)) say(`  ${row.concept.squawk.padEnd(46)} ${String(row.squawk).padStart(3)}`);
if (projects.length) {
  say('');
  for (const p of projects) {
    say(`knex project ${p.dir} (${p.scope}; knexsafe ${(p.ms / 1000).toFixed(1)} s):`);
    for (const m of p.migrations) {
      const pg = m.pgfence
        ? m.pgfence.error
          ? `error: ${m.pgfence.error}`
          : `${list(m.pgfence.checks)} (${m.pgfence.statements} raw statement(s) read, ${m.pgfence.skipped} builder call(s) skipped)`
        : 'n/a';
      say(`  ${m.name}${m.failed ? ` [failed: ${m.failed}]` : ''}`);
      say(`    knexsafe: ${list(m.knexsafe)}`);
      say(`    pgfence:  ${pg}`);
      if (m.sqlCase) say(`    squawk on the SQL knex emits (${m.sqlCase}.sql): ${list(m.squawkOnSql)}`);
    }
  }
}
say('');
say(
  `Acceptance: squawk flags ${squawkOverlapping} statements (lock_timeout: files) on rules knexsafe has an equivalent for; knexsafe flags ${same} of them, ${explainedSquawk} are explained differences, ${misses} are missed.`,
);
say(
  misses === 0 && problems.length === 0
    ? 'knexsafe misses nothing squawk catches on these cases; every difference is explained.'
    : `FAILED: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
);
say(`Runtime: ${(runtimeMs / 1000).toFixed(1)} s.`);
console.log(lines.join('\n'));

// ---------------------------------------------------------------------------------------------
// Markdown report

if (opts.report) {
  const date = new Date().toISOString().slice(0, 10);
  const name = opts.name ?? `peers-${date}`;
  const md = [];
  const p = (s = '') => md.push(s);
  const cell = (s) =>
    String(s ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  p(`# knexsafe vs squawk vs pgfence — ${date}`);
  p();
  p(`Generated by \`node bench/peers/compare.mjs\` (${(runtimeMs / 1000).toFixed(1)} s on this machine, ${os.cpus().length} CPUs).`);
  p();
  p('| tool | version | reads |');
  p('|---|---|---|');
  p(
    `| knexsafe | ${versions.knexsafe} | the SQL cases statically (\`knexsafe check <file> --json --pg-version <v>\`); knex projects by running them on a shadow (\`knexsafe check --cwd <project> --all --json${shadowUrl ? ' --shadow-url …' : ''}\`: ${shadowUrl ? 'temporary databases on the PostgreSQL server' : 'embedded PGlite'}) |`,
  );
  p(`| squawk (squawk-cli) | ${versions.squawk} | SQL files (\`squawk <file> --reporter json --pg-version <v>\`), default rule set |`);
  p(`| pgfence (@flvmnt/pgfence) | ${versions.pgfence ?? 'not installed'} | SQL files (\`pgfence analyze --format sql\`); knex files (\`--format knex\`: the strings of \`knex.raw()\` only) |`);
  p(`| Node.js | ${versions.node} | |`);
  p();
  p(
    `Cases: ${cases.length} files in \`test/fixtures/sql-cases/\` (one statement pattern each, safe and unsafe variants, many of them the exact SQL knex 3 emits), checked for PostgreSQL ${groups.map(([v]) => v).join(', ')} (a \`-- pg:\` header; 15 otherwise). Findings are compared per statement (squawk's line → the statement containing it); lock_timeout findings per file, since both tools report them once per file, on different lines.`,
  );
  p();
  p('## Acceptance');
  p();
  p(
    `- squawk flags ${squawkOverlapping} statements (for lock_timeout: files) on rules knexsafe has an equivalent for. **knexsafe flags ${same} of them with an equivalent rule on the same statement; ${explainedSquawk} are deliberate differences, explained below; ${misses} are missed.**`,
  );
  p(
    `- ${problems.length === 0 ? '**knexsafe misses nothing squawk catches on these cases, and every difference — in either direction — is explained.**' : `**FAILED**: ${problems.length} problem(s): ${problems.map(cell).join('; ')}`}`,
  );
  p(`- Each case's header lists the knexsafe rules it must produce (\`-- expect:\`); \`test/peers/sql-cases.test.ts\` asserts them in \`npm test\`, without squawk.`);
  p();
  p('## Per overlapping rule');
  p();
  p(
    'Cases flagged by each tool (a case counts once per rule). *same*: knexsafe flags the statement squawk flags, with an equivalent rule; *squawk only*: squawk flags, knexsafe deliberately does not (every one explained below); *knexsafe only*: knexsafe flags, squawk does not (explained below); *missed*: squawk flags, knexsafe does not, unexplained — the acceptance requires 0.',
  );
  p();
  p('| squawk rule | knexsafe rule(s) | pgfence rule(s) | cases | squawk | knexsafe | pgfence | same | squawk only | knexsafe only | missed |');
  p('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of summary.filter((r) => r.concept.squawk && r.concept.knexsafe.length)) {
    p(
      `| \`${row.concept.squawk}\` | ${row.concept.knexsafe.map((x) => `\`${x}\``).join(', ')} | ${row.concept.pgfence.map((x) => `\`${x}\``).join(', ') || '—'} | ${row.cases} | ${row.squawk} | ${row.knexsafe} | ${row.pgfence} | ${row.same} | ${row.squawkOnly} | ${row.knexsafeOnly} | ${row.missed} |`,
    );
  }
  p();
  const notes = OVERLAPPING.filter((c) => c.note);
  if (notes.length) {
    p('Notes on the mapping:');
    p();
    for (const c of notes) p(`- \`${c.squawk}\`: ${c.note}`);
    p();
  }
  p('## Every difference, explained');
  p();
  p('### squawk flags, knexsafe deliberately does not');
  p();
  p('| case | squawk rule | why knexsafe does not |');
  p('|---|---|---|');
  for (const d of differences.filter((x) => x.direction === 'squawk-only')) p(`| \`${d.case.name}\` | \`${d.rule}\` | ${cell(d.reason)} |`);
  p();
  p('### knexsafe flags, squawk does not');
  p();
  p('| case | knexsafe rule | why |');
  p('|---|---|---|');
  for (const d of differences.filter((x) => x.direction === 'knexsafe-only')) p(`| \`${d.case.name}\` | \`${d.rule}\` | ${cell(d.reason)} |`);
  p();
  p('### squawk rules knexsafe has no equivalent for');
  p();
  p('| squawk rule | cases squawk flags it in | decision |');
  p('|---|---:|---|');
  for (const row of summary.filter((r) => r.concept.squawk && !r.concept.knexsafe.length)) p(`| \`${row.concept.squawk}\` | ${row.squawk} | ${cell(row.concept.why)} |`);
  p();
  const pgfenceOnly = cases.flatMap((c) => c.rows.filter((r) => r.verdict === 'pgfence only').map((r) => ({ c, r })));
  if (havePgfence) {
    p('### pgfence');
    p();
    p('pgfence is compared for information (the acceptance is about squawk). Where it flags something neither knexsafe nor squawk flags:');
    p();
    p('| pgfence rule | where | cases |');
    p('|---|---|---|');
    const byRule = new Map();
    for (const { c, r } of pgfenceOnly) {
      for (const rule of r.pgfence) {
        const key = `${rule}\u0000${r.statement === undefined ? 'file' : 'statement'}`;
        byRule.set(key, [...(byRule.get(key) ?? []), r.statement === undefined ? `\`${c.name}\`` : `\`${c.name}\` (${cell(c.statements[r.statement].sql.slice(0, 70))}…)`]);
      }
    }
    for (const [key, where] of byRule) {
      const [rule, scope] = key.split('\u0000');
      p(`| \`${rule}\` | ${scope === 'file' ? 'the file (new tables only, or data changes)' : 'statement'} | ${where.join(', ')} |`);
    }
    p();
    p(
      `pgfence rules left out of the rows (advice on every file or informational notes on safe statements), with the number of findings: ${
        [...PGFENCE_IGNORED.entries()]
          .sort()
          .map(([k, v]) => `\`${k}\` ${v}`)
          .join(', ') || 'none'
      }.`,
    );
    p();
  }
  p('## Per case');
  p();
  p(
    'Rules each tool reports on the case (squawk without `prefer-robust-stmts` and `require-statement-timeout`, pgfence without its file-level policies, which fire on nearly every file; see the tables above).',
  );
  p();
  p('| case | pg | what it is | knexsafe | squawk | pgfence |');
  p('|---|---:|---|---|---|---|');
  const quiet = new Set(['prefer-robust-stmts', 'require-statement-timeout']);
  for (const c of cases) {
    const ks = [...new Set(c.knexsafe.map((f) => f.rule))].sort();
    const sq = [...new Set(c.squawk.map((f) => f.rule))].filter((r) => !quiet.has(r)).sort();
    const pf = [...new Set(c.pgfence.map((f) => f.rule))].filter((r) => !r.startsWith('prefer-robust-')).sort();
    p(`| \`${c.name}\` | ${c.pg} | ${cell(c.description)}${c.knex ? ` (knex: \`${cell(c.knex)}\`)` : ''} | ${list(ks)} | ${list(sq)} | ${havePgfence ? list(pf) : 'n/a'} |`);
  }
  p();
  if (projects.length) {
    p('## knex migration projects');
    p();
    p(
      "knexsafe runs each migration on a shadow database (a temporary database on the server below; embedded PGlite without one — same findings) through knex and sees every statement knex emits — schema builder and `knex.raw` alike — with the schema before and after. pgfence reads the migration file and analyses only string literals passed to `knex.raw()` (schema builder calls are skipped with a warning; query-builder calls such as `knex('t').truncate()` are not seen at all). squawk reads SQL only: the last column is squawk on the SQL case holding the statements that migration makes knex emit.",
    );
    p();
    for (const proj of projects) {
      p(`### \`${proj.dir}\``);
      p();
      p(`knexsafe: ${cell(proj.scope)}; shadow: ${cell((proj.shadow ?? 'embedded').replace(/knexsafe_shadow_\d+_\w+/, 'knexsafe_shadow_…'))} (${(proj.ms / 1000).toFixed(1)} s).`);
      p();
      p('| migration | knexsafe (shadow) | pgfence (knex file) | squawk on the emitted SQL | knexsafe static on that SQL |');
      p('|---|---|---|---|---|');
      for (const m of proj.migrations) {
        const pg = m.pgfence
          ? m.pgfence.error
            ? `error: ${cell(m.pgfence.error)}`
            : `${list(m.pgfence.checks)} (${m.pgfence.statements} raw statement${m.pgfence.statements === 1 ? '' : 's'} read, ${m.pgfence.skipped} builder call${m.pgfence.skipped === 1 ? '' : 's'} skipped)`
          : 'n/a';
        p(
          `| \`${m.name}\`${m.failed ? ` (failed: ${cell(m.failed)})` : ''} | ${list(m.knexsafe)} | ${pg} | ${m.sqlCase ? `${list((m.squawkOnSql ?? []).filter((r) => !quiet.has(r)))} (\`${m.sqlCase}.sql\`)` : '—'} | ${m.sqlCase ? list(m.knexsafeOnSql) : '—'} |`,
        );
      }
      p();
    }
  }
  p('## Reading it');
  p();
  p(REPORT_NOTES);
  p();
  p('## Reproduce');
  p();
  p('```sh');
  p('mkdir -p /tmp/peers && cd /tmp/peers && npm init -y && npm install squawk-cli @flvmnt/pgfence @typescript-eslint/typescript-estree');
  p('cd - && npm run build && node bench/peers/compare.mjs            # --verbose prints every case');
  p('```');
  fs.mkdirSync(opts['out-dir'], { recursive: true });
  const out = path.join(opts['out-dir'], `${name}.md`);
  fs.writeFileSync(out, md.join('\n') + '\n');
  console.log(`Report: ${path.relative(REPO, out)}`);
}

process.exit(misses === 0 && problems.length === 0 ? 0 : 1);
