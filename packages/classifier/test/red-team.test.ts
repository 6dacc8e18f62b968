/**
 * Red-team findings after the gate-holes work: each family was let through (or under-rated) and is
 * now closed as a class. Firing cases and near misses (what real migrations write). End-to-end
 * twins: executor/test/red-team.int.test.ts.
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

function expectTiers(cases: readonly (readonly [Tier, string])[]): void {
  for (const [tier, sql] of cases) expect(lastTier(sql), sql).toBe(tier)
}

describe('a type change that computes new values overwrites every value', () => {
  it('classifies USING expressions that read the column but do not carry its value as destructive', () => {
    expectTiers([
      ['destructive', 'ALTER TABLE users ALTER COLUMN name TYPE text USING md5(name)'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN name TYPE text USING substr(name, 1, 0)'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN name TYPE boolean USING name = name'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN name TYPE boolean USING name IS NULL'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN name TYPE int USING length(name)'],
      ['destructive', "ALTER TABLE users ALTER COLUMN name TYPE text USING regexp_replace(name, '.*', '')"],
      ['destructive', 'ALTER TABLE users ALTER COLUMN amount TYPE numeric USING amount * 0'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN amount TYPE numeric USING 0.0 * amount'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN amount TYPE numeric USING amount - amount'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN amount TYPE numeric USING least(amount, 0)'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN name TYPE text USING name::char(1)'],
      ['destructive', 'ALTER TABLE users ALTER COLUMN name TYPE varchar(20) USING name::varchar(20)'],
      ['destructive', "ALTER TABLE t ALTER COLUMN x TYPE boolean USING CASE WHEN x = 'Y' THEN true ELSE false END"],
      ['destructive', 'ALTER TABLE t ALTER COLUMN x TYPE text USING (SELECT x FROM t LIMIT 1)'],
      ['destructive', "ALTER TABLE t ALTER COLUMN x TYPE text USING coalesce('x', x)"],
    ])
  })

  it('keeps conversions that carry the value over cautious', () => {
    expectTiers([
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE bigint'],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE int USING x::int'],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE int USING CAST(x AS integer)'],
      ['cautious', 'ALTER TABLE "t" ALTER COLUMN "status" TYPE "Status_new" USING ("status"::text::"Status_new")'],
      ['cautious', "ALTER TABLE t ALTER COLUMN x TYPE int USING NULLIF(x, '')::int"],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE int USING trim(x)::int'],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE timestamptz USING to_timestamp(x)'],
      ['cautious', "ALTER TABLE t ALTER COLUMN x TYPE timestamptz USING x AT TIME ZONE 'UTC'"],
      ['cautious', "ALTER TABLE t ALTER COLUMN x TYPE date USING to_date(x, 'YYYY-MM-DD')"],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE jsonb USING to_jsonb(x)'],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE text[] USING ARRAY[x]'],
      ['cautious', "ALTER TABLE t ALTER COLUMN x TYPE text[] USING string_to_array(x, ',')"],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE bigint USING x * 100'],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE numeric(10,2) USING x::numeric(10,2)'],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE text USING t.x::text'],
      ['cautious', 'ALTER TABLE t ALTER COLUMN x TYPE bigint USING coalesce(x, 0)'],
    ])
  })
})

describe('a table the script made stops being "fresh" when old rows can come in under its name', () => {
  it('treats a DELETE of a fresh parent that an old table joined (INHERIT, ATTACH PARTITION) as a DELETE of old rows', () => {
    expectTiers([
      ['destructive', 'CREATE TABLE trap (id int, name text); ALTER TABLE users INHERIT trap; DELETE FROM trap'],
      [
        'destructive',
        'CREATE TABLE trap (id int, name text); ALTER TABLE users INHERIT trap; UPDATE trap SET name = 1',
      ],
      [
        'destructive',
        'CREATE TABLE trap (id int) PARTITION BY RANGE (id); ALTER TABLE trap ATTACH PARTITION users DEFAULT; DELETE FROM trap',
      ],
      ['cautious', 'CREATE TABLE trap (id int); ALTER TABLE users INHERIT trap; TRUNCATE trap'],
    ])
  })

  it('forgets a fresh table once it is dropped or discarded: the name may mean the old table it shadowed', () => {
    expectTiers([
      ['destructive', 'CREATE TEMP TABLE users (id int); DROP TABLE users; DELETE FROM users'],
      ['destructive', "CREATE TEMP TABLE users (id int); DROP TABLE IF EXISTS users; UPDATE users SET name = 'x'"],
      ['destructive', 'CREATE TEMP TABLE users (id int); DISCARD TEMP; DELETE FROM users'],
      ['cautious', 'CREATE TEMP TABLE users (id int); DISCARD ALL; TRUNCATE users'],
    ])
  })

  it('matches names as the parser folds them: a quoted "USERS" is not users', () => {
    expectTiers([
      ['destructive', 'CREATE TABLE "USERS" (id int); DELETE FROM USERS'],
      ['cautious', 'CREATE TABLE "USERS" (id int); TRUNCATE USERS'],
    ])
  })

  it('still treats what the script made and kept in sight as fresh (near misses)', () => {
    expectTiers([
      ['safe', 'CREATE TABLE "USERS" (id int); DELETE FROM "USERS"'],
      ['safe', 'CREATE TABLE staging (id int); INSERT INTO staging VALUES (1); DELETE FROM staging'],
      [
        'safe',
        'CREATE TABLE p (id int) PARTITION BY RANGE (id); CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (9); DELETE FROM p',
      ],
      ['safe', 'CREATE TABLE a (id int); CREATE TABLE b (id int); DROP TABLE b; DELETE FROM a'],
      ['safe', 'ALTER TABLE users ADD COLUMN n int; UPDATE ONLY users SET n = 1'],
      // Without ONLY, an inheritance child's old column n may be overwritten (update-inherited-column).
      ['cautious', 'ALTER TABLE users ADD COLUMN n int; UPDATE users SET n = 1'],
      ['safe', 'CREATE TABLE p (id int); CREATE TABLE c (id int); ALTER TABLE c INHERIT p; DELETE FROM p'],
      [
        'safe',
        'CREATE TABLE p (id int) PARTITION BY RANGE (id); CREATE TABLE c (id int); ALTER TABLE p ATTACH PARTITION c DEFAULT; DELETE FROM p',
      ],
    ])
  })
})

describe('catalogs that hold credentials or server files', () => {
  it('classifies a read of them, anywhere in a statement, as destructive', () => {
    expectTiers([
      ['destructive', 'SELECT rolname, rolpassword FROM pg_authid'],
      ['destructive', 'SELECT * FROM pg_catalog.pg_shadow'],
      ['destructive', 'SELECT * FROM (SELECT * FROM pg_user_mappings) s'],
      ['destructive', 'WITH x AS (SELECT * FROM pg_file_settings) SELECT * FROM x'],
      ['destructive', 'SELECT 1 WHERE EXISTS (SELECT 1 FROM pg_hba_file_rules)'],
      ['destructive', 'COPY pg_authid TO STDOUT'],
      ['destructive', 'COPY (SELECT subconninfo FROM pg_subscription) TO STDOUT'],
      ['destructive', 'CREATE VIEW v AS SELECT * FROM pg_authid'],
      ['destructive', "SELECT table_to_xml('pg_authid', true, true, '')"],
      ['destructive', "SELECT schema_to_xml('pg_catalog', true, true, '')"],
    ])
  })

  it('leaves the catalogs that mask them safe (near misses)', () => {
    expectTiers([
      ['safe', 'SELECT rolname FROM pg_roles'],
      ['safe', 'SELECT name, setting FROM pg_settings'],
      ['safe', 'SELECT srvname FROM pg_foreign_server'],
      ['safe', 'SELECT * FROM myapp.pg_authid'],
      ['safe', "SELECT 'pg_authid'::regclass"],
      ['safe', 'SELECT pid, state FROM pg_stat_activity'],
    ])
  })
})

describe("the tool's own schema cannot be planted or renamed into", () => {
  it('classifies objects created in ddl_undo, a schema renamed onto it, and indexes on tool tables as destructive', () => {
    expectTiers([
      ['destructive', 'CREATE SCHEMA x; ALTER SCHEMA x RENAME TO ddl_undo'],
      [
        'destructive',
        'CREATE FUNCTION ddl_undo.keep_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$',
      ],
      ['destructive', 'CREATE TYPE ddl_undo.t AS (a int)'],
      ['destructive', 'CREATE SEQUENCE ddl_undo.s'],
      ['destructive', 'CREATE DOMAIN ddl_undo.d AS int'],
      ['destructive', 'CREATE INDEX ON ddl_migrations ((1 / 0))'],
    ])
  })

  it('leaves the same statements elsewhere as they were (near misses)', () => {
    expectTiers([
      ['safe', "CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1'"],
      ['safe', 'CREATE SEQUENCE s'],
      ['safe', 'ALTER SCHEMA app RENAME TO app2'],
      ['safe', "CREATE FUNCTION ddl_undo_x.f() RETURNS int LANGUAGE sql AS 'SELECT 1'"],
    ])
  })
})

describe('writes through a foreign table reach another server, outside every check', () => {
  const ft = "CREATE FOREIGN TABLE ft (id int, name text) SERVER loop OPTIONS (table_name 'users'); "
  it('classifies DELETE, UPDATE, TRUNCATE of a foreign table the script made, also inside a function, as destructive', () => {
    expectTiers([
      ['destructive', `${ft}DELETE FROM ft WHERE id > 0`],
      ['destructive', `${ft}UPDATE ft SET name = 'x' WHERE id = 1`],
      ['destructive', `${ft}TRUNCATE ft`],
      [
        'destructive',
        `${ft}CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ DELETE FROM ft WHERE id > 0 RETURNING 1 $$; SELECT f()`,
      ],
      [
        'destructive',
        "IMPORT FOREIGN SCHEMA public FROM SERVER loop INTO remote; UPDATE remote.users SET name = 'x' WHERE id = 1",
      ],
      [
        'destructive',
        'IMPORT FOREIGN SCHEMA public LIMIT TO (users) FROM SERVER loop INTO remote; DELETE FROM remote.users WHERE id = 1',
      ],
      ['cautious', `${ft}INSERT INTO ft VALUES (1, 'x')`],
    ])
  })

  it('leaves reads of it, and writes to other tables, as they were (near misses)', () => {
    expectTiers([
      ['safe', `${ft}SELECT * FROM ft`],
      [
        'safe',
        'IMPORT FOREIGN SCHEMA public LIMIT TO (users) FROM SERVER loop INTO remote; SELECT * FROM remote.users',
      ],
      [
        'cautious',
        'IMPORT FOREIGN SCHEMA public LIMIT TO (users) FROM SERVER loop INTO remote; DELETE FROM logs WHERE id = 1',
      ],
    ])
  })
})
