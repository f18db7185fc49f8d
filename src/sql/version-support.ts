import type { Node } from 'libpg-query';

/**
 * SQL that one supported PostgreSQL major accepts and an older one rejects. The embedded shadow is
 * PostgreSQL 18 (PGlite) and a server shadow may be newer than the target: a migration using one of
 * these passes the shadow and fails in production. Observed here: each feature marked 15 runs on
 * the PostgreSQL 15 server and on PGlite 18; each marked 16 or later fails on the 15 server
 * (SQLSTATE noted) and runs on PGlite 18 (test/rules/pg-version-unsupported.test.ts). The versions
 * are those of the PostgreSQL release notes.
 */
export interface VersionFeature {
  id: string;
  /** The first PostgreSQL major that accepts it. */
  since: number;
  /** What the statement uses, as a reader names it. */
  what: string;
  /** What to do on an older target, one sentence. */
  instead: string;
}

const F = {
  reindexConcurrently: {
    id: 'reindex-concurrently',
    since: 12,
    what: 'REINDEX … CONCURRENTLY',
    instead: 'Create a new index CONCURRENTLY, then drop the old one CONCURRENTLY and rename the new one.',
  },
  genRandomUuid: {
    id: 'gen-random-uuid',
    since: 13,
    what: 'gen_random_uuid() without pgcrypto',
    instead: "Create the pgcrypto extension first (knex.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto')), or use uuid-ossp's uuid_generate_v4().",
  },
  detachConcurrently: {
    id: 'detach-partition-concurrently',
    since: 14,
    what: 'DETACH PARTITION … CONCURRENTLY',
    instead: 'Detach without CONCURRENTLY in a quiet moment (it takes ACCESS EXCLUSIVE on the parent), or upgrade first.',
  },
  createOrReplaceTrigger: { id: 'create-or-replace-trigger', since: 14, what: 'CREATE OR REPLACE TRIGGER', instead: 'DROP TRIGGER IF EXISTS, then CREATE TRIGGER, in the same transaction.' },
  sqlBody: { id: 'sql-standard-function-body', since: 14, what: 'a SQL-standard function body (BEGIN ATOMIC / RETURN)', instead: 'Write the body as a string: AS $$ … $$ LANGUAGE sql.' },
  setCompression: { id: 'set-compression', since: 14, what: 'ALTER COLUMN … SET COMPRESSION', instead: 'Leave the compression method out on this target (pglz is the only one before 14).' },
  nullsNotDistinct: {
    id: 'nulls-not-distinct',
    since: 15,
    what: 'UNIQUE … NULLS NOT DISTINCT',
    instead: 'Use a unique index on COALESCE(column, <sentinel>) or a partial unique index WHERE column IS NULL.',
  },
  merge: { id: 'merge', since: 15, what: 'MERGE', instead: 'Use INSERT … ON CONFLICT … DO UPDATE, or an UPDATE followed by an INSERT … WHERE NOT EXISTS.' },
  setAccessMethod: { id: 'set-access-method', since: 15, what: 'ALTER TABLE … SET ACCESS METHOD', instead: 'Create a new table with USING <method>, copy the rows, and swap the tables.' },
  fkSetColumns: {
    id: 'fk-set-null-columns',
    since: 15,
    what: 'ON DELETE SET NULL / SET DEFAULT with a column list',
    instead: 'Drop the column list (every referencing column is set), or use a trigger.',
  },
  sqlJsonConstructors: {
    id: 'sql-json-constructors',
    since: 16,
    what: 'SQL/JSON constructors and predicates (JSON_OBJECT, JSON_ARRAY, JSON_OBJECTAGG, JSON_ARRAYAGG, IS JSON)',
    instead: 'Use json_build_object / json_build_array / json_object_agg / json_agg, and a cast in a function for validity.',
  },
  sqlJsonQuery: {
    id: 'sql-json-query-functions',
    since: 17,
    what: 'SQL/JSON query functions (JSON_EXISTS, JSON_QUERY, JSON_VALUE, JSON(), JSON_SCALAR, JSON_SERIALIZE)',
    instead: 'Use the jsonb operators and functions (@?, jsonb_path_query_first, ->>, to_jsonb).',
  },
  jsonTable: { id: 'json-table', since: 17, what: 'JSON_TABLE', instead: 'Use jsonb_to_recordset / jsonb_array_elements in a lateral join.' },
  mergeReturning: { id: 'merge-returning', since: 17, what: 'MERGE … RETURNING', instead: 'Run the MERGE, then read the rows back, or use INSERT … ON CONFLICT … RETURNING.' },
  setExpression: { id: 'set-expression', since: 17, what: 'ALTER COLUMN … SET EXPRESSION', instead: 'Drop the generated column and add it again with the new expression (that rewrites the table).' },
  uuidv7: { id: 'uuidv7', since: 18, what: 'uuidv7() / uuidv4()', instead: 'Use gen_random_uuid(), or generate the UUIDv7 in the application (or a uuidv7 function of your own).' },
  virtualGenerated: {
    id: 'virtual-generated-column',
    since: 18,
    what: 'a virtual generated column (GENERATED ALWAYS AS (…) without STORED)',
    instead: 'Add STORED (knex: .generatedAlwaysAs(expr) with stored, or write STORED in the raw SQL); before 18 every generated column is stored.',
  },
  notNullNotValid: {
    id: 'not-null-not-valid',
    since: 18,
    what: 'a NOT NULL constraint NOT VALID',
    instead: 'Add CHECK (column IS NOT NULL) NOT VALID, validate it, then SET NOT NULL (12+ skips the scan).',
  },
  notEnforced: { id: 'not-enforced', since: 18, what: 'a NOT ENFORCED constraint', instead: 'Leave the constraint out, or add it NOT VALID (checked for new rows only).' },
} satisfies Record<string, VersionFeature>;

export const VERSION_FEATURES: readonly VersionFeature[] = Object.values(F);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function lastName(names: unknown): string | undefined {
  if (!Array.isArray(names)) return undefined;
  const last = names[names.length - 1] as { String?: { sval?: string } } | undefined;
  return last?.String?.sval;
}

function schemaOf(names: unknown): string | undefined {
  if (!Array.isArray(names) || names.length < 2) return undefined;
  return (names[names.length - 2] as { String?: { sval?: string } } | undefined)?.String?.sval;
}

/** One node of the tree: what it is (`IndexStmt`, `Constraint`…) and its fields. */
function featureOf(type: string, v: Obj): VersionFeature | undefined {
  switch (type) {
    case 'IndexStmt':
      return v.nulls_not_distinct === true ? F.nullsNotDistinct : undefined;
    case 'Constraint':
      if (v.nulls_not_distinct === true) return F.nullsNotDistinct;
      if (v.contype === 'CONSTR_GENERATED' && v.generated_kind === 'v') return F.virtualGenerated;
      if (v.contype === 'CONSTR_NOTNULL' && v.skip_validation === true) return F.notNullNotValid;
      if ((v.contype === 'CONSTR_CHECK' || v.contype === 'CONSTR_FOREIGN') && isNotEnforced(v)) return F.notEnforced;
      if (Array.isArray(v.fk_del_set_cols) && v.fk_del_set_cols.length > 0) return F.fkSetColumns;
      return undefined;
    case 'AlterTableCmd':
      if (v.subtype === 'AT_DetachPartition' && isObj(v.def) && (v.def.PartitionCmd as Obj | undefined)?.concurrent === true) return F.detachConcurrently;
      if (v.subtype === 'AT_DetachPartitionFinalize') return F.detachConcurrently;
      if (v.subtype === 'AT_SetAccessMethod') return F.setAccessMethod;
      if (v.subtype === 'AT_SetExpression') return F.setExpression;
      if (v.subtype === 'AT_SetCompression') return F.setCompression;
      return undefined;
    case 'ReindexStmt':
      return Array.isArray(v.params) && v.params.some((p) => (p as { DefElem?: { defname?: string } }).DefElem?.defname === 'concurrently') ? F.reindexConcurrently : undefined;
    case 'MergeStmt':
      return v.returningClause !== undefined || (Array.isArray(v.returningList) && v.returningList.length > 0) ? F.mergeReturning : F.merge;
    case 'CreateTrigStmt':
      return v.replace === true ? F.createOrReplaceTrigger : undefined;
    case 'CreateFunctionStmt':
      return v.sql_body !== undefined ? F.sqlBody : undefined;
    case 'JsonTable':
      return F.jsonTable;
    case 'JsonFuncExpr':
    case 'JsonParseExpr':
    case 'JsonScalarExpr':
    case 'JsonSerializeExpr':
      return F.sqlJsonQuery;
    case 'JsonObjectConstructor':
    case 'JsonArrayConstructor':
    case 'JsonArrayQueryConstructor':
    case 'JsonObjectAgg':
    case 'JsonArrayAgg':
    case 'JsonIsPredicate':
      return F.sqlJsonConstructors;
    case 'FuncCall': {
      const name = lastName(v.funcname);
      const schema = schemaOf(v.funcname);
      if (schema !== undefined && schema !== 'pg_catalog') return undefined;
      if (name === 'uuidv7' || name === 'uuidv4') return F.uuidv7;
      if (name === 'gen_random_uuid') return F.genRandomUuid;
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * NOT ENFORCED has no flag of its own in the parse tree: is_enforced is left unset and the
 * constraint is marked not validated. A plain CHECK or foreign key, NOT VALID or not, has is_enforced set.
 */
function isNotEnforced(v: Obj): boolean {
  return v.skip_validation === true && v.initially_valid === undefined && v.is_enforced === undefined;
}

/** Every version-dependent feature the statement uses (each once), newest first. */
export function versionFeatures(ast: Node): VersionFeature[] {
  const found = new Set<VersionFeature>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!isObj(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (/^[A-Z]/.test(key) && isObj(value)) {
        const feature = featureOf(key, value);
        if (feature) found.add(feature);
      }
      walk(value);
    }
  };
  walk(ast);
  return [...found].sort((a, b) => b.since - a.since);
}
