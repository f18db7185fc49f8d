import type { Node, RangeVar, TypeName } from 'libpg-query';
import { defElemText, defElems, nameFromParts, relationName, stringList } from '../ast.js';
import { typeRefFromTypeName } from '../datatypes.js';
import type { CreateExtensionFacts, CreateFunctionFacts, CreateSchemaFacts, CreateSequenceFacts, CreateTriggerFacts, CreateViewFacts, TriggerEvent } from './types.js';
import { relationsRead } from './common.js';

// CREATE EXTENSION, VIEW, FUNCTION, TRIGGER, SCHEMA, SEQUENCE.

export function createFunction(body: Record<string, unknown>): CreateFunctionFacts {
  const stmt = body as { is_procedure?: boolean; replace?: boolean; funcname?: Node[]; returnType?: TypeName; options?: Node[] };
  const opts = defElems(stmt.options);
  const facts: CreateFunctionFacts = {
    kind: 'create-function',
    name: nameFromParts(stringList(stmt.funcname)),
    replace: stmt.replace ?? false,
    procedure: stmt.is_procedure ?? false,
    securityDefiner: defElemText(opts.get('security')) === 'true',
  };
  const language = defElemText(opts.get('language'));
  if (language) facts.language = language;
  if (stmt.returnType) facts.returns = typeRefFromTypeName(stmt.returnType);
  const volatility = defElemText(opts.get('volatility'));
  if (volatility === 'immutable' || volatility === 'stable' || volatility === 'volatile') facts.volatility = volatility;
  return facts;
}

export function createTrigger(body: Record<string, unknown>): CreateTriggerFacts {
  const stmt = body as { replace?: boolean; isconstraint?: boolean; trigname?: string; relation?: RangeVar; funcname?: Node[]; row?: boolean; timing?: number; events?: number };
  // Bits from PostgreSQL's trigger.h (TRIGGER_TYPE_*).
  const timing = stmt.timing ?? 0;
  const events = stmt.events ?? 0;
  const eventList: TriggerEvent[] = [];
  if (events & 4) eventList.push('insert');
  if (events & 16) eventList.push('update');
  if (events & 8) eventList.push('delete');
  if (events & 32) eventList.push('truncate');
  return {
    kind: 'create-trigger',
    name: stmt.trigname ?? '',
    table: relationName(stmt.relation),
    replace: stmt.replace ?? false,
    constraint: stmt.isconstraint ?? false,
    function: nameFromParts(stringList(stmt.funcname)),
    timing: timing & 64 ? 'instead of' : timing & 2 ? 'before' : 'after',
    events: eventList,
    forEachRow: stmt.row ?? false,
  };
}

/** CREATE EXTENSION (CreateExtensionStmt). */
export function createExtension(body: Record<string, unknown>): CreateExtensionFacts {
  const ext = body as { extname?: string; if_not_exists?: boolean; options?: Node[] };
  const opts = defElems(ext.options);
  const schema = defElemText(opts.get('schema'));
  const version = defElemText(opts.get('new_version'));
  return {
    kind: 'create-extension',
    name: ext.extname ?? '',
    ifNotExists: ext.if_not_exists ?? false,
    ...(schema !== undefined ? { schema } : {}),
    ...(version !== undefined ? { version } : {}),
    cascade: opts.has('cascade'),
  };
}

/** CREATE [OR REPLACE] VIEW (ViewStmt). */
export function createView(body: Record<string, unknown>): CreateViewFacts {
  const view = body as { view?: RangeVar; replace?: boolean; query?: Node };
  return {
    kind: 'create-view',
    view: relationName(view.view),
    replace: view.replace ?? false,
    materialized: false,
    temporary: view.view?.relpersistence === 't',
    ifNotExists: false,
    withData: true,
    readsFrom: relationsRead(view.query),
  };
}

/** CREATE SCHEMA (CreateSchemaStmt). */
export function createSchema(body: Record<string, unknown>): CreateSchemaFacts {
  const schema = body as { schemaname?: string; if_not_exists?: boolean; authrole?: { rolename?: string } };
  return { kind: 'create-schema', name: schema.schemaname ?? schema.authrole?.rolename ?? '', ifNotExists: schema.if_not_exists ?? false };
}

/** CREATE SEQUENCE (CreateSeqStmt). */
export function createSequence(body: Record<string, unknown>): CreateSequenceFacts {
  const seq = body as { sequence?: RangeVar; if_not_exists?: boolean };
  return { kind: 'create-sequence', name: relationName(seq.sequence), ifNotExists: seq.if_not_exists ?? false };
}
