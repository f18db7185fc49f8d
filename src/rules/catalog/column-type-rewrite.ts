import type { Node, TypeName } from 'libpg-query';
import { scanSync } from 'libpg-query';
import { parseSqlSync } from '../../sql/parse.js';
import { nodeOf, stringList } from '../../sql/ast.js';
import { sameType, typeRefFromTypeName } from '../../sql/datatypes.js';
import type { AlterTableCommand } from '../../sql/facts.js';
import { severityForTable } from '../engine.js';
import { primaryKeyColumn, shortName } from '../helpers.js';
import type { AnalyzedStatement, Rule, RuleContext } from '../types.js';
import { lazyFix } from '../lazy-fix.js';
import { typeLabel } from '../../codegen/index.js';
import { typeRewriteHazards, type TypeRewriteHazard } from '../hazards.js';
import { BATCH_PREAMBLE, guardedTransaction, ident, keysetLoop, limitName, migrationCode, migrations, sqlName } from '../../codegen/index.js';

type TypeCommand = Extract<AlterTableCommand, { action: 'alter-column-type' }>;

/** No USING, `USING col` or `USING col::newtype` (what knex's `.alter()` emits): the plain cast. */
function isPlainConversion(command: TypeCommand): boolean {
  if (!command.using) return true;
  const isColumn = (node: unknown) => stringList(nodeOf<{ fields?: never }>(node as never, 'ColumnRef')?.fields).pop() === command.column;
  if (isColumn(command.using.ast)) return true;
  const cast = nodeOf<{ arg?: never; typeName?: TypeName }>(command.using.ast, 'TypeCast');
  return cast !== undefined && isColumn(cast.arg) && sameType(typeRefFromTypeName(cast.typeName), command.type);
}

/**
 * The USING expression of `ALTER COLUMN column TYPE ... USING expr` exactly as the statement spells
 * it: the tokens after the USING keyword that follows the type, up to a top-level `,` or `;`.
 * (The printed `using.text` normalises constants and parentheses, which can change the conversion.)
 */
function usingSource(statement: AnalyzedStatement, column: string): string | undefined {
  let parsed;
  let tokens;
  try {
    parsed = parseSqlSync(statement.sql)[0];
    tokens = scanSync(statement.sql).tokens;
  } catch {
    return undefined;
  }
  const body = nodeOf<{ cmds?: Node[] }>(parsed?.ast, 'AlterTableStmt');
  const cmd = (body?.cmds ?? []).map((n) => nodeOf<{ subtype?: string; name?: string; def?: Node }>(n, 'AlterTableCmd')).find((c) => c?.subtype === 'AT_AlterColumnType' && c.name === column);
  const typeAt = nodeOf<{ typeName?: { location?: number } }>(cmd?.def, 'ColumnDef')?.typeName?.location;
  if (typeAt === undefined) return undefined;
  const using = tokens.find((t) => t.start > typeAt && t.keywordKind !== 0 && t.text.toLowerCase() === 'using');
  if (!using) return undefined;
  const bytes = Buffer.from(statement.sql, 'utf8');
  let depth = 0;
  let end = bytes.length;
  for (const t of tokens) {
    if (t.start < using.end) continue;
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') depth--;
    else if (depth === 0 && (t.text === ',' || t.text === ';')) {
      end = t.start;
      break;
    }
  }
  const text = bytes.subarray(using.end, end).toString('utf8').trim();
  return text || undefined;
}

/** What else hangs on the column: the swap step needs hand-work for these. */
function dependents(context: RuleContext, table: string, column: string): string[] {
  const before = context.migration.schemaBefore;
  const info = before?.tables[table];
  if (!before || !info) return [];
  const out: string[] = [];
  for (const c of Object.values(info.constraints)) if (c.columns.includes(column)) out.push(`constraint ${c.name}`);
  for (const t of Object.values(before.tables)) {
    for (const c of Object.values(t.constraints)) {
      if (c.kind === 'foreign' && c.references?.table === table && c.references.columns.includes(column)) out.push(`foreign key ${c.name} of ${shortName(`${t.schema}.${t.name}`)}`);
    }
  }
  for (const i of Object.values(before.indexes)) if (i.table === table && i.columns.includes(column)) out.push(`index ${i.name}`);
  for (const s of Object.values(before.sequences)) if (s.ownedBy === `${table}.${column}` || s.ownedBy === `${shortName(table)}.${column}`) out.push(`sequence ${s.name}`);
  if (info.columns[column]?.identity) out.push('its identity');
  return out;
}

function indexCount(context: RuleContext, table: string): number {
  const before = context.migration.schemaBefore;
  if (!before) return 0;
  const own = Object.values(before.indexes).filter((i) => i.table === table).length;
  const constraints = Object.values(before.tables[table]?.constraints ?? {}).filter((c) => c.kind === 'primary' || c.kind === 'unique' || c.kind === 'exclusion').length;
  return own + constraints;
}

/** Expand / contract: a new column kept in sync by a trigger, a batched copy, then a catalog-only swap. */
function expandContract(hazard: TypeRewriteHazard, statement: AnalyzedStatement, context: RuleContext): { description: string; code: string } | undefined {
  const { table, column, command } = hazard;
  const before = context.migration.schemaBefore?.tables[table]?.columns[column];
  const after = context.migration.schemaAfter?.tables[table]?.columns[column];
  const newType = typeLabel(command.type);
  const plainUsing = isPlainConversion(command);
  const customUsing = plainUsing ? undefined : usingSource(statement, column);
  if (!plainUsing && !customUsing) return undefined;
  const bare = shortName(table).split('.').pop()!;
  const next = limitName(
    `${column}_${newType
      .replace(/\(.*$/, '')
      .replace(/[^a-z0-9]+/gi, '_')
      .replace(/_+$/, '')}`,
  );
  const notNull = after ? !after.nullable : before ? !before.nullable : false;
  const key = primaryKeyColumn(context, table);
  const blocked = dependents(context, table, column);
  // The swap's down converts back with a plain cast: only right when the conversion is the plain cast.
  const swap = blocked.length === 0 && before !== undefined && plainUsing;
  const total = (notNull ? 3 : 2) + (swap ? 1 : 0);
  const pgVersion = context.pgVersion;

  // Written when shown (lazy-fix.ts), with the names and statements only the code uses.
  const code = () => {
    const t = sqlName(table);
    const col = ident(column);
    const nextCol = ident(next);
    const trigger = limitName(`${bare}_${next}_sync`);
    const check = limitName(`${bare}_${next}_not_null`);
    const targetDefault = after ? after.default : (before?.default ?? null);
    const conversion = customUsing ?? `${col}::${newType}`;
    const triggerValue = plainUsing ? `NEW.${col}::${newType}` : `(SELECT ${conversion} FROM (SELECT NEW.*) AS ${ident(bare)})`;
    const execute = pgVersion >= 11 ? 'EXECUTE FUNCTION' : 'EXECUTE PROCEDURE';
    const createFunction = [`CREATE FUNCTION ${ident(trigger)}() RETURNS trigger LANGUAGE plpgsql AS $$`, `BEGIN`, `  NEW.${nextCol} := ${triggerValue};`, `  RETURN NEW;`, `END`, `$$`].join('\n');
    const createTrigger = `CREATE TRIGGER ${ident(trigger)} BEFORE INSERT OR UPDATE OF ${col} ON ${t} FOR EACH ROW ${execute} ${ident(trigger)}()`;
    const steps: string[] = [];
    steps.push(
      migrationCode({
        comment: [
          `Expand / contract, step 1 of ${total}: a new ${newType} column kept in sync by a trigger (it fires only when ${column} is written,`,
          `so the backfill does not pay for it)${notNull ? ', and a NOT VALID check so it can become NOT NULL without a scan' : ''}. Catalog-only, brief locks.`,
        ],
        noTransaction: true,
        up: guardedTransaction([
          `ALTER TABLE ${t} ADD COLUMN ${nextCol} ${newType}`,
          createFunction,
          createTrigger,
          ...(notNull ? [`ALTER TABLE ${t} ADD CONSTRAINT ${ident(check)} CHECK (${nextCol} IS NOT NULL) NOT VALID`] : []),
        ]),
        down: guardedTransaction([`DROP TRIGGER IF EXISTS ${ident(trigger)} ON ${t}`, `DROP FUNCTION IF EXISTS ${ident(trigger)}()`, `ALTER TABLE ${t} DROP COLUMN IF EXISTS ${nextCol}`]),
      }),
    );
    steps.push(
      migrationCode({
        comment: [`Step 2 of ${total}: copy existing rows in batches by primary key; each batch commits on its own (row locks for milliseconds). Safe to re-run.`],
        noTransaction: true,
        preamble: BATCH_PREAMBLE,
        up: [
          ...(key ? [] : [`// ${shortName(table)} has no single-column primary key: replace id with a unique, indexed column.`]),
          ...keysetLoop({ table, key: key ?? 'id', ref: bare, head: `UPDATE ${t} SET ${nextCol} = ${conversion}`, condition: `${nextCol} IS NULL`, values: [] }),
        ],
        down: ['// Nothing to undo: step 1’s down drops the column.'],
      }),
    );
    if (notNull) {
      steps.push(
        migrationCode({
          comment: [`Step 3 of ${total}: prove every row is filled, under SHARE UPDATE EXCLUSIVE (reads and writes continue).`],
          noTransaction: true,
          up: guardedTransaction([`ALTER TABLE ${t} VALIDATE CONSTRAINT ${ident(check)}`]),
          down: guardedTransaction([`ALTER TABLE ${t} DROP CONSTRAINT ${ident(check)}`, `ALTER TABLE ${t} ADD CONSTRAINT ${ident(check)} CHECK (${nextCol} IS NOT NULL) NOT VALID`]),
        }),
      );
    }
    if (swap && before) {
      const oldType = before.type;
      const back = `${nextCol}::${oldType}`;
      steps.push(
        migrationCode({
          comment: [
            `Step ${total} of ${total} (contract): swap the columns in one short transaction${notNull && pgVersion >= 12 ? '; SET NOT NULL skips the scan thanks to the validated check' : ''}.`,
            `Everything here is catalog-only: brief ACCESS EXCLUSIVE. Deploy it once the backfill has run.`,
          ],
          noTransaction: true,
          up: guardedTransaction([
            ...(notNull ? [`ALTER TABLE ${t} ALTER COLUMN ${nextCol} SET NOT NULL`, `ALTER TABLE ${t} DROP CONSTRAINT ${ident(check)}`] : []),
            ...(targetDefault ? [`ALTER TABLE ${t} ALTER COLUMN ${nextCol} SET DEFAULT ${targetDefault}`] : []),
            `DROP TRIGGER ${ident(trigger)} ON ${t}`,
            `DROP FUNCTION ${ident(trigger)}()`,
            { sql: `ALTER TABLE ${t} DROP COLUMN ${col}`, comment: `knexsafe-ignore drop-column: contract step, ${next} holds the same data` },
            { sql: `ALTER TABLE ${t} RENAME COLUMN ${nextCol} TO ${col}`, comment: `knexsafe-ignore rename-column: the column keeps the name the app uses` },
          ]),
          down: [
            `// Back to the state before the swap. Not online: re-creating the ${oldType} column copies every row in one UPDATE.`,
            ...guardedTransaction([
              `ALTER TABLE ${t} RENAME COLUMN ${col} TO ${nextCol}`,
              ...(targetDefault ? [`ALTER TABLE ${t} ALTER COLUMN ${nextCol} DROP DEFAULT`] : []),
              ...(notNull ? [`ALTER TABLE ${t} ALTER COLUMN ${nextCol} DROP NOT NULL`] : []),
              `ALTER TABLE ${t} ADD COLUMN ${col} ${oldType}${before.default ? ` DEFAULT ${before.default}` : ''}`,
              `UPDATE ${t} SET ${col} = ${back}`,
              ...(before.nullable ? [] : [`ALTER TABLE ${t} ALTER COLUMN ${col} SET NOT NULL`]),
              ...(notNull ? [`ALTER TABLE ${t} ADD CONSTRAINT ${ident(check)} CHECK (${nextCol} IS NOT NULL)`] : []),
              createFunction,
              createTrigger,
            ]),
          ],
        }),
      );
    }
    return migrations(steps);
  };
  const rest = blocked.length
    ? ` Then, in a later migration, swap the columns (drop the trigger and ${column}, rename ${next} to ${column}) — but first re-create on ${next} what depends on ${column}: ${blocked.join(', ')} (indexes CONCURRENTLY, foreign keys NOT VALID + VALIDATE).`
    : !plainUsing
      ? ` Then, in a later migration, swap the columns (drop the trigger and ${column}, rename ${next} to ${column}); its down needs the reverse of your USING expression.`
      : '';
  return lazyFix(
    {
      description:
        `Expand / contract instead of rewriting ${shortName(table)} in place: ` +
        [
          `add ${next} (${newType}) kept in sync by a trigger`,
          'copy the existing rows in batches',
          ...(notNull ? ['validate a NOT NULL check'] : []),
          ...(swap ? ['swap the columns in a short catalog-only transaction'] : []),
        ].join(', then ') +
        `.${rest} Each step is its own migration with \`transaction: false\`; deploy them one after the other.`,
    },
    code,
  );
}

/**
 * ALTER COLUMN ... TYPE that rewrites an existing table (knex `.alter()` emits
 * `alter column ... type X using (col::X)`): ACCESS EXCLUSIVE for the whole copy and index rebuild.
 */
export const columnTypeRewrite: Rule = {
  meta: {
    id: 'column-type-rewrite',
    category: 'lock',
    severity: 'error',
    summary: 'Changing a column type rewrites the whole table and its indexes under ACCESS EXCLUSIVE',
  },
  statement(statement, context) {
    for (const hazard of typeRewriteHazards(statement, context)) {
      const { table, column, command } = hazard;
      const to = typeLabel(command.type);
      const change = hazard.from ? `from ${hazard.from} to ${to}` : `to ${to}`;
      const indexes = indexCount(context, table);
      const fix = expandContract(hazard, statement, context);
      context.report({
        statement,
        table,
        lock: { mode: 'AccessExclusiveLock', relation: table },
        message: `Changing ${shortName(table)}.${column} ${change} ${hazard.certain ? 'rewrites' : 'may rewrite'} ${shortName(table)} under ACCESS EXCLUSIVE`,
        why:
          `ALTER COLUMN ... TYPE copies every row of ${shortName(table)} into a new file${indexes ? ` and rebuilds its ${indexes === 1 ? 'index' : `${indexes} indexes`}` : ' and rebuilds its indexes'} while holding ACCESS EXCLUSIVE: every SELECT, INSERT, UPDATE and DELETE on it waits until the copy is done — minutes on a large table, and twice the disk space meanwhile. ` +
          (hazard.observed ? 'Observed on the shadow: the table’s storage was rewritten (relfilenode changed). ' : hazard.reason ? `${hazard.reason}. ` : '') +
          'Binary-compatible changes (varchar(n) → varchar(m ≥ n), varchar → text, numeric(p,s) → numeric(p2 ≥ p,s)) do not rewrite.',
        severity: severityForTable(context, table, hazard.certain ? 'error' : 'warning'),
        ...(fix ? { fix } : {}),
      });
    }
  },
};
