/**
 * The catalog queries behind `snapshotSchema`: one statement, one JSON array per object kind, so a
 * snapshot costs a single round trip whatever the number of tables. They read only catalogs that
 * are stable from PostgreSQL 13 on (they run on 15 servers and on PGlite's 18) and leave every
 * version-dependent judgement (NOT NULL constraints rows, generated-column kinds, …) to explicit
 * filters here or to the normalisation in `snapshot.ts`.
 *
 * Parameters: $1 the schemas to read as a JSON array text (empty = every user schema), $2 the
 * tables to leave out as a JSON array text (bare names match in every schema, `schema.table` only
 * there). Rows of the per-relation kinds carry their `owner` relation's oid: the relation an
 * object is read and replaced with (an index with its table, anything else itself).
 * User objects are looked for from oid 16384 (FirstNormalObjectId) up, an index range instead of
 * a scan of every catalog row. `snapshot.ts` runs them as prepared statements: planning costs far
 * more than running them, on PGlite especially.
 *
 * Expressions are printed by PostgreSQL itself (pg_get_expr, pg_get_constraintdef, …) while the
 * caller has set search_path to pg_catalog, so every user object comes out schema-qualified
 * whatever the session's search_path was.
 */

/** The schemas asked for and the tables left out (SQL expressions of JSON array texts), user schemas, extension members. */
const scope = (schemas: string, excluded: string) => /* sql */ `
  requested as (
    select jsonb_array_elements_text(${schemas}::jsonb) as nspname
  ),
  excluded_names as (
    select jsonb_array_elements_text(${excluded}::jsonb) as name
  ),
  extension_members as (
    select d.classid, d.objid from pg_catalog.pg_depend d
    where d.deptype = 'e'
      and d.classid in ('pg_catalog.pg_namespace'::regclass, 'pg_catalog.pg_class'::regclass,
                        'pg_catalog.pg_type'::regclass, 'pg_catalog.pg_proc'::regclass)
      and d.objid >= 16384
  ),
  ns as (
    select n.oid, n.nspname
    from pg_catalog.pg_namespace n
    where n.nspname not like 'pg\\_%'
      and n.nspname <> 'information_schema'
      and not exists (
        select 1 from extension_members e
        where e.classid = 'pg_catalog.pg_namespace'::regclass and e.objid = n.oid
      )
      and (not exists (select 1 from requested) or n.nspname in (select nspname from requested))
  )`;

const SCOPE = scope('$1', '$2');

/**
 * The `rel` CTE: the relations of `from` (aliased c) in user schemas that pass `conditions`, not
 * extension members, each with the owner it is read under (an index's table, else itself).
 */
function relationsCte(from: string, conditions: string): string {
  return /* sql */ `  rel as (
    select c.oid, c.relname, c.relkind, n.nspname, n.nspname || '.' || c.relname as qname,
           coalesce(ix.indrelid, c.oid) as owner
    from ${from}
    join ns n on n.oid = c.relnamespace
    left join pg_catalog.pg_index ix on ix.indexrelid = c.oid
    where c.oid >= 16384${conditions}
      and not exists (
        select 1 from extension_members e
        where e.classid = 'pg_catalog.pg_class'::regclass and e.objid = c.oid
      )
  )`;
}

/** Every relation in scope: the tables named in $2 and the sequences they own (knex_migrations_id_seq) left out. */
const ALL_RELATIONS = /* sql */ `
  excluded_rel as (
    select c.oid
    from pg_catalog.pg_class c
    join ns n on n.oid = c.relnamespace
    where c.relname in (select name from excluded_names)
       or (n.nspname || '.' || c.relname) in (select name from excluded_names)
  ),
  excluded_seq as (
    select d.objid as oid
    from pg_catalog.pg_depend d
    where d.classid = 'pg_catalog.pg_class'::regclass
      and d.objid >= 16384
      and d.refclassid = 'pg_catalog.pg_class'::regclass
      and d.deptype in ('a', 'i')
      and d.refobjid in (select oid from excluded_rel)
  ),
${relationsCte(
  'pg_catalog.pg_class c',
  `
      and c.oid not in (select oid from excluded_rel)
      and c.oid not in (select oid from excluded_seq)`,
)}`;

/**
 * The scope of a whole read as CTEs (`ns`: the user schemas; `rel`: the relations in scope, with
 * their indexes), for the baseline's reads (catalog-model-sql.ts) to select from, so both reads
 * agree on what belongs to the user's schema. `excluded`: an SQL expression of the tables left out,
 * as JSON array text.
 */
export function scopeCtes(excluded: string): string {
  return `${scope("'[]'", excluded)},${ALL_RELATIONS}`;
}

/**
 * Every catalog row a snapshot's objects are printed from, with the owner it is counted under and
 * its xmin: the owner relation (an index's table, else the relation itself), 0 for the schema-wide
 * kinds (types, routines, extensions, a composite type's relation), -1 for what only a whole read
 * handles (schemas, collations: every object prints their names). pg_depend rows of relations are
 * counted too: a sequence's OWNED BY lives only there (system columns are not: they come and go
 * with their relation's row). Each catalog is read from oid 16384 up, by
 * an index: the cost is the number of user objects, not of catalog rows.
 */
const TRACKED_ROWS = /* sql */ `
  tracked_row as (
    select c.oid::int8 as rel, c.xmin, null::oid as cls, null::oid as obj, null::int4 as sub from pg_catalog.pg_class c where c.oid >= 16384
    union all select a.attrelid::int8, a.xmin, 'pg_catalog.pg_class'::regclass, a.attrelid, a.attnum from pg_catalog.pg_attribute a where a.attrelid >= 16384 and a.attnum > 0
    union all select ad.adrelid::int8, ad.xmin, null, null, null from pg_catalog.pg_attrdef ad where ad.adrelid >= 16384
    union all select case when con.conrelid <> 0 then con.conrelid::int8 else 0 end, con.xmin, null, null, null
      from pg_catalog.pg_constraint con where con.oid >= 16384
    union all select ix.indrelid::int8, ix.xmin, null, null, null from pg_catalog.pg_index ix where ix.indexrelid >= 16384
    union all select tg.tgrelid::int8, tg.xmin, null, null, null from pg_catalog.pg_trigger tg where tg.oid >= 16384
    union all select po.polrelid::int8, po.xmin, null, null, null from pg_catalog.pg_policy po where po.oid >= 16384
    union all select rw.ev_class::int8, rw.xmin, null, null, null from pg_catalog.pg_rewrite rw where rw.oid >= 16384
    union all select sq.seqrelid::int8, sq.xmin, null, null, null from pg_catalog.pg_sequence sq where sq.seqrelid >= 16384
    union all select ih.inhrelid::int8, ih.xmin, null, null, null from pg_catalog.pg_inherits ih where ih.inhrelid >= 16384
    union all select d.objid::int8, d.xmin, null, null, null from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid >= 16384
    union all select case ds.classoid
               when 'pg_catalog.pg_class'::regclass then ds.objoid::int8
               when 'pg_catalog.pg_constraint'::regclass then (select nullif(con.conrelid, 0)::int8 from pg_catalog.pg_constraint con where con.oid = ds.objoid)
               when 'pg_catalog.pg_trigger'::regclass then (select tg.tgrelid::int8 from pg_catalog.pg_trigger tg where tg.oid = ds.objoid)
               when 'pg_catalog.pg_policy'::regclass then (select po.polrelid::int8 from pg_catalog.pg_policy po where po.oid = ds.objoid)
               when 'pg_catalog.pg_namespace'::regclass then -1
             end, ds.xmin, null, null, null
      from pg_catalog.pg_description ds where ds.objoid >= 16384
    -- A relation's row type and its array type count under the relation.
    union all select case when t.typrelid <> 0 then t.typrelid::int8
                          when t.typelem <> 0 then coalesce((select nullif(el.typrelid, 0)::int8 from pg_catalog.pg_type el where el.oid = t.typelem), 0)
                          else 0 end, t.xmin, 'pg_catalog.pg_type'::regclass, t.oid, 0
      from pg_catalog.pg_type t where t.oid >= 16384
    union all select 0, p.xmin, 'pg_catalog.pg_proc'::regclass, p.oid, 0 from pg_catalog.pg_proc p where p.oid >= 16384
    union all select 0, e.xmin, 'pg_catalog.pg_type'::regclass, e.enumtypid, 0 from pg_catalog.pg_enum e where e.oid >= 16384
    union all select 0, ag.xmin, null, null, null from pg_catalog.pg_aggregate ag where ag.aggfnoid >= 16384
    union all select 0, x.xmin, null, null, null from pg_catalog.pg_extension x where x.oid >= 16384
    union all select -1, n.xmin, null, null, null from pg_catalog.pg_namespace n where n.oid >= 16384
    union all select -1, co.xmin, null, null, null from pg_catalog.pg_collation co where co.oid >= 16384
  ),
  tracked as (
    select coalesce(case when r.rel <= 0 then r.rel end, ix.indrelid::int8,
                    case when c.relkind = 'c' then 0 end, r.rel, 0) as owner,
           r.xmin::text::int8 as x, r.cls, r.obj, r.sub
    from tracked_row r
    -- (-1 and 0 are no oid: the cast must not see them, whatever order the plan tests in.)
    left join pg_catalog.pg_index ix on ix.indexrelid = (case when r.rel > 0 then r.rel end)::oid
    left join pg_catalog.pg_class c on c.oid = (case when r.rel > 0 then r.rel end)::oid
  ),
  snap as (
    select pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::int8 % 4294967296 as xmax,
           coalesce((select array_agg(x::text::int8 % 4294967296) from pg_catalog.pg_snapshot_xip(pg_catalog.pg_current_snapshot()) x), '{}') as xip,
           pg_catalog.pg_current_xact_id_if_assigned()::text::int8 % 4294967296 as top
  )`;

/** Rows counted per owner, and this read's snapshot: what the next delta read compares with (see IncrementalSnapshots). */
const TRACKING_COLUMNS = [
  /* sql */ `  (select coalesce(json_object_agg(owner, n), '{}'::json) from (select owner, count(*) as n from tracked group by owner) x) as totals`,
  /* sql */ `  -- Rows visible though their transaction had not ended when the snapshot was taken are this
  -- session's transaction's own (the xmin of a row it wrote may be at or past the snapshot's xmax).
  (select json_build_object('xmax', s.xmax, 'xip', s.xip,
            'own', (select coalesce(json_agg(distinct o), '[]'::json) from (
                      select t.x as o from tracked t where ((t.x - s.xmax + 4294967296) % 4294967296) < 2147483648
                      union select s.top where s.top is not null) own))
     from snap s) as since`,
];

/**
 * Whether a row's transaction was already over when the last read's snapshot was taken (its xid
 * precedes the snapshot's xmax, circularly, and was not running then), or is one of the given
 * transactions counted as seen ($3 old: the last read's own, when its transaction ended with it)
 * rather than not ($3 new: its own, when its transaction went on).
 */
const SEEN = (x: string) => /* sql */ `(${x} in (select v from seen_old) or (((${x} - (select xmax from since) + 4294967296) % 4294967296) >= 2147483648
     and ${x} not in (select v from seen_xip) and ${x} not in (select v from seen_new)))`;

/**
 * The delta read: the owners whose rows differ from the last read's. Parameters: $3 the last
 * read's snapshot ({xmax, xip, old, new}), $4 its row counts per owner. An owner changed when one
 * of its rows was written since (an UPDATE writes a new row version), or fewer of its rows are left
 * from then than it had (a row deleted). Written rows of types, routines and relation columns also
 * change the objects that print their names (a view after RENAME COLUMN, a trigger after ALTER
 * FUNCTION … RENAME, a column after ALTER TYPE … RENAME): pg_depend names them.
 */
const CHANGED_OWNERS = /* sql */ `
  since as (select ($3::jsonb ->> 'xmax')::int8 as xmax),
  seen_xip as (select jsonb_array_elements_text($3::jsonb -> 'xip')::int8 as v),
  seen_old as (select jsonb_array_elements_text($3::jsonb -> 'old')::int8 as v),
  seen_new as (select jsonb_array_elements_text($3::jsonb -> 'new')::int8 as v),
  last_total as (select key::int8 as owner, value::int8 as n from jsonb_each_text($4::jsonb)),
  counted as (
    select t.owner, count(*) as n, count(*) filter (where ${SEEN('t.x')}) as kept
    from tracked t group by t.owner
  ),
  written_ref as (
    select t.cls, t.obj, t.sub from tracked t where t.cls is not null and not ${SEEN('t.x')}
  ),
  dependent_rel as (
    select case d.classid
             when 'pg_catalog.pg_class'::regclass then d.objid::int8
             when 'pg_catalog.pg_attrdef'::regclass then (select ad.adrelid::int8 from pg_catalog.pg_attrdef ad where ad.oid = d.objid)
             when 'pg_catalog.pg_constraint'::regclass then (select con.conrelid::int8 from pg_catalog.pg_constraint con where con.oid = d.objid)
             when 'pg_catalog.pg_rewrite'::regclass then (select rw.ev_class::int8 from pg_catalog.pg_rewrite rw where rw.oid = d.objid)
             when 'pg_catalog.pg_trigger'::regclass then (select tg.tgrelid::int8 from pg_catalog.pg_trigger tg where tg.oid = d.objid)
             when 'pg_catalog.pg_policy'::regclass then (select po.polrelid::int8 from pg_catalog.pg_policy po where po.oid = d.objid)
             when 'pg_catalog.pg_type'::regclass then 0
             when 'pg_catalog.pg_proc'::regclass then 0
           end as rel
    from written_ref w
    -- OFFSET 0 keeps it a lookup by the index for each row written (few), not a scan of pg_depend.
    cross join lateral (
      select d.classid, d.objid from pg_catalog.pg_depend d
      where d.refclassid = w.cls and d.refobjid = w.obj and d.refobjsubid = w.sub offset 0
    ) d
  ),
  changed as (
    select c.owner from counted c
    left join last_total l on l.owner = c.owner
    where c.kept <> c.n or c.kept <> coalesce(l.n, 0)
    union
    select l.owner from last_total l where not exists (select 1 from counted c where c.owner = l.owner)
    union
    select coalesce(ix.indrelid::int8, case when c.relkind = 'c' then 0 end, d.rel)
    from dependent_rel d
    left join pg_catalog.pg_index ix on ix.indexrelid = (case when d.rel > 0 then d.rel end)::oid
    left join pg_catalog.pg_class c on c.oid = (case when d.rel > 0 then d.rel end)::oid
    where d.rel is not null
  ),
  flags as (
    select exists (select 1 from changed where owner = 0) as wide,
           exists (select 1 from changed where owner = -1) as whole
  ),
  -- The changed owners, each with its indexes; composite types' relations go with the schema-wide kinds.
  delta_owner as (
    select (case when owner > 0 then owner end)::oid as oid from changed where owner > 0
    union
    select c.oid from pg_catalog.pg_class c where c.relkind = 'c' and c.oid >= 16384 and (select wide from flags)
  )`;

/**
 * The relations of the owners in `delta_owner` (CHANGED_OWNERS', or LOCKED_RELATIONS' own), each with
 * its indexes, looked up by oid, so a delta read costs what a migration changed, not what the
 * database holds. The same relations are left out as by the full read, tested one by one.
 */
const CHANGED_RELATIONS = /* sql */ `
  candidate_rel as (
    select d.oid from delta_owner d
    union all
    select ix.indexrelid from delta_owner d join pg_catalog.pg_index ix on ix.indrelid = d.oid
  ),
${relationsCte(
  `candidate_rel cr
    join pg_catalog.pg_class c on c.oid = cr.oid`,
  `
      and not exists (select 1 from excluded_names x where x.name = c.relname or x.name = n.nspname || '.' || c.relname)
      and not exists (
        select 1
        from pg_catalog.pg_depend d
        join pg_catalog.pg_class t on t.oid = d.refobjid
        join ns tn on tn.oid = t.relnamespace
        where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
          and d.refclassid = 'pg_catalog.pg_class'::regclass and d.deptype in ('a', 'i')
          and exists (select 1 from excluded_names x where x.name = t.relname or x.name = tn.nspname || '.' || t.relname)
      )`,
)}`;

/** The owners in $3 and the owners of the relations in $4 (made since the last read), with their relations. */
const LOCKED_RELATIONS = /* sql */ `
  delta_owner as (
    select jsonb_array_elements_text($3::jsonb)::oid as oid
    union
    select coalesce(ix.indrelid, c.oid)
    from (select jsonb_array_elements_text($4::jsonb)::oid as oid) fresh
    join pg_catalog.pg_class c on c.oid = fresh.oid
    left join pg_catalog.pg_index ix on ix.indexrelid = c.oid
  ),${CHANGED_RELATIONS}`;

const TABLES = /* sql */ `
  tbl as (
    select * from rel where relkind in ('r', 'p', 'f')
  )`;

/** Types and routines: read whole (by a delta read only when one of the schema-wide kinds changed). */
const SCHEMA_WIDE = /* sql */ `
  typ as (
    select t.oid, t.typname, t.typtype, t.typrelid, n.nspname, n.nspname || '.' || t.typname as qname
    from pg_catalog.pg_type t
    join ns n on n.oid = t.typnamespace
    where t.oid >= 16384
      and t.typtype in ('e', 'c', 'd')
      and not exists (
        select 1 from extension_members e
        where e.classid = 'pg_catalog.pg_type'::regclass and e.objid = t.oid
      )
  ),
  -- Overloads are told apart by their input types (argument names are part of the definition).
  proc as (
    select p.oid, p.proname, p.prokind, p.prolang, n.nspname,
           n.nspname || '.' || p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' as qsignature
    from pg_catalog.pg_proc p
    join ns n on n.oid = p.pronamespace
    where p.oid >= 16384
      and not exists (
      select 1 from extension_members e
      where e.classid = 'pg_catalog.pg_proc'::regclass and e.objid = p.oid
    )
  )`;

/** Per-relation kinds: what both reads return. */
const PER_RELATION_COLUMNS = [
  /* sql */ `  -- The relations read: an incremental read compares them with what it knew of their owners.
  (select coalesce(json_agg(json_build_array(r.oid::int8, r.owner::int8, r.qname, r.relkind::text)), '[]'::json)
     from rel r) as relations`,
  /* sql */ `  (select coalesce(json_agg(x order by x.qname), '[]'::json) from (
    select t.owner::int8 as owner, t.qname, t.nspname as schema, t.relname as name, t.relkind as relkind,
           c.relrowsecurity as row_security, c.relforcerowsecurity as force_row_security,
           case when c.relispartition then p.names ->> 0 end as partition_parent,
           case when c.relispartition then pg_catalog.pg_get_expr(c.relpartbound, c.oid) end as partition_bound,
           case when not c.relispartition then p.names end as inherits,
           c.relpersistence = 'u' as unlogged,
           case when c.relkind = 'p' then pg_catalog.pg_get_partkeydef(c.oid) end as partition_key,
           -- Settings a migration can change without touching a column: REPLICA IDENTITY (with its
           -- index), CLUSTER ON, storage parameters (WITH (fillfactor = …)), sorted.
           c.relreplident::text as replica_identity,
           (select ri.relname from pg_catalog.pg_index i join pg_catalog.pg_class ri on ri.oid = i.indexrelid
             where i.indrelid = c.oid and i.indisreplident) as replica_index,
           (select ci.relname from pg_catalog.pg_index i join pg_catalog.pg_class ci on ci.oid = i.indexrelid
             where i.indrelid = c.oid and i.indisclustered) as cluster_on,
           -- As stored (the baseline writes WITH (…) in that order); a snapshot sorts them.
           c.reloptions as options,
           -- For the baseline: parents by oid (INHERITS order), the primary key's column numbers (a
           -- partition's too, whose constraint is a clone), and the columns a table inherits
           -- ([number, attislocal, attinhcount]; every other column is local and inherits nothing).
           p.oids as parent_oids,
           (select to_json(i.indkey::int2[]) from pg_catalog.pg_index i where i.indrelid = c.oid and i.indisprimary) as primary_key,
           case when p.oids is not null then
             (select json_agg(json_build_array(a.attnum, a.attislocal, a.attinhcount) order by a.attnum)
                from pg_catalog.pg_attribute a
               where a.attrelid = c.oid and a.attnum > 0 and a.attinhcount > 0 and not a.attisdropped)
           end as inherited_columns
    from tbl t
    join pg_catalog.pg_class c on c.oid = t.oid
    -- Its parents (a partition's one), in INHERITS order.
    left join lateral (
      select json_agg(pn.nspname || '.' || pc.relname order by i.inhseqno) as names,
             json_agg(i.inhparent::int8 order by i.inhseqno) as oids
        from pg_catalog.pg_inherits i
        join pg_catalog.pg_class pc on pc.oid = i.inhparent
        join pg_catalog.pg_namespace pn on pn.oid = pc.relnamespace
       where i.inhrelid = c.oid
    ) p on true
  ) x) as tables`,
  /* sql */ `  (select coalesce(json_agg(x order by x.qtable, x.num), '[]'::json) from (
    select t.owner::int8 as owner, t.qname as qtable, a.attname as name, a.attnum as num,
           pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
           a.attnotnull as not_null,
           case when a.attgenerated = '' then pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) end as "default",
           case when a.attgenerated <> '' then pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) end as generated,
           a.attgenerated as generated_kind,
           a.attidentity as identity,
           -- Storage and statistics settings, only where they differ from the defaults: SET STORAGE
           -- (the type's own is the default), SET STATISTICS (-1, or null from PostgreSQL 17 on, is
           -- the default), SET (n_distinct …) (other attoptions keys are not the user's), SET COMPRESSION.
           case when a.attstorage <> ty.typstorage then a.attstorage::text end as storage,
           case when coalesce(a.attstattarget::int, -1) >= 0 then a.attstattarget::int end as statistics,
           (select json_agg(o order by o) from unnest(a.attoptions) o
             where o like 'n\\_distinct=%' or o like 'n\\_distinct\\_inherited=%') as options,
           nullif(a.attcompression::text, '') as compression,
           -- [schema, name]: a snapshot names it (schema left out for pg_catalog's), the baseline quotes it.
           case when co.oid is not null then json_build_array(cn.nspname, co.collname) end as collation
    from tbl t
    join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
    join pg_catalog.pg_type ty on ty.oid = a.atttypid
    left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
    left join pg_catalog.pg_collation co on co.oid = a.attcollation and a.attcollation <> ty.typcollation
    left join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace
  ) x) as columns`,
  /* sql */ `  -- contype 'n' (NOT NULL, stored as constraints from PostgreSQL 18 on) and 't' (constraint
  -- triggers) are left out: nullability comes from attnotnull, triggers from pg_trigger.
  -- Constraints cloned onto partitions (conparentid <> 0) are implied by the parent's.
  (select coalesce(json_agg(x order by x.qtable, x.name), '[]'::json) from (
    select t.owner::int8 as owner, t.qname as qtable, con.conname as name, con.contype as type,
           pg_catalog.pg_get_constraintdef(con.oid) as definition,
           -- Column numbers: named from the columns list, which is read anyway.
           to_json(coalesce(con.conkey, '{}')) as column_numbers,
           con.convalidated as validated,
           -- Inherited by a child table (not its own): the baseline leaves it to INHERITS.
           con.conislocal as local,
           con.condeferrable as deferrable,
           case when con.contype = 'f' then fn.nspname || '.' || fc.relname end as ref_table,
           case when con.contype = 'f' then
             coalesce((select json_agg(a.attname order by k.ord)
                         from unnest(con.confkey) with ordinality k(attnum, ord)
                         join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum), '[]'::json)
           end as ref_columns,
           con.confupdtype as on_update,
           con.confdeltype as on_delete
    from pg_catalog.pg_constraint con
    join tbl t on t.oid = con.conrelid
    left join pg_catalog.pg_class fc on fc.oid = con.confrelid
    left join pg_catalog.pg_namespace fn on fn.oid = fc.relnamespace
    where con.contype in ('p', 'u', 'f', 'c', 'x')
      and con.conparentid = 0
  ) x) as constraints`,
  /* sql */ `  -- Indexes backing a PRIMARY KEY / UNIQUE / EXCLUDE constraint are implied by it; indexes that
  -- are partitions of a partitioned index are implied by their parent.
  (select coalesce(json_agg(x order by x.qname), '[]'::json) from (
    select t.owner::int8 as owner, n.nspname || '.' || ic.relname as qname, n.nspname as schema, ic.relname as name, t.qname as qtable,
           pg_catalog.pg_get_indexdef(i.indexrelid) as definition,
           i.indisunique as "unique",
           pg_catalog.pg_get_expr(i.indpred, i.indrelid) as predicate,
           i.indisvalid as valid,
           (select json_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k, false) order by k)
              from generate_series(1, i.indnkeyatts) k) as columns
    from pg_catalog.pg_index i
    join pg_catalog.pg_class ic on ic.oid = i.indexrelid
    join pg_catalog.pg_namespace n on n.oid = ic.relnamespace
    join rel t on t.oid = i.indrelid
    where not ic.relispartition
      and not exists (
        select 1 from pg_catalog.pg_constraint con
        where con.conindid = i.indexrelid and con.conrelid = i.indrelid and con.contype in ('p', 'u', 'x')
      )
  ) x) as indexes`,
  /* sql */ `  (select coalesce(json_agg(x order by x.qname), '[]'::json) from (
    select r.owner::int8 as owner, r.qname, r.nspname as schema, r.relname as name,
           pg_catalog.format_type(s.seqtypid, null) as type,
           s.seqincrement::text as increment,
           s.seqstart::text as start,
           o.nspname || '.' || o.relname || '.' || o.attname as owned_by,
           -- For the baseline (CREATE SEQUENCE, OWNED BY, identity options): not part of a snapshot.
           s.seqmin::text as min, s.seqmax::text as max, s.seqcache::text as cache, s.seqcycle as cycle,
           case when o.deptype is not null then json_build_array(o.refobjid::int8, o.nspname, o.relname, o.attname, o.deptype::text) end as owned_by_ref
    from rel r
    join pg_catalog.pg_sequence s on s.seqrelid = r.oid
    -- Its column: a serial's ('a', OWNED BY) or an identity column's ('i').
    left join lateral (
      select d.refobjid, d.deptype, on_.nspname, oc.relname, a.attname
        from pg_catalog.pg_depend d
        join pg_catalog.pg_class oc on oc.oid = d.refobjid
        join pg_catalog.pg_namespace on_ on on_.oid = oc.relnamespace
        join pg_catalog.pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
       where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = r.oid
         and d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjsubid > 0
         and d.deptype in ('a', 'i')
       order by on_.nspname || '.' || oc.relname || '.' || a.attname limit 1
    ) o on true
  ) x) as sequences`,
  /* sql */ `  (select coalesce(json_agg(x order by x.qname), '[]'::json) from (
    select r.owner::int8 as owner, r.qname, r.nspname as schema, r.relname as name, r.relkind = 'm' as materialized,
           pg_catalog.pg_get_viewdef(r.oid) as definition,
           -- For the baseline (WITH (…), REFRESH MATERIALIZED VIEW): not part of a snapshot.
           c.relispopulated as populated, c.reloptions as options
    from rel r
    join pg_catalog.pg_class c on c.oid = r.oid
    where r.relkind in ('v', 'm')
  ) x) as views`,
  /* sql */ `  -- Internal triggers implement foreign keys; clones on partitions are implied by the parent's.
  -- enabled: pg_trigger.tgenabled (O, D, R or A): the baseline writes each back.
  (select coalesce(json_agg(x order by x.qtable, x.name), '[]'::json) from (
    select r.owner::int8 as owner, r.qname as qtable, tg.tgname as name,
           pg_catalog.pg_get_triggerdef(tg.oid) as definition,
           tg.tgenabled::text as enabled
    from pg_catalog.pg_trigger tg
    join rel r on r.oid = tg.tgrelid
    where not tg.tgisinternal and tg.tgparentid = 0
  ) x) as triggers`,
  /* sql */ `  (select coalesce(json_agg(x order by x.qtable, x.name), '[]'::json) from (
    select r.owner::int8 as owner, r.qname as qtable, po.polname as name, po.polcmd as command, po.polpermissive as permissive,
           coalesce((select json_agg(case when ro = 0 then 'public' else pg_catalog.pg_get_userbyid(ro)::text end
                                     order by case when ro = 0 then 'public' else pg_catalog.pg_get_userbyid(ro)::text end)
                       from unnest(po.polroles) ro), '[]'::json) as roles,
           pg_catalog.pg_get_expr(po.polqual, po.polrelid) as using,
           pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid) as with_check
    from pg_catalog.pg_policy po
    join rel r on r.oid = po.polrelid
  ) x) as policies`,
];

/**
 * A collation set on a composite type's attribute or a domain, when it is not its type's own: its
 * schema and name as a JSON pair (the baseline writes COLLATE with it; a snapshot does not read it).
 */
function collationOf(collation: string, typeCollation: string): string {
  return /* sql */ `case when ${collation} <> ${typeCollation} and ${collation} <> 0 then
             (select json_build_array(cn.nspname, co.collname) from pg_catalog.pg_collation co
                join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace where co.oid = ${collation}) end`;
}

/** Schema-wide kinds: read whole, by a delta read too when any of them changed (else it keeps the ones it had). */
const SCHEMA_WIDE_COLUMNS = [
  /* sql */ `  -- [oid, name]: the baseline's model names its dependencies by oid.
  (select coalesce(json_agg(json_build_array(oid::int8, nspname) order by nspname), '[]'::json) from ns) as schemas`,
  /* sql */ `  -- Oids of extensions and enums: the baseline's model (catalog-model.ts) names its dependencies by them.
  (select coalesce(json_agg(x order by x.name), '[]'::json) from (
    select e.oid::int8 as oid, e.extname as name, n.nspname as schema, e.extversion as version
    from pg_catalog.pg_extension e
    join pg_catalog.pg_namespace n on n.oid = e.extnamespace
  ) x) as extensions`,
  /* sql */ `  (select coalesce(json_agg(x order by x.qname), '[]'::json) from (
    select t.oid::int8 as oid, t.qname, t.nspname as schema, t.typname as name,
           coalesce((select json_agg(e.enumlabel order by e.enumsortorder)
                       from pg_catalog.pg_enum e where e.enumtypid = t.oid), '[]'::json) as "values"
    from typ t where t.typtype = 'e'
  ) x) as enums`,
  /* sql */ `  (select coalesce(json_agg(x order by x.qname), '[]'::json) from (
    select t.oid::int8 as oid, t.typrelid::int8 as relid, t.qname, t.nspname as schema, t.typname as name,
           coalesce((select json_agg(json_build_object('name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                                                       'collation', ${collationOf('a.attcollation', 'aty.typcollation')}) order by a.attnum)
                       from pg_catalog.pg_attribute a
                       join pg_catalog.pg_type aty on aty.oid = a.atttypid
                      where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped), '[]'::json) as attributes
    from typ t
    join pg_catalog.pg_class c on c.oid = t.typrelid and c.relkind = 'c'
    where t.typtype = 'c'
  ) x) as composites`,
  /* sql */ `  -- Domain NOT NULL is read from typnotnull: PostgreSQL 17+ also stores it as a contype 'n' row.
  (select coalesce(json_agg(x order by x.qname), '[]'::json) from (
    select t.oid::int8 as oid, t.qname, t.nspname as schema, t.typname as name,
           pg_catalog.format_type(ty.typbasetype, ty.typtypmod) as type,
           ${collationOf('ty.typcollation', 'bt.typcollation')} as collation,
           ty.typnotnull as not_null,
           pg_catalog.pg_get_expr(ty.typdefaultbin, 0) as "default",
           coalesce((select json_agg(pg_catalog.pg_get_constraintdef(con.oid) order by pg_catalog.pg_get_constraintdef(con.oid))
                       from pg_catalog.pg_constraint con
                      where con.contypid = t.oid and con.contype = 'c'), '[]'::json) as checks,
           -- The checks again with their names, for the baseline (CONSTRAINT name CHECK …).
           coalesce((select json_agg(json_build_object('name', con.conname, 'definition', pg_catalog.pg_get_constraintdef(con.oid)) order by con.conname)
                       from pg_catalog.pg_constraint con
                      where con.contypid = t.oid and con.contype = 'c'), '[]'::json) as named_checks
    from typ t
    join pg_catalog.pg_type ty on ty.oid = t.oid
    join pg_catalog.pg_type bt on bt.oid = ty.typbasetype
    where t.typtype = 'd'
  ) x) as domains`,
  /* sql */ `  (select coalesce(json_agg(x order by x.qsignature), '[]'::json) from (
    select p.qsignature, p.nspname as schema, p.proname as name, p.prokind as kind,
           case when p.prokind <> 'p' then pg_catalog.pg_get_function_result(p.oid) end as returns,
           l.lanname as language,
           case when p.prokind = 'a' then
             concat_ws(', ',
                       'sfunc = ' || a.aggtransfn::regproc::text,
                       'stype = ' || pg_catalog.format_type(a.aggtranstype, null),
                       case when a.aggfinalfn <> 0 then 'finalfunc = ' || a.aggfinalfn::regproc::text end,
                       case when a.aggcombinefn <> 0 then 'combinefunc = ' || a.aggcombinefn::regproc::text end,
                       case when a.agginitval is not null then 'initcond = ' || quote_literal(a.agginitval) end)
           else pg_catalog.pg_get_functiondef(p.oid) end as definition,
           -- For the baseline's model (its dependencies name routines by oid; CREATE AGGREGATE): not part of a snapshot.
           p.oid::int8 as oid,
           case when p.prokind = 'a' then
             json_build_object(
               'args', pg_catalog.pg_get_function_arguments(p.oid),
               'sfunc', a.aggtransfn::regproc::text,
               'stype', pg_catalog.format_type(a.aggtranstype, null),
               'finalfunc', case when a.aggfinalfn <> 0 then a.aggfinalfn::regproc::text end,
               'combinefunc', case when a.aggcombinefn <> 0 then a.aggcombinefn::regproc::text end,
               'initcond', a.agginitval,
               'unsupported', a.aggkind <> 'n' or a.aggmtransfn <> 0 or a.aggsortop <> 0 or a.aggserialfn <> 0)
           end as aggregate
    from proc p
    join pg_catalog.pg_language l on l.oid = p.prolang
    left join pg_catalog.pg_aggregate a on p.prokind = 'a' and a.aggfnoid = p.oid
  ) x) as functions`,
];

/** An object's comment, looked up by its catalog, oid and sub-id (a column's number). */
function comment(oid: string, catalog: string, subId = '0'): string {
  return `(select d.description from pg_catalog.pg_description d where d.objoid = ${oid} and d.classoid = 'pg_catalog.${catalog}'::regclass and d.objsubid = ${subId})`;
}

/** Comment rows, one branch per kind of object commented on. */
const COMMENTS = {
  relation: /* sql */ `    select case r.relkind
             when 'r' then 'table ' when 'p' then 'table ' when 'f' then 'table '
             when 'v' then 'view ' when 'm' then 'materialized view '
             when 'S' then 'sequence ' when 'i' then 'index ' when 'I' then 'index '
           end || r.qname as key,
           ${comment('r.oid', 'pg_class')} as text,
           r.owner::int8 as owner
    from rel r
    where r.relkind in ('r', 'p', 'f', 'v', 'm', 'S', 'i', 'I')`,
  column: /* sql */ `    select 'column ' || r.qname || '.' || a.attname,
           ${comment('r.oid', 'pg_class', 'a.attnum')},
           r.owner::int8
    from rel r
    join pg_catalog.pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
    where r.relkind in ('r', 'p', 'f', 'v', 'm', 'c')`,
  /** On a table or a domain (the full read). */
  constraint: /* sql */ `    select 'constraint ' || coalesce(r.qname, t.qname) || '.' || con.conname,
           ${comment('con.oid', 'pg_constraint')},
           r.owner::int8
    from pg_catalog.pg_constraint con
    left join rel r on r.oid = con.conrelid
    left join typ t on t.oid = con.contypid
    where con.oid >= 16384 and (r.oid is not null or t.oid is not null)`,
  /** On a domain (the delta read, when the schema-wide kinds changed). */
  domainConstraint: /* sql */ `    select 'constraint ' || t.qname || '.' || con.conname,
           ${comment('con.oid', 'pg_constraint')},
           null::int8
    from pg_catalog.pg_constraint con
    join typ t on t.oid = con.contypid
    where con.oid >= 16384`,
  /** On a table. */
  tableConstraint: /* sql */ `    select 'constraint ' || r.qname || '.' || con.conname,
           ${comment('con.oid', 'pg_constraint')},
           r.owner::int8
    from pg_catalog.pg_constraint con
    join rel r on r.oid = con.conrelid`,
  type: /* sql */ `    select case when t.typtype = 'd' then 'domain ' else 'type ' end || t.qname,
           ${comment('t.oid', 'pg_type')},
           null::int8
    from typ t`,
  routine: /* sql */ `    select case when p.prokind = 'p' then 'procedure ' else 'function ' end || p.qsignature,
           ${comment('p.oid', 'pg_proc')},
           null::int8
    from proc p`,
  trigger: /* sql */ `    select 'trigger ' || r.qname || '.' || tg.tgname,
           ${comment('tg.oid', 'pg_trigger')},
           r.owner::int8
    from pg_catalog.pg_trigger tg
    join rel r on r.oid = tg.tgrelid
    where not tg.tgisinternal`,
  policy: /* sql */ `    select 'policy ' || r.qname || '.' || po.polname,
           ${comment('po.oid', 'pg_policy')},
           r.owner::int8
    from pg_catalog.pg_policy po
    join rel r on r.oid = po.polrelid`,
  schema: /* sql */ `    select 'schema ' || n.nspname,
           ${comment('n.oid', 'pg_namespace')},
           null::int8
    from ns n`,
};

/** A column of the whole read, left null by a delta read unless the schema-wide kinds changed. */
function gated(column: string): string {
  const at = column.lastIndexOf(' as ');
  return `  case when (select wide from flags) then ${column.slice(0, at).trim()} end${column.slice(at)}`;
}

/**
 * 'full': every object, and what the next 'changes' read compares with. 'owners': the owners named
 * (a migration's locks). 'changes': what changed since a 'full' or 'changes' read.
 */
function catalogQuery(kind: 'full' | 'owners' | 'changes'): string {
  const ctes =
    kind === 'full'
      ? [SCOPE, ALL_RELATIONS, TABLES, SCHEMA_WIDE, TRACKED_ROWS]
      : kind === 'owners'
        ? [SCOPE, LOCKED_RELATIONS, TABLES]
        : [SCOPE, TRACKED_ROWS, CHANGED_OWNERS, CHANGED_RELATIONS, TABLES, SCHEMA_WIDE];
  const c = COMMENTS;
  const wideOnly = (branch: string) => `    select * from (\n${branch}\n    ) wide_comment where (select wide from flags)`;
  const comments =
    kind === 'full'
      ? [c.relation, c.column, c.constraint, c.type, c.routine, c.trigger, c.policy, c.schema]
      : kind === 'owners'
        ? [c.relation, c.column, c.tableConstraint, c.trigger, c.policy]
        : [c.relation, c.column, c.tableConstraint, c.trigger, c.policy, ...[c.domainConstraint, c.type, c.routine, c.schema].map(wideOnly)];
  // Comments are looked up object by object (an index probe each) rather than joined: the generic
  // plan cannot know how few objects a schema has and otherwise scans every comment of the system
  // catalogs once per object.
  const commentsColumn = `  (select coalesce(json_agg(x), '[]'::json) from (\n${comments.join('\n    union all\n')}\n  ) x where x.text is not null) as comments`;
  const changesColumns = [`  (select coalesce(json_agg(owner), '[]'::json) from changed) as changed`, `  (select wide from flags) as wide`, `  (select whole from flags) as whole`];
  const columns =
    kind === 'full'
      ? [...PER_RELATION_COLUMNS, ...SCHEMA_WIDE_COLUMNS, commentsColumn, ...TRACKING_COLUMNS]
      : kind === 'owners'
        ? [...PER_RELATION_COLUMNS, commentsColumn]
        : [...PER_RELATION_COLUMNS, ...SCHEMA_WIDE_COLUMNS.map(gated), commentsColumn, ...TRACKING_COLUMNS, ...changesColumns];
  return `\nwith${ctes.join(',')}\nselect\n${columns.join(',\n\n')}\n`;
}

/** Every object of the schema, with what the next delta read compares with. Parameters $1, $2. */
export const CATALOG_SQL = catalogQuery('full');

/**
 * The relations a migration could have changed by its locks: the owners in $3 (JSON array of
 * oids) and the owners of the relations in $4 (made since the last read), with everything that
 * belongs to them. What it returns replaces those owners' rows (see IncrementalSnapshots).
 */
export const CATALOG_DELTA_SQL = catalogQuery('owners');

/**
 * What changed since the last 'full' or 'changes' read (its snapshot in $3, its row counts per
 * owner in $4): the changed owners' relations with everything that belongs to them, and the
 * schema-wide kinds when any of theirs changed (else null); `whole` when only a whole read is
 * right. What it returns replaces those owners' rows of what was known (see IncrementalSnapshots).
 */
export const CATALOG_CHANGES_SQL = catalogQuery('changes');
