#!/usr/bin/env node
// Writes a long, fully reversible knex chain heavy in what real projects do through raw SQL:
// plpgsql functions, triggers, DO blocks running DDL through EXECUTE, procedures and CALL, views
// over functions, enum types and domains. The schema-builder chain (generate.mjs) has few of these;
// they are what makes a shadow fall back to whole schema reads.
//
//   node bench/chains/generate-procedural.mjs <targetDir> [--count 120]
//
// Writes <targetDir>/migrations/*.js (CommonJS), knexfile.js (DATABASE_URL) and package.json. Every
// down is the exact inverse of its up. Deterministic for a given --count.
import { writeChain } from './write-chain.mjs';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { count: { type: 'string', default: '120' } } });
const target = positionals[0];
if (!target) {
  console.error('usage: node bench/chains/generate-procedural.mjs <targetDir> [--count 120]');
  process.exit(2);
}
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) throw new Error('--count must be a positive integer');

const raw = (sql) => `await knex.raw(${JSON.stringify(sql)});`;
const migrations = [];

// The first migration: the shared audit table and the trigger functions every group uses.
const base = {
  name: 'audit_and_trigger_functions',
  up: [
    "await knex.schema.createTable('audit_log', (t) => { t.bigIncrements('id'); t.text('table_name').notNullable(); t.text('op').notNullable(); t.jsonb('row'); t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now()); });",
    raw(`CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$`),
    raw(`CREATE FUNCTION write_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_log (table_name, op, row) VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(COALESCE(NEW, OLD)));
  RETURN COALESCE(NEW, OLD);
END
$$`),
  ],
  down: [raw('DROP FUNCTION write_audit()'), raw('DROP FUNCTION touch_updated_at()'), "await knex.schema.dropTable('audit_log');"],
};

/** Eight steps per group, each on the group's own table, so every prefix of the chain is valid. */
function group(g) {
  const t = `ledger_${g}`;
  return [
    {
      name: `create_${t}_with_touch_trigger`,
      up: [
        `await knex.schema.createTable('${t}', (t) => { t.bigIncrements('id'); t.integer('amount').notNullable().defaultTo(0); t.text('label'); t.timestamp('updated_at', { useTz: true }); });`,
        raw(`CREATE TRIGGER ${t}_touch BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION touch_updated_at()`),
        `await knex('${t}').insert([{ amount: 1, label: 'a' }, { amount: 2, label: 'b' }, { amount: 3, label: null }]);`,
      ],
      down: [raw(`DROP TRIGGER ${t}_touch ON ${t}`), `await knex.schema.dropTable('${t}');`],
    },
    {
      name: `function_${t}_total`,
      up: [raw(`CREATE FUNCTION ${t}_total(min_amount integer) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT COALESCE(sum(amount), 0) FROM ${t} WHERE amount >= min_amount $$`)],
      down: [raw(`DROP FUNCTION ${t}_total(integer)`)],
    },
    {
      name: `do_block_adds_${t}_note`,
      up: [
        raw(`DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '${t}' AND column_name = 'note') THEN
    EXECUTE format('ALTER TABLE %I ADD COLUMN note text', '${t}');
  END IF;
END
$$`),
      ],
      down: [raw(`ALTER TABLE ${t} DROP COLUMN note`)],
    },
    {
      name: `procedure_${t}_relabel_and_call`,
      up: [
        raw(`CREATE PROCEDURE ${t}_relabel(new_label text) LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ${t} SET label = new_label WHERE label IS NULL;
END
$$`),
        raw(`CALL ${t}_relabel('unlabelled')`),
      ],
      down: [raw(`UPDATE ${t} SET label = NULL WHERE label = 'unlabelled'`), raw(`DROP PROCEDURE ${t}_relabel(text)`)],
    },
    {
      name: `view_${t}_summary`,
      up: [raw(`CREATE VIEW ${t}_summary AS SELECT label, count(*) AS n, ${t}_total(0) AS total FROM ${t} GROUP BY label`)],
      down: [raw(`DROP VIEW ${t}_summary`)],
    },
    {
      name: `audit_trigger_on_${t}`,
      up: [raw(`CREATE TRIGGER ${t}_audit AFTER INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION write_audit()`)],
      down: [raw(`DROP TRIGGER ${t}_audit ON ${t}`)],
    },
    {
      name: `do_block_indexes_${t}`,
      up: [
        raw(`DO $$
DECLARE col text;
BEGIN
  FOREACH col IN ARRAY ARRAY['amount', 'label'] LOOP
    EXECUTE format('CREATE INDEX %I ON %I (%I)', '${t}_' || col || '_idx', '${t}', col);
  END LOOP;
END
$$`),
      ],
      down: [raw(`DROP INDEX ${t}_label_idx`), raw(`DROP INDEX ${t}_amount_idx`)],
    },
    {
      name: `enum_and_domain_on_${t}`,
      up: [
        raw(`CREATE TYPE ${t}_state AS ENUM ('open', 'settled', 'void')`),
        raw(`CREATE DOMAIN ${t}_cents AS bigint CHECK (VALUE >= 0)`),
        raw(`ALTER TABLE ${t} ADD COLUMN state ${t}_state NOT NULL DEFAULT 'open', ADD COLUMN fee ${t}_cents`),
      ],
      down: [raw(`ALTER TABLE ${t} DROP COLUMN fee, DROP COLUMN state`), raw(`DROP DOMAIN ${t}_cents`), raw(`DROP TYPE ${t}_state`)],
    },
  ];
}

migrations.push(base);
for (let g = 1; migrations.length < count; g++) migrations.push(...group(g).slice(0, count - migrations.length));

let t = Date.UTC(2022, 2, 1, 9, 0, 0);
const stamp = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
writeChain(
  target,
  migrations.map((m, i) => {
    t += 3 * 3600e3 + (i % 7) * 600e3;
    return { file: `${stamp(t)}_${m.name}.js`, comment: `${i + 1}/${count} ${m.name.replace(/_/g, ' ')}`, up: m.up, down: m.down };
  }),
  `bench/chains/generate-procedural.mjs (count=${count})`,
);
