import fs from 'node:fs';
import { CaptureSession } from '../capture/session.js';
import type { ProjectConfig } from '../config/resolve.js';
import { KnexsafeError } from '../errors.js';
import { listMigrationFiles } from '../migrations/source.js';
import { snapshotSchema } from '../schema/snapshot.js';
import type { ColumnInfo, ConstraintInfo, EnumInfo, IndexInfo, SchemaSnapshot, TableInfo } from '../schema/types.js';

/**
 * The schema the project's migrations build, looked up by the bare names a migration name uses.
 * Read from a shadow database after replaying every migration: the target is never touched.
 */
export class SchemaView {
  constructor(
    readonly snapshot: SchemaSnapshot,
    /** Schemas an unqualified name resolves in, in order. */
    private readonly searchPath: string[] = ['public'],
  ) {}

  static empty(): SchemaView {
    return new SchemaView({
      schemas: [],
      extensions: {},
      tables: {},
      indexes: {},
      sequences: {},
      enums: {},
      composites: {},
      domains: {},
      views: {},
      functions: {},
      triggers: {},
      policies: {},
      comments: {},
    });
  }

  private resolve<T extends { schema: string; name: string }>(items: Record<string, T>, name: string): T | undefined {
    for (const schema of this.searchPath) {
      const hit = items[`${schema}.${name}`];
      if (hit) return hit;
    }
    const matches = Object.values(items).filter((t) => t.name === name);
    return matches.length === 1 ? matches[0] : undefined;
  }

  table(name: string): TableInfo | undefined {
    return this.resolve(this.snapshot.tables, name);
  }

  column(table: string, column: string): ColumnInfo | undefined {
    return this.table(table)?.columns[column];
  }

  enumType(name: string): EnumInfo | undefined {
    return this.resolve(this.snapshot.enums, name);
  }

  enumNames(): string[] {
    return Object.values(this.snapshot.enums).map((e) => e.name);
  }

  tableNames(): string[] {
    return Object.values(this.snapshot.tables).map((t) => t.name);
  }

  qualified(table: TableInfo): string {
    return `${table.schema}.${table.name}`;
  }

  /** Indexes of `table` (not those backing a constraint). */
  indexesOf(table: TableInfo): IndexInfo[] {
    const key = this.qualified(table);
    return Object.values(this.snapshot.indexes).filter((i) => i.table === key);
  }

  primaryKey(table: TableInfo): ConstraintInfo | undefined {
    return Object.values(table.constraints).find((c) => c.kind === 'primary');
  }

  /** Foreign keys of other tables (or this one) that point at `table`. */
  referencesTo(table: TableInfo): { table: TableInfo; constraint: ConstraintInfo }[] {
    const key = this.qualified(table);
    const out: { table: TableInfo; constraint: ConstraintInfo }[] = [];
    for (const t of Object.values(this.snapshot.tables)) {
      for (const c of Object.values(t.constraints)) if (c.kind === 'foreign' && c.references?.table === key) out.push({ table: t, constraint: c });
    }
    return out;
  }

  /** A relation (table, index, sequence, view, type) with this name already exists. */
  nameTaken(name: string): boolean {
    const s = this.snapshot;
    return (
      [s.tables, s.indexes, s.sequences, s.views, s.enums, s.composites, s.domains].some((items) => this.resolve(items as Record<string, { schema: string; name: string }>, name) !== undefined) ||
      Object.values(s.tables).some((t) => Object.values(t.constraints).some((c) => c.name === name))
    );
  }

  comment(key: string): string | undefined {
    return this.snapshot.comments[key];
  }
}

export interface SchemaLookupOptions {
  project: ProjectConfig;
  shadowUrl?: string;
}

/**
 * Replays every migration of the project on a shadow (embedded PGlite by default) and reads the
 * schema they leave. Only runs when a name needs facts about existing tables.
 */
export async function loadProjectSchema(options: SchemaLookupOptions): Promise<SchemaView> {
  const { project } = options;
  const searchPath = searchPathOf(project);
  const directoriesExist = project.migrations.directories.some((d) => fs.existsSync(d));
  if (!directoriesExist) return new SchemaView(SchemaView.empty().snapshot, searchPath);
  const files = listMigrationFiles({ ...project.migrations, directories: project.migrations.directories.filter((d) => fs.existsSync(d)) });
  if (files.length === 0) return new SchemaView(SchemaView.empty().snapshot, searchPath);
  const session = await CaptureSession.open({ project, files, ...(options.shadowUrl ? { shadowUrl: options.shadowUrl } : {}) });
  try {
    const outcome = await session.replay(files);
    if (outcome.error) {
      throw new KnexsafeError(
        'SCHEMA_UNAVAILABLE',
        `To write this migration knexsafe reads the schema your migrations build, but replaying them on a shadow database failed at ${outcome.error.migration ?? 'a migration'}: ${outcome.error.message}`,
        { hint: 'Fix that migration (knexsafe check shows the details), or write knex’s plain stub with knexsafe make <name> --stub.' },
      );
    }
    const snapshot = await snapshotSchema(session.knex, { excludeTables: [project.migrations.tableName, `${project.migrations.tableName}_lock`, `${project.migrations.tableName}_knexsafe`] });
    return new SchemaView(snapshot, searchPath);
  } finally {
    await session.close();
  }
}

function searchPathOf(project: ProjectConfig): string[] {
  const raw = project.searchPath;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : raw.split(',');
  const schemas = list.map((s) => s.trim().replace(/^"|"$/g, '')).filter((s) => s && s !== '$user');
  return schemas.includes('public') ? schemas : [...schemas, 'public'];
}
