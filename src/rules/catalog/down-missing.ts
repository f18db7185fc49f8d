import { diffSchemas } from '../../schema/diff.js';
import type { SchemaSnapshot } from '../../schema/types.js';
import { shortName } from '../helpers.js';
import { applyEdits, isEmptyFunction, migrationFunction, tokensOf, type JsFunction, type JsToken, type TextEdit } from '../js-source.js';
import type { MigrationUnit, Rule } from '../types.js';
import { bareName, columnSql, createEnumSql, createTableSql, ident, jsString, rawCall, schemaBuilder, sqlName, sqlString } from '../../codegen/index.js';

function keys<T>(record: Record<string, T>): string[] {
  return Object.keys(record);
}

function functionName(key: string, signature: string): string {
  const schema = key.slice(0, key.length - signature.length - 1);
  return schema === 'public' ? signature : `${ident(schema)}.${signature}`;
}

/** Tables in an order that drops referencing tables before the ones they reference. */
function dropOrder(snapshot: SchemaSnapshot, tables: string[]): string[] {
  const remaining = new Set(tables);
  const out: string[] = [];
  while (remaining.size) {
    const next =
      [...remaining].find((t) => ![...remaining].some((other) => other !== t && Object.values(snapshot.tables[other]!.constraints).some((c) => c.kind === 'foreign' && c.references?.table === t))) ??
      [...remaining][0]!;
    remaining.delete(next);
    out.push(next);
  }
  return out;
}

/**
 * The statements of a down that turns `after` back into `before` (as far as a schema can be: data
 * that up removed is not restored). Objects up created are dropped, objects it changed are changed
 * back, objects it dropped are re-created empty from the snapshot.
 */
export function inverseStatements(before: SchemaSnapshot, after: SchemaSnapshot, knex = 'knex'): string[] {
  const out: string[] = [];
  const raw = (sql: string) => out.push(rawCall(sql, knex));
  const newTables = keys(after.tables).filter((t) => !before.tables[t]);
  const goneTables = keys(before.tables).filter((t) => !after.tables[t]);
  const onCommonTable = (table: string) => Boolean(before.tables[table] && after.tables[table]);

  // 1. What hangs off tables that stay: triggers, policies, views, indexes, constraints.
  for (const [key, t] of Object.entries(after.triggers)) {
    const was = before.triggers[key];
    if (onCommonTable(t.table) && (!was || was.definition !== t.definition)) raw(`DROP TRIGGER IF EXISTS ${ident(t.name)} ON ${sqlName(t.table)}`);
  }
  for (const [key, p] of Object.entries(after.policies)) if (onCommonTable(p.table) && !before.policies[key]) raw(`DROP POLICY IF EXISTS ${ident(p.name)} ON ${sqlName(p.table)}`);
  for (const [key, v] of Object.entries(after.views)) if (!before.views[key]) raw(`DROP ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} IF EXISTS ${sqlName(key)}`);
  for (const key of keys(before.views))
    if (!after.views[key] || after.views[key]!.definition !== before.views[key]!.definition) out.push(`// up changed or dropped the view ${shortName(key)}: re-create it here as it was.`);
  for (const [key, i] of Object.entries(after.indexes)) {
    const was = before.indexes[key];
    if (onCommonTable(i.table) && (!was || was.definition !== i.definition)) raw(`DROP INDEX IF EXISTS ${sqlName(key)}`);
  }
  for (const table of keys(after.tables).filter(onCommonTable)) {
    const now = after.tables[table]!;
    const was = before.tables[table]!;
    for (const c of Object.values(now.constraints)) {
      const old = was.constraints[c.name];
      if (!old || old.definition !== c.definition) raw(`ALTER TABLE ${sqlName(table)} DROP CONSTRAINT IF EXISTS ${ident(c.name)}`);
    }
  }

  // 2. Columns of tables that stay: changed back, added ones dropped.
  for (const table of keys(after.tables).filter(onCommonTable)) {
    const now = after.tables[table]!;
    const was = before.tables[table]!;
    const t = sqlName(table);
    for (const name of now.columnOrder) {
      const a = now.columns[name]!;
      const b = was.columns[name];
      if (!b) continue;
      const c = ident(name);
      if (a.identity !== b.identity || a.generated !== b.generated || a.collation !== b.collation) {
        out.push(`// up changed the identity, generation or collation of ${shortName(table)}.${name}: change it back here.`);
      }
      const typeChanged = a.type !== b.type;
      if ((typeChanged || a.default !== b.default) && a.default !== null) raw(`ALTER TABLE ${t} ALTER COLUMN ${c} DROP DEFAULT`);
      if (typeChanged) raw(`ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${b.type} USING ${c}::${b.type}`);
      if ((typeChanged || a.default !== b.default) && b.default !== null) raw(`ALTER TABLE ${t} ALTER COLUMN ${c} SET DEFAULT ${b.default}`);
      if (a.nullable !== b.nullable) raw(`ALTER TABLE ${t} ALTER COLUMN ${c} ${b.nullable ? 'DROP' : 'SET'} NOT NULL`);
    }
    const added = now.columnOrder.filter((c) => !was.columns[c]);
    if (added.length) {
      out.push(`await ${schemaBuilder(table, knex)}.alterTable(${jsString(bareName(table))}, (table) => {`);
      out.push(`  table.dropColumn${added.length > 1 ? 's' : ''}(${added.map(jsString).join(', ')});`);
      out.push(`});`);
    }
  }

  // 3. Tables up created, then the types, sequences, functions … that only they needed.
  for (const table of dropOrder(after, newTables)) out.push(`await ${schemaBuilder(table, knex)}.dropTableIfExists(${jsString(bareName(table))});`);
  const ownerGone = (owner: string | null) =>
    owner !== null && (newTables.some((t) => owner.startsWith(`${t}.`)) || !before.tables[owner.slice(0, owner.lastIndexOf('.'))]?.columns[owner.slice(owner.lastIndexOf('.') + 1)]);
  for (const [key, s] of Object.entries(after.sequences)) if (!before.sequences[key] && !ownerGone(s.ownedBy)) raw(`DROP SEQUENCE IF EXISTS ${sqlName(key)}`);
  for (const [key, f] of Object.entries(after.functions))
    if (!before.functions[key]) raw(`DROP ${f.kind === 'procedure' ? 'PROCEDURE' : f.kind === 'aggregate' ? 'AGGREGATE' : 'FUNCTION'} IF EXISTS ${functionName(key, f.signature)}`);
  for (const key of keys(after.domains)) if (!before.domains[key]) raw(`DROP DOMAIN IF EXISTS ${sqlName(key)}`);
  for (const key of keys(after.composites)) if (!before.composites[key]) raw(`DROP TYPE IF EXISTS ${sqlName(key)}`);
  for (const key of keys(after.enums)) {
    if (!before.enums[key]) raw(`DROP TYPE IF EXISTS ${sqlName(key)}`);
    else if (JSON.stringify(before.enums[key]!.values) !== JSON.stringify(after.enums[key]!.values)) {
      out.push(`// up changed the values of ${shortName(key)}: PostgreSQL cannot remove enum values; re-create the type if down must restore them.`);
    }
  }
  for (const key of keys(after.extensions)) if (!before.extensions[key]) raw(`DROP EXTENSION IF EXISTS ${ident(key)}`);
  for (const s of after.schemas) if (!before.schemas.includes(s)) raw(`DROP SCHEMA IF EXISTS ${ident(s)}`);

  // 4. What up dropped, re-created empty.
  for (const s of before.schemas) if (!after.schemas.includes(s)) raw(`CREATE SCHEMA IF NOT EXISTS ${ident(s)}`);
  for (const key of keys(before.extensions)) if (!after.extensions[key]) raw(`CREATE EXTENSION IF NOT EXISTS ${ident(key)}`);
  for (const key of keys(before.enums)) if (!after.enums[key]) raw(createEnumSql(before, key)!);
  for (const [key, f] of Object.entries(before.functions)) if (!after.functions[key] || after.functions[key]!.definition !== f.definition) raw(f.definition);
  for (const [key, s] of Object.entries(before.sequences)) {
    if (!after.sequences[key] && (s.ownedBy === null || !goneTables.some((t) => s.ownedBy!.startsWith(`${t}.`)))) {
      if (s.ownedBy && before.tables[s.ownedBy.slice(0, s.ownedBy.lastIndexOf('.'))]?.columns[s.ownedBy.slice(s.ownedBy.lastIndexOf('.') + 1)]?.identity) continue;
      raw(`CREATE SEQUENCE ${sqlName(key)} AS ${s.type} INCREMENT BY ${s.increment} START WITH ${s.start}`);
    }
  }
  if (goneTables.length) out.push(`// up dropped ${goneTables.map(shortName).join(', ')}: re-created empty, the data is not restored (knexsafe backup keeps it).`);
  for (const table of goneTables) {
    const ddl = createTableSql(before, table);
    if (ddl) for (const sql of ddl) raw(sql);
    else out.push(`// Re-create ${shortName(table)} (partitioned or a partition) here.`);
  }
  for (const table of keys(before.tables).filter(onCommonTable)) {
    const was = before.tables[table]!;
    const now = after.tables[table]!;
    const gone = was.columnOrder.filter((c) => !now.columns[c]);
    if (gone.length) out.push(`// up dropped ${gone.map((c) => `${shortName(table)}.${c}`).join(', ')}: re-created empty, the data is not restored.`);
    for (const c of gone) raw(`ALTER TABLE ${sqlName(table)} ADD COLUMN ${columnSql(was.columns[c]!)}`);
    for (const s of Object.values(before.sequences))
      if (s.ownedBy && gone.some((c) => s.ownedBy === `${table}.${c}`) && !was.columns[s.ownedBy.slice(table.length + 1)]?.identity && !after.sequences[`${s.schema}.${s.name}`])
        raw(`ALTER SEQUENCE ${sqlName(`${s.schema}.${s.name}`)} OWNED BY ${sqlName(table)}.${ident(s.ownedBy.slice(table.length + 1))}`);
    for (const c of Object.values(was.constraints)) {
      const old = now.constraints[c.name];
      if (!old || old.definition !== c.definition) raw(`ALTER TABLE ${sqlName(table)} ADD CONSTRAINT ${ident(c.name)} ${c.definition}`);
    }
  }
  for (const [key, i] of Object.entries(before.indexes)) if (onCommonTable(i.table) && (!after.indexes[key] || after.indexes[key]!.definition !== i.definition)) raw(i.definition);
  for (const [key, t] of Object.entries(before.triggers)) if (onCommonTable(t.table) && (!after.triggers[key] || after.triggers[key]!.definition !== t.definition)) raw(t.definition);
  for (const key of keys(before.policies)) if (onCommonTable(before.policies[key]!.table) && !after.policies[key]) out.push(`// up dropped the policy ${key}: re-create it here.`);

  // 5. Comments on tables and columns that stay.
  for (const key of new Set([...keys(before.comments), ...keys(after.comments)])) {
    const b = before.comments[key];
    const a = after.comments[key];
    if (a === b) continue;
    const [kind, object] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
    if (kind === 'table' && onCommonTable(object)) raw(`COMMENT ON TABLE ${sqlName(object)} IS ${b === undefined ? 'NULL' : sqlString(b)}`);
    else if (kind === 'column') {
      const table = object.slice(0, object.lastIndexOf('.'));
      const column = object.slice(object.lastIndexOf('.') + 1);
      if (onCommonTable(table) && before.tables[table]!.columns[column] && after.tables[table]!.columns[column]) {
        raw(`COMMENT ON COLUMN ${sqlName(table)}.${ident(column)} IS ${b === undefined ? 'NULL' : sqlString(b)}`);
      }
    }
  }
  return out;
}

/** The knex parameter name of a function, or undefined when it has none. */
function parameterName(tokens: JsToken[], fn: JsFunction): string | undefined {
  const [open, close] = fn.params;
  if (open === close) return tokens[open]!.type === 'ident' ? tokens[open]!.text : undefined;
  const first = tokens[open + 1];
  return first && first.type === 'ident' && open + 1 < close ? first.text : undefined;
}

/** The migration file with a down built from the schema difference (added, or replacing the empty one). */
function withGeneratedDown(unit: MigrationUnit, lines: (knex: string) => string[]): string {
  const tokens = tokensOf(unit.source);
  const ts = unit.file.endsWith('.ts') || unit.file.endsWith('.mts') || unit.file.endsWith('.cts');
  const esm = tokens.some((t, i) => t.type === 'ident' && t.text === 'export' && (i === 0 || tokens[i - 1]!.text === ';' || tokens[i - 1]!.text === '}' || tokens[i - 1]!.line < t.line));
  const param = ts ? 'knex: Knex' : 'knex';
  const body = (knex: string) =>
    lines(knex)
      .map((l) => `  ${l}`)
      .join('\n');
  const existing = unit.hasDown ? migrationFunction(tokens, 'down') : undefined;
  if (existing) {
    const edits: TextEdit[] = [];
    let knex = parameterName(tokens, existing);
    if (!knex) {
      knex = 'knex';
      const [open, close] = existing.params;
      edits.push({ start: tokens[open]!.start, end: tokens[close]!.end, text: `(${param})` });
    }
    if (!existing.async) edits.push({ start: tokens[existing.start]!.start, end: tokens[existing.start]!.start, text: 'async ' });
    const [from, to] = existing.body ?? existing.expression!;
    edits.push({ start: tokens[from]!.start, end: tokens[to]!.end, text: `{\n${body(knex)}\n}` });
    return applyEdits(unit.source, edits);
  }
  const importKnex = ts && !tokens.some((t) => t.type === 'ident' && t.text === 'Knex') ? `import type { Knex } from 'knex';\n` : '';
  const down = esm || ts ? `export async function down(${param}): Promise<void> {\n${body('knex')}\n}\n` : `module.exports.down = async function (knex) {\n${body('knex')}\n};\n`;
  const source = unit.source.endsWith('\n') ? unit.source : `${unit.source}\n`;
  return `${importKnex}${source}\n${ts ? down : down.replace(': Promise<void>', '')}`;
}

/**
 * A migration whose up changes the schema but that has no down, or an empty one: `knex migrate:rollback`
 * then records it as undone while the schema stays changed. check reads the file; `knexsafe verify`
 * runs down for real and reports the same id.
 */
export const downMissing: Rule = {
  meta: {
    id: 'down-missing',
    category: 'reversibility',
    severity: 'warning',
    summary: 'up changes the schema but there is no down (or it does nothing)',
  },
  migration(unit, context) {
    if (unit.sqlFile || unit.failed || !unit.schemaBefore || !unit.schemaAfter) return;
    let empty = false;
    if (unit.hasDown) {
      const tokens = tokensOf(unit.source);
      const down = migrationFunction(tokens, 'down');
      if (!down || !isEmptyFunction(tokens, down)) return;
      empty = true;
    }
    const diff = diffSchemas(unit.schemaBefore, unit.schemaAfter);
    if (diff.equal) return;
    const before = unit.schemaBefore;
    const after = unit.schemaAfter;
    const summary =
      diff.changes
        .slice(0, 3)
        .map((c) => c.message)
        .join('; ') + (diff.changes.length > 3 ? `; … (${diff.changes.length} changes)` : '');
    context.report({
      message: empty ? `down is empty, but up changes the schema (${summary})` : `There is no down, but up changes the schema (${summary})`,
      why: `knex migrate:rollback runs down, records the migration as undone and leaves the schema as up made it; the next migrate:latest then runs up again and fails on objects that already exist. A rollback is what you reach for when a deploy goes wrong — it has to work.`,
      fix: {
        wholeMigration: true,
        description:
          'A down that undoes exactly what up did (generated from the schema before and after up; check it, and keep data-preserving steps in mind). If the migration really cannot be undone, say so: // knexsafe-ignore down-missing: <reason>.',
        code: withGeneratedDown(unit, (knex) => inverseStatements(before, after, knex)),
      },
    });
  },
};
