import type { A_Const, AlterTableCmd, AlterTableStmt, ColumnDef, Constraint, CreateStmt, Node, ObjectType, RangeVar } from 'libpg-query';
import { defElemText, defElems, integerOf, nodeOf, relationName, stringList, unwrap, type QualifiedName } from '../ast.js';
import { typeRefFromTypeName } from '../datatypes.js';
import { expressionText } from '../expr.js';
import type { AlterTableCommand, AlterTableFacts, ColumnFacts, ConstraintFacts, CreateTableAsFacts, CreateTableFacts, CreateViewFacts, PartitionBoundFacts } from './types.js';
import { objectTypeName, optionNames, relationsRead } from './common.js';
import type { FactReader } from './reader.js';

// CREATE TABLE, CREATE TABLE AS / CREATE MATERIALIZED VIEW, ALTER TABLE (and partition bounds).

export function createTable(r: FactReader, stmt: CreateStmt): CreateTableFacts {
  const columns: ColumnFacts[] = [];
  const constraints: ConstraintFacts[] = [];
  const like: QualifiedName[] = [];
  for (const element of stmt.tableElts ?? []) {
    const entry = unwrap(element);
    if (!entry) continue;
    if (entry[0] === 'ColumnDef') {
      const column = r.column(entry[1] as ColumnDef);
      columns.push(column);
      constraints.push(...column.constraints);
    } else if (entry[0] === 'Constraint') {
      constraints.push(r.constraint(entry[1] as Constraint, []));
    } else if (entry[0] === 'TableLikeClause') {
      like.push(relationName((entry[1] as { relation?: RangeVar }).relation));
    }
  }
  const parents = (stmt.inhRelations ?? []).map((node) => relationName(nodeOf<RangeVar>(node, 'RangeVar')));
  const facts: CreateTableFacts = {
    kind: 'create-table',
    table: relationName(stmt.relation),
    columns,
    constraints,
    ifNotExists: stmt.if_not_exists ?? false,
    temporary: stmt.relation?.relpersistence === 't',
    unlogged: stmt.relation?.relpersistence === 'u',
    inherits: stmt.partbound ? [] : parents,
    like,
  };
  if (stmt.partbound && parents[0]) facts.partitionOf = parents[0];
  const strategy = stmt.partspec?.strategy;
  if (strategy) facts.partitionBy = strategy === 'PARTITION_STRATEGY_LIST' ? 'list' : strategy === 'PARTITION_STRATEGY_HASH' ? 'hash' : 'range';
  return facts;
}

export function createTableAs(body: Record<string, unknown>): CreateTableAsFacts | CreateViewFacts {
  const stmt = body as { query?: Node; into?: { rel?: RangeVar; skipData?: boolean }; objtype?: ObjectType; if_not_exists?: boolean };
  const readsFrom = relationsRead(stmt.query);
  const name = relationName(stmt.into?.rel);
  const withData = !(stmt.into?.skipData ?? false);
  if (stmt.objtype === 'OBJECT_MATVIEW') {
    return {
      kind: 'create-view',
      view: name,
      replace: false,
      materialized: true,
      temporary: false,
      ifNotExists: stmt.if_not_exists ?? false,
      withData,
      readsFrom,
    };
  }
  return {
    kind: 'create-table-as',
    table: name,
    ifNotExists: stmt.if_not_exists ?? false,
    withData,
    temporary: stmt.into?.rel?.relpersistence === 't',
    readsFrom,
  };
}

export function alterTable(r: FactReader, stmt: AlterTableStmt): AlterTableFacts {
  const commands: AlterTableCommand[] = [];
  for (const node of stmt.cmds ?? []) {
    const cmd = nodeOf<AlterTableCmd>(node, 'AlterTableCmd');
    if (cmd) commands.push(alterTableCommand(r, cmd));
  }
  return {
    kind: 'alter-table',
    table: relationName(stmt.relation),
    objectType: objectTypeName(stmt.objtype ?? 'OBJECT_TABLE'),
    ifExists: stmt.missing_ok ?? false,
    only: stmt.relation ? !(stmt.relation.inh ?? false) : false,
    commands,
  };
}

export function alterTableCommand(r: FactReader, cmd: AlterTableCmd): AlterTableCommand {
  const column = cmd.name ?? '';
  const cascade = cmd.behavior === 'DROP_CASCADE';
  const ifExists = cmd.missing_ok ?? false;
  switch (cmd.subtype) {
    case 'AT_AddColumn': {
      const def = nodeOf<ColumnDef>(cmd.def, 'ColumnDef');
      return { action: 'add-column', column: r.column(def ?? {}), ifNotExists: ifExists };
    }
    case 'AT_DropColumn':
      return { action: 'drop-column', column, ifExists, cascade };
    case 'AT_AlterColumnType': {
      const def = nodeOf<ColumnDef>(cmd.def, 'ColumnDef') ?? {};
      const result: AlterTableCommand = { action: 'alter-column-type', column, type: typeRefFromTypeName(def.typeName) };
      if (def.raw_default) result.using = r.expression(def.raw_default);
      if (def.collClause) result.collation = stringList(def.collClause.collname).join('.');
      return result;
    }
    case 'AT_ColumnDefault':
      return cmd.def ? { action: 'set-default', column, default: r.expression(cmd.def) } : { action: 'drop-default', column };
    case 'AT_SetNotNull':
      return { action: 'set-not-null', column };
    case 'AT_DropNotNull':
      return { action: 'drop-not-null', column };
    case 'AT_AddConstraint': {
      const con = nodeOf<Constraint>(cmd.def, 'Constraint') ?? {};
      return { action: 'add-constraint', constraint: r.constraint(con, []) };
    }
    case 'AT_ValidateConstraint':
      return { action: 'validate-constraint', name: column };
    case 'AT_DropConstraint':
      return { action: 'drop-constraint', name: column, ifExists, cascade };
    case 'AT_AlterConstraint': {
      const alter = nodeOf<{ conname?: string }>(cmd.def, 'ATAlterConstraint') ?? nodeOf<{ conname?: string }>(cmd.def, 'Constraint');
      return { action: 'alter-constraint', name: alter?.conname ?? column };
    }
    case 'AT_SetLogged':
      return { action: 'set-logged' };
    case 'AT_SetUnLogged':
      return { action: 'set-unlogged' };
    case 'AT_EnableTrig':
    case 'AT_EnableAlwaysTrig':
    case 'AT_EnableReplicaTrig':
      return {
        action: 'enable-trigger',
        trigger: column,
        scope: 'named',
        mode: cmd.subtype === 'AT_EnableAlwaysTrig' ? 'always' : cmd.subtype === 'AT_EnableReplicaTrig' ? 'replica' : 'origin',
      };
    case 'AT_EnableTrigAll':
      return { action: 'enable-trigger', scope: 'all', mode: 'origin' };
    case 'AT_EnableTrigUser':
      return { action: 'enable-trigger', scope: 'user', mode: 'origin' };
    case 'AT_DisableTrig':
      return { action: 'disable-trigger', trigger: column, scope: 'named' };
    case 'AT_DisableTrigAll':
      return { action: 'disable-trigger', scope: 'all' };
    case 'AT_DisableTrigUser':
      return { action: 'disable-trigger', scope: 'user' };
    case 'AT_EnableRule':
    case 'AT_EnableAlwaysRule':
    case 'AT_EnableReplicaRule':
      return { action: 'enable-rule', rule: column };
    case 'AT_DisableRule':
      return { action: 'disable-rule', rule: column };
    case 'AT_AttachPartition':
    case 'AT_DetachPartition':
    case 'AT_DetachPartitionFinalize': {
      const part = nodeOf<{ name?: RangeVar; bound?: RawPartitionBound; concurrent?: boolean }>(cmd.def, 'PartitionCmd') ?? {};
      if (cmd.subtype === 'AT_AttachPartition') {
        const isDefault = part.bound?.is_default ?? false;
        const bound = isDefault ? undefined : partitionBound(part.bound);
        return { action: 'attach-partition', partition: relationName(part.name), isDefault, ...(bound ? { bound } : {}) };
      }
      return {
        action: 'detach-partition',
        partition: relationName(part.name),
        concurrently: part.concurrent ?? false,
        finalize: cmd.subtype === 'AT_DetachPartitionFinalize',
      };
    }
    case 'AT_SetStatistics': {
      const target = integerOf(cmd.def);
      return target !== undefined ? { action: 'set-statistics', column, target } : { action: 'set-statistics', column };
    }
    case 'AT_SetOptions':
    case 'AT_ResetOptions':
      return {
        action: cmd.subtype === 'AT_SetOptions' ? 'set-column-options' : 'reset-column-options',
        column,
        options: optionNames(cmd.def),
      };
    case 'AT_SetStorage':
      return { action: 'set-storage', column, storage: defElemText(cmd.def) ?? '' };
    case 'AT_SetCompression':
      return { action: 'set-compression', column, method: defElemText(cmd.def) ?? '' };
    case 'AT_SetRelOptions':
    case 'AT_ReplaceRelOptions':
      return { action: 'set-options', options: optionNames(cmd.def) };
    case 'AT_ResetRelOptions':
      return { action: 'reset-options', options: optionNames(cmd.def) };
    case 'AT_SetTableSpace':
      return { action: 'set-tablespace', tablespace: column };
    case 'AT_SetAccessMethod':
      return { action: 'set-access-method', method: column };
    case 'AT_ChangeOwner':
      return { action: 'owner', owner: cmd.newowner?.rolename ?? (cmd.newowner?.roletype ?? '').replace('ROLESPEC_', '').toLowerCase() };
    case 'AT_ClusterOn':
      return { action: 'cluster-on', index: column };
    case 'AT_DropCluster':
      return { action: 'set-without-cluster' };
    case 'AT_AddIdentity':
    case 'AT_SetIdentity': {
      const con = nodeOf<Constraint>(cmd.def, 'Constraint');
      const identity = con?.generated_when === 'd' ? 'by default' : con?.generated_when === 'a' ? 'always' : undefined;
      if (cmd.subtype === 'AT_AddIdentity') return { action: 'add-identity', column, identity: identity ?? 'always' };
      const set = defElems(nodeOf<{ items?: Node[] }>(cmd.def, 'List')?.items);
      const generated = defElemText(set.get('generated'));
      return generated === undefined ? { action: 'set-identity', column } : { action: 'set-identity', column, identity: generated === '1' || generated === 'a' ? 'always' : 'by default' };
    }
    case 'AT_DropIdentity':
      return { action: 'drop-identity', column, ifExists };
    case 'AT_SetExpression':
      return cmd.def ? { action: 'set-expression', column, expression: r.expression(cmd.def) } : { action: 'set-expression', column };
    case 'AT_DropExpression':
      return { action: 'drop-expression', column };
    case 'AT_AddInherit':
    case 'AT_DropInherit':
      return { action: cmd.subtype === 'AT_AddInherit' ? 'inherit' : 'no-inherit', parent: relationName(nodeOf<RangeVar>(cmd.def, 'RangeVar')) };
    case 'AT_ReplicaIdentity': {
      const identity = nodeOf<{ identity_type?: string; name?: string }>(cmd.def, 'ReplicaIdentityStmt');
      const kind = identity?.identity_type === 'f' ? 'full' : identity?.identity_type === 'n' ? 'nothing' : identity?.identity_type === 'i' ? 'index' : 'default';
      return identity?.name ? { action: 'replica-identity', identity: kind, index: identity.name } : { action: 'replica-identity', identity: kind };
    }
    case 'AT_EnableRowSecurity':
      return { action: 'enable-row-security' };
    case 'AT_DisableRowSecurity':
      return { action: 'disable-row-security' };
    case 'AT_ForceRowSecurity':
      return { action: 'force-row-security' };
    case 'AT_NoForceRowSecurity':
      return { action: 'no-force-row-security' };
    default:
      return { action: 'other', subtype: cmd.subtype ?? 'unknown' };
  }
}

interface RawPartitionBound {
  is_default?: boolean;
  strategy?: string;
  listdatums?: Node[];
  lowerdatums?: Node[];
  upperdatums?: Node[];
}

/** A range datum: MINVALUE / MAXVALUE come out of the raw parse as column references. */
function boundDatum(node: Node): string | undefined {
  const ref = nodeOf<{ fields?: Node[] }>(node, 'ColumnRef');
  const names = ref ? stringList(ref.fields) : [];
  if (names.length === 1 && (names[0] === 'minvalue' || names[0] === 'maxvalue')) return names[0].toUpperCase();
  const constant = nodeOf<A_Const>(node, 'A_Const');
  if (constant?.isnull) return 'NULL';
  return expressionText(node);
}

function partitionBound(bound: RawPartitionBound | undefined): PartitionBoundFacts | undefined {
  if (!bound) return undefined;
  const datums = (nodes: Node[] | undefined): string[] | undefined => {
    const texts = (nodes ?? []).map(boundDatum);
    return texts.every((t) => t !== undefined) ? (texts as string[]) : undefined;
  };
  if (bound.strategy === 'h') return { strategy: 'hash' };
  if (bound.strategy === 'l') {
    const values = datums(bound.listdatums);
    return values ? { strategy: 'list', values } : undefined;
  }
  if (bound.strategy === 'r') {
    const from = datums(bound.lowerdatums);
    const to = datums(bound.upperdatums);
    return from && to ? { strategy: 'range', from, to } : undefined;
  }
  return undefined;
}
