import { ident, jsSql as sqlLiteral, jsString as js } from '../../codegen/index.js';
import type { PlannedFile, Writer } from './writer.js';
import { keysetLoop, batchPreamble } from './batches.js';

// make backfill_<table>_<column>: an UPDATE in key-range batches.

export function backfill(w: Writer, tableName: string, column: string): PlannedFile[] {
  const table = w.table(tableName);
  const t = ident(table.name);
  const c = ident(column);
  const pk = w.schema.primaryKey(table);
  const expression = w.options.set;
  if (expression === undefined) {
    w.warnings.push(`Write the SQL expression for ${table.name}.${column} into EXPRESSION (or pass --set "<expression>").`);
  }
  w.details.expression = expression ?? null;
  const ts = w.options.typescript === true;
  const expressionLines = [
    expression === undefined ? `// TODO: the SQL that computes ${column} for a row of ${table.name}, e.g. upper(name).` : `// The SQL that computes ${column} for a row of ${table.name}.`,
    `const EXPRESSION = ${sqlLiteral(expression ?? '')};`,
  ];
  const guard = [`if (!EXPRESSION) throw new Error(${js(`Set EXPRESSION to the SQL that computes ${table.name}.${column}`)});`];
  const down = [`// A backfill is not undone: the values it wrote cannot be told apart from values written since.`];
  const template = (sql: string) => '`' + sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
  if (w.simple) {
    return [
      {
        suffix: '',
        role: 'backfill in one statement',
        body: {
          preamble: expressionLines,
          header: [`// One UPDATE of every row, in knex's transaction: it locks all the rows it touches until the end. Fine for a small table.`],
          up: [...guard, `await knex.raw(${template(`UPDATE ${t} SET ${c} = \${EXPRESSION} WHERE ${c} IS NULL`)});`],
          down,
        },
      },
    ];
  }
  const key = pk?.columns.length === 1 ? pk.columns[0]! : undefined;
  if (!key) {
    w.warnings.push(`${table.name} has no single-column primary key: the batches walk the id column; replace it with a unique, indexed column.`);
  }
  const k = key ?? 'id';
  const update = template(`UPDATE ${t} SET ${c} = \${EXPRESSION} WHERE ${c} IS NULL AND ${t}.${ident(k)} BETWEEN ? AND ?`);
  return [
    {
      suffix: '',
      role: 'backfill in batches',
      body: {
        header: [
          `// Backfill in batches of BATCH_SIZE rows by primary key, each UPDATE committing on its own (this migration`,
          `// opts out of knex's transaction), so rows stay locked for milliseconds and replicas keep up. It only fills`,
          `// rows where ${column} IS NULL: running it again continues where it stopped.`,
        ],
        preamble: [...expressionLines, ...batchPreamble(w.options.batchSize ?? 1000)],
        up: [...guard, ...keysetLoop(table.name, k, update, ts)],
        down,
        transaction: false,
      },
    },
  ];
}
