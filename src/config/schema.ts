// zod's v3 API, shipped in zod 4: it loads in ~15 ms where zod 4's own takes ~90 ms, on every
// command's critical path.
import { z } from 'zod/v3';

/** Client names knexsafe accepts; everything maps to knex's PostgreSQL dialect. */
export const POSTGRES_CLIENTS = ['pg', 'postgres', 'postgresql', 'pgnative'] as const;

const stringOrStrings = z.union([z.string(), z.array(z.string())]);

export const migrationsSchema = z
  .object({
    directory: stringOrStrings.optional(),
    tableName: z.string().min(1).optional(),
    schemaName: z.string().min(1).optional(),
    loadExtensions: z.array(z.string()).optional(),
    sortDirsSeparately: z.boolean().optional(),
    disableTransactions: z.boolean().optional(),
    disableMigrationsListValidation: z.boolean().optional(),
    extension: z.string().optional(),
    stub: z.string().optional(),
    timestampFilenamePrefix: z.boolean().optional(),
    migrationSource: z.unknown().optional(),
  })
  .passthrough();

export const seedsSchema = z
  .object({
    directory: stringOrStrings.optional(),
    loadExtensions: z.array(z.string()).optional(),
    sortDirsSeparately: z.boolean().optional(),
    extension: z.string().optional(),
    stub: z.string().optional(),
    recursive: z.boolean().optional(),
    timestampFilenamePrefix: z.boolean().optional(),
  })
  .passthrough();

/** One fleet target: a connection URL, or an object naming a database or schema of the configured connection. */
export const fleetTargetSchema = z.union([
  z.string().min(1),
  z.object({ name: z.string().min(1).optional(), connection: z.string().min(1).optional(), database: z.string().min(1).optional(), schema: z.string().min(1).optional() }).strict(),
]);
export type FleetTargetSpec = z.infer<typeof fleetTargetSchema>;

export const severitySchema = z.enum(['off', 'info', 'warning', 'error']);
export type SeverityLevel = z.infer<typeof severitySchema>;

export const knexsafeSettingsSchema = z
  .object({
    shadowUrl: z.string().optional(),
    pgVersion: z.number().int().min(9).max(30).optional(),
    rules: z.record(z.string(), severitySchema).optional(),
    thresholds: z
      .object({
        /** Row count above which a blocking lock on an existing table is an error rather than a warning. */
        largeTableRows: z.number().int().nonnegative().optional(),
        /** Table size in bytes with the same meaning. */
        largeTableBytes: z.number().int().nonnegative().optional(),
      })
      .strict()
      .optional(),
    lockTimeout: z.union([z.string(), z.number()]).optional(),
    statementTimeout: z.union([z.string(), z.number()]).optional(),
    retries: z.number().int().nonnegative().optional(),
    backup: z.boolean().optional(),
    /**
     * The fleet (`--targets`, docs/fleet.md): connection URLs, database or schema names, a SQL
     * query run on the configured connection, or an (async) function returning any of these.
     */
    targets: z
      .union([
        z.array(fleetTargetSchema),
        z.object({ query: z.string().min(1) }).strict(),
        z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', { message: 'expected a list, { query }, or a function' }),
      ])
      .optional(),
    /** The warm cache of shadow states (src/cache/): false turns it off. */
    cache: z.union([z.boolean(), z.object({ enabled: z.boolean().optional(), dir: z.string().optional(), maxSizeMb: z.number().positive().optional() }).strict()]).optional(),
  })
  .strict();
export type KnexsafeSettings = z.infer<typeof knexsafeSettingsSchema>;

/** One environment of a knexfile. Unknown keys are knex options we pass through untouched. */
export const knexEnvironmentSchema = z
  .object({
    // A custom client class: z.function() would hand back a validating wrapper, not the class.
    client: z.union([z.string(), z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function')]).optional(),
    connection: z.unknown().optional(),
    migrations: migrationsSchema.optional(),
    seeds: seedsSchema.optional(),
    searchPath: stringOrStrings.optional(),
    pool: z.record(z.string(), z.unknown()).optional(),
    knexsafe: z.unknown().optional(),
  })
  .passthrough();
export type KnexEnvironment = z.infer<typeof knexEnvironmentSchema>;
