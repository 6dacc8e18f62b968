import { unwrap } from '@ddl/executor'
import { beforeEach, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { direct, type Harness, harness } from './support.js'

const database = testDatabase('undo')
let h: Harness

/**
 * A schema and data dump of the `app` schema, from the catalogs: columns, indexes, constraints,
 * triggers, policies, grants, comments, sequence values, views, and every row in key order.
 */
async function dump(options: { readonly columnOrder?: boolean } = {}): Promise<unknown> {
  const q = (sql: string) => direct(database.url, sql)
  const relations = await direct(
    database.url,
    `SELECT c.relname, c.relkind, c.relacl::text AS acl, obj_description(c.oid, 'pg_class') AS comment,
            c.relrowsecurity AS rls,
            (SELECT json_agg(json_build_object('n', a.attname, 't', format_type(a.atttypid, a.atttypmod), 'nn', a.attnotnull,
               'd', pg_get_expr(d.adbin, d.adrelid), 'c', col_description(c.oid, a.attnum), 'acl', a.attacl::text)
               ORDER BY CASE WHEN $1 THEN a.attnum::text ELSE a.attname::text END)
               FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            (SELECT json_agg(pg_get_indexdef(i.indexrelid) ORDER BY 1) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes,
            (SELECT json_agg(conname || ' ' || pg_get_constraintdef(k.oid) ORDER BY conname) FROM pg_constraint k WHERE k.conrelid = c.oid) AS constraints,
            (SELECT json_agg(pg_get_triggerdef(t.oid) ORDER BY tgname) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers,
            (SELECT json_agg(polname || ' ' || coalesce(pg_get_expr(polqual, polrelid), '') ORDER BY polname) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
            CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS view
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'app' ORDER BY c.relname`,
    [options.columnOrder !== false],
  )
  const sequences = await q(
    `SELECT sequencename, last_value::text FROM pg_sequences WHERE schemaname = 'app' ORDER BY 1`,
  )
  const data: Record<string, unknown> = {}
  for (const t of ['customers', 'orders', 'notes']) {
    const exists = await q(`SELECT to_regclass('app.${t}') IS NOT NULL AS e`)
    if (exists[0]?.e === true) data[t] = await q(`SELECT to_jsonb(x) AS r FROM app.${t} x ORDER BY 1`)
  }
  return { relations, sequences, data }
}

beforeEach(async () => {
  h = harness(database)
  await direct(
    database.url,
    `DROP SCHEMA IF EXISTS app CASCADE; DROP SCHEMA IF EXISTS ddl_undo CASCADE;
     DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'undo_reader') THEN CREATE ROLE undo_reader; END IF; END $$;
     CREATE SCHEMA app;
     CREATE TABLE app.customers (id serial PRIMARY KEY, name text NOT NULL UNIQUE, tier text DEFAULT 'basic');
     CREATE TABLE app.orders (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       customer_id int NOT NULL REFERENCES app.customers(id) ON DELETE CASCADE,
       total numeric(10,2) CHECK (total >= 0), doubled numeric GENERATED ALWAYS AS (total * 2) STORED);
     CREATE INDEX orders_total_idx ON app.orders (total);
     CREATE TABLE app.notes (id int PRIMARY KEY, order_id int REFERENCES app.orders(id), body text);
     COMMENT ON TABLE app.orders IS 'orders of customers';
     COMMENT ON COLUMN app.orders.total IS 'in euros';
     GRANT SELECT ON app.orders TO undo_reader;
     CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END $f$;
     CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
     ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
     CREATE POLICY orders_mine ON app.orders USING (customer_id > 0);
     CREATE VIEW app.big_orders AS SELECT id, total FROM app.orders WHERE total > 50;
     COMMENT ON COLUMN app.customers.tier IS 'pricing tier';
     GRANT SELECT (tier) ON app.customers TO undo_reader;
     CREATE INDEX customers_tier_idx ON app.customers (tier);
     ALTER TABLE app.customers ADD CONSTRAINT tier_known CHECK (tier IN ('basic', 'gold'));
     CREATE VIEW app.customer_tiers AS SELECT id, tier FROM app.customers;
     INSERT INTO app.customers (name) SELECT 'c' || g FROM generate_series(1, 20) g;
     INSERT INTO app.orders (customer_id, total) SELECT 1 + g % 20, g FROM generate_series(1, 100) g;
     INSERT INTO app.notes SELECT g, g, 'note ' || g FROM generate_series(1, 10) g;
     UPDATE app.customers SET tier = 'gold' WHERE id % 3 = 0;`,
  )
})

describe('undo', () => {
  it('puts back the rows a DELETE removed, cascaded rows included, and the dump is identical', async () => {
    const before = await dump()
    const run = await unwrap(h.db.execute('DELETE FROM app.customers WHERE id > 15', { confirm: true }))
    expect(run.undo?.id).toMatch(/^u[0-9a-f]{12}$/)
    expect(run.undo?.rows).toMatchObject({ '"app"."customers"': 5, '"app"."orders"': 25 })
    expect(await dump()).not.toEqual(before)
    const undone = await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(undone.mode).toBe('undone')
    expect(await dump()).toEqual(before)
  })

  it('keeps only the rows an UPDATE touched, not a re-evaluation of its WHERE', async () => {
    const before = await dump()
    const run = await unwrap(
      h.db.execute('UPDATE app.orders SET total = total + random() WHERE id <= 30', { confirm: true }),
    )
    expect(run.undo?.rows['"app"."orders"']).toBe(30)
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
  })

  it('puts back the rows a MERGE deleted, updated and inserted', async () => {
    const before = await dump()
    const run = await unwrap(
      h.db.execute(
        `MERGE INTO app.notes n USING (SELECT g AS id FROM generate_series(5, 14) g) s ON n.id = s.id
         WHEN MATCHED AND n.id < 8 THEN DELETE
         WHEN MATCHED THEN UPDATE SET body = 'merged'
         WHEN NOT MATCHED THEN INSERT (id, order_id, body) VALUES (s.id, 1, 'new')`,
        { confirm: true, iKnowWhatImDoing: true },
      ),
    )
    expect(run.undo?.id).toBeDefined()
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
  })

  it('puts back what TRUNCATE ... CASCADE RESTART IDENTITY emptied, sequence values included', async () => {
    const before = await dump()
    const run = await unwrap(
      h.db.execute('TRUNCATE app.customers RESTART IDENTITY CASCADE', { iKnowWhatImDoing: true }),
    )
    expect(run.undo?.rows).toMatchObject({ '"app"."customers"': 20, '"app"."orders"': 100, '"app"."notes"': 10 })
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
  })

  it('keeps a dropped table by moving it, drops its dependents as CASCADE would, and undo brings all back', async () => {
    const before = await dump()
    const run = await unwrap(h.db.execute('DROP TABLE app.orders CASCADE', { iKnowWhatImDoing: true }))
    expect(run.undo?.substituted[0]?.sent).toContain('SET SCHEMA ddl_undo')
    expect(await unwrap(h.db.tableExists('app.orders'))).toBe(false)
    expect(await unwrap(h.db.tableExists('app.big_orders'))).toBe(false)
    const fk = await direct(
      database.url,
      "SELECT 1 FROM pg_constraint WHERE conrelid = 'app.notes'::regclass AND contype = 'f'",
    )
    expect(fk).toEqual([])
    const audit = h.records().filter((r) => r.outcome === 'committed')
    expect(audit.at(-1)?.undo).toBe(`substituted:${run.undo?.id}`)
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
  })

  it('drops two tables at once, found through the search path and with odd names, and undoes both', async () => {
    await direct(
      database.url,
      `CREATE TABLE app."Odd Name" (id int PRIMARY KEY REFERENCES app.notes(id)); INSERT INTO app."Odd Name" VALUES (1), (2)`,
    )
    const before = await dump()
    const run = await unwrap(
      h.db.execute('SET search_path = app; DROP TABLE "Odd Name", notes', { iKnowWhatImDoing: true }),
    )
    expect(run.undo?.objects).toEqual(['"app"."Odd Name"', '"app"."notes"'])
    expect(await direct(database.url, "SELECT to_regclass('app.notes') AS r")).toEqual([{ r: null }])
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
    expect(await direct(database.url, 'SELECT count(*)::int AS n FROM app."Odd Name"')).toEqual([{ n: 2 }])
  })

  it('sends a DROP TABLE as written when the server must refuse it or it names nothing', async () => {
    const before = await dump()
    const refused = (await h.db.execute('DROP TABLE app.customers', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(refused).toMatchObject({ kind: 'PostgresError', code: '2BP01' })
    expect(await dump()).toEqual(before)
    const nothing = await unwrap(h.db.execute('DROP TABLE IF EXISTS app.nothing_here', { iKnowWhatImDoing: true }))
    expect(nothing.undo).toBeUndefined()
  })

  it('keeps the definitions of a dropped view, index, function, trigger and policy', async () => {
    const before = await dump()
    const run = await unwrap(
      h.db.execute(
        `DROP VIEW app.big_orders; DROP INDEX app.orders_total_idx; DROP TRIGGER orders_touch ON app.orders;
         DROP POLICY orders_mine ON app.orders; DROP FUNCTION app.touch()`,
        { iKnowWhatImDoing: true },
      ),
    )
    expect(run.undo?.objects.length).toBe(5)
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
    expect(await direct(database.url, "SELECT 1 FROM pg_proc WHERE proname = 'touch'")).toHaveLength(1)
  })

  it('keeps a dropped column with its values, default, check, index, grant, comment and dependent view', async () => {
    const before = await dump({ columnOrder: false })
    const run = await unwrap(
      h.db.execute('ALTER TABLE app.customers DROP COLUMN tier CASCADE', { iKnowWhatImDoing: true }),
    )
    expect(run.undo?.objects).toContain('"app"."customers"."tier"')
    expect(await unwrap(h.db.tableExists('app.customer_tiers'))).toBe(false)
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    // The column comes back last in the table: everything else is identical.
    expect(await dump({ columnOrder: false })).toEqual(before)
  })

  it('keeps a dropped column of a table without a primary key, matched by the other columns', async () => {
    await direct(
      database.url,
      `CREATE TABLE app.loose (a int, b text, note text NOT NULL DEFAULT 'n');
       INSERT INTO app.loose VALUES (1, 'x', 'one'), (1, 'x', 'one'), (2, NULL, 'two'), (3, 'z', 'three')`,
    )
    const snapshot = () => direct(database.url, 'SELECT a, b, note FROM app.loose ORDER BY a, note')
    const before = await snapshot()
    const run = await unwrap(h.db.execute('ALTER TABLE app.loose DROP COLUMN note', { confirm: true }))
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await snapshot()).toEqual(before)

    const again = await unwrap(h.db.execute('ALTER TABLE app.loose DROP COLUMN note', { confirm: true }))
    await direct(database.url, "UPDATE app.loose SET b = 'changed' WHERE a = 3")
    const refused = (await h.db.undo(again.undo?.id ?? '', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(refused).toMatchObject({ kind: 'UndoError', problem: 'conflict' })
    expect(
      await direct(
        database.url,
        "SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'app.loose'::regclass AND attname = 'note'",
      ),
    ).toEqual([{ n: 0 }])
  })

  it('refuses a DROP COLUMN whose CASCADE would take something undo does not keep, changing nothing', async () => {
    const before = await dump()
    const refused = (
      await h.db.execute('ALTER TABLE app.orders DROP COLUMN total CASCADE', { iKnowWhatImDoing: true })
    )._unsafeUnwrapErr()
    expect(refused).toMatchObject({ kind: 'UndoError', problem: 'cannot-keep' })
    expect(refused.message).toContain('doubled')
    expect(await dump()).toEqual(before)
  })

  it('keeps the definitions of dropped enum, composite and domain types, with grants and comments', async () => {
    await direct(
      database.url,
      `CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy'); COMMENT ON TYPE app.mood IS 'feelings';
       REVOKE USAGE ON TYPE app.mood FROM PUBLIC; GRANT USAGE ON TYPE app.mood TO undo_reader;
       CREATE TYPE app.pair AS (a int, b text COLLATE "C");
       CREATE DOMAIN app.positive AS int DEFAULT 1 NOT NULL CONSTRAINT positive_check CHECK (VALUE > 0);
       COMMENT ON DOMAIN app.positive IS 'greater than zero';`,
    )
    const types = () =>
      direct(
        database.url,
        `SELECT format_type(t.oid, NULL) AS name, t.typtype, t.typacl::text AS acl, obj_description(t.oid, 'pg_type') AS comment,
                t.typnotnull, t.typdefault, format_type(t.typbasetype, t.typtypmod) AS base,
                (SELECT json_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid) AS labels,
                (SELECT json_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attcollation::regcollation::text ORDER BY attnum)
                   FROM pg_attribute WHERE attrelid = t.typrelid AND attnum > 0) AS attrs,
                (SELECT json_agg(conname || ' ' || pg_get_constraintdef(oid) ORDER BY conname) FROM pg_constraint WHERE contypid = t.oid) AS checks
           FROM pg_type t WHERE t.typnamespace = 'app'::regnamespace AND t.typtype IN ('e', 'c', 'd')
            AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
          ORDER BY 1`,
      )
    const before = await types()
    expect(before).toHaveLength(3)
    const run = await unwrap(
      h.db.execute('DROP TYPE app.mood, app.pair; DROP DOMAIN app.positive', { iKnowWhatImDoing: true }),
    )
    expect(await types()).toEqual([])
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await types()).toEqual(before)
  })

  it('keeps a dropped sequence with its options, value, grants and comment', async () => {
    await direct(
      database.url,
      `CREATE SEQUENCE app.ticket AS int INCREMENT BY 5 MINVALUE 10 MAXVALUE 100000 START WITH 10 CACHE 1 CYCLE;
       SELECT nextval('app.ticket'), nextval('app.ticket'), nextval('app.ticket');
       GRANT USAGE ON SEQUENCE app.ticket TO undo_reader; COMMENT ON SEQUENCE app.ticket IS 'tickets';`,
    )
    const before = await dump()
    const run = await unwrap(h.db.execute('DROP SEQUENCE app.ticket', { iKnowWhatImDoing: true }))
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
    expect(await direct(database.url, "SELECT nextval('app.ticket')::int AS n")).toEqual([{ n: 25 }])
  })

  it('finds dropped objects named through the search path, and keeps them qualified', async () => {
    await direct(database.url, `CREATE TYPE app.mood AS ENUM ('sad', 'ok')`)
    const before = await dump()
    const run = await unwrap(
      h.db.execute(
        `SET search_path = app; DROP VIEW big_orders; DROP INDEX orders_total_idx; DROP TRIGGER orders_touch ON orders;
         DROP POLICY orders_mine ON orders; DROP FUNCTION touch(); DROP FUNCTION IF EXISTS nothing_here(); DROP TYPE mood`,
        { iKnowWhatImDoing: true },
      ),
    )
    expect(run.undo?.objects).toHaveLength(6)
    await unwrap(h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
    expect(await direct(database.url, "SELECT to_regtype('app.mood')::text AS t")).toEqual([{ t: 'app.mood' }])
  })

  it('refuses an undo whose rows were re-inserted with the same key, and changes nothing', async () => {
    const run = await unwrap(h.db.execute('DELETE FROM app.notes WHERE id <= 3', { confirm: true }))
    await direct(database.url, "INSERT INTO app.notes VALUES (2, 2, 'again')")
    const after = await dump()
    const refused = await h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true })
    expect(refused.isErr()).toBe(true)
    const error = refused._unsafeUnwrapErr()
    expect(error.kind).toBe('UndoError')
    expect(error.message).toContain('(id)=(2) already exists')
    expect(await dump()).toEqual(after)
  })

  it('refuses an undo of a dropped table when a new table has its name, and changes nothing', async () => {
    const run = await unwrap(h.db.execute('DROP TABLE app.notes', { iKnowWhatImDoing: true }))
    await direct(database.url, 'CREATE TABLE app.notes (id int)')
    const after = await dump()
    const refused = (await h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(refused.message).toContain('a new relation named "app"."notes" exists')
    expect(await dump()).toEqual(after)
  })

  it('refuses a run whose kept copy would exceed the cap unless the caller gives up undo', async () => {
    const small = harness(database, { config: { undo: { maxBytes: 1 } } })
    const before = await dump()
    const refused = (await small.db.execute('DELETE FROM app.notes', { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(refused.kind).toBe('UndoError')
    expect(await dump()).toEqual(before)
    const given = await unwrap(small.db.execute('DELETE FROM app.notes', { iKnowWhatImDoing: true, noUndo: true }))
    expect(given.undo).toBeUndefined()
    expect(small.records().filter((r) => r.undo === 'given-up').length).toBeGreaterThan(0)
  })

  it('lists kept runs and purges them', async () => {
    const run = await unwrap(h.db.execute('DELETE FROM app.notes WHERE id = 1', { confirm: true }))
    const list = await unwrap(h.db.listUndo())
    expect(list[0]).toMatchObject({ id: run.undo?.id, rows: { '"app"."notes"': 1 }, restoredAt: null })
    const purged = await unwrap(h.db.purgeUndo(0))
    expect(purged.purged).toContain(run.undo?.id)
    expect(await unwrap(h.db.listUndo())).toEqual([])
  })

  it('refuses to keep through a ddl_undo schema planted by a role the caller is not a member of', async () => {
    // The store exists, complete, then passes to another role: its function would run as the caller.
    await unwrap(h.db.execute('DELETE FROM app.notes WHERE id = 10', { confirm: true }))
    await direct(
      database.url,
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'undo_intruder') THEN CREATE ROLE undo_intruder; END IF;
         IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'undo_app') THEN CREATE ROLE undo_app LOGIN PASSWORD 'undo-app-pw'; END IF;
       END $$;
       ALTER SCHEMA ddl_undo OWNER TO undo_intruder;
       ALTER FUNCTION ddl_undo.keep_rows() OWNER TO undo_intruder;
       GRANT USAGE ON SCHEMA ddl_undo TO undo_app;
       GRANT USAGE ON SCHEMA app TO undo_app;
       CREATE TABLE app.mine (id int PRIMARY KEY); ALTER TABLE app.mine OWNER TO undo_app;
       INSERT INTO app.mine VALUES (1), (2);`,
    )
    const url = new URL(database.url)
    url.username = 'undo_app'
    url.password = 'undo-app-pw'
    const app = harness({ ...database, url: url.toString() })
    const refused = (await app.db.execute('DELETE FROM app.mine WHERE id = 1', { confirm: true }))._unsafeUnwrapErr()
    expect(refused).toMatchObject({ kind: 'UndoError', problem: 'cannot-keep' })
    expect(refused.message).toContain('belongs to a role this connection is not a member of')
    expect(await direct(database.url, 'SELECT count(*)::int AS n FROM app.mine')).toEqual([{ n: 2 }])
  })

  it('says before the run what cannot be undone', async () => {
    const refused = (await h.db.execute('DROP EXTENSION IF EXISTS pgcrypto'))._unsafeUnwrapErr()
    expect(refused.message).toContain('Cannot be undone once committed')
    expect(refused.message).toContain('line 1: DROP EXTENSION is not kept by undo')
    const alone = (await h.db.execute('DROP INDEX CONCURRENTLY app.orders_total_idx'))._unsafeUnwrapErr()
    expect(alone.message).toContain('line 1: it runs outside a transaction, so nothing can be kept in step with it')
    const kept = (await h.db.execute('DELETE FROM app.notes'))._unsafeUnwrapErr()
    expect(kept.message).not.toContain('Cannot be undone')
  })

  it('leaves neither the kept copy nor the change when the connection dies mid-transaction', async () => {
    const before = await dump()
    // A trigger that sleeps after the keep triggers are armed and the rows deleted, before COMMIT.
    await direct(
      database.url,
      `CREATE FUNCTION app.slow() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $f$;
       CREATE TRIGGER zz_slow AFTER DELETE ON app.notes FOR EACH STATEMENT EXECUTE FUNCTION app.slow();`,
    )
    const withSlow = await dump()
    const running = h.db.execute('DELETE FROM app.notes WHERE id <= 5', { confirm: true })
    await withClient(database.url, async (client) => {
      for (let i = 0; i < 200; i++) {
        const r = await client.query(
          "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE 'DELETE FROM app.notes%'",
        )
        if (r.rows.length > 0) {
          await client.query('SELECT pg_terminate_backend($1)', [r.rows[0].pid])
          return
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error('the DELETE never reached its sleep')
    })
    const result = await running
    expect(result.isErr()).toBe(true)
    expect(await dump()).toEqual(withSlow)
    expect(await direct(database.url, "SELECT to_regclass('ddl_undo.runs') AS r")).toEqual([{ r: null }])
    void before
  })

  it('serialises an undo with a concurrent run on the same table', async () => {
    const run = await unwrap(h.db.execute('DELETE FROM app.notes WHERE id <= 3', { confirm: true }))
    await withClient(database.url, async (client) => {
      await client.query('BEGIN')
      await client.query("INSERT INTO app.notes VALUES (50, 1, 'concurrent')")
      const undo = h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true })
      let waiting = false
      for (let i = 0; i < 200 && !waiting; i++) {
        await client.query('SELECT pg_stat_clear_snapshot()')
        const r = await client.query(
          "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()",
        )
        waiting = r.rows.length > 0
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(waiting).toBe(true)
      await client.query('COMMIT')
      await unwrap(undo)
    })
    const ids = await direct<{ id: number }>(database.url, 'SELECT id FROM app.notes ORDER BY id')
    expect(ids.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50])
  })
})

describe('undo racing a new run', () => {
  it('queues a new run on the same table behind the undo; both end as if run one after the other', async () => {
    const run = await unwrap(h.db.execute('DELETE FROM app.notes WHERE id <= 3', { confirm: true }))
    const waiters = async (client: { query: (sql: string) => Promise<{ rows: unknown[] }> }, n: number) => {
      for (let i = 0; i < 200; i++) {
        // Inside a transaction pg_stat_activity is a snapshot taken once: clear it before each look.
        await client.query('SELECT pg_stat_clear_snapshot()')
        const r = await client.query(
          "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
        if (r.rows.length >= n) return true
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      return false
    }
    await withClient(database.url, async (client) => {
      await client.query('BEGIN')
      await client.query('LOCK TABLE app.notes IN ROW EXCLUSIVE MODE')
      const undo = h.db.undo(run.undo?.id ?? '', { iKnowWhatImDoing: true })
      expect(await waiters(client, 1)).toBe(true)
      const next = h.db.execute('DELETE FROM app.notes WHERE id <= 2', { confirm: true })
      expect(await waiters(client, 2)).toBe(true)
      await client.query('COMMIT')
      await unwrap(undo)
      const second = await unwrap(next)
      expect(second.statements[0]?.rowCount).toBe(2)
    })
    const ids = await direct<{ id: number }>(database.url, 'SELECT id FROM app.notes ORDER BY id')
    expect(ids.map((r) => r.id)).toEqual([3, 4, 5, 6, 7, 8, 9, 10])
  })
})

describe('undo in transactions and migrations', () => {
  it('keeps what a transaction removed and undoes it whole', async () => {
    const before = await dump()
    let handle: { readonly undo?: { readonly id: string } | undefined } | undefined
    await unwrap(
      h.db.transaction(async (tx) => {
        handle = tx
        await unwrap(tx.execute('DELETE FROM app.notes WHERE id > 5', { confirm: true }))
        await unwrap(tx.execute("UPDATE app.customers SET tier = 'gold' WHERE id < 4", { confirm: true }))
      }),
    )
    const id = handle?.undo?.id ?? ''
    expect(id).toMatch(/^u[0-9a-f]{12}$/)
    expect(h.records().filter((r) => r.outcome === 'committed' && r.undo === `kept:${id}`)).toHaveLength(2)
    await unwrap(h.db.undo(id, { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
  })

  it('keeps what a migration removed, and the report carries the undo id', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const dir = join(h.dir, 'migrations')
    mkdirSync(dir)
    writeFileSync(join(dir, '1_prune.sql'), 'DELETE FROM app.notes WHERE id % 2 = 0;\nDROP TABLE app.notes;\n')
    const before = await dump()
    const report = await unwrap(h.db.runMigrationsFromDir(dir, { iKnowWhatImDoing: true }))
    const id = report.applied[0]?.undo?.id ?? ''
    expect(id).toMatch(/^u[0-9a-f]{12}$/)
    expect(await unwrap(h.db.tableExists('app.notes'))).toBe(false)
    await unwrap(h.db.undo(id, { iKnowWhatImDoing: true }))
    expect(await dump()).toEqual(before)
  })

  it('refuses an undo without the flag, and a second undo of the same run', async () => {
    const run = await unwrap(h.db.execute('DELETE FROM app.notes WHERE id = 4', { confirm: true }))
    const id = run.undo?.id ?? ''
    expect((await h.db.undo(id))._unsafeUnwrapErr().message).toContain('iKnowWhatImDoing: true')
    await unwrap(h.db.undo(id, { iKnowWhatImDoing: true }))
    const again = (await h.db.undo(id, { iKnowWhatImDoing: true }))._unsafeUnwrapErr()
    expect(again).toMatchObject({ kind: 'UndoError', problem: 'already-undone' })
    const audit = h.records().filter((r) => r.undo === `restores:${id}`)
    expect(audit.map((r) => r.outcome)).toEqual(['intent', 'committed', 'intent', 'failed'])
  })

  it('keeps nothing when the project opts out', async () => {
    const off = harness(database, { config: { undo: { enabled: false } } })
    const run = await unwrap(off.db.execute('DELETE FROM app.notes WHERE id = 1', { confirm: true }))
    expect(run.undo).toBeUndefined()
    expect(await direct(database.url, "SELECT to_regclass('ddl_undo.runs') AS r")).toEqual([{ r: null }])
  })
})
