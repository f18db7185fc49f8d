import { scopeCtes } from './catalog-sql.js';

/**
 * The baseline's catalog reads (squash, through catalog-model.ts): what the baseline generator needs
 * beyond a snapshot, printed with PostgreSQL's own deparsers (pg_get_*def, format_type,
 * regclass/regprocedure text) while search_path is pg_catalog, so every user object comes out
 * schema-qualified and quoted. Which schemas and relations are the user's is not decided here: it
 * is the snapshot's own scope (`scopeCtes`, catalog-sql.ts).
 *
 * Runs on PostgreSQL 13+ servers and on PGlite's 18. Objects that belong to an extension are left
 * out (the extension recreates them); so are the tables left out (knex's bookkeeping).
 *
 * Oids are unsigned 32-bit: `::int` would wrap past 2^31 (a long-lived cluster's counter gets
 * there) and no longer match the snapshot's. Keys take `::int8`; columns read as JS numbers take
 * `::int8::float8` (node-pg gives int8 as a string, float8 as a number, exact far beyond 2^32).
 */

/**
 * The user schemas and the relations in scope, as the snapshot sees them: the schemas as a subquery
 * of the shared scope, the relations kept in a temporary table for this read's statements.
 */
const USER_NS = `(with ${scopeCtes("'[]'")} select oid from ns)`;
const REL = `(select oid from knexsafe_squash_rel)`;

/** "Not an extension member", for an object of a catalog other than the scope's own. */
const notExtensionMember = (catalog: string, oidExpr: string) =>
  `not exists (select 1 from pg_catalog.pg_depend xd where xd.classid = '${catalog}'::regclass and xd.objid = ${oidExpr} and xd.deptype = 'e')`;

/** A kind of object owned by a relation, for the dependency read: each row stands for its relation. */
const ownedByRelation = (catalog: string, alias: string, relation: string, phase: 'pre' | 'post') =>
  `select 'pg_catalog.${catalog}'::regclass, ${alias}.oid, 'pg_class:' || ${alias}.${relation}::int8, '${phase}' from pg_catalog.${catalog} ${alias} where ${alias}.oid >= 16384`;

export const MODEL_SQL = {
  relationsTable: /* sql */ `create temporary table if not exists knexsafe_squash_rel (oid oid primary key) on commit drop`,
  /** Binding: the tables left out, as JSON array text. */
  relations: /* sql */ `insert into knexsafe_squash_rel
  with ${scopeCtes('?')}
  select oid from rel where relkind in ('r','p','v','m','S','f','c') on conflict do nothing`,
  /** The state of each sequence (quoted, qualified names), numbered by its place in `sequences`. */
  sequenceStates: (sequences: readonly string[]) => sequences.map((sequence, i) => /* sql */ `select ${i} as i, last_value::text as last_value, is_called from ${sequence}`).join('\n     union all '),
  /** Partitions of partitioned indexes (a snapshot leaves them to their parent), but those behind a constraint. */
  partitionIndexes: /* sql */ `select i.indrelid::int8::float8 as "tableOid", ic.relname as name, i.indexrelid::regclass::text as ident,
            pg_catalog.pg_get_indexdef(i.indexrelid) as definition, i.indisvalid as valid,
            (select h.inhparent::regclass::text from pg_catalog.pg_inherits h where h.inhrelid = i.indexrelid) as "parentIndex"
     from pg_catalog.pg_index i join pg_catalog.pg_class ic on ic.oid = i.indexrelid
     where i.indrelid in ${REL} and ic.relispartition
       and not exists (select 1 from pg_catalog.pg_constraint con where con.conindid = i.indexrelid and con.conrelid = i.indrelid and con.contype in ('p','u','x'))`,
  rules: /* sql */ `select r.oid::int8::float8 as oid, r.ev_class::int8::float8 as "tableOid", pg_catalog.pg_get_ruledef(r.oid) as definition
     from pg_catalog.pg_rewrite r where r.ev_class in ${REL} and r.rulename <> '_RETURN' order by r.ev_class::regclass::text, r.rulename`,
  statistics: /* sql */ `select s.oid::int8::float8 as oid, pg_catalog.pg_get_statisticsobjdef(s.oid) as definition
     from pg_catalog.pg_statistic_ext s where s.stxrelid in ${REL} order by 2`,
  unsupported: /* sql */ `select 'foreign table' as kind, c.oid::regclass::text as name from pg_catalog.pg_class c where c.oid in ${REL} and c.relkind = 'f'
     union all select case t.typtype when 'r' then 'range type' else 'base type' end, t.oid::regtype::text from pg_catalog.pg_type t
       where t.typnamespace in ${USER_NS} and t.typtype in ('r','b') and t.typcategory <> 'A' and ${notExtensionMember('pg_catalog.pg_type', 't.oid')}
     union all select 'collation', quote_ident(n.nspname) || '.' || quote_ident(c.collname) from pg_catalog.pg_collation c join pg_catalog.pg_namespace n on n.oid = c.collnamespace
       where c.collnamespace in ${USER_NS} and ${notExtensionMember('pg_catalog.pg_collation', 'c.oid')}
     union all select 'operator', o.oid::regoperator::text from pg_catalog.pg_operator o where o.oprnamespace in ${USER_NS} and ${notExtensionMember('pg_catalog.pg_operator', 'o.oid')}
     union all select 'operator class', quote_ident(o.opcname) from pg_catalog.pg_opclass o where o.opcnamespace in ${USER_NS} and ${notExtensionMember('pg_catalog.pg_opclass', 'o.oid')}
     union all select 'cast', format_type(c.castsource, null) || ' -> ' || format_type(c.casttarget, null) from pg_catalog.pg_cast c where c.oid >= 16384 and ${notExtensionMember('pg_catalog.pg_cast', 'c.oid')}
     union all select 'text search configuration', c.cfgname from pg_catalog.pg_ts_config c where c.cfgnamespace in ${USER_NS} and ${notExtensionMember('pg_catalog.pg_ts_config', 'c.oid')}
     union all select 'text search dictionary', d.dictname from pg_catalog.pg_ts_dict d where d.dictnamespace in ${USER_NS} and ${notExtensionMember('pg_catalog.pg_ts_dict', 'd.oid')}
     union all select 'event trigger', e.evtname from pg_catalog.pg_event_trigger e where ${notExtensionMember('pg_catalog.pg_event_trigger', 'e.oid')}
     union all select 'publication', p.pubname from pg_catalog.pg_publication p
     union all select 'foreign server', s.srvname from pg_catalog.pg_foreign_server s where ${notExtensionMember('pg_catalog.pg_foreign_server', 's.oid')}
     union all select 'conversion', c.conname from pg_catalog.pg_conversion c where c.connamespace in ${USER_NS} and ${notExtensionMember('pg_catalog.pg_conversion', 'c.oid')}`,
  privileges: /* sql */ `select c.oid::regclass::text as name from pg_catalog.pg_class c where c.oid in ${REL} and c.relacl is not null
       union all select p.oid::regprocedure::text from pg_catalog.pg_proc p where p.pronamespace in ${USER_NS} and p.proacl is not null and ${notExtensionMember('pg_catalog.pg_proc', 'p.oid')}
       union all select t.oid::regtype::text from pg_catalog.pg_type t where t.typnamespace in ${USER_NS} and t.typacl is not null and ${notExtensionMember('pg_catalog.pg_type', 't.oid')}
       union all select 'schema ' || quote_ident(n.nspname) from pg_catalog.pg_namespace n where n.oid in ${USER_NS} and n.nspname <> 'public' and n.nspacl is not null`,
  comments: /* sql */ `select o.type, o.identity, d.description as text
     from pg_catalog.pg_description d
     cross join lateral pg_catalog.pg_identify_object(d.classoid, d.objoid, d.objsubid) o
     left join pg_catalog.pg_constraint con on d.classoid = 'pg_catalog.pg_constraint'::regclass and con.oid = d.objoid
     left join pg_catalog.pg_trigger tg on d.classoid = 'pg_catalog.pg_trigger'::regclass and tg.oid = d.objoid
     left join pg_catalog.pg_policy po on d.classoid = 'pg_catalog.pg_policy'::regclass and po.oid = d.objoid
     left join pg_catalog.pg_rewrite rw on d.classoid = 'pg_catalog.pg_rewrite'::regclass and rw.oid = d.objoid
     left join pg_catalog.pg_class ix on d.classoid = 'pg_catalog.pg_class'::regclass and ix.oid = d.objoid
     left join pg_catalog.pg_index ii on ii.indexrelid = ix.oid
     where d.objoid >= 16384
       and not exists (select 1 from pg_catalog.pg_depend e where e.classid = d.classoid and e.objid = d.objoid and e.deptype = 'e')
       and (
         (d.classoid = 'pg_catalog.pg_class'::regclass and (d.objoid in ${REL} or ii.indrelid in ${REL}))
         or (d.classoid = 'pg_catalog.pg_constraint'::regclass and (con.conrelid in ${REL} or (con.contypid <> 0 and con.contypid in (select t.oid from pg_catalog.pg_type t where t.typnamespace in ${USER_NS}))))
         or (d.classoid = 'pg_catalog.pg_trigger'::regclass and tg.tgrelid in ${REL})
         or (d.classoid = 'pg_catalog.pg_policy'::regclass and po.polrelid in ${REL})
         or (d.classoid = 'pg_catalog.pg_rewrite'::regclass and rw.ev_class in ${REL})
         or (d.classoid = 'pg_catalog.pg_type'::regclass and d.objoid in (select t.oid from pg_catalog.pg_type t where t.typnamespace in ${USER_NS}))
         or (d.classoid = 'pg_catalog.pg_proc'::regclass and d.objoid in (select p.oid from pg_catalog.pg_proc p where p.pronamespace in ${USER_NS}))
         or (d.classoid = 'pg_catalog.pg_namespace'::regclass and d.objoid in ${USER_NS})
         or (d.classoid = 'pg_catalog.pg_extension'::regclass)
       )
     order by 1, 2`,
  dependencies: /* sql */ `with owner as (
       -- Maps (catalog, oid) of any object to the top-level object it belongs to, and whether it
       -- is created before the data ('pre') or after it ('post').
       select 'pg_catalog.pg_class'::regclass as classid, c.oid as objid,
              case when c.relkind = 'c' then 'pg_type:' || c.reltype::int8
                   when c.relkind in ('i','I') then 'pg_class:' || (select i.indrelid::int8 from pg_catalog.pg_index i where i.indexrelid = c.oid)
                   else 'pg_class:' || c.oid::int8 end as key,
              case when c.relkind in ('i','I') then 'post' else 'pre' end as phase
         from pg_catalog.pg_class c where c.oid >= 16384
       union all
       select 'pg_catalog.pg_type'::regclass, t.oid,
              case when t.typrelid <> 0 and (select relkind from pg_catalog.pg_class where oid = t.typrelid) <> 'c' then 'pg_class:' || t.typrelid::int8
                   when t.typelem <> 0 and t.typcategory = 'A' then
                     (select case when e.typrelid <> 0 and (select relkind from pg_catalog.pg_class where oid = e.typrelid) <> 'c' then 'pg_class:' || e.typrelid::int8
                                  else 'pg_type:' || e.oid::int8 end from pg_catalog.pg_type e where e.oid = t.typelem)
                   else 'pg_type:' || t.oid::int8 end, 'pre'
         from pg_catalog.pg_type t where t.oid >= 16384
       union all
       select 'pg_catalog.pg_proc'::regclass, p.oid, 'pg_proc:' || p.oid::int8, 'pre' from pg_catalog.pg_proc p where p.oid >= 16384
       union all
       ${ownedByRelation('pg_attrdef', 'a', 'adrelid', 'pre')}
       union all
       select 'pg_catalog.pg_rewrite'::regclass, r.oid, 'pg_class:' || r.ev_class::int8, case when r.rulename = '_RETURN' then 'pre' else 'post' end
         from pg_catalog.pg_rewrite r where r.oid >= 16384
       union all
       -- Primary keys, unique and exclusion constraints and validated checks are created with their
       -- table (a view may depend on a primary key); foreign keys and NOT VALID checks after the rows.
       select 'pg_catalog.pg_constraint'::regclass, con.oid,
              case when con.contypid <> 0 then 'pg_type:' || con.contypid::int8 else 'pg_class:' || con.conrelid::int8 end,
              case when con.contypid <> 0 or con.contype in ('p','u','x') or (con.contype = 'c' and con.convalidated) then 'pre' else 'post' end
         from pg_catalog.pg_constraint con where con.oid >= 16384
       union all
       ${ownedByRelation('pg_trigger', 'tg', 'tgrelid', 'post')}
       union all
       ${ownedByRelation('pg_policy', 'po', 'polrelid', 'post')}
       union all
       ${ownedByRelation('pg_statistic_ext', 'st', 'stxrelid', 'post')}
       union all
       select 'pg_catalog.pg_namespace'::regclass, n.oid, 'pg_namespace:' || n.oid::int8, 'pre' from pg_catalog.pg_namespace n where n.oid >= 16384
       union all
       select 'pg_catalog.pg_extension'::regclass, e.oid, 'pg_extension:' || e.oid::int8, 'pre' from pg_catalog.pg_extension e
     ),
     member as (
       -- Extension members stand for their extension.
       select d.classid, d.objid, 'pg_extension:' || d.refobjid::int8 as key
       from pg_catalog.pg_depend d where d.deptype = 'e'
     ),
     edges as (
       select coalesce(fm.key, fo.key) as "from", coalesce(tm.key, t_o.key) as "to",
              case when fm.key is null and fo.phase = 'post' then 'post' else 'pre' end as kind
       from pg_catalog.pg_depend d
       left join member fm on fm.classid = d.classid and fm.objid = d.objid
       left join owner fo on fo.classid = d.classid and fo.objid = d.objid
       left join member tm on tm.classid = d.refclassid and tm.objid = d.refobjid
       left join owner t_o on t_o.classid = d.refclassid and t_o.objid = d.refobjid
       where d.objid >= 16384 and d.deptype in ('n', 'a')
         -- Serial ownership points from the sequence to its column: the sequence must exist first.
         and not (d.classid = 'pg_catalog.pg_class'::regclass and d.refclassid = 'pg_catalog.pg_class'::regclass and d.deptype = 'a'
                  and (select relkind from pg_catalog.pg_class where oid = d.objid) = 'S')
     )
     select distinct "from", "to", kind from edges
     where "from" is not null and "to" is not null and "from" <> "to"
     union
     select 'pg_class:' || con.conrelid::int8, 'pg_class:' || con.confrelid::int8, 'fk'
     from pg_catalog.pg_constraint con
     where con.contype = 'f' and con.conrelid in ${REL} and con.confrelid in ${REL} and con.conrelid <> con.confrelid`,
};

/** `select` as a JSON array of its rows, in its order (an aggregate over an ordered subquery keeps it). */
const jsonRows = (select: string) => `(select coalesce(pg_catalog.json_agg(x), '[]'::json) from (${select}) x)`;

/**
 * The reads of MODEL_SQL that only squash needs, in one statement (one round trip): the server's
 * version and each kind as a JSON array column (sequences' states only when there are sequences).
 * After `relationsTable` and `relations`.
 */
export function squashOnlySql(sequences: readonly string[]): string {
  const kinds: [string, string][] = [
    ['partitionIndexes', MODEL_SQL.partitionIndexes],
    ['rules', MODEL_SQL.rules],
    ['statistics', MODEL_SQL.statistics],
    ['dependencies', MODEL_SQL.dependencies],
    ['unsupported', MODEL_SQL.unsupported],
    ['privileges', MODEL_SQL.privileges],
    ...(sequences.length ? ([['sequences', MODEL_SQL.sequenceStates(sequences)]] as [string, string][]) : []),
  ];
  return `select current_setting('server_version_num') as v, ${kinds.map(([name, sql]) => `${jsonRows(sql)} as "${name}"`).join(',\n  ')}`;
}
