/**
 * The lock truth test: for each statement form, the lock the classifier names statically is compared
 * with the lock a real Postgres takes.
 *
 * Measuring rule. Before each form, the relations that exist are listed (tables, partitioned tables,
 * views, materialized views, sequences, foreign tables and indexes outside pg_catalog,
 * information_schema and pg_toast). Then `BEGIN; <statement>;` runs, `pg_locks` is read for this
 * backend (`locktype = 'relation'`), and the strongest mode held on a relation of that list is the
 * measured lock: locks on catalogs, on TOAST tables and on the objects the statement itself creates do
 * not count. Then `ROLLBACK`. Indexes count: REINDEX and DROP INDEX lock the index ACCESS EXCLUSIVE,
 * and a query planned on the table then waits for it.
 *
 * Statements Postgres refuses inside a transaction block (CONCURRENTLY, VACUUM) are measured from
 * outside: a holder connection takes SHARE UPDATE EXCLUSIVE on the table (which conflicts with every
 * mode these statements take, and not with the ACCESS SHARE some take first to look the table up), the
 * statement starts on a second connection and queues behind it, and a watcher polls pg_locks for the
 * second backend's requested and held modes on the listed relations until the holder lets go and the
 * statement ends. Polling can miss a lock held for less than a poll. Locks on an index the statement
 * drops are not counted here: DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY (which drops the old
 * copy) take ACCESS EXCLUSIVE on that index at their very end, after marking it dead, when no query
 * opens it any more; polling sees that lock on some runs and not others.
 *
 * Rewrites and scans are measured too, for the forms run in a transaction: a rewrite gives a table
 * (or index) a new relfilenode; a scan moves a table's sequential-scan counter in
 * pg_stat_xact_user_tables, compared only for statements that hold SHARE UPDATE EXCLUSIVE or more
 * (a query's scan under ACCESS SHARE is not what `scan` reports).
 *
 * The figures go to the log (`locks: 143/147 forms agree; ...`) and into the README.
 */
import { classify, init, type LockMode } from '@ddl/classifier'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'

const STRENGTH: readonly LockMode[] = [
  'AccessShareLock',
  'RowShareLock',
  'RowExclusiveLock',
  'ShareUpdateExclusiveLock',
  'ShareLock',
  'ShareRowExclusiveLock',
  'ExclusiveLock',
  'AccessExclusiveLock',
]

function strongest(modes: readonly string[]): LockMode | null {
  let best: LockMode | null = null
  for (const m of modes) {
    const mode = m as LockMode
    if (!STRENGTH.includes(mode)) continue
    if (best === null || STRENGTH.indexOf(mode) > STRENGTH.indexOf(best)) best = mode
  }
  return best
}

/**
 * A statement form. `lockDiffers`, `rewriteDiffers` and `scanDiffers` say why the static answer
 * differs from the server's on purpose; the test fails if a form differs without one, or agrees with one.
 */
interface Form {
  readonly sql: string
  readonly lockDiffers?: string
  readonly rewriteDiffers?: string
  readonly scanDiffers?: string
}

/**
 * Forms Postgres refuses in a transaction block: `hold` is the table to block, `after` undoes the form.
 * `share` is a table a second holder keeps in ACCESS SHARE until the statement waits on it, so a brief
 * late lock on it is seen on every run.
 */
interface OutsideForm extends Form {
  readonly hold: string
  readonly share?: string
  readonly after?: string
}

const FIXTURES = `
CREATE TABLE users (id int PRIMARY KEY, email varchar(50), name text, age int, score numeric(10,2),
  created timestamp, payload json);
CREATE INDEX users_email_idx ON users (email);
CREATE UNIQUE INDEX users_email_uniq ON users (email);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id int, amount numeric(10,2), note text);
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0) NOT VALID;
INSERT INTO users SELECT g, 'u' || g || '@example.com', 'user ' || g, g % 90, g, now(), '{}'
  FROM generate_series(1, 200) g;
INSERT INTO orders SELECT g, 1 + g % 200, g, 'n' FROM generate_series(1, 400) g;
CREATE TABLE audit_log (id bigint, entry text);
CREATE TABLE payments (id int, user_id int REFERENCES users (id));
CREATE UNLOGGED TABLE cache_entries (k text, v text);
CREATE TABLE parent_t (id int);
CREATE TABLE child_t (id int);
CREATE VIEW user_names AS SELECT id, name FROM users;
CREATE MATERIALIZED VIEW order_totals AS SELECT user_id, sum(amount) AS total FROM orders GROUP BY user_id;
CREATE UNIQUE INDEX order_totals_user_idx ON order_totals (user_id);
CREATE SEQUENCE ticket_seq;
CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 (id int, at date NOT NULL);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
CREATE POLICY users_self ON users USING (true);
CREATE RULE audit_log_keep AS ON DELETE TO audit_log DO INSTEAD NOTHING;
CREATE DOMAIN positive_int AS int;
CREATE TABLE scores (v positive_int);
CREATE SCHEMA scratch;
CREATE TABLE scratch.tmp (id int);
CREATE FUNCTION add_one(int) RETURNS int IMMUTABLE LANGUAGE sql AS $$ SELECT $1 + 1 $$;
`

const TRUNCATE_FILE =
  'TRUNCATE gives the table a new, empty file (a new relfilenode) without copying a row; safe-ddl does not call that a rewrite'

const FORMS: readonly Form[] = [
  // ALTER TABLE: one action
  { sql: 'ALTER TABLE users ADD COLUMN phone text' },
  { sql: 'ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true' },
  { sql: 'ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()' },
  { sql: 'ALTER TABLE users ADD COLUMN doubled int GENERATED ALWAYS AS (age * 2) STORED' },
  { sql: 'ALTER TABLE users ADD COLUMN seq bigserial' },
  { sql: 'ALTER TABLE users ADD COLUMN best_order bigint REFERENCES orders (id)' },
  // With a default (even NULL) Postgres validates the new key: it reads every row of users.
  { sql: 'ALTER TABLE users ADD COLUMN fav_order bigint DEFAULT NULL REFERENCES orders (id)' },
  { sql: 'ALTER TABLE users ADD COLUMN checked int CHECK (checked > 0)' },
  { sql: 'ALTER TABLE users ADD COLUMN code text UNIQUE' },
  { sql: 'ALTER TABLE audit_log ADD COLUMN required int NOT NULL' },
  {
    sql: 'ALTER TABLE users ADD COLUMN bonus int DEFAULT add_one(1)',
    rewriteDiffers: 'add_one is IMMUTABLE; safe-ddl does not know user functions and takes them to be volatile',
    scanDiffers: 'as above',
  },
  { sql: 'ALTER TABLE users DROP COLUMN payload' },
  { sql: 'ALTER TABLE users ALTER COLUMN age TYPE bigint' },
  { sql: 'ALTER TABLE users ALTER COLUMN email TYPE varchar(100)' },
  { sql: 'ALTER TABLE users ALTER COLUMN email TYPE text' },
  { sql: 'ALTER TABLE users ALTER COLUMN score TYPE numeric(12,2)' },
  { sql: 'ALTER TABLE users ALTER COLUMN score TYPE text USING score::text' },
  {
    sql: 'ALTER TABLE users ALTER COLUMN email TYPE varchar(20)',
    rewriteDiffers:
      'a narrowing: the old type is not in the statement, and a varchar(n) target is taken to be a widening',
    scanDiffers: 'the same narrowing reads every row to check the new limit',
  },
  {
    sql: 'ALTER TABLE users ALTER COLUMN age TYPE integer',
    rewriteDiffers: 'the column already is integer, so Postgres changes nothing; safe-ddl cannot see the old type',
    scanDiffers: 'as above: nothing to rewrite, so nothing is read',
  },
  {
    sql: 'ALTER TABLE users ALTER COLUMN created TYPE timestamptz',
    rewriteDiffers:
      'the test server runs with TimeZone UTC, where Postgres 12 and later skip this rewrite; safe-ddl cannot see the session time zone',
    scanDiffers: 'as above',
  },
  { sql: 'ALTER TABLE users ALTER COLUMN age SET NOT NULL' },
  { sql: 'ALTER TABLE users ALTER COLUMN age DROP NOT NULL' },
  { sql: 'ALTER TABLE users ALTER COLUMN age SET DEFAULT 0' },
  { sql: 'ALTER TABLE users ALTER COLUMN age DROP DEFAULT' },
  { sql: 'ALTER TABLE users ALTER COLUMN age SET STATISTICS 500' },
  { sql: 'ALTER TABLE users ALTER COLUMN name SET STORAGE EXTERNAL' },
  { sql: 'ALTER TABLE users ALTER COLUMN age SET (n_distinct = 100)' },
  { sql: 'ALTER TABLE users ALTER COLUMN name SET COMPRESSION pglz' },
  { sql: 'ALTER TABLE users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY' },
  { sql: 'ALTER TABLE users ADD CONSTRAINT users_age_pos CHECK (age >= 0)' },
  { sql: 'ALTER TABLE users ADD CONSTRAINT users_age_pos CHECK (age >= 0) NOT VALID' },
  { sql: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk2 FOREIGN KEY (user_id) REFERENCES users (id)' },
  { sql: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID' },
  { sql: 'ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk' },
  { sql: 'ALTER TABLE users VALIDATE CONSTRAINT users_age_check' },
  { sql: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)' },
  { sql: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_uniq' },
  { sql: 'ALTER TABLE audit_log ADD PRIMARY KEY (id)' },
  { sql: 'ALTER TABLE orders DROP CONSTRAINT orders_user_fk' },
  { sql: 'ALTER TABLE users DROP CONSTRAINT users_age_check' },
  { sql: 'ALTER TABLE orders ALTER CONSTRAINT orders_user_fk DEFERRABLE' },
  { sql: 'ALTER TABLE users OWNER TO CURRENT_USER' },
  { sql: 'ALTER TABLE users SET (fillfactor = 70)' },
  { sql: 'ALTER TABLE users SET (autovacuum_enabled = false)' },
  { sql: 'ALTER TABLE users RESET (fillfactor)' },
  { sql: 'ALTER VIEW user_names SET (security_barrier = true)' },
  { sql: 'ALTER TABLE users CLUSTER ON users_pkey' },
  { sql: 'ALTER TABLE users SET WITHOUT CLUSTER' },
  { sql: 'ALTER TABLE users DISABLE TRIGGER users_touch' },
  { sql: 'ALTER TABLE users ENABLE ALWAYS TRIGGER users_touch' },
  { sql: 'ALTER TABLE users ENABLE ROW LEVEL SECURITY' },
  { sql: 'ALTER TABLE users REPLICA IDENTITY FULL' },
  { sql: 'ALTER TABLE audit_log SET UNLOGGED' },
  { sql: 'ALTER TABLE cache_entries SET LOGGED' },
  { sql: "ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')" },
  { sql: 'ALTER TABLE events DETACH PARTITION events_2024' },
  { sql: 'ALTER TABLE child_t INHERIT parent_t' },
  { sql: 'ALTER INDEX users_email_idx SET (fillfactor = 80)' },
  // ALTER TABLE: several actions take the strongest of their levels
  { sql: 'ALTER TABLE users ADD COLUMN phone text, ALTER COLUMN age SET STATISTICS 100' },
  { sql: 'ALTER TABLE users ALTER COLUMN age SET STATISTICS 100, SET (fillfactor = 80)' },
  { sql: 'ALTER TABLE users DISABLE TRIGGER users_touch, CLUSTER ON users_pkey' },
  // renames and moves
  { sql: 'ALTER TABLE users RENAME COLUMN name TO full_name' },
  { sql: 'ALTER TABLE users RENAME TO people' },
  { sql: 'ALTER INDEX users_email_idx RENAME TO users_email_index' },
  { sql: 'ALTER TABLE users RENAME CONSTRAINT users_age_check TO users_age_ok' },
  { sql: 'ALTER TRIGGER users_touch ON users RENAME TO users_touched' },
  { sql: 'ALTER TABLE users SET SCHEMA scratch' },
  { sql: 'ALTER SEQUENCE ticket_seq RESTART WITH 10' },
  // CREATE
  { sql: 'CREATE INDEX users_name_idx ON users (name)' },
  {
    sql: 'CREATE INDEX IF NOT EXISTS users_email_idx ON users (email)',
    scanDiffers: 'the index exists, so Postgres stops once it holds the lock; safe-ddl cannot see that it exists',
  },
  { sql: 'CREATE UNIQUE INDEX users_email_u ON users (lower(email))' },
  { sql: 'CREATE TABLE notes (id int PRIMARY KEY, body text)' },
  { sql: 'CREATE TABLE invoices (id bigint PRIMARY KEY, user_id int REFERENCES users (id))' },
  { sql: "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')" },
  { sql: 'CREATE TABLE kids () INHERITS (parent_t)' },
  { sql: 'CREATE TABLE user_copy (LIKE users)' },
  { sql: 'CREATE TABLE user_snapshot AS SELECT * FROM users' },
  { sql: 'SELECT * INTO user_backup FROM users' },
  { sql: 'CREATE VIEW adults AS SELECT * FROM users WHERE age >= 18' },
  { sql: 'CREATE OR REPLACE VIEW user_names AS SELECT id, name FROM users' },
  { sql: 'CREATE MATERIALIZED VIEW user_ages AS SELECT age FROM users' },
  { sql: 'CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()' },
  { sql: 'CREATE RULE orders_keep AS ON DELETE TO orders DO INSTEAD NOTHING' },
  { sql: 'CREATE POLICY orders_all ON orders USING (true)' },
  { sql: 'CREATE STATISTICS users_stats ON age, score FROM users' },
  { sql: 'CREATE SEQUENCE invoice_seq' },
  { sql: "COMMENT ON TABLE users IS 'people'" },
  { sql: "COMMENT ON COLUMN users.email IS 'login'" },
  { sql: 'CREATE PUBLICATION users_pub FOR TABLE users' },
  // DROP and TRUNCATE
  { sql: 'DROP TABLE audit_log' },
  { sql: 'DROP TABLE payments' },
  { sql: 'DROP INDEX users_email_idx' },
  { sql: 'DROP VIEW user_names' },
  { sql: 'DROP MATERIALIZED VIEW order_totals' },
  { sql: 'DROP SEQUENCE ticket_seq' },
  { sql: 'DROP TRIGGER users_touch ON users' },
  { sql: 'DROP POLICY users_self ON users' },
  { sql: 'DROP RULE audit_log_keep ON audit_log' },
  { sql: 'DROP SCHEMA scratch CASCADE' },
  { sql: 'DROP DOMAIN positive_int CASCADE' },
  { sql: 'TRUNCATE audit_log', rewriteDiffers: TRUNCATE_FILE },
  {
    sql: 'TRUNCATE users CASCADE',
    rewriteDiffers: TRUNCATE_FILE,
    scanDiffers:
      'the server counts a sequential scan on users and orders (TRUNCATE ... CASCADE on tables joined by a foreign key); TRUNCATE does not check rows, and its time does not grow with them, so safe-ddl reports no scan',
  },
  // maintenance and explicit locks
  { sql: 'LOCK TABLE users' },
  { sql: 'LOCK TABLE users IN SHARE MODE' },
  { sql: 'LOCK TABLE users IN ROW EXCLUSIVE MODE' },
  { sql: 'LOCK TABLE users, orders IN SHARE ROW EXCLUSIVE MODE' },
  { sql: 'ANALYZE users' },
  { sql: 'CLUSTER users USING users_pkey' },
  { sql: 'REINDEX INDEX users_email_idx' },
  { sql: 'REINDEX TABLE users' },
  { sql: 'REFRESH MATERIALIZED VIEW order_totals' },
  { sql: 'REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals' },
  { sql: 'ALTER DOMAIN positive_int ADD CONSTRAINT positive_int_check CHECK (VALUE > 0)' },
  { sql: 'GRANT SELECT ON users TO PUBLIC' },
  // queries and DML
  { sql: 'SELECT * FROM users' },
  { sql: 'SELECT * FROM users u JOIN orders o ON o.user_id = u.id' },
  { sql: 'SELECT * FROM user_names' },
  { sql: 'SELECT * FROM users WHERE id = 1 FOR UPDATE' },
  { sql: 'SELECT * FROM orders o JOIN users u ON u.id = o.user_id FOR SHARE OF o' },
  { sql: "INSERT INTO audit_log VALUES (1, 'x')" },
  { sql: 'INSERT INTO audit_log SELECT id, name FROM users' },
  { sql: 'UPDATE users SET age = age + 1 WHERE id = 1' },
  { sql: 'UPDATE orders SET amount = 0 FROM users WHERE users.id = orders.user_id' },
  { sql: 'DELETE FROM orders WHERE id = 1' },
  { sql: 'DELETE FROM orders USING users WHERE users.id = orders.user_id AND users.age > 80' },
  { sql: 'MERGE INTO parent_t p USING users u ON p.id = u.id WHEN NOT MATCHED THEN INSERT VALUES (u.id)' },
  { sql: "INSERT INTO users (id, email) VALUES (1000, 'a') ON CONFLICT (id) DO UPDATE SET email = excluded.email" },
  { sql: 'WITH gone AS (DELETE FROM orders WHERE id < 10 RETURNING *) SELECT count(*) FROM gone' },
  { sql: 'EXPLAIN SELECT * FROM users' },
  { sql: 'EXPLAIN UPDATE users SET age = 1' },
  { sql: 'DECLARE c CURSOR FOR SELECT * FROM users' },
  { sql: 'PREPARE bump AS UPDATE users SET age = age + 1' },
  { sql: "INSERT INTO orders VALUES (9999, 1, 1, 'x')" },
  { sql: 'SELECT 1' },
  {
    sql: "SELECT nextval('ticket_seq')",
    lockDiffers:
      'a function call: nextval takes ROW EXCLUSIVE on the sequence; safe-ddl does not follow what functions lock',
  },
  {
    sql: "DO $$ BEGIN EXECUTE 'LOCK TABLE users'; END $$",
    lockDiffers:
      'SQL run by a DO block or a function: its findings come from reading the body, its locks are not counted',
  },
  {
    sql: 'ALTER TABLE IF EXISTS no_such_table ADD COLUMN x int',
    lockDiffers: 'IF EXISTS on a relation that does not exist: Postgres locks nothing; safe-ddl assumes it exists',
  },
  {
    sql: 'DROP TABLE IF EXISTS no_such_table',
    lockDiffers: 'IF EXISTS on a relation that does not exist, as above',
  },
  { sql: "SET lock_timeout = '1s'" },
  { sql: 'CREATE FUNCTION one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$' },
]

const OUTSIDE: readonly OutsideForm[] = [
  {
    sql: 'CREATE INDEX CONCURRENTLY users_name_cidx ON users (name)',
    hold: 'users',
    after: 'DROP INDEX users_name_cidx',
  },
  {
    sql: 'DROP INDEX CONCURRENTLY users_email_idx',
    hold: 'users',
    after: 'CREATE INDEX users_email_idx ON users (email)',
  },
  { sql: 'REINDEX INDEX CONCURRENTLY users_email_idx', hold: 'users' },
  { sql: 'REINDEX TABLE CONCURRENTLY orders', hold: 'orders' },
  { sql: 'VACUUM users', hold: 'users' },
  { sql: 'VACUUM (ANALYZE) users', hold: 'users' },
  { sql: 'VACUUM FULL users', hold: 'users' },
  {
    sql: 'ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY',
    hold: 'events_2024',
    share: 'events_2024',
    after: "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
  },
]

const db = testDatabase('locks')

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  return client
}

let client: pg.Client
let pgVersion = 14

interface Relation {
  readonly oid: number
  readonly relname: string
  readonly relfilenode: number
  readonly relkind: string
}

const RELATIONS_SQL = `
SELECT c.oid::int AS oid, c.relname, c.relfilenode::int AS relfilenode, c.relkind::text AS relkind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND c.relkind IN ('r', 'p', 'm', 'v', 'S', 'f', 'i', 'I')`

async function relations(c: pg.Client): Promise<Relation[]> {
  return (await c.query<Relation>(RELATIONS_SQL)).rows
}

interface Measured {
  readonly lock: LockMode | null
  readonly rewrite: boolean
  /** A pre-existing table's sequential-scan counter moved (undefined: not measured). */
  readonly scan: boolean | undefined
  readonly locks: string
}

/** Sequential scans this backend counted on each relation (its pending statistics). */
async function seqScans(oids: readonly number[]): Promise<Map<number, number>> {
  const rows = await client.query<{ oid: number; n: number }>(
    'SELECT relid::int AS oid, seq_scan::int AS n FROM pg_stat_xact_user_tables WHERE relid::int = ANY($1)',
    [oids],
  )
  return new Map(rows.rows.map((r) => [r.oid, r.n]))
}

/** Runs one form in a transaction and reads what it took, then rolls back. */
async function measure(sql: string): Promise<Measured> {
  const before = await relations(client)
  const oids = before.map((r) => r.oid)
  const name = new Map(before.map((r) => [r.oid, r.relname]))
  await client.query('BEGIN')
  try {
    const scansBefore = await seqScans(oids)
    await client.query(sql)
    const held = await client.query<{ oid: number; mode: string }>(
      `SELECT relation::int AS oid, mode FROM pg_locks
       WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted AND relation::int = ANY($1)`,
      [oids],
    )
    const after = await client.query<{ oid: number; relfilenode: number }>(
      'SELECT oid::int AS oid, relfilenode::int AS relfilenode FROM pg_class WHERE oid::int = ANY($1)',
      [oids],
    )
    const scanned = await seqScans(oids)
    const scans = {
      rows: [...scanned]
        .filter(([oid, n]) => n > (scansBefore.get(oid) ?? 0))
        .map(([oid]) => ({ relname: name.get(oid) })),
    }
    const storage = new Map(before.filter((r) => 'rmi'.includes(r.relkind)).map((r) => [r.oid, r.relfilenode]))
    const rewrite = after.rows.some((r) => storage.has(r.oid) && storage.get(r.oid) !== r.relfilenode)
    return {
      lock: strongest(held.rows.map((r) => r.mode)),
      rewrite,
      scan: scans.rows.length > 0,
      locks: `${held.rows.map((r) => `${name.get(r.oid)}:${r.mode}`).join(' ')}; scanned: ${scans.rows.map((r) => r.relname).join(',')}`,
    }
  } finally {
    await client.query('ROLLBACK')
  }
}

/** Runs a form that cannot run in a transaction while a holder blocks it, and watches its locks. */
async function measureOutside(form: OutsideForm): Promise<Measured> {
  const before = await relations(client)
  const oids = before.map((r) => r.oid)
  const name = new Map(before.map((r) => [r.oid, r.relname]))
  const holder = await connect(db.url)
  const sharer = await connect(db.url)
  const runner = await connect(db.url)
  const seen = new Set<string>()
  try {
    await holder.query('BEGIN')
    await holder.query(`LOCK TABLE ${form.hold} IN SHARE UPDATE EXCLUSIVE MODE`)
    let sharing = form.share !== undefined
    if (sharing) {
      await sharer.query('BEGIN')
      await sharer.query(`LOCK TABLE ${form.share} IN ACCESS SHARE MODE`)
    }
    const pid = (await runner.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
    let done = false
    const running = runner.query(form.sql).finally(() => {
      done = true
    })
    const poll = async (): Promise<boolean> => {
      const rows = await client.query<{ oid: number; mode: string; granted: boolean }>(
        `SELECT relation::int AS oid, mode, granted FROM pg_locks
         WHERE pid = $1 AND locktype = 'relation' AND relation::int = ANY($2)`,
        [pid, oids],
      )
      for (const r of rows.rows) seen.add(`${r.oid}:${r.mode}`)
      return rows.rows.some((r) => !r.granted)
    }
    const deadline = Date.now() + 10_000
    while (!(await poll()) && Date.now() < deadline && !done) await new Promise((r) => setTimeout(r, 5))
    await holder.query('ROLLBACK')
    const shareDeadline = Date.now() + 5_000
    while (!done) {
      const waiting = await poll()
      if (sharing && (waiting || Date.now() > shareDeadline)) {
        await sharer.query('ROLLBACK')
        sharing = false
      }
      await new Promise((r) => setTimeout(r, 1))
    }
    await running
  } finally {
    await holder.end()
    await sharer.end()
    await runner.end()
  }
  // Indexes the statement dropped (DROP INDEX CONCURRENTLY, or the old copy REINDEX CONCURRENTLY retires).
  const oidsNow = new Set((await relations(client)).map((r) => r.oid))
  const retired = new Set(before.filter((r) => r.relkind === 'i' && !oidsNow.has(r.oid)).map((r) => r.oid))
  if (form.after !== undefined) await client.query(form.after)
  const counted = [...seen]
    .map((s) => ({ oid: Number(s.slice(0, s.indexOf(':'))), mode: s.slice(s.indexOf(':') + 1) }))
    .filter((l) => !retired.has(l.oid))
  return {
    lock: strongest(counted.map((l) => l.mode)),
    rewrite: false,
    scan: undefined,
    locks: [...seen]
      .map((s) => {
        const oid = Number(s.slice(0, s.indexOf(':')))
        return `${name.get(oid)}${retired.has(oid) ? '(retired)' : ''}:${s.slice(s.indexOf(':') + 1)}`
      })
      .join(' '),
  }
}

function staticVerdict(sql: string): { lock: LockMode | null; rewrite: boolean; scan: boolean } {
  const statement = classify(sql, { pgVersion })._unsafeUnwrap().statements[0]
  return {
    lock: statement?.verdict.lock ?? null,
    rewrite: statement?.verdict.rewrite ?? false,
    scan: statement?.verdict.scan ?? false,
  }
}

beforeAll(async () => {
  await init()
  client = await connect(db.url)
  await client.query(FIXTURES)
  const version = await client.query<{ v: string }>('SHOW server_version_num')
  pgVersion = Math.floor(Number(version.rows[0]?.v ?? '140000') / 10000)
})

afterAll(async () => {
  await client?.end()
})

/** Scans are compared only under locks that block DDL or writes: a query's scan under ACCESS SHARE is not reported. */
const DDL_LOCKS: ReadonlySet<LockMode | null> = new Set(STRENGTH.slice(STRENGTH.indexOf('ShareUpdateExclusiveLock')))

describe('the lock each statement takes, against a real Postgres', () => {
  it('names the lock Postgres takes for at least 60 forms, and differs only where documented', async () => {
    const report: string[] = []
    const unexpected: string[] = []
    const tally = { forms: 0, lock: 0, rewriteForms: 0, rewrite: 0, scanForms: 0, scan: 0 }
    for (const form of [...FORMS, ...OUTSIDE]) {
      const outside = 'hold' in form
      let measured: Measured
      try {
        measured = outside ? await measureOutside(form as OutsideForm) : await measure(form.sql)
      } catch (error) {
        unexpected.push(`${form.sql}: ${String(error)}`)
        continue
      }
      const stat = staticVerdict(form.sql)
      tally.forms++
      const lockSame = stat.lock === measured.lock
      if (lockSame) tally.lock++
      if (lockSame === (form.lockDiffers !== undefined)) unexpected.push(`lock: ${form.sql}`)
      let rewriteSame = true
      if (!outside) {
        tally.rewriteForms++
        rewriteSame = stat.rewrite === measured.rewrite
        if (rewriteSame) tally.rewrite++
        if (rewriteSame === (form.rewriteDiffers !== undefined)) unexpected.push(`rewrite: ${form.sql}`)
      }
      let scanSame = true
      if (measured.scan !== undefined && DDL_LOCKS.has(measured.lock)) {
        tally.scanForms++
        scanSame = stat.scan === measured.scan
        if (scanSame) tally.scan++
        if (scanSame === (form.scanDiffers !== undefined)) unexpected.push(`scan: ${form.sql}`)
      }
      if (lockSame && rewriteSame && scanSame) continue
      report.push(
        `differs: ${form.sql}\n  static ${stat.lock} rewrite=${stat.rewrite} scan=${stat.scan} | server ${measured.lock} rewrite=${measured.rewrite} scan=${measured.scan} [${measured.locks}]`,
      )
    }
    console.info(report.join('\n'))
    console.info(
      `locks: ${tally.lock}/${tally.forms} forms agree; rewrite: ${tally.rewrite}/${tally.rewriteForms}; scan: ${tally.scan}/${tally.scanForms}`,
    )
    expect(tally.forms).toBeGreaterThanOrEqual(60)
    expect(unexpected).toEqual([])
  }, 120_000)
})
