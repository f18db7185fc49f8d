import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase, openServer, type Database } from '../../src/db/connect.js';
import { createTempDatabase, describeServer, type TempDatabase } from '../helpers/pg.js';

/**
 * The embedded shadow must hand JS values to PostgreSQL as node-pg does (the driver production
 * uses): every value through node-pg's prepareValue — arrays as array literals, Dates as local time
 * with an offset, Buffers as binary — so that both accept and reject the same statements.
 */
interface Outcome {
  ok: boolean;
  sqlState?: string;
  rows?: Record<string, unknown>[];
}

// biome-ignore lint/suspicious/noConfusingVoidType: some attempts run a statement and return nothing.
async function attempt(run: () => Promise<Record<string, unknown>[] | void>): Promise<Outcome> {
  try {
    const rows = await run();
    return { ok: true, ...(rows ? { rows } : {}) };
  } catch (error) {
    return { ok: false, sqlState: (error as { code?: string }).code ?? `no SQLSTATE: ${(error as Error).message}` };
  }
}

const WHEN = new Date(Date.UTC(2024, 0, 15, 22, 30, 45, 123));
const BYTES = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x5c, 0x22]);

/** The same statements on one database; returns what each did. */
async function scenario(db: Database): Promise<Record<string, Outcome>> {
  const k = db.knex;
  await k.schema.createTable('perm', (t) => {
    t.increments('id');
    t.jsonb('conditions').notNullable().defaultTo('[]');
  });
  await k.schema.createTable('things', (t) => {
    t.increments('id');
    t.specificType('tags', 'text[]');
    t.specificType('grid', 'integer[][]');
    t.timestamp('at_tz', { useTz: true });
    t.timestamp('at_local', { useTz: false });
    t.date('day');
    t.binary('data');
    t.boolean('flag');
    t.text('note');
    t.json('doc');
  });
  const read = async (id: number, columns: string) => (await k.raw(`select ${columns} from things where id = ?`, [id])).rows as Record<string, unknown>[];
  const insert = async (row: Record<string, unknown>) => ((await k('things').insert(row).returning('id')) as { id: number }[])[0]!.id;
  return {
    jsonbArray: await attempt(() => k('perm').insert({ conditions: ['isCreator'] })),
    jsonbEmptyArray: await attempt(async () => {
      await k('perm').insert({ id: 100, conditions: [] });
      return (await k.raw(`select jsonb_typeof(conditions) as kind, conditions::text as text from perm where id = 100`)).rows;
    }),
    jsonbObject: await attempt(async () => {
      await k('perm').insert({ id: 101, conditions: { a: [1, 'x'], b: null } });
      return (await k.raw(`select conditions::text as text from perm where id = 101`)).rows;
    }),
    jsonbStringified: await attempt(async () => {
      await k('perm').insert({ id: 102, conditions: JSON.stringify(['isCreator']) });
      return (await k.raw(`select conditions::text as text from perm where id = 102`)).rows;
    }),
    textArray: await attempt(async () => read(await insert({ tags: ['a', 'b "q"', 'back\\slash', null, ''] }), 'tags::text as text, array_length(tags, 1) as n')),
    nestedArray: await attempt(async () =>
      read(
        await insert({
          grid: [
            [1, 2],
            [3, 4],
          ],
        }),
        'grid::text as text',
      ),
    ),
    jsonFromArray: await attempt(async () => read(await insert({ doc: ['x'] }), 'doc::text as text')),
    dates: await attempt(async () => read(await insert({ at_tz: WHEN, at_local: WHEN, day: WHEN }), `extract(epoch from at_tz)::text as epoch, at_local::text as local, day::text as day`)),
    bytea: await attempt(async () => read(await insert({ data: BYTES }), `encode(data, 'hex') as hex`)),
    booleans: await attempt(async () => {
      const yes = await insert({ flag: true, note: true as unknown as string });
      const no = await insert({ flag: false, note: false as unknown as string });
      return [...(await read(yes, 'flag::text as flag, note')), ...(await read(no, 'flag::text as flag, note'))];
    }),
    nulls: await attempt(async () => read(await insert({ note: null, tags: undefined, flag: null }), 'note, tags, flag')),
    rawArrayParam: await attempt(
      async () =>
        (
          await k.raw(`select ?::text[] as arr, array_length(?::int[], 1) as n`, [
            ['x', 'y'],
            [1, 2, 3],
          ])
        ).rows,
    ),
    rawArrayIntoJsonb: await attempt(async () => (await k.raw(`select ?::jsonb as j`, [['x']])).rows),
  };
}

const EXPECTED: Record<string, Outcome> = {
  jsonbArray: { ok: false, sqlState: '22P02' },
  // node-pg sends [] as the array literal '{}', which is the JSON object {}.
  jsonbEmptyArray: { ok: true, rows: [{ kind: 'object', text: '{}' }] },
  jsonbObject: { ok: true, rows: [{ text: '{"a": [1, "x"], "b": null}' }] },
  jsonbStringified: { ok: true, rows: [{ text: '["isCreator"]' }] },
  textArray: { ok: true, rows: [{ text: '{a,"b \\"q\\"","back\\\\slash",NULL,""}', n: 5 }] },
  nestedArray: { ok: true, rows: [{ text: '{{1,2},{3,4}}' }] },
  jsonFromArray: { ok: false, sqlState: '22P02' },
  bytea: { ok: true, rows: [{ hex: BYTES.toString('hex') }] },
  booleans: {
    ok: true,
    rows: [
      { flag: 'true', note: 'true' },
      { flag: 'false', note: 'false' },
    ],
  },
  nulls: { ok: true, rows: [{ note: null, tags: null, flag: null }] },
  rawArrayParam: { ok: true, rows: [{ arr: ['x', 'y'], n: 3 }] },
  rawArrayIntoJsonb: { ok: false, sqlState: '22P02' },
};

/** node-pg sends a Date as local wall-clock time with the offset: a timestamp without time zone keeps the local time. */
function localText(date: Date): { day: string; local: string } {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const day = `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}`;
  return { day, local: `${day} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds(), 3)}` };
}

function checkOutcomes(outcomes: Record<string, Outcome>) {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    expect({ name, ...outcomes[name] }).toEqual({ name, ...expected });
  }
  const dates = outcomes.dates!;
  expect(dates.ok).toBe(true);
  const row = dates.rows![0]!;
  expect(Number(row.epoch) * 1000).toBe(WHEN.getTime());
  expect({ local: row.local, day: row.day }).toEqual(localText(WHEN));
}

// A zone with a half-hour offset east of UTC, where the local date of WHEN is the next day: a Date
// sent as UTC instead of local time would show in at_local and day.
const ZONE = 'Asia/Kolkata';
let savedTz: string | undefined;
beforeAll(() => {
  savedTz = process.env.TZ;
  process.env.TZ = ZONE;
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('parameters on the embedded database', () => {
  let db: Database;
  let outcomes: Record<string, Outcome>;
  beforeAll(async () => {
    db = await openEmbeddedDatabase();
    outcomes = await scenario(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('are prepared as node-pg prepares them', () => {
    expect(new Date(WHEN).getHours()).toBe(4); // the zone is in effect
    checkOutcomes(outcomes);
  });
});

describeServer('parameters on the server and the embedded database', () => {
  let temp: TempDatabase;
  let server: Database;
  let embedded: Database;
  let onServer: Record<string, Outcome>;
  let onEmbedded: Record<string, Outcome>;
  beforeAll(async () => {
    temp = await createTempDatabase('ks_bindings');
    server = await openServer(temp.url);
    embedded = await openEmbeddedDatabase();
    onServer = await scenario(server);
    onEmbedded = await scenario(embedded);
  });
  afterAll(async () => {
    await server?.close();
    await embedded?.close();
    await temp?.drop();
  });

  it('give the same outcome on both', () => {
    checkOutcomes(onServer);
    expect(onEmbedded).toEqual(onServer);
  });
});
