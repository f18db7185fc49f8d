import { scanSync, type ColumnDef, type Constraint, type IndexElem, type Node } from 'libpg-query';
import { nodeOf, relationName, stringList } from '../ast.js';
import { typeRefFromTypeName } from '../datatypes.js';
import { expressionFacts, type ExpressionFacts } from '../expr.js';
import { parseSqlSync } from '../parse.js';
import type { ColumnFacts, ConstraintFacts, ConstraintKind, ForeignKeyAction, StatementFactsOptions } from './types.js';

// What every statement family reads with: expressions quoted from the statement's own text,
// columns and constraints (CREATE TABLE, ALTER TABLE, composite types and domains share them).

export class FactReader {
  private sourceDelta: number | null | undefined;

  constructor(
    readonly ast: Node,
    readonly sql: string,
    readonly options: StatementFactsOptions,
  ) {}

  expression(ast: Node): ExpressionFacts {
    const facts = expressionFacts(ast, this.options.functionVolatility);
    if (facts.text === undefined) {
      const text = this.sourceOf(ast);
      if (text !== undefined) facts.text = text;
    }
    return facts;
  }

  /**
   * The source text of an expression node, cut from `sql` by token: AST locations count bytes
   * from the start of the text that was parsed, which need not be `sql`, so `sql` is parsed again
   * and the two trees' first locations give the shift.
   */
  sourceOf(ast: Node): string | undefined {
    const start = firstLocation(ast);
    if (start === undefined) return undefined;
    if (this.sourceDelta === undefined) {
      this.sourceDelta = null;
      try {
        const [statement] = parseSqlSync(this.sql);
        const mine = firstLocation(this.ast);
        const theirs = statement ? firstLocation(statement.ast) : undefined;
        if (mine !== undefined && theirs !== undefined) this.sourceDelta = mine - theirs;
      } catch {
        this.sourceDelta = null;
      }
    }
    if (this.sourceDelta === null) return undefined;
    return cutExpression(this.sql, start - this.sourceDelta);
  }

  column(def: ColumnDef): ColumnFacts {
    const name = def.colname ?? '';
    const type = typeRefFromTypeName(def.typeName);
    const column: ColumnFacts = {
      name,
      type,
      notNull: def.is_not_null ?? false,
      serial: type.schema === undefined && (type.name === 'serial' || type.name === 'bigserial' || type.name === 'smallserial'),
      primaryKey: false,
      unique: false,
      constraints: [],
    };
    if (def.raw_default) column.default = this.expression(def.raw_default);
    const collation = def.collClause ? stringList(def.collClause.collname).join('.') : undefined;
    if (collation) column.collation = collation;
    for (const node of def.constraints ?? []) {
      const con = nodeOf<Constraint>(node, 'Constraint');
      if (!con) continue;
      switch (con.contype) {
        case 'CONSTR_NOTNULL':
          column.notNull = true;
          break;
        case 'CONSTR_NULL':
          column.notNull = false;
          break;
        case 'CONSTR_DEFAULT':
          if (con.raw_expr) column.default = this.expression(con.raw_expr);
          break;
        case 'CONSTR_IDENTITY':
          column.identity = con.generated_when === 'd' ? 'by default' : 'always';
          column.notNull = true;
          break;
        case 'CONSTR_GENERATED':
          if (con.raw_expr) column.generated = { kind: con.generated_kind === 'v' ? 'virtual' : 'stored', expression: this.expression(con.raw_expr) };
          break;
        case 'CONSTR_PRIMARY':
          column.primaryKey = true;
          column.notNull = true;
          column.constraints.push(this.constraint(con, [name]));
          break;
        case 'CONSTR_UNIQUE':
          column.unique = true;
          column.constraints.push(this.constraint(con, [name]));
          break;
        case 'CONSTR_FOREIGN': {
          const fk = this.constraint(con, [name]);
          if (fk.references) column.references = fk.references;
          column.constraints.push(fk);
          break;
        }
        case 'CONSTR_CHECK':
        case 'CONSTR_EXCLUSION':
          column.constraints.push(this.constraint(con, [name]));
          break;
        default:
          break;
      }
    }
    return column;
  }

  constraint(con: Constraint, columnsOfColumn: string[]): ConstraintFacts {
    const kind = constraintKind(con.contype);
    const keys = stringList(con.keys);
    const columns = kind === 'foreign' ? (stringList(con.fk_attrs).length ? stringList(con.fk_attrs) : columnsOfColumn) : keys.length ? keys : kind === 'check' ? [] : columnsOfColumn;
    const facts: ConstraintFacts = {
      kind,
      columns,
      notValid: con.skip_validation ?? false,
      deferrable: con.deferrable ?? false,
      initiallyDeferred: con.initdeferred ?? false,
      notEnforced: (kind === 'check' || kind === 'foreign') && con.is_enforced === false,
      noInherit: con.is_no_inherit ?? false,
      include: stringList(con.including),
      nullsNotDistinct: con.nulls_not_distinct ?? false,
    };
    if (con.conname) facts.name = con.conname;
    if (con.indexname) facts.usingIndex = con.indexname;
    if (kind === 'exclusion') {
      facts.indexMethod = con.access_method ?? 'btree';
      const exclusionColumns: string[] = [];
      for (const item of con.exclusions ?? []) {
        const pair = nodeOf<{ items?: Node[] }>(item, 'List')?.items;
        const elem = nodeOf<IndexElem>(pair?.[0], 'IndexElem');
        if (elem?.name) exclusionColumns.push(elem.name);
      }
      facts.columns = exclusionColumns;
    }
    if (kind === 'foreign' && con.pktable) {
      facts.references = {
        table: relationName(con.pktable),
        columns: stringList(con.pk_attrs),
        onDelete: foreignKeyAction(con.fk_del_action),
        onUpdate: foreignKeyAction(con.fk_upd_action),
        match: con.fk_matchtype === 'f' ? 'full' : con.fk_matchtype === 'p' ? 'partial' : 'simple',
      };
    }
    if (kind === 'check' && con.raw_expr) {
      facts.expression = this.expression(con.raw_expr);
      const nullTest = nodeOf<{ arg?: Node; nulltesttype?: string }>(con.raw_expr, 'NullTest');
      const ref = nodeOf<{ fields?: Node[] }>(nullTest?.arg, 'ColumnRef');
      const fields = stringList(ref?.fields);
      if (nullTest?.nulltesttype === 'IS_NOT_NULL' && fields.length === 1) facts.checksNotNullOf = fields[0]!;
    }
    return facts;
  }
}

function constraintKind(contype: string | undefined): ConstraintKind {
  switch (contype) {
    case 'CONSTR_PRIMARY':
      return 'primary';
    case 'CONSTR_UNIQUE':
      return 'unique';
    case 'CONSTR_FOREIGN':
      return 'foreign';
    case 'CONSTR_EXCLUSION':
      return 'exclusion';
    case 'CONSTR_NOTNULL':
      return 'not-null';
    default:
      return 'check';
  }
}

function foreignKeyAction(code: string | undefined): ForeignKeyAction {
  switch (code) {
    case 'r':
      return 'restrict';
    case 'c':
      return 'cascade';
    case 'n':
      return 'set null';
    case 'd':
      return 'set default';
    default:
      return 'no action';
  }
}

function firstLocation(root: unknown): number | undefined {
  let min: number | undefined;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (!value || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (key === 'location' && typeof child === 'number' && child >= 0 && (min === undefined || child < min)) min = child;
      else visit(child);
    }
  };
  visit(root);
  return min;
}

// Words that end a default / generated / USING expression inside a column definition.
const EXPRESSION_END_WORDS = new Set([
  'not',
  'null',
  'constraint',
  'check',
  'unique',
  'primary',
  'references',
  'default',
  'collate',
  'generated',
  'deferrable',
  'initially',
  'with',
  'where',
  'returning',
  'stored',
  'virtual',
]);

/**
 * Cuts the expression that starts at byte `start` of `sql`, up to a top-level `,`, `;`, an
 * unbalanced `)` or a constraint keyword, using PostgreSQL's own scanner for the tokens.
 */
function cutExpression(sql: string, start: number): string | undefined {
  const bytes = Buffer.from(sql, 'utf8');
  if (start < 0 || start >= bytes.length) return undefined;
  let tokens;
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    return undefined;
  }
  let depth = 0;
  let end = bytes.length;
  let previous = '';
  for (const token of tokens) {
    if (token.start < start) continue;
    if (token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT') continue;
    const text = token.text.toLowerCase();
    if (text === '(' || text === '[') depth += 1;
    else if (text === ')' || text === ']') {
      if (depth === 0) {
        end = token.start;
        break;
      }
      depth -= 1;
    } else if ((text === ',' || text === ';') && depth === 0) {
      end = token.start;
      break;
    } else if (depth === 0 && token.start > start && token.keywordKind !== 0 && EXPRESSION_END_WORDS.has(text) && !(previous === 'is' && (text === 'null' || text === 'not'))) {
      end = token.start;
      break;
    }
    previous = text;
  }
  const text = bytes.subarray(start, end).toString('utf8').trim();
  return text.length ? text : undefined;
}
