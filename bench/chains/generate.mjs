#!/usr/bin/env node
// Synthetic knex migration chain generator (no dependencies).
//
//   node bench/chains/generate.mjs <targetDir> [--count N] [--seed S]
//
// Writes <targetDir>/knexfile.js, <targetDir>/package.json ({"type":"commonjs"}) and
// <targetDir>/migrations/YYYYMMDDHHMMSS_<name>.js: N (default 120) CommonJS knex migrations that
// read like a product's history (≈30 tables, FKs, indexes, uniques, renames, .alter() type changes,
// native enums, views, a function + triggers, CREATE INDEX CONCURRENTLY with transaction:false,
// small data migrations). Every `down` exactly undoes its `up`, so on PostgreSQL ≥ 13
// latest → rollback --all → latest succeeds and the schema after rollback is the empty schema.
// Output is deterministic for a given (N, seed).
import { writeChain } from './write-chain.mjs';

// ------------------------------------------------------------------------------------------------
// arguments
const args = process.argv.slice(2);
let target;
let count = 120;
let seed = 20240101;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--count' || a === '-n') count = Number(args[++i]);
  else if (a.startsWith('--count=')) count = Number(a.slice(8));
  else if (a === '--seed') seed = Number(args[++i]);
  else if (a.startsWith('--seed=')) seed = Number(a.slice(7));
  else if (a === '--help' || a === '-h') {
    target = undefined;
    count = NaN;
  } else if (!target) target = a;
  else {
    console.error(`unexpected argument: ${a}`);
    process.exit(2);
  }
}
if (!target || !Number.isInteger(count) || count < 1 || !Number.isFinite(seed)) {
  console.error('usage: node bench/chains/generate.mjs <targetDir> [--count N (default 120)] [--seed S]');
  process.exit(2);
}

// ------------------------------------------------------------------------------------------------
// deterministic PRNG (mulberry32)
function mulberry32(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(seed);
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];

// ------------------------------------------------------------------------------------------------
// JS literal in single quotes (strings, numbers, arrays of them) for generated code
function J(v) {
  if (Array.isArray(v)) return `[${v.map(J).join(', ')}]`;
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return String(v);
}

// ------------------------------------------------------------------------------------------------
// column definitions -> knex builder code
// def: { type, args?: [], nullable?: bool, default?: {js: 'code'}, unique?: bool, primary?: bool,
//        ref?: {table, column, onDelete} }
function colCode(name, d, v = 't') {
  const a = [J(name), ...(d.args || []).map((x) => (typeof x === 'string' ? x : J(x)))];
  let s = `${v}.${d.type}(${a.join(', ')})`;
  if (d.primary) s += '.primary()';
  if (d.nullable === false) s += '.notNullable()';
  if (d.nullable === true && d.alter) s += '.nullable()';
  if (d.default !== undefined) s += `.defaultTo(${d.default})`;
  if (d.unique) s += '.unique()';
  if (d.ref) {
    s += `\n  .references(${J(d.ref.column || 'id')}).inTable(${J(d.ref.table)})`;
    if (d.ref.onDelete) s += `.onDelete(${J(d.ref.onDelete)})`;
  }
  if (d.alter) s += '.alter()';
  return s + ';';
}
const ind = (lines, n = 4) =>
  lines
    .flatMap((l) => l.split('\n'))
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

// ------------------------------------------------------------------------------------------------
// schema model (what exists after each migration) so later migrations stay valid
const model = new Map(); // table -> { cols: Map(name -> def), frozen, indexes: Set(col) }
const S = (len) => ({ type: 'string', args: [len] });
const fk = (table, extra = {}) => ({ type: 'integer', ref: { table, onDelete: 'CASCADE' }, nullable: false, ...extra });
const bfk = (table, extra = {}) => ({ type: 'bigInteger', ref: { table, onDelete: 'CASCADE' }, nullable: false, ...extra });

// the product: a project-management + billing SaaS. Order = creation order (FKs point backwards).
// `enums` lists native enum columns (useNative) whose type the down must drop.
const TABLES = [
  [
    'organizations',
    { id: { type: 'increments' }, name: { ...S(200), nullable: false }, slug: { ...S(80), nullable: false, unique: true }, settings: { type: 'jsonb', nullable: false, default: "'{}'" } },
    { timestamps: true },
  ],
  [
    'users',
    {
      id: { type: 'increments' },
      email: { ...S(320), nullable: false, unique: true },
      name: { ...S(200) },
      password_hash: { ...S(255) },
      is_admin: { type: 'boolean', nullable: false, default: 'false' },
    },
    { timestamps: true },
  ],
  [
    'memberships',
    {
      id: { type: 'increments' },
      organization_id: fk('organizations'),
      user_id: fk('users'),
      role: { type: 'enu', args: [['owner', 'admin', 'member', 'guest'], "{ useNative: true, enumName: 'membership_role' }"], nullable: false, default: "'member'" },
    },
    { timestamps: true, unique: [['organization_id', 'user_id']], enums: ['membership_role'] },
  ],
  ['teams', { id: { type: 'increments' }, organization_id: fk('organizations'), name: { ...S(120), nullable: false } }, { timestamps: true }],
  ['team_members', { team_id: fk('teams'), user_id: fk('users') }, { primary: ['team_id', 'user_id'] }],
  [
    'projects',
    {
      id: { type: 'increments' },
      organization_id: fk('organizations'),
      team_id: { type: 'integer', ref: { table: 'teams', onDelete: 'SET NULL' } },
      name: { ...S(200), nullable: false },
      description: { type: 'text' },
      archived: { type: 'boolean', nullable: false, default: 'false' },
    },
    { timestamps: true, index: ['organization_id'] },
  ],
  [
    'labels',
    { id: { type: 'increments' }, project_id: fk('projects'), name: { ...S(60), nullable: false }, color: { ...S(7), nullable: false, default: "'#888888'" } },
    { unique: [['project_id', 'name']] },
  ],
  [
    'tasks',
    {
      id: { type: 'bigIncrements' },
      project_id: fk('projects'),
      assignee_id: { type: 'integer', ref: { table: 'users', onDelete: 'SET NULL' } },
      title: { ...S(300), nullable: false },
      body: { type: 'text' },
      status: { type: 'enu', args: [['todo', 'doing', 'done'], "{ useNative: true, enumName: 'task_status' }"], nullable: false, default: "'todo'" },
      priority: { type: 'integer', nullable: false, default: '0' },
      due_at: { type: 'timestamp', args: ['{ useTz: true }'] },
    },
    { timestamps: true, index: ['project_id', 'assignee_id'], enums: ['task_status'] },
  ],
  ['task_labels', { task_id: bfk('tasks'), label_id: fk('labels') }, { primary: ['task_id', 'label_id'] }],
  ['comments', { id: { type: 'bigIncrements' }, task_id: bfk('tasks'), author_id: fk('users'), body: { type: 'text', nullable: false } }, { timestamps: true, index: ['task_id'] }],
  [
    'attachments',
    {
      id: { type: 'uuid', primary: true, default: "knex.raw('gen_random_uuid()')" },
      task_id: bfk('tasks'),
      file_name: { ...S(255), nullable: false },
      byte_size: { type: 'bigInteger', nullable: false },
      content_type: { ...S(100) },
    },
    { timestamps: true },
  ],
  [
    'plans',
    {
      id: { type: 'increments' },
      code: { ...S(40), nullable: false, unique: true },
      name: { ...S(100), nullable: false },
      price_cents: { type: 'integer', nullable: false },
      currency: { type: 'specificType', args: ["'char(3)'"], nullable: false, default: "'USD'" },
      features: { type: 'jsonb', nullable: false, default: "'[]'" },
    },
    {},
  ],
  [
    'subscriptions',
    {
      id: { type: 'increments' },
      organization_id: fk('organizations'),
      plan_id: { type: 'integer', ref: { table: 'plans' }, nullable: false },
      state: { type: 'enu', args: [['trialing', 'active', 'past_due', 'canceled'], "{ useNative: true, enumName: 'subscription_state' }"], nullable: false, default: "'trialing'" },
      current_period_end: { type: 'timestamp', args: ['{ useTz: true }'] },
    },
    { timestamps: true, enums: ['subscription_state'] },
  ],
  [
    'invoices',
    {
      id: { type: 'bigIncrements' },
      subscription_id: fk('subscriptions'),
      number: { ...S(30), nullable: false, unique: true },
      total: { type: 'decimal', args: [12, 2], nullable: false, default: '0' },
      issued_at: { type: 'timestamp', args: ['{ useTz: true }'], nullable: false, default: 'knex.fn.now()' },
      paid: { type: 'boolean', nullable: false, default: 'false' },
    },
    {},
  ],
  [
    'invoice_lines',
    {
      id: { type: 'bigIncrements' },
      invoice_id: bfk('invoices'),
      description: { ...S(255), nullable: false },
      quantity: { type: 'integer', nullable: false, default: '1' },
      unit_price: { type: 'decimal', args: [12, 2], nullable: false },
    },
    { index: ['invoice_id'] },
  ],
  [
    'payments',
    {
      id: { type: 'bigIncrements' },
      invoice_id: bfk('invoices'),
      amount: { type: 'decimal', args: [12, 2], nullable: false },
      provider: { ...S(30), nullable: false },
      provider_ref: { ...S(120) },
      received_at: { type: 'timestamp', args: ['{ useTz: true }'] },
    },
    { unique: [['provider', 'provider_ref']] },
  ],
  [
    'api_keys',
    {
      id: { type: 'uuid', primary: true, default: "knex.raw('gen_random_uuid()')" },
      organization_id: fk('organizations'),
      token_hash: { ...S(128), nullable: false, unique: true },
      last_used_at: { type: 'timestamp', args: ['{ useTz: true }'] },
      revoked: { type: 'boolean', nullable: false, default: 'false' },
    },
    { timestamps: true },
  ],
  [
    'webhooks',
    {
      id: { type: 'increments' },
      organization_id: fk('organizations'),
      url: { type: 'text', nullable: false },
      secret: { ...S(64), nullable: false },
      events: { type: 'specificType', args: ["'text[]'"], nullable: false, default: "'{}'" },
      active: { type: 'boolean', nullable: false, default: 'true' },
    },
    { timestamps: true },
  ],
  [
    'webhook_deliveries',
    {
      id: { type: 'bigIncrements' },
      webhook_id: fk('webhooks'),
      payload: { type: 'jsonb', nullable: false },
      response_status: { type: 'integer' },
      attempts: { type: 'smallint', nullable: false, default: '0' },
      delivered_at: { type: 'timestamp', args: ['{ useTz: true }'] },
    },
    { index: ['webhook_id'] },
  ],
  [
    'sessions',
    {
      id: { type: 'uuid', primary: true, default: "knex.raw('gen_random_uuid()')" },
      user_id: fk('users'),
      user_agent: { type: 'text' },
      ip: { type: 'specificType', args: ["'inet'"] },
      expires_at: { type: 'timestamp', args: ['{ useTz: true }'], nullable: false },
    },
    { timestamps: true, index: ['user_id'] },
  ],
  [
    'notifications',
    {
      id: { type: 'bigIncrements' },
      user_id: fk('users'),
      kind: { ...S(50), nullable: false },
      data: { type: 'jsonb', nullable: false, default: "'{}'" },
      read_at: { type: 'timestamp', args: ['{ useTz: true }'] },
    },
    { timestamps: true, index: ['user_id'] },
  ],
  [
    'audit_events',
    {
      id: { type: 'bigIncrements' },
      organization_id: fk('organizations'),
      actor_id: { type: 'integer', ref: { table: 'users', onDelete: 'SET NULL' } },
      action: { ...S(80), nullable: false },
      target: { ...S(200) },
      details: { type: 'jsonb' },
      occurred_at: { type: 'timestamp', args: ['{ useTz: true }'], nullable: false, default: 'knex.fn.now()' },
    },
    { index: ['organization_id'] },
  ],
  [
    'feature_flags',
    {
      key: { ...S(80), primary: true },
      enabled: { type: 'boolean', nullable: false, default: 'false' },
      rollout_percent: { type: 'integer', nullable: false, default: '0' },
      description: { type: 'text' },
    },
    { timestamps: true },
  ],
  ['settings', { id: { type: 'increments' }, organization_id: fk('organizations'), key: { ...S(100), nullable: false }, value: { type: 'jsonb' } }, { unique: [['organization_id', 'key']] }],
  [
    'time_entries',
    { id: { type: 'bigIncrements' }, task_id: bfk('tasks'), user_id: fk('users'), minutes: { type: 'integer', nullable: false }, note: { ...S(500) }, spent_on: { type: 'date', nullable: false } },
    { timestamps: true, index: ['task_id', 'user_id'] },
  ],
  [
    'milestones',
    { id: { type: 'increments' }, project_id: fk('projects'), title: { ...S(200), nullable: false }, due_on: { type: 'date' }, closed: { type: 'boolean', nullable: false, default: 'false' } },
    { timestamps: true },
  ],
  [
    'invitations',
    {
      id: { type: 'increments' },
      organization_id: fk('organizations'),
      email: { ...S(320), nullable: false },
      token: { type: 'uuid', nullable: false, default: "knex.raw('gen_random_uuid()')", unique: true },
      invited_by: { type: 'integer', ref: { table: 'users', onDelete: 'SET NULL' } },
      accepted_at: { type: 'timestamp', args: ['{ useTz: true }'] },
    },
    { timestamps: true },
  ],
  [
    'exports',
    {
      id: { type: 'increments' },
      organization_id: fk('organizations'),
      format: { type: 'enu', args: [['csv', 'json', 'xlsx'], "{ useNative: true, enumName: 'export_format' }"], nullable: false },
      status: { ...S(20), nullable: false, default: "'queued'" },
      file_url: { type: 'text' },
      finished_at: { type: 'timestamp', args: ['{ useTz: true }'] },
    },
    { timestamps: true, enums: ['export_format'] },
  ],
  ['legacy_imports', { id: { type: 'increments' }, source: { ...S(50), nullable: false }, raw: { type: 'text' }, imported_at: { type: 'timestamp' } }, { frozen: true }],
  [
    'saved_filters',
    {
      id: { type: 'increments' },
      user_id: fk('users'),
      project_id: { type: 'integer', ref: { table: 'projects', onDelete: 'CASCADE' } },
      name: { ...S(100), nullable: false },
      query: { type: 'jsonb', nullable: false },
    },
    { timestamps: true },
  ],
];
const TABLE_SPEC = new Map(TABLES.map(([n, c, o]) => [n, [c, o || {}]]));

function createTableCode(name, cols, opts) {
  const lines = [];
  for (const [c, d] of Object.entries(cols)) lines.push(colCode(c, d));
  if (opts.primary) lines.push(`t.primary(${J(opts.primary)});`);
  if (opts.timestamps) lines.push('t.timestamps(true, true);');
  for (const u of opts.unique || []) lines.push(`t.unique(${J(u)});`);
  for (const i of opts.index || []) lines.push(`t.index([${J(i)}]);`);
  return `await knex.schema.createTable(${J(name)}, (t) => {\n${ind(lines, 2)}\n});`;
}
function dropTableCode(name, opts) {
  const l = [`await knex.schema.dropTable(${J(name)});`];
  for (const e of opts.enums || []) l.push(`await knex.raw('DROP TYPE ${e}');`);
  return l.join('\n');
}

// ------------------------------------------------------------------------------------------------
// migrations list
const migrations = []; // { name, up: string[], down: string[], config? }
function mig(name, up, down, extra = {}) {
  migrations.push({ name, up: [].concat(up), down: [].concat(down), ...extra });
}

function createOp(name) {
  const [cols, opts] = TABLE_SPEC.get(name);
  const m = { cols: new Map(Object.entries(cols)), frozen: !!opts.frozen, indexes: new Set([...(opts.index || [])]), extra: [] };
  model.set(name, m);
  mig(`create_${name}`, createTableCode(name, cols, opts), dropTableCode(name, opts));
}

// filler columns added later (only these are renamed / altered / dropped by random steps)
const FILLER_TYPES = [
  () => ({ ...S(pick([40, 64, 100, 120])), kind: 'string' }),
  () => ({ type: 'text', kind: 'text' }),
  () => ({ type: 'integer', kind: 'int' }),
  () => ({ type: 'boolean', nullable: false, default: 'false', kind: 'bool' }),
  () => ({ type: 'decimal', args: [12, 2], kind: 'dec' }),
  () => ({ type: 'timestamp', args: ['{ useTz: true }'], kind: 'ts' }),
  () => ({ type: 'jsonb', nullable: false, default: "'{}'", kind: 'json' }),
  () => ({ type: 'date', kind: 'date' }),
];
const FILLER_WORDS = [
  'source',
  'external_ref',
  'sort_order',
  'locale',
  'timezone',
  'notes',
  'score',
  'metadata',
  'region',
  'channel',
  'weight',
  'label',
  'tier',
  'origin',
  'budget',
  'approved',
  'flagged',
  'version',
  'checksum',
  'deleted_at',
  'archived_at',
  'summary',
  'priority_hint',
  'color',
  'icon',
  'country',
  'reference',
  'estimate',
  'quota',
  'visibility',
];
// names that storyline steps add later to some table: random columns never take them
const RESERVED = new Set(['visibility', 'slug', 'display_name', 'estimate_minutes', 'milestone_id', 'full_name', 'name']);
let fillerSeq = 0;
const fillerCols = []; // { table, col }

function editableTables() {
  return [...model.entries()].filter(([, m]) => !m.frozen).map(([n]) => n);
}

const FILLERS = {
  addColumns() {
    const table = pick(editableTables());
    const m = model.get(table);
    const k = 1 + Math.floor(rnd() * 2);
    const up = [];
    const down = [];
    const names = [];
    for (let i = 0; i < k; i++) {
      let col = pick(FILLER_WORDS);
      if (m.cols.has(col) || RESERVED.has(col)) col = `${col}_${++fillerSeq}`;
      const d = FILLER_TYPES[Math.floor(rnd() * FILLER_TYPES.length)]();
      m.cols.set(col, d);
      fillerCols.push({ table, col });
      names.push(col);
      up.push(colCode(col, d));
    }
    down.push(`t.dropColumns(${names.map((n) => J(n)).join(', ')});`);
    mig(`add_${names.join('_and_')}_to_${table}`, `await knex.schema.alterTable(${J(table)}, (t) => {\n${ind(up, 2)}\n});`, `await knex.schema.alterTable(${J(table)}, (t) => {\n${ind(down, 2)}\n});`);
    return true;
  },
  addIndex() {
    const cands = fillerCols.filter(
      ({ table, col }) => model.get(table)?.cols.has(col) && !model.get(table).indexes.has(col) && ['string', 'int', 'ts', 'date', 'bool'].includes(model.get(table).cols.get(col).kind),
    );
    if (!cands.length) return false;
    const { table, col } = pick(cands);
    model.get(table).indexes.add(col);
    mig(
      `index_${table}_${col}`,
      `await knex.schema.alterTable(${J(table)}, (t) => {\n  t.index([${J(col)}]);\n});`,
      `await knex.schema.alterTable(${J(table)}, (t) => {\n  t.dropIndex([${J(col)}]);\n});`,
    );
    return true;
  },
  renameColumn() {
    const cands = fillerCols.filter(({ table, col }) => model.get(table)?.cols.has(col) && !model.get(table).indexes.has(col) && !col.endsWith('_renamed'));
    if (!cands.length) return false;
    const fc = pick(cands);
    const m = model.get(fc.table);
    const to = `${fc.col}_renamed`;
    if (m.cols.has(to)) return false;
    m.cols.set(to, m.cols.get(fc.col));
    m.cols.delete(fc.col);
    const from = fc.col;
    fc.col = to;
    mig(
      `rename_${fc.table}_${from}`,
      `await knex.schema.alterTable(${J(fc.table)}, (t) => {\n  t.renameColumn(${J(from)}, ${J(to)});\n});`,
      `await knex.schema.alterTable(${J(fc.table)}, (t) => {\n  t.renameColumn(${J(to)}, ${J(from)});\n});`,
    );
    return true;
  },
  alterType() {
    const cands = fillerCols.filter(({ table, col }) => {
      const d = model.get(table)?.cols.get(col);
      return d && (d.kind === 'string' || d.kind === 'int') && !d.altered;
    });
    if (!cands.length) return false;
    const { table, col } = pick(cands);
    const m = model.get(table);
    const before = m.cols.get(col);
    const after = before.kind === 'string' ? { ...before, args: [before.args[0] * 2], altered: true } : { ...before, type: 'bigInteger', altered: true };
    m.cols.set(col, after);
    const verb = before.kind === 'string' ? `widen_${table}_${col}` : `${table}_${col}_to_bigint`;
    mig(
      verb,
      `await knex.schema.alterTable(${J(table)}, (t) => {\n  ${colCode(col, { ...after, alter: true })}\n});`,
      `await knex.schema.alterTable(${J(table)}, (t) => {\n  ${colCode(col, { ...before, alter: true })}\n});`,
    );
    return true;
  },
  setNotNull() {
    // nullable int/text filler column -> NOT NULL DEFAULT x (.alter() restates everything; down restores)
    const cands = fillerCols.filter(({ table, col }) => {
      const d = model.get(table)?.cols.get(col);
      return d && ['int', 'text'].includes(d.kind) && d.nullable === undefined && d.default === undefined;
    });
    if (!cands.length) return false;
    const { table, col } = pick(cands);
    const m = model.get(table);
    const before = m.cols.get(col);
    const dflt = before.kind === 'int' ? '0' : "''";
    const after = { ...before, nullable: false, default: dflt };
    m.cols.set(col, after);
    mig(
      `require_${table}_${col}`,
      [
        `await knex(${J(table)}).whereNull(${J(col)}).update({ ${col}: ${before.kind === 'int' ? '0' : "''"} });`,
        `await knex.schema.alterTable(${J(table)}, (t) => {\n  ${colCode(col, { ...after, alter: true })}\n});`,
      ],
      `await knex.schema.alterTable(${J(table)}, (t) => {\n  ${colCode(col, { ...before, nullable: true, alter: true })}\n});`,
    );
    return true;
  },
  dropColumn() {
    const cands = fillerCols.filter(({ table, col }) => model.get(table)?.cols.has(col) && !model.get(table).indexes.has(col));
    if (!cands.length) return false;
    const i = Math.floor(rnd() * cands.length);
    const { table, col } = cands[i];
    const m = model.get(table);
    const d = m.cols.get(col);
    m.cols.delete(col);
    fillerCols.splice(fillerCols.indexOf(cands[i]), 1);
    mig(`drop_${table}_${col}`, `await knex.schema.alterTable(${J(table)}, (t) => {\n  t.dropColumn(${J(col)});\n});`, `await knex.schema.alterTable(${J(table)}, (t) => {\n  ${colCode(col, d)}\n});`);
    return true;
  },
  comment() {
    const table = pick(editableTables());
    const m = model.get(table);
    if (m.commented) return false;
    m.commented = true;
    mig(
      `comment_on_${table}`,
      // utility statements take no bind parameters: the literal is written inline
      `await knex.raw(\`COMMENT ON TABLE "${table}" IS '${table.replace(/_/g, ' ')} (owned by the core team)'\`);`,
      `await knex.raw('COMMENT ON TABLE "${table}" IS NULL');`,
    );
    return true;
  },
};
const FILLER_WEIGHTS = [
  ['addColumns', 5],
  ['addIndex', 3],
  ['renameColumn', 2],
  ['alterType', 2],
  ['setNotNull', 1],
  ['dropColumn', 2],
  ['comment', 1],
];
function filler() {
  for (let tries = 0; tries < 50; tries++) {
    const total = FILLER_WEIGHTS.reduce((s, [, w]) => s + w, 0);
    let r = rnd() * total;
    let k = FILLER_WEIGHTS[0][0];
    for (const [n, w] of FILLER_WEIGHTS) {
      if ((r -= w) < 0) {
        k = n;
        break;
      }
    }
    if (FILLERS[k]()) return;
  }
  FILLERS.addColumns();
}

// ------------------------------------------------------------------------------------------------
// the storyline: fixed steps (closures run in order; each may depend on the model built so far)
const story = [];
const T = (name) => story.push(() => createOp(name));
const step = (fn) => story.push(fn);

T('organizations');
T('users');
T('memberships');
step(() => {
  // rename users.name -> full_name (base column, before anything depends on it)
  model.get('users').cols.set('full_name', model.get('users').cols.get('name'));
  model.get('users').cols.delete('name');
  mig(
    'rename_users_name_to_full_name',
    "await knex.schema.alterTable('users', (t) => {\n  t.renameColumn('name', 'full_name');\n});",
    "await knex.schema.alterTable('users', (t) => {\n  t.renameColumn('full_name', 'name');\n});",
  );
});
T('teams');
T('team_members');
T('projects');
step(() =>
  mig(
    'add_display_name_to_users_and_backfill',
    [
      "await knex.schema.alterTable('users', (t) => {\n  t.string('display_name', 120);\n});",
      "await knex('users').whereNull('display_name').update({ display_name: knex.raw(\"coalesce(full_name, split_part(email, '@', 1))\") });",
    ],
    "await knex.schema.alterTable('users', (t) => {\n  t.dropColumn('display_name');\n});",
  ),
);
T('labels');
T('tasks');
T('task_labels');
step(() =>
  mig(
    'updated_at_trigger_function', // one knex.raw with several statements (simple query protocol)
    [
      `await knex.raw(\`
  CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    NEW.updated_at := now();
    RETURN NEW;
  END;
  $$;
  CREATE TRIGGER projects_set_updated_at BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
  CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
\`);`,
    ],
    ["await knex.raw('DROP TRIGGER tasks_set_updated_at ON tasks');", "await knex.raw('DROP TRIGGER projects_set_updated_at ON projects');", "await knex.raw('DROP FUNCTION set_updated_at()');"],
  ),
);
T('comments');
T('attachments');
T('plans');
step(() =>
  mig(
    'seed_plans',
    `await knex('plans').insert([
  { code: 'free', name: 'Free', price_cents: 0, features: JSON.stringify(['projects:3']) },
  { code: 'team', name: 'Team', price_cents: 1200, features: JSON.stringify(['projects:50', 'sso']) },
  { code: 'business', name: 'Business', price_cents: 4900, features: JSON.stringify(['projects:unlimited', 'sso', 'audit']) },
]);`,
    "await knex('plans').whereIn('code', ['free', 'team', 'business']).del();",
  ),
);
T('subscriptions');
T('invoices');
T('invoice_lines');
T('payments');
step(() =>
  mig(
    'widen_plans_name', // .alter(): restate NOT NULL; down restores varchar(100)
    "await knex.schema.alterTable('plans', (t) => {\n  t.string('name', 200).notNullable().alter();\n});",
    "await knex.schema.alterTable('plans', (t) => {\n  t.string('name', 100).notNullable().alter();\n});",
  ),
);
step(() => mig('reprice_team_plan', "await knex('plans').where({ code: 'team' }).update({ price_cents: 1500 });", "await knex('plans').where({ code: 'team' }).update({ price_cents: 1200 });"));
T('api_keys');
T('webhooks');
T('webhook_deliveries');
step(() =>
  mig(
    'create_index_concurrently_on_webhook_deliveries',
    "await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_deliveries_delivered_at_index ON webhook_deliveries (delivered_at)');",
    "await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_delivered_at_index');",
    { config: true },
  ),
);
T('sessions');
T('notifications');
T('audit_events');
step(() => {
  // rename table; indexes/constraints keep their old names (knex does not rename them)
  const m = model.get('audit_events');
  model.delete('audit_events');
  model.set('audit_logs', m);
  for (const f of fillerCols) if (f.table === 'audit_events') f.table = 'audit_logs';
  mig('rename_audit_events_to_audit_logs', "await knex.schema.renameTable('audit_events', 'audit_logs');", "await knex.schema.renameTable('audit_logs', 'audit_events');");
});
T('feature_flags');
step(() =>
  mig(
    'seed_feature_flags',
    `await knex('feature_flags').insert([
  { key: 'new_board', enabled: false, rollout_percent: 0, description: 'Kanban board v2' },
  { key: 'time_tracking', enabled: true, rollout_percent: 100, description: 'Time entries on tasks' },
]);`,
    "await knex('feature_flags').whereIn('key', ['new_board', 'time_tracking']).del();",
  ),
);
step(() =>
  mig(
    'create_active_projects_view',
    `await knex.raw(\`
  CREATE VIEW active_projects AS
    SELECT p.id, p.organization_id, p.name, count(t.id) AS open_tasks
    FROM projects p LEFT JOIN tasks t ON t.project_id = p.id AND t.status <> 'done'
    WHERE NOT p.archived
    GROUP BY p.id
\`);`,
    "await knex.raw('DROP VIEW active_projects');",
  ),
);
T('settings');
T('time_entries');
step(() =>
  mig(
    'add_tasks_estimate_check',
    [
      "await knex.schema.alterTable('tasks', (t) => {\n  t.integer('estimate_minutes');\n});",
      "await knex.raw('ALTER TABLE tasks ADD CONSTRAINT tasks_estimate_minutes_check CHECK (estimate_minutes IS NULL OR estimate_minutes >= 0)');",
    ],
    ["await knex.raw('ALTER TABLE tasks DROP CONSTRAINT tasks_estimate_minutes_check');", "await knex.schema.alterTable('tasks', (t) => {\n  t.dropColumn('estimate_minutes');\n});"],
  ),
);
T('milestones');
step(() =>
  mig(
    'add_milestone_to_tasks',
    "await knex.schema.alterTable('tasks', (t) => {\n  t.integer('milestone_id').references('id').inTable('milestones').onDelete('SET NULL');\n});",
    "await knex.schema.alterTable('tasks', (t) => {\n  t.dropForeign(['milestone_id']);\n  t.dropColumn('milestone_id');\n});",
  ),
);
T('invitations');
T('exports');
step(() =>
  mig(
    'add_visibility_enum_to_projects', // native enum added to an existing table
    "await knex.schema.alterTable('projects', (t) => {\n  t.enu('visibility', ['private', 'internal', 'public'], { useNative: true, enumName: 'project_visibility' }).notNullable().defaultTo('private');\n});",
    ["await knex.schema.alterTable('projects', (t) => {\n  t.dropColumn('visibility');\n});", "await knex.raw('DROP TYPE project_visibility');"],
  ),
);
step(() =>
  mig(
    'replace_active_projects_view', // CREATE OR REPLACE with an extra column; down restores v1
    `await knex.raw(\`
  CREATE OR REPLACE VIEW active_projects AS
    SELECT p.id, p.organization_id, p.name, count(t.id) AS open_tasks, p.visibility
    FROM projects p LEFT JOIN tasks t ON t.project_id = p.id AND t.status <> 'done'
    WHERE NOT p.archived
    GROUP BY p.id
\`);`,
    [
      "await knex.raw('DROP VIEW active_projects');",
      `await knex.raw(\`
  CREATE VIEW active_projects AS
    SELECT p.id, p.organization_id, p.name, count(t.id) AS open_tasks
    FROM projects p LEFT JOIN tasks t ON t.project_id = p.id AND t.status <> 'done'
    WHERE NOT p.archived
    GROUP BY p.id
\`);`,
    ],
  ),
);
T('legacy_imports');
T('saved_filters');
step(() =>
  mig(
    'tasks_priority_to_smallint', // type change with .alter(), keeping NOT NULL + DEFAULT
    "await knex.schema.alterTable('tasks', (t) => {\n  t.smallint('priority').notNullable().defaultTo(0).alter();\n});",
    "await knex.schema.alterTable('tasks', (t) => {\n  t.integer('priority').notNullable().defaultTo(0).alter();\n});",
  ),
);
step(() =>
  mig(
    'create_index_concurrently_on_notifications_unread',
    "await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS notifications_unread_index ON notifications (user_id) WHERE read_at IS NULL');",
    "await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS notifications_unread_index');",
    { config: true },
  ),
);
step(() => {
  // drop a legacy table; down recreates it exactly
  const [cols, opts] = TABLE_SPEC.get('legacy_imports');
  model.delete('legacy_imports');
  mig('drop_legacy_imports', dropTableCode('legacy_imports', opts), createTableCode('legacy_imports', cols, opts));
});
step(() =>
  mig(
    'add_unique_slug_to_projects',
    [
      "await knex.schema.alterTable('projects', (t) => {\n  t.string('slug', 80);\n});",
      "await knex('projects').whereNull('slug').update({ slug: knex.raw(\"'p-' || id\") });",
      "await knex.schema.alterTable('projects', (t) => {\n  t.string('slug', 80).notNullable().alter();\n  t.unique(['organization_id', 'slug']);\n});",
    ],
    "await knex.schema.alterTable('projects', (t) => {\n  t.dropUnique(['organization_id', 'slug']);\n  t.dropColumn('slug');\n});",
  ),
);

// ------------------------------------------------------------------------------------------------
// interleave: the first 6 story steps come first (so fillers have tables), then fillers are spread
// evenly between the remaining story steps; N < story length truncates the story.
const HEAD = 6;
if (count <= story.length) {
  for (const s of story.slice(0, count)) s();
} else {
  const fillers = count - story.length;
  const rest = story.length - HEAD;
  for (const s of story.slice(0, HEAD)) s();
  let placed = 0;
  for (let i = 0; i < rest; i++) {
    story[HEAD + i]();
    const due = Math.round((fillers * (i + 1)) / rest);
    while (placed < due) {
      filler();
      placed++;
    }
  }
}
if (migrations.length !== count) throw new Error(`internal: generated ${migrations.length} migrations, wanted ${count}`);

// ------------------------------------------------------------------------------------------------
// write files
let t = Date.UTC(2021, 0, 4, 9, 0, 0);
const stamp = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
writeChain(
  target,
  migrations.map((m, i) => {
    t += (1 + Math.floor(rnd() * 9)) * 3600e3 + Math.floor(rnd() * 3600) * 1000; // 1–10 h apart
    return { file: `${stamp(t)}_${m.name.slice(0, 80)}.js`, comment: `${i + 1}/${count} ${m.name.replace(/_/g, ' ')}`, up: m.up, down: m.down, config: Boolean(m.config) };
  }),
  `bench/chains/generate.mjs (count=${count}, seed=${seed})`,
);
