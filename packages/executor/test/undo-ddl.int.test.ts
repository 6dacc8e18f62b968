import { unwrap } from '@ddl/executor'
import { beforeEach, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { direct, type Harness, harness } from './support.js'

const database = testDatabase('undo_ddl')
let h: Harness

/**
 * A schema and data dump of the given schemas, from the catalogs: the schema's owner, privileges and
 * comment; every relation's columns (in order, with types, collations, defaults, NOT NULL, comments,
 * column grants), indexes, constraints (with comments), triggers, policies, privileges, comments and
 * view definitions; sequences with their values; functions and types with privileges and comments;
 * and every row of every table, in order.
 */
async function dump(schemas: readonly string[] = ['app', 'other']): Promise<unknown> {
  const q = (sql: string, params: unknown[] = []) => direct(database.url, sql, params)
  const namespaces = await q(
    `SELECT nspname, pg_get_userbyid(nspowner) AS owner, nspacl::text AS acl, obj_description(oid, 'pg_namespace') AS comment
       FROM pg_namespace WHERE nspname = ANY($1) ORDER BY 1`,
    [schemas],
  )
  const relations = await q(
    `SELECT n.nspname, c.relname, c.relkind, c.relacl::text AS acl, obj_description(c.oid, 'pg_class') AS comment,
            c.relrowsecurity AS rls, pg_get_userbyid(c.relowner) AS owner,
            (SELECT json_agg(json_build_object('n', a.attname, 't', format_type(a.atttypid, a.atttypmod), 'nn', a.attnotnull,
               'co', a.attcollation::regcollation::text, 'd', pg_get_expr(d.adbin, d.adrelid), 'c', col_description(c.oid, a.attnum),
               'acl', a.attacl::text, 'id', a.attidentity, 'g', a.attgenerated) ORDER BY a.attnum)
               FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            (SELECT json_agg(x ORDER BY x) FROM (SELECT pg_get_indexdef(i.indexrelid) || ' ' || coalesce(obj_description(i.indexrelid, 'pg_class'), '') AS x
               FROM pg_index i WHERE i.indrelid = c.oid) ix) AS indexes,
            (SELECT json_agg(conname || ' ' || pg_get_constraintdef(k.oid) || ' ' || coalesce(obj_description(k.oid, 'pg_constraint'), '')
               ORDER BY conname) FROM pg_constraint k WHERE k.conrelid = c.oid) AS constraints,
            (SELECT json_agg(pg_get_triggerdef(t.oid) ORDER BY tgname) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers,
            (SELECT json_agg(polname || ' ' || coalesce(pg_get_expr(polqual, polrelid), '') ORDER BY polname) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
            CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS view
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) ORDER BY 1, 2`,
    [schemas],
  )
  const sequences = await q(
    'SELECT schemaname, sequencename, last_value::text FROM pg_sequences WHERE schemaname = ANY($1) ORDER BY 1, 2',
    [schemas],
  )
  const functions = await q(
    `SELECT p.oid::regprocedure::text AS f, pg_get_functiondef(p.oid) AS def, p.proacl::text AS acl, obj_description(p.oid, 'pg_proc') AS comment
       FROM pg_proc p WHERE p.pronamespace::regnamespace::text = ANY($1) ORDER BY 1`,
    [schemas],
  )
  const types = await q(
    `SELECT format_type(t.oid, NULL) AS t, t.typtype, t.typacl::text AS acl, obj_description(t.oid, 'pg_type') AS comment,
            (SELECT json_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid) AS labels
       FROM pg_type t WHERE t.typnamespace::regnamespace::text = ANY($1) AND t.typtype IN ('e', 'd') ORDER BY 1`,
    [schemas],
  )
  const data: Record<string, unknown> = {}
  const tables = await direct<{ name: string }>(
    database.url,
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'm') ORDER BY 1`,
    [schemas],
  )
  for (const t of tables) data[t.name] = await q(`SELECT to_jsonb(x) AS r FROM ${t.name} x ORDER BY 1`)
  return { namespaces, relations, sequences, functions, types, data }
}

beforeEach(async () => {
  h = harness(database)
  await direct(
    database.url,
    `DROP SCHEMA IF EXISTS app CASCADE; DROP SCHEMA IF EXISTS other CASCADE; DROP SCHEMA IF EXISTS ddl_undo CASCADE;
     DROP SCHEMA IF EXISTS empty CASCADE;
     DO $$ DECLARE s text; BEGIN
       FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ddl_undo_%' LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP;
     END $$;
     DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'undo_reader') THEN CREATE ROLE undo_reader; END IF; END $$;
     CREATE SCHEMA app; CREATE SCHEMA other;
     CREATE TABLE app.customers (id serial PRIMARY KEY, name text NOT NULL UNIQUE, tier text DEFAULT 'basic');
     CREATE TABLE app.orders (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       customer_id int NOT NULL REFERENCES app.customers(id) ON DELETE CASCADE,
       total numeric(10,2) CHECK (total >= 0), doubled numeric GENERATED ALWAYS AS (total * 2) STORED);
     CREATE INDEX orders_total_idx ON app.orders (total);
     CREATE TABLE app.notes (id int PRIMARY KEY, order_id int REFERENCES app.orders(id),
       body text COLLATE "C" NOT NULL DEFAULT 'empty', score numeric(6,3));
     CREATE INDEX notes_body_idx ON app.notes (lower(body));
     COMMENT ON COLUMN app.notes.body IS 'what was said';
     COMMENT ON INDEX app.notes_body_idx IS 'search';
     ALTER TABLE app.notes ADD CONSTRAINT score_range CHECK (score BETWEEN -100 AND 100);
     GRANT SELECT (body) ON app.notes TO undo_reader;
     COMMENT ON TABLE app.orders IS 'orders of customers';
     COMMENT ON CONSTRAINT customers_pkey ON app.customers IS 'the key';
     COMMENT ON INDEX app.customers_pkey IS 'key index';
     GRANT SELECT ON app.orders TO undo_reader;
     ALTER TABLE app.customers ADD CONSTRAINT tier_known CHECK (tier IN ('basic', 'gold'));
     CREATE VIEW app.customer_tiers AS SELECT id, tier FROM app.customers;
     CREATE VIEW app.customer_counts AS SELECT c.id, c.name, count(o.id) AS n FROM app.customers c
       LEFT JOIN app.orders o ON o.customer_id = c.id GROUP BY c.id;
     INSERT INTO app.customers (name) SELECT 'c' || g FROM generate_series(1, 20) g;
     INSERT INTO app.orders (customer_id, total) SELECT 1 + g % 20, g + 0.25 FROM generate_series(1, 100) g;
     INSERT INTO app.notes SELECT g, g, 'note number ' || g, g * 1.125 FROM generate_series(1, 10) g;
     UPDATE app.customers SET tier = 'gold' WHERE id % 3 = 0;`,
  )
})

describe('undo of a column type change', () => {
  it('puts back the old type, collation, default, NOT NULL and values; indexes and constraints as before', async () => {
    const before = await dump()
    const run = await unwrap(
      h.db.execute(
        `ALTER TABLE app.notes ALTER COLUMN body TYPE varchar(4) COLLATE "POSIX" USING left(body, 4),
           ALTER COLUMN score TYPE int, ALTER COLUMN order_id TYPE bigint`,
        { iKnowWhatImDoing: true },
      ),
    )
    expect(run.undo?.objects).toEqual(['"app"."notes"."body"', '"app"."notes"."score"', '"app"."notes"."order_id"'])
    expect(await direct(database.url, 'SELECT body, score FROM app.notes WHERE id = 7')).toEqual([
      { body: 'note', score: 8 },
    ])
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
    expect(await direct(database.url, 'SELECT body, score::text FROM app.notes WHERE id = 7')).toEqual([
      { body: 'note number 7', score: '7.875' },
    ])
  })

  it('keeps a type change mixed with DROP COLUMN and DROP CONSTRAINT in one ALTER TABLE, and casts back later rows', async () => {
    await direct(database.url, 'DROP VIEW app.customer_tiers')
    const before = await dump()
    const run = await unwrap(
      h.db.execute(
        `ALTER TABLE app.customers ALTER COLUMN tier TYPE varchar(10), DROP CONSTRAINT customers_name_key,
           DROP CONSTRAINT tier_known`,
        { iKnowWhatImDoing: true },
      ),
    )
    expect(run.undo?.notKept).toEqual([])
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)

    const again = await unwrap(
      h.db.execute('ALTER TABLE app.notes ALTER COLUMN score TYPE int, DROP COLUMN order_id', {
        iKnowWhatImDoing: true,
      }),
    )
    // A row written after the run has no kept value: it is cast back from what it holds.
    await direct(database.url, "INSERT INTO app.notes (id, body, score) VALUES (11, 'later', 42)")
    await unwrap(h.db.undo(again.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(
      await direct(database.url, 'SELECT id, order_id, score::text FROM app.notes WHERE id IN (3, 11) ORDER BY id'),
    ).toEqual([
      { id: 3, order_id: 3, score: '3.375' },
      { id: 11, order_id: null, score: '42.000' },
    ])
  })

  it('keeps the old values of a table without a primary key by its other columns, and refuses when they are ambiguous', async () => {
    await direct(
      database.url,
      `CREATE TABLE app.loose (a int, b text, v numeric(6,2));
       INSERT INTO app.loose VALUES (1, 'x', 1.25), (1, 'x', 1.25), (2, NULL, 2.5), (3, 'z', NULL)`,
    )
    const before = await dump()
    const run = await unwrap(
      h.db.execute('ALTER TABLE app.loose ALTER COLUMN v TYPE int, ALTER COLUMN b TYPE varchar(1)', {
        iKnowWhatImDoing: true,
      }),
    )
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)

    await direct(database.url, 'INSERT INTO app.loose VALUES (1, $1, 9.75)', ['x'])
    const ambiguous = await dump()
    const refused = (
      await h.db.execute('ALTER TABLE app.loose ALTER COLUMN v TYPE int', { iKnowWhatImDoing: true })
    )._unsafeUnwrapErr()
    expect(refused).toMatchObject({ kind: 'UndoError', problem: 'cannot-keep' })
    expect(refused.message).toContain('cannot be matched back to its rows')
    expect(await dump()).toEqual(ambiguous)
  })

  it('keeps a type change of a primary key column, matching rows by their other columns', async () => {
    const before = await dump()
    const run = await unwrap(
      h.db.execute('ALTER TABLE app.notes ALTER COLUMN id TYPE numeric(4,1), ALTER COLUMN score TYPE int', {
        iKnowWhatImDoing: true,
      }),
    )
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
  })

  it('refuses the undo, changing nothing, when the column changed type or values again since', async () => {
    const run = await unwrap(
      h.db.execute('ALTER TABLE app.notes ALTER COLUMN score TYPE numeric(6,1)', { iKnowWhatImDoing: true }),
    )
    await direct(database.url, 'ALTER TABLE app.notes ALTER COLUMN score TYPE numeric(8,1)')
    const retyped = await dump()
    const refused = (await h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(refused).toMatchObject({ kind: 'UndoError', problem: 'conflict' })
    expect(refused.message).toContain(
      '"app"."notes"."score" changed type again since the run: it is numeric(8,1), the run left numeric(6,1)',
    )
    expect(await dump()).toEqual(retyped)

    await direct(database.url, 'ALTER TABLE app.notes ALTER COLUMN score TYPE numeric(6,1)')
    await direct(database.url, 'UPDATE app.notes SET score = 0 WHERE id <= 2')
    const updated = await dump()
    const again = (await h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(again.message).toContain('"app"."notes": 2 value(s) of "score" were changed since the run')
    expect(await dump()).toEqual(updated)
  })
})

describe('undo of DROP CONSTRAINT', () => {
  it('puts back a primary key with its index name and comments, and the foreign keys and views its CASCADE took', async () => {
    const before = await dump()
    const run = await unwrap(
      h.db.execute('ALTER TABLE app.customers DROP CONSTRAINT customers_pkey CASCADE', { iKnowWhatImDoing: true }),
    )
    expect(run.undo?.objects).toEqual([
      'constraint "customers_pkey" on "app"."customers"',
      'constraint "orders_customer_id_fkey" on app.orders',
      'view app.customer_counts',
    ])
    expect(await unwrap(h.db.tableExists('app.customer_counts'))).toBe(false)
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
  })

  it('puts back check, unique and foreign key constraints, and refuses when the name is taken again', async () => {
    const before = await dump()
    const run = await unwrap(
      h.db.execute(
        `ALTER TABLE app.notes DROP CONSTRAINT score_range, DROP CONSTRAINT notes_order_id_fkey;
         ALTER TABLE app.customers DROP CONSTRAINT customers_name_key`,
        { iKnowWhatImDoing: true },
      ),
    )
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)

    const again = await unwrap(
      h.db.execute('ALTER TABLE app.notes DROP CONSTRAINT score_range', { iKnowWhatImDoing: true }),
    )
    await direct(database.url, 'ALTER TABLE app.notes ADD CONSTRAINT score_range CHECK (score > -1000)')
    const taken = await dump()
    const refused = (await h.db.undo(again.undo?.id ?? '', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(refused).toMatchObject({ kind: 'UndoError', problem: 'conflict' })
    expect(refused.message).toContain('constraint "score_range" on "app"."notes" exists again')
    expect(await dump()).toEqual(taken)
  })
})

describe('the gate on ALTER TABLE', () => {
  it('says before the run which subcommands are not kept, and no longer lists what is', async () => {
    const kept = (
      await h.db.execute('ALTER TABLE app.notes ALTER COLUMN score TYPE int, DROP CONSTRAINT score_range')
    )._unsafeUnwrapErr()
    expect(kept.message).not.toContain('Cannot be undone')
    const mixed = (
      await h.db.execute("ALTER TABLE app.notes ALTER COLUMN score TYPE int, ALTER COLUMN body SET DEFAULT 'x'")
    )._unsafeUnwrapErr()
    expect(mixed.message).toContain('Cannot be undone once committed')
    expect(mixed.message).toContain('line 1: the ALTER TABLE subcommand ColumnDefault is not kept by undo')
  })
})

describe('undo of DROP SCHEMA', () => {
  beforeEach(async () => {
    await direct(
      database.url,
      `COMMENT ON SCHEMA app IS 'the application';
       GRANT USAGE ON SCHEMA app TO undo_reader;
       CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy'); COMMENT ON TYPE app.mood IS 'feelings';
       CREATE DOMAIN app.positive AS int CHECK (VALUE > 0);
       ALTER TABLE app.notes ADD COLUMN mood app.mood DEFAULT 'ok';
       CREATE SEQUENCE app.ticket START 7; SELECT nextval('app.ticket'), nextval('app.ticket');
       GRANT USAGE ON SEQUENCE app.ticket TO undo_reader;
       CREATE FUNCTION app.total_of(c int) RETURNS numeric LANGUAGE sql STABLE AS $f$ SELECT sum(total) FROM app.orders WHERE customer_id = c $f$;
       GRANT EXECUTE ON FUNCTION app.total_of(int) TO undo_reader; COMMENT ON FUNCTION app.total_of(int) IS 'sum';
       CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END $f$;
       CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
       CREATE TABLE other.refs (id int PRIMARY KEY, customer_id int CONSTRAINT refs_customer REFERENCES app.customers(id));
       INSERT INTO other.refs VALUES (1, 1), (2, 3);
       CREATE VIEW other.big AS SELECT id, total FROM app.orders WHERE total > 90;
       CREATE VIEW other.bigger AS SELECT id FROM other.big WHERE total > 95;
       GRANT SELECT ON other.big TO undo_reader; COMMENT ON VIEW other.big IS 'big orders';
       CREATE SCHEMA empty;`,
    )
  })

  it('keeps the schema with everything in it, drops what its CASCADE takes outside, and undo brings all back', async () => {
    const before = await dump(['app', 'other', 'empty'])
    const run = await unwrap(h.db.execute('DROP SCHEMA app, empty CASCADE', { iKnowWhatImDoing: true }))
    expect(run.undo?.substituted[0]?.sent).toMatch(/ALTER SCHEMA "app" RENAME TO "ddl_undo_u[0-9a-f]{12}_\d+"/)
    expect(run.undo?.objects).toEqual(['schema "app"', 'view other.big', 'view other.bigger', 'schema "empty"'])
    expect(run.undo?.rows).toMatchObject({ '"app"."orders"': 100, '"app"."customers"': 20 })
    expect(await direct(database.url, "SELECT nspname FROM pg_namespace WHERE nspname IN ('app', 'empty')")).toEqual([])
    expect(await unwrap(h.db.tableExists('other.big'))).toBe(false)
    expect(
      await direct(
        database.url,
        "SELECT conname FROM pg_constraint WHERE conrelid = 'other.refs'::regclass AND contype = 'f'",
      ),
    ).toEqual([])
    // While kept, only its owner reaches it.
    expect(
      await direct(
        database.url,
        "SELECT has_schema_privilege('undo_reader', nspname, 'USAGE') AS usage FROM pg_namespace WHERE nspname LIKE 'ddl\\_undo\\_%'",
      ),
    ).toEqual([{ usage: false }, { usage: false }])
    const audit = h.records().filter((r) => r.outcome === 'committed')
    expect(audit.at(-1)?.undo).toBe(`substituted:${run.undo?.id}`)

    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump(['app', 'other', 'empty'])).toEqual(before)
    expect(await direct(database.url, "SELECT nextval('app.ticket')::int AS n, app.total_of(1)::text AS t")).toEqual([
      { n: 9, t: '301.25' },
    ])
  })

  it('refuses the undo when a schema of that name was created again, changing nothing', async () => {
    const run = await unwrap(h.db.execute('DROP SCHEMA app CASCADE', { iKnowWhatImDoing: true }))
    await direct(database.url, 'CREATE SCHEMA app; CREATE TABLE app.customers (id int)')
    const after = await dump(['app', 'other'])
    const refused = (await h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(refused).toMatchObject({ kind: 'UndoError', problem: 'conflict' })
    expect(refused.message).toContain('a new schema named "app" exists')
    expect(await dump(['app', 'other'])).toEqual(after)
    // Purging drops the kept schema.
    expect((await unwrap(h.db.purgeUndo(0))).purged).toEqual([run.undo?.id])
    expect(await direct(database.url, "SELECT 1 FROM pg_namespace WHERE nspname LIKE 'ddl\\_undo\\_%'")).toEqual([])
  })

  it('refuses to run a DROP SCHEMA ... CASCADE that would take something outside it undo does not keep', async () => {
    await direct(
      database.url,
      "CREATE TABLE other.moods (id int, m app.mood); INSERT INTO other.moods VALUES (1, 'sad')",
    )
    const before = await dump(['app', 'other'])
    const refused = (await h.db.execute('DROP SCHEMA app CASCADE', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(refused).toMatchObject({ kind: 'UndoError', problem: 'cannot-keep' })
    expect(refused.message).toContain('column m of table other.moods')
    expect(await dump(['app', 'other'])).toEqual(before)
    // Without CASCADE a schema that is not empty is sent as written: the server refuses it.
    const restrict = (await h.db.execute('DROP SCHEMA app', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(restrict).toMatchObject({ kind: 'PostgresError', code: '2BP01' })
    expect(await dump(['app', 'other'])).toEqual(before)
  })

  it('says before the run that DROP SCHEMA is kept and DROP EXTENSION is not', async () => {
    const schema = (await h.db.execute('DROP SCHEMA app CASCADE'))._unsafeUnwrapErr()
    expect(schema.message).not.toContain('Cannot be undone')
    const extension = (await h.db.execute('DROP EXTENSION IF EXISTS pgcrypto'))._unsafeUnwrapErr()
    expect(extension.message).toContain(
      'line 1: DROP EXTENSION is not kept by undo: the extension, its objects and their data are dropped for good',
    )
  })
})
