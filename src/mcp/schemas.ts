import { z } from 'zod';

/**
 * Input and output schemas of the MCP tools. Inputs are snake_case (what assistants' tool calls
 * usually look like); outputs keep the library's JSON names, as `--json` prints them. Every output
 * is a strict subset of the library's typed result: clients validate structured content against
 * these, so a field is only declared here once the tool always sends it in that shape.
 */

const severity = z.enum(['error', 'warning', 'info']);
const names = z.array(z.string()).describe('Migration names, with or without extension (e.g. 20240108090000_add_index_on_orders_user_id)');

export const makeInput = {
  name: z
    .string()
    .describe(
      'snake_case migration name knexsafe writes up and down from, e.g. add_email_to_users, add_index_on_orders_user_id, create_posts_table, change_price_to_decimal_12_2_in_products, add_foreign_key_on_orders_user_id, backfill_users_display_name',
    ),
  write: z.boolean().optional().describe('Create the file(s) in the migrations folder. Default false: only return path and content'),
  extension: z.enum(['js', 'ts', 'mjs', 'cjs']).optional().describe('File type (default: what the project uses)'),
  stub: z.boolean().optional().describe('knex’s plain stub, whatever the name says'),
  simple: z.boolean().optional().describe('Plain forms (plain index, unique, foreign key, SET NOT NULL) for small tables, instead of the lock-safe patterns'),
  backup: z.boolean().optional().describe('false: drop columns without keeping their values for down'),
  values: z.array(z.string()).optional().describe('Enum values (create_<type>_enum, add_<col>_enum_to_<table>)'),
  set: z.string().optional().describe('SQL expression a backfill writes (backfill_<table>_<col>)'),
  batch_size: z.number().int().positive().optional().describe('Rows per batch of a backfill (default 1000)'),
  on_delete: z.string().optional().describe('ON DELETE of a foreign key: cascade, restrict, set null, set default, no action'),
  types: z.record(z.string(), z.string()).optional().describe('Types of added columns, column → type word (e.g. {"age": "integer"})'),
  lock_timeout: z.string().optional().describe('lock_timeout set before DDL on existing tables (default 5s)'),
};
export type MakeInput = z.infer<z.ZodObject<typeof makeInput>>;

export const makeOutput = {
  written: z.boolean(),
  understood: z.string().describe('What knexsafe understood from the name'),
  files: z.array(z.object({ path: z.string(), name: z.string(), role: z.string(), content: z.string() })).describe('In the order knex runs them'),
  warnings: z.array(z.string()),
  note: z.string().optional(),
};
export type MakeOutput = z.infer<z.ZodObject<typeof makeOutput>>;

export const checkInput = {
  names: names.optional(),
  pending: z.boolean().optional().describe('Only the migrations the target database has not applied (the default when the knexfile names a reachable database)'),
  all: z.boolean().optional().describe('Every migration (the default without a target database)'),
  from: z.string().optional().describe('Start at this migration'),
  to: z.string().optional().describe('Stop after this migration'),
  pg_version: z.number().int().min(9).max(30).optional().describe('PostgreSQL major version the advice is for (default: the target’s, else 13)'),
  min_severity: severity.optional().describe('Least severe finding listed (default warning; info adds style advice). The summary counts every finding'),
};
export type CheckInput = z.infer<z.ZodObject<typeof checkInput>>;

const finding = z.object({
  rule: z.string(),
  severity,
  message: z.string(),
  migration: z.string(),
  file: z.string(),
  line: z.number().optional(),
  location: z.string().describe('file:line:column of the knex call'),
  sql: z.string().optional(),
  lock: z.object({ mode: z.string(), relation: z.string(), blocks: z.string() }).optional(),
  why: z.string(),
  fix: z.object({ description: z.string(), code: z.string(), wholeMigration: z.boolean().describe('code is the whole migration file, not a snippet') }).optional(),
  docs: z.string().describe('Resource URI of the rule’s docs page'),
  suppressed: z.string().optional().describe('Reason given in a knexsafe-ignore comment'),
});

export const checkOutput = {
  ok: z.boolean().describe('No error finding and no migration that fails'),
  scope: z.string(),
  shadow: z.string().nullable(),
  target: z.string().nullable(),
  pgVersion: z.number(),
  summary: z.object({ error: z.number(), warning: z.number(), info: z.number(), suppressed: z.number(), failed: z.number(), listed: z.number() }),
  migrations: z.array(z.object({ name: z.string(), file: z.string(), failed: z.string().optional() })),
  notReached: z.array(z.string()),
  findings: z.array(finding),
  warnings: z.array(z.string()),
};
export type CheckOutput = z.infer<z.ZodObject<typeof checkOutput>>;

export const verifyInput = {
  names: names.optional(),
  pending: z.boolean().optional().describe('Only the migrations the target database has not applied'),
  from: z.string().optional().describe('Start at this migration (earlier ones are replayed)'),
  to: z.string().optional().describe('Stop after this migration'),
  data: z.boolean().optional().describe('false: skip the data probe (schema comparison only)'),
};
export type VerifyInput = z.infer<z.ZodObject<typeof verifyInput>>;

export const verifyOutput = {
  ok: z.boolean().describe('Every migration reversible'),
  selection: z.string(),
  shadow: z.string(),
  migrations: z.array(
    z.object({
      name: z.string(),
      file: z.string(),
      reversible: z.boolean(),
      status: z.string(),
      problems: z.array(z.object({ rule: z.string(), message: z.string(), at: z.string().optional() })),
      diff: z.array(z.string()).describe('What down failed to restore'),
      dataLoss: z.array(z.object({ table: z.string(), columns: z.array(z.string()), missingRows: z.number(), message: z.string() })),
      notes: z.array(z.string()),
    }),
  ),
  notReached: z.array(z.string()),
  unfilled: z.array(z.string()).describe('Tables the data probe could not fill'),
  warnings: z.array(z.string()),
};
export type VerifyOutput = z.infer<z.ZodObject<typeof verifyOutput>>;

export const fixInput = {
  names: names.optional().describe('Only these migrations (default: every one the target has not applied)'),
  rules: z.array(z.string()).optional().describe('Only these rules'),
  min_severity: severity.optional().describe('Fix findings at least this severe (default warning; info adds style fixes)'),
  pg_version: z.number().int().min(9).max(30).optional(),
  write: z.boolean().optional().describe('Rewrite the files (then check and verify the result). Default false: return the diff only'),
};
export type FixInput = z.infer<z.ZodObject<typeof fixInput>>;

export const fixOutput = {
  written: z.boolean(),
  changes: z.array(z.object({ kind: z.enum(['edited', 'added']), name: z.string(), file: z.string(), rules: z.array(z.string()) })),
  skipped: z.array(z.object({ rule: z.string(), migration: z.string(), reason: z.string() })),
  diff: z.string().describe('Unified diff of every change'),
  after: z
    .object({
      failed: z.array(z.string()),
      errorsWithFix: z.array(z.object({ rule: z.string(), migration: z.string(), message: z.string(), line: z.number().optional() })),
      counts: z.object({ error: z.number(), warning: z.number(), info: z.number() }),
    })
    .optional()
    .describe('check on the result: what is left'),
  verify: z
    .object({ ok: z.boolean(), shadow: z.string(), verdicts: z.array(z.object({ name: z.string(), status: z.string(), findings: z.array(z.string()) })) })
    .optional()
    .describe('verify of the rewritten and added migrations (only when written)'),
  note: z.string().optional(),
};
export type FixOutput = z.infer<z.ZodObject<typeof fixOutput>>;

export const schemaInput = {
  to: z.string().optional().describe('The schema after this migration (default: after the last one)'),
  tables: z.array(z.string()).optional().describe('Only these tables'),
};
export type SchemaInput = z.infer<z.ZodObject<typeof schemaInput>>;

export const schemaOutput = {
  upTo: z.string().nullable().describe('The last migration replayed'),
  migrations: z.number(),
  tables: z.array(
    z.object({
      name: z.string(),
      columns: z.array(z.object({ name: z.string(), type: z.string(), nullable: z.boolean(), default: z.string().nullable(), identity: z.string().optional(), generated: z.string().optional() })),
      constraints: z.array(z.object({ name: z.string(), kind: z.string(), definition: z.string(), validated: z.boolean().optional() })),
      indexes: z.array(z.object({ name: z.string(), definition: z.string(), unique: z.boolean(), valid: z.boolean().optional() })),
    }),
  ),
  enums: z.array(z.object({ name: z.string(), values: z.array(z.string()) })),
  views: z.array(z.object({ name: z.string(), materialized: z.boolean(), definition: z.string() })),
};
export type SchemaOutput = z.infer<z.ZodObject<typeof schemaOutput>>;

export const statusOutput = {
  target: z.string().nullable(),
  migrations: z.array(z.object({ name: z.string(), state: z.string(), batch: z.number().nullable(), appliedAt: z.string().nullable(), file: z.string().nullable() })),
  applied: z.number(),
  pending: z.number(),
  missingFiles: z.number(),
  locked: z.boolean(),
  outOfOrder: z.array(z.string()),
  note: z.string().optional(),
};
export type StatusOutput = z.infer<z.ZodObject<typeof statusOutput>>;

export const doctorInput = {
  shadow: z.boolean().optional().describe('false: skip the checks that need a shadow database (partial runs, drift)'),
};

export const doctorOutput = {
  ok: z.boolean(),
  database: z.string(),
  applied: z.number(),
  pending: z.number(),
  checks: z.array(z.object({ name: z.string(), status: z.string(), note: z.string().optional() })),
  findings: z.array(
    z.object({
      id: z.string(),
      severity,
      title: z.string(),
      evidence: z.array(z.string()),
      fix: z.string(),
      commands: z.array(z.string()),
      migration: z.string().optional(),
      file: z.string().optional(),
      line: z.number().optional(),
    }),
  ),
};
export type DoctorOutput = z.infer<z.ZodObject<typeof doctorOutput>>;

export const explainInput = {
  rule: z.string().describe('Rule id, e.g. index-not-concurrent'),
};
export type ExplainInput = z.infer<z.ZodObject<typeof explainInput>>;

export const explainOutput = {
  rule: z.string(),
  severity,
  category: z.string(),
  summary: z.string(),
  docs: z.string().nullable().describe('The rule’s docs page (markdown)'),
  resource: z.string(),
};
export type ExplainOutput = z.infer<z.ZodObject<typeof explainOutput>>;

export const latestInput = {
  write: z.boolean().optional().describe('Apply the pending migrations to the target database. Default false: return the plan only'),
};
export type LatestInput = z.infer<z.ZodObject<typeof latestInput>>;

export const latestOutput = {
  applied: z.boolean(),
  database: z.string(),
  pending: z.array(z.string()),
  layout: z.string(),
  blocking: z.array(z.object({ rule: z.string(), severity, migration: z.string(), message: z.string() })),
  migrations: z.array(z.object({ name: z.string(), durationMs: z.number() })),
  batch: z.number(),
  warnings: z.array(z.string()),
  note: z.string().optional(),
};
export type LatestOutput = z.infer<z.ZodObject<typeof latestOutput>>;
