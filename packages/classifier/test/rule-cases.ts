/** Shared by the rule tests and the generated rule pages in docs/rules. */
/** For each rule: SQL it fires on, and a near miss it must not fire on. */
export const cases: Record<string, { fires: string; nearMiss: string }> = {
  'drop-database': { fires: 'DROP DATABASE shop', nearMiss: 'CREATE DATABASE shop' },
  'drop-schema': { fires: 'DROP SCHEMA billing', nearMiss: 'CREATE SCHEMA billing' },
  'drop-table': { fires: 'DROP TABLE users', nearMiss: 'DROP INDEX users_email_idx' },
  'drop-function': {
    fires: 'DROP FUNCTION f(int)',
    nearMiss: 'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
  },
  'drop-object': { fires: 'DROP SEQUENCE order_seq', nearMiss: 'DROP TABLE t' },
  'drop-index': { fires: 'DROP INDEX users_email_idx', nearMiss: 'CREATE INDEX i ON t (x)' },
  'drop-trigger': { fires: 'DROP TRIGGER audit ON orders', nearMiss: 'DROP INDEX i' },
  cascade: { fires: 'DROP TABLE users CASCADE', nearMiss: 'DROP TABLE users RESTRICT' },
  truncate: { fires: 'TRUNCATE sessions', nearMiss: 'DELETE FROM sessions WHERE id = 1' },
  'delete-without-where': { fires: 'DELETE FROM users', nearMiss: 'DELETE FROM users WHERE id = 42' },
  'delete-with-where': { fires: 'DELETE FROM users WHERE id = 42', nearMiss: 'DELETE FROM users WHERE 1 = 1' },
  'update-without-where': {
    fires: "UPDATE users SET name = 'x'",
    nearMiss: "UPDATE users SET name = 'x' WHERE id = 1",
  },
  'update-with-where': {
    fires: "UPDATE users SET name = 'x' WHERE id = 1",
    nearMiss: "UPDATE users SET name = 'x' WHERE true",
  },
  merge: {
    fires: 'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE',
    nearMiss: 'INSERT INTO t SELECT * FROM s',
  },
  upsert: {
    fires: 'INSERT INTO t (id, x) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET x = 2',
    nearMiss: 'INSERT INTO t (id, x) VALUES (1, 2) ON CONFLICT DO NOTHING',
  },
  'drop-column': { fires: 'ALTER TABLE users DROP COLUMN phone', nearMiss: 'ALTER TABLE users ADD COLUMN phone text' },
  'drop-constraint': {
    fires: 'ALTER TABLE users DROP CONSTRAINT users_email_key',
    nearMiss: 'ALTER TABLE users ADD CONSTRAINT c CHECK (id > 0)',
  },
  'drop-domain-constraint': {
    fires: 'ALTER DOMAIN email DROP CONSTRAINT email_check',
    nearMiss: 'ALTER DOMAIN email SET NOT NULL',
  },
  'alter-column-type': {
    fires: 'ALTER TABLE t ALTER COLUMN x TYPE bigint',
    nearMiss: 'ALTER TABLE t ALTER COLUMN x SET DEFAULT 0',
  },
  'alter-column-type-discards-values': {
    fires: 'ALTER TABLE t ALTER COLUMN x TYPE int USING 0',
    nearMiss: 'ALTER TABLE t ALTER COLUMN x TYPE int USING x::int',
  },
  'disable-trigger': { fires: 'ALTER TABLE t DISABLE TRIGGER ALL', nearMiss: 'ALTER TABLE t ENABLE TRIGGER ALL' },
  'disable-row-level-security': {
    fires: 'ALTER TABLE t DISABLE ROW LEVEL SECURITY',
    nearMiss: 'ALTER TABLE t ENABLE ROW LEVEL SECURITY',
  },
  'set-unlogged': { fires: 'ALTER TABLE t SET UNLOGGED', nearMiss: 'ALTER TABLE t SET LOGGED' },
  'detach-partition': {
    fires: 'ALTER TABLE p DETACH PARTITION p1',
    nearMiss: 'ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1)',
  },
  'change-owner': { fires: 'ALTER TABLE t OWNER TO bob', nearMiss: 'ALTER TABLE t RENAME TO u' },
  'unknown-alter-table-action': {
    fires: "ALTER FOREIGN TABLE ft ALTER COLUMN c OPTIONS (ADD colname 'x')",
    nearMiss: 'ALTER TABLE t ADD COLUMN x int',
  },
  'dangerous-function': { fires: 'SELECT pg_terminate_backend(123)', nearMiss: 'SELECT pg_backend_pid()' },
  'unknown-function': { fires: 'SELECT my_cleanup()', nearMiss: 'SELECT lower(name) FROM users' },
  'call-destructive-function': {
    fires: 'CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM t $$; SELECT wipe()',
    nearMiss: 'CREATE FUNCTION one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; SELECT one()',
  },
  'function-body': { fires: '', nearMiss: 'SELECT 1' },
  'security-definer': {
    fires: 'CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$',
    nearMiss: 'CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY INVOKER AS $$ SELECT 1 $$',
  },
  prepare: { fires: '', nearMiss: 'PREPARE p AS SELECT 1' },
  'execute-prepared': { fires: 'EXECUTE someone_elses_plan', nearMiss: 'PREPARE q AS SELECT 1; EXECUTE q' },
  'copy-server-file': { fires: "COPY t FROM '/etc/passwd'", nearMiss: 'COPY t FROM STDIN' },
  'alter-system': { fires: "ALTER SYSTEM SET work_mem = '1GB'", nearMiss: "SET work_mem = '64MB'" },
  'load-library': { fires: "LOAD 'auto_explain'", nearMiss: 'LISTEN jobs' },
  'role-superuser': { fires: 'CREATE ROLE boss SUPERUSER', nearMiss: 'CREATE ROLE reader NOLOGIN' },
  'create-role': { fires: 'CREATE ROLE reader NOLOGIN', nearMiss: 'CREATE SCHEMA reader' },
  'drop-role': { fires: 'DROP ROLE reader', nearMiss: 'CREATE ROLE reader' },
  'drop-owned': { fires: 'DROP OWNED BY reader', nearMiss: 'DROP OWNED BY reader' },
  'reassign-owned': { fires: 'REASSIGN OWNED BY a TO b', nearMiss: 'ALTER TABLE t ADD COLUMN y int' },
  'grant-dangerous-role': { fires: 'GRANT pg_execute_server_program TO app', nearMiss: 'GRANT reader TO app' },
  'grant-or-revoke': { fires: 'GRANT SELECT ON users TO reader', nearMiss: 'COMMENT ON TABLE users IS $$people$$' },
  'set-role': { fires: 'SET ROLE admin', nearMiss: "SET search_path = 'app'" },
  'lexer-setting': { fires: 'SET standard_conforming_strings = off', nearMiss: 'SET standard_conforming_strings = on' },
  'unsafe-setting': {
    fires: 'SET session_replication_role = replica',
    nearMiss: 'SET default_transaction_read_only = on',
  },
  'security-change': { fires: 'CREATE POLICY p ON t USING (true)', nearMiss: 'CREATE INDEX ON t (x)' },
  'server-change': { fires: 'CREATE PUBLICATION pub FOR ALL TABLES', nearMiss: 'CREATE TABLE pub (id int)' },
  'create-rule': { fires: 'CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING', nearMiss: 'CREATE VIEW v AS SELECT 1' },
  'create-trigger': {
    fires: 'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION somewhere()',
    nearMiss:
      'CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$; CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()',
  },
  'unknown-statement': { fires: '', nearMiss: 'SELECT 1' },
  'dynamic-sql': {
    fires: "DO $$ BEGIN EXECUTE 'DROP TABLE ' || 'users'; END $$",
    nearMiss: "DO $$ BEGIN EXECUTE 'SELECT 1'; END $$",
  },
  'unreadable-body': {
    fires: 'CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ return 1 $$',
    nearMiss: 'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
  },
}
