import { type ClassifyOptions, classify, newMigrationHistory, profileOptions } from '@ddl/classifier'

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
  'tool-owned-table': {
    fires:
      "INSERT INTO ddl_migrations (name, checksum, duration_ms, tier, applied_by, transactional) VALUES ('002_drop.sql', repeat('0', 64), 0, 'safe', 'ada', true)",
    nearMiss: 'SELECT name, applied_at FROM ddl_migrations',
  },
  truncate: { fires: 'TRUNCATE sessions', nearMiss: 'DELETE FROM sessions WHERE id = 1' },
  'delete-without-where': { fires: 'DELETE FROM users', nearMiss: 'DELETE FROM users WHERE id = 42' },
  'delete-with-where': { fires: 'DELETE FROM users WHERE id = 42', nearMiss: 'DELETE FROM users WHERE 1 = 1' },
  'update-without-where': {
    fires: "UPDATE users SET name = 'x'",
    nearMiss: "UPDATE users SET name = 'x' WHERE id = 1",
  },
  'update-inherited-column': {
    fires: "ALTER TABLE users ADD COLUMN plan text; UPDATE users SET plan = 'free'",
    nearMiss: "ALTER TABLE users ADD COLUMN plan text; UPDATE ONLY users SET plan = 'free'",
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
  'catalog-write': {
    fires: "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
    nearMiss: "UPDATE settings SET value = 'off' WHERE name = 'dark_mode'",
  },
  'secret-catalog': {
    fires: 'SELECT rolname, rolpassword FROM pg_authid',
    nearMiss: 'SELECT rolname FROM pg_roles',
  },
  'foreign-server-file': {
    fires: "CREATE FOREIGN TABLE ft (line text) SERVER files OPTIONS (program 'cat /etc/passwd')",
    nearMiss: "CREATE FOREIGN TABLE ft (line text) SERVER remote OPTIONS (table_name 'lines')",
  },
  'superuser-extension': { fires: 'CREATE EXTENSION dblink', nearMiss: 'CREATE EXTENSION pgcrypto' },
  'drop-identity': {
    fires: 'ALTER TABLE orders ALTER COLUMN id DROP IDENTITY',
    nearMiss: 'ALTER TABLE orders ALTER COLUMN id SET GENERATED BY DEFAULT',
  },
  'sequence-restart': {
    fires: 'ALTER SEQUENCE orders_id_seq RESTART WITH 1',
    nearMiss: 'ALTER SEQUENCE orders_id_seq CACHE 10',
  },
  'deferred-code': {
    fires: 'CREATE VIEW v AS SELECT id, purge(id) FROM t; SELECT * FROM v',
    nearMiss: 'CREATE VIEW v AS SELECT id, lower(name) FROM t; SELECT * FROM v',
  },
  'replace-function': {
    fires: 'CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DELETE FROM t $$',
    nearMiss: 'CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
  },
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
  // Hazard rules (locks, rewrites, broken clients): they never change the tier.
  'add-index-without-concurrently': {
    fires: 'CREATE INDEX users_email_idx ON users (email)',
    nearMiss: 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email)',
  },
  'drop-index-without-concurrently': {
    fires: 'DROP INDEX users_email_idx',
    nearMiss: 'DROP INDEX CONCURRENTLY users_email_idx',
  },
  'concurrently-in-transaction': {
    fires: 'BEGIN; CREATE INDEX CONCURRENTLY users_email_idx ON users (email)',
    nearMiss: "SET lock_timeout = '5s'; CREATE INDEX CONCURRENTLY users_email_idx ON users (email)",
  },
  'add-foreign-key-without-not-valid': {
    fires: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)',
    nearMiss: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID',
  },
  'add-check-without-not-valid': {
    fires: 'ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0)',
    nearMiss: 'ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0) NOT VALID',
  },
  'validate-constraint-in-same-transaction': {
    fires:
      'ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0) NOT VALID; ALTER TABLE users VALIDATE CONSTRAINT users_age_check',
    nearMiss: 'ALTER TABLE users VALIDATE CONSTRAINT users_age_check',
  },
  'add-unique-without-index': {
    fires: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)',
    nearMiss: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx',
  },
  'add-exclusion-constraint': {
    fires: 'ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)',
    nearMiss: 'CREATE TABLE bookings (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&))',
  },
  'set-not-null-without-check': {
    fires: 'ALTER TABLE users ALTER COLUMN email SET NOT NULL',
    nearMiss:
      'ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL); ALTER TABLE users ALTER COLUMN email SET NOT NULL',
  },
  'alter-column-type-rewrite': {
    fires: 'ALTER TABLE users ALTER COLUMN id TYPE bigint',
    nearMiss: 'ALTER TABLE users ALTER COLUMN email TYPE varchar(320)',
  },
  'add-column-with-volatile-default': {
    fires: 'ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()',
    nearMiss: 'ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true',
  },
  'add-stored-generated-column': {
    fires: 'ALTER TABLE users ADD COLUMN email_lower text GENERATED ALWAYS AS (lower(email)) STORED',
    nearMiss: 'CREATE TABLE users (email text, email_lower text GENERATED ALWAYS AS (lower(email)) STORED)',
  },
  'set-logged-or-unlogged': {
    fires: 'ALTER TABLE events SET LOGGED',
    nearMiss: 'CREATE UNLOGGED TABLE events (id bigint)',
  },
  'vacuum-full': { fires: 'VACUUM FULL users', nearMiss: 'VACUUM (ANALYZE) users' },
  cluster: { fires: 'CLUSTER users USING users_pkey', nearMiss: 'ALTER TABLE users CLUSTER ON users_pkey' },
  'reindex-without-concurrently': {
    fires: 'REINDEX INDEX users_email_idx',
    nearMiss: 'REINDEX INDEX CONCURRENTLY users_email_idx',
  },
  'lock-table': { fires: 'LOCK TABLE users', nearMiss: 'LOCK TABLE users IN ACCESS SHARE MODE' },
  'rename-table': {
    fires: 'ALTER TABLE users RENAME TO people',
    nearMiss: 'CREATE TABLE staging (id int); ALTER TABLE staging RENAME TO imports',
  },
  'rename-column': {
    fires: 'ALTER TABLE users RENAME COLUMN name TO full_name',
    nearMiss: 'ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_id_pkey',
  },
  'drop-column-breaks-clients': {
    fires: 'ALTER TABLE users DROP COLUMN phone',
    nearMiss: 'CREATE TABLE t (a int, b int); ALTER TABLE t DROP COLUMN b',
  },
  'multiple-access-exclusive': {
    fires: 'ALTER TABLE users ADD COLUMN a int; ALTER TABLE users ADD COLUMN b int',
    nearMiss: 'ALTER TABLE users ADD COLUMN a int, ADD COLUMN b int',
  },
  'missing-lock-timeout': {
    fires: 'ALTER TABLE users ADD COLUMN phone text',
    nearMiss: "SET lock_timeout = '5s'; ALTER TABLE users ADD COLUMN phone text",
  },
  'prefer-bigint-over-int': {
    fires: 'CREATE TABLE users (id int PRIMARY KEY)',
    nearMiss: 'CREATE TABLE users (id bigint PRIMARY KEY, age int)',
  },
  'prefer-identity': {
    fires: 'CREATE TABLE users (id bigserial PRIMARY KEY)',
    nearMiss: 'CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY)',
  },
  'prefer-text-field': {
    fires: 'CREATE TABLE users (email varchar(255))',
    nearMiss: 'CREATE TABLE users (email text)',
  },
  'prefer-timestamptz': {
    fires: 'CREATE TABLE events (at timestamp)',
    nearMiss: 'CREATE TABLE events (at timestamptz)',
  },
  'adding-required-field': {
    fires: 'ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL',
    nearMiss: 'ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL DEFAULT 1',
  },
  'prefer-jsonb': { fires: 'CREATE TABLE events (payload json)', nearMiss: 'CREATE TABLE events (payload jsonb)' },
  'ban-char-field': {
    fires: 'CREATE TABLE countries (code char(2))',
    nearMiss: 'CREATE TABLE countries (code text)',
  },
  'ban-drop-not-null': {
    fires: 'ALTER TABLE users ALTER COLUMN email DROP NOT NULL',
    nearMiss: 'ALTER TABLE users ALTER COLUMN email DROP DEFAULT',
  },
  'rename-enum-value': {
    fires: "ALTER TYPE order_status RENAME VALUE 'shipped' TO 'dispatched'",
    nearMiss: "ALTER TYPE order_status ADD VALUE 'dispatched'",
  },
  'rename-schema': {
    fires: 'ALTER SCHEMA billing RENAME TO accounts',
    nearMiss: 'ALTER SCHEMA billing OWNER TO finance',
  },
  'adding-domain-constraint': {
    fires: "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%')",
    nearMiss: "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%') NOT VALID",
  },
  'transaction-nesting': {
    fires: 'BEGIN; ALTER TABLE users ADD COLUMN note text; COMMIT',
    nearMiss: 'SAVEPOINT before_backfill',
  },
  'add-foreign-key-column-with-default': {
    fires: 'ALTER TABLE comment ADD COLUMN language_id integer NOT NULL DEFAULT 0 REFERENCES language',
    nearMiss: 'ALTER TABLE comment ADD COLUMN language_id integer REFERENCES language',
  },
  'alter-column-type-narrowing': {
    fires: 'ALTER TABLE users ALTER COLUMN name TYPE varchar(10)',
    nearMiss: 'ALTER TABLE users ALTER COLUMN name TYPE varchar(200)',
  },
  'alter-column-type-unknown-old-type': {
    fires: 'ALTER TABLE users ALTER COLUMN name TYPE varchar(10)',
    nearMiss: 'CREATE TABLE users (name varchar(10)); ALTER TABLE users ALTER COLUMN name TYPE varchar(100)',
  },
  'identifier-too-long': {
    fires: 'CREATE INDEX idx_community_aggregates_users_active_monthly_and_published_desc ON t (a)',
    nearMiss: 'CREATE INDEX idx_community_aggregates_users_active_monthly ON t (a)',
  },
  'supabase-policy-always-true': {
    fires: 'CREATE POLICY "anyone can update" ON notes FOR UPDATE TO anon USING (true)',
    nearMiss: 'CREATE POLICY "own notes" ON notes FOR UPDATE TO authenticated USING (user_id = auth.uid())',
  },
  'supabase-function-search-path': {
    fires: 'CREATE FUNCTION public.is_admin() RETURNS boolean LANGUAGE sql SECURITY DEFINER AS $$ SELECT true $$',
    nearMiss:
      "CREATE FUNCTION public.is_admin() RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$ SELECT true $$",
  },
  'supabase-view-bypasses-rls': {
    fires:
      'CREATE TABLE notes (id int); ALTER TABLE notes ENABLE ROW LEVEL SECURITY; CREATE VIEW note_ids AS SELECT id FROM notes',
    nearMiss:
      'CREATE TABLE notes (id int); ALTER TABLE notes ENABLE ROW LEVEL SECURITY; CREATE VIEW note_ids WITH (security_invoker = true) AS SELECT id FROM notes',
  },
  'supabase-rls-disabled-in-public': {
    fires: 'CREATE TABLE notes (id bigint PRIMARY KEY, body text)',
    nearMiss: 'CREATE TABLE notes (id bigint PRIMARY KEY, body text); ALTER TABLE notes ENABLE ROW LEVEL SECURITY',
  },
  'supabase-anon-security-definer': {
    fires:
      "CREATE FUNCTION public.get_secret() RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$ SELECT 'x' $$",
    nearMiss:
      "CREATE FUNCTION public.get_secret() RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$ SELECT 'x' $$; REVOKE EXECUTE ON FUNCTION public.get_secret() FROM public, anon",
  },
}

/**
 * Options a case is classified with: the Supabase rules speak only under the Supabase profile, and
 * `alter-column-type-narrowing` needs an earlier migration (`CREATE TABLE users (name varchar(100))`).
 * Call after `init()`.
 */
export function caseOptions(id: string): ClassifyOptions {
  if (id.startsWith('supabase-')) return profileOptions('supabase')
  if (id === 'alter-column-type-narrowing') {
    const history = newMigrationHistory()
    classify('CREATE TABLE users (name varchar(100))', { history })
    return { history }
  }
  return {}
}
