/**
 * Attempts to get destructive work past the gate, end to end through PostgresAPI on a real
 * Postgres. Each test names the attack; each asserts the call was refused (or did nothing harmful)
 * and that the data is still there afterwards. docs/security.md lists them with their outcomes.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { direct, harness, tableRows } from './support.js'

const database = testDatabase('bypass')

beforeEach(async () => {
  await direct(
    database.url,
    `DROP TABLE IF EXISTS users, logs CASCADE;
     CREATE TABLE users (id int PRIMARY KEY, name text);
     INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 5) g;
     CREATE TABLE logs (id serial PRIMARY KEY, line text);`,
  )
})

async function usersIntact(): Promise<void> {
  expect(await tableRows(database.url, 'users')).toBe(5)
}

async function refusedByExecute(sql: string): Promise<string> {
  const { db } = harness(database)
  const result = await db.execute(sql)
  expect(result.isErr(), `execute() ran: ${sql}`).toBe(true)
  await usersIntact()
  return result.isErr() ? result.error.kind : ''
}

async function refusedByQuery(sql: string): Promise<string> {
  const { db } = harness(database)
  const result = await db.query(sql)
  expect(result.isErr(), `query() ran: ${sql}`).toBe(true)
  await usersIntact()
  return result.isErr() ? result.error.kind : ''
}

describe('transaction control smuggled before a DROP', () => {
  for (const verb of ['COMMIT', 'ROLLBACK', 'END', 'ABORT', 'COMMIT AND CHAIN', 'PREPARE TRANSACTION $$x$$']) {
    it(`refuses "${verb}; DROP TABLE users" in execute()`, async () => {
      expect(await refusedByExecute(`${verb}; DROP TABLE users`)).toBe('SafetyError')
    })
  }

  it('refuses "COMMIT; DROP SCHEMA public CASCADE" sent as a read-only query', async () => {
    await refusedByQuery('COMMIT; DROP SCHEMA public CASCADE')
  })
})

describe('a second statement hidden in the same string', () => {
  it('refuses "SELECT 1; DROP TABLE users" in execute() and query()', async () => {
    expect(await refusedByExecute('SELECT 1; DROP TABLE users')).toBe('SafetyError')
    await refusedByQuery('SELECT 1; DROP TABLE users')
  })

  it('refuses "SELECT \'--\'; DROP TABLE users" (defeats comment-stripping checks)', async () => {
    expect(await refusedByExecute("SELECT '--'; DROP TABLE users")).toBe('SafetyError')
    await refusedByQuery("SELECT '--'; DROP TABLE users")
  })

  it('refuses DROP behind block and line comments', async () => {
    expect(await refusedByExecute('/* harmless */ DROP TABLE users')).toBe('SafetyError')
    expect(await refusedByExecute('-- SELECT 1\nDROP TABLE users')).toBe('SafetyError')
    expect(await refusedByExecute('SELECT 1 /* ; */ ; DROP TABLE users')).toBe('SafetyError')
  })

  it('refuses DROP after a dollar-quoted string that contains a semicolon', async () => {
    expect(await refusedByExecute('SELECT $$ ; $$; DROP TABLE users')).toBe('SafetyError')
    expect(await refusedByExecute('SELECT $tag$ $$; $tag$; DROP TABLE users')).toBe('SafetyError')
  })

  it("keeps an E'' string whole: the 'second statement' inside it is text, and nothing is dropped", async () => {
    const { db } = harness(database)
    const result = await db.execute("SELECT E'\\'; DROP TABLE users; --'")
    expect(result.isOk()).toBe(true)
    await usersIntact()
  })

  it('refuses a DROP whose table name is written with Unicode escapes', async () => {
    expect(await refusedByExecute('DROP TABLE U&"\\0075sers"')).toBe('SafetyError')
  })
})

describe('work hidden inside other statements', () => {
  it('refuses a DO block with dynamic SQL', async () => {
    expect(await refusedByExecute("DO $$ BEGIN EXECUTE 'DROP ' || 'TABLE users'; END $$")).toBe('SafetyError')
    expect(await refusedByExecute("DO $$ BEGIN EXECUTE format('DELETE FROM %I', 'users'); END $$")).toBe('SafetyError')
  })

  it('refuses a DO block with a static DELETE or a constant EXECUTE string', async () => {
    expect(await refusedByExecute('DO $$ BEGIN DELETE FROM users; END $$')).toBe('SafetyError')
    expect(await refusedByExecute("DO $$ BEGIN EXECUTE 'TRUNCATE users'; END $$")).toBe('SafetyError')
  })

  it('refuses PREPARE of a DELETE, and EXECUTE of a statement prepared elsewhere', async () => {
    expect(await refusedByExecute('PREPARE wipe AS DELETE FROM users')).toBe('SafetyError')
    expect(await refusedByExecute('EXECUTE wipe')).toBe('SafetyError')
  })

  it('refuses EXPLAIN ANALYZE DELETE (it executes the DELETE)', async () => {
    expect(await refusedByExecute('EXPLAIN ANALYZE DELETE FROM users')).toBe('SafetyError')
    await refusedByQuery('EXPLAIN ANALYZE DELETE FROM users')
    await refusedByQuery('EXPLAIN (ANALYZE, BUFFERS) DELETE FROM users')
  })

  it('refuses a data-modifying CTE passed to query()', async () => {
    await refusedByQuery('WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d')
    await refusedByQuery("WITH u AS (UPDATE users SET name = 'x' RETURNING 1) SELECT 1")
  })

  it('refuses a rule created in a "safe" batch that deletes later', async () => {
    expect(
      await refusedByExecute('CREATE TABLE t1 (x int); CREATE RULE r AS ON INSERT TO logs DO ALSO DELETE FROM users'),
    ).toBe('SafetyError')
  })

  it('refuses a trigger created in a "safe" batch whose function deletes later', async () => {
    expect(
      await refusedByExecute(
        'CREATE FUNCTION purge() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM users; RETURN NEW; END $$;\n' +
          'CREATE TRIGGER purge_on_log AFTER INSERT ON logs FOR EACH ROW EXECUTE FUNCTION purge()',
      ),
    ).toBe('SafetyError')
  })
})

describe('side-effecting functions', () => {
  it('refuses a side-effecting function in a SELECT passed to query()', async () => {
    await refusedByQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()')
    await refusedByQuery('SELECT lo_unlink(1)')
  })

  it('refuses a dangerous function in the FROM clause, not just the select list', async () => {
    await refusedByQuery("SELECT * FROM pg_read_file('/etc/passwd')")
    await refusedByQuery("SELECT * FROM pg_ls_dir('.')")
  })

  it('refuses set_config through a SELECT', async () => {
    await refusedByQuery("SELECT set_config('session_replication_role', 'replica', false)")
    await refusedByQuery("SELECT set_config('default_transaction_read_only', 'off', false)")
    expect(await refusedByExecute("SELECT set_config('session_replication_role', 'replica', true)")).toBe('SafetyError')
  })

  it('refuses a rehearsal of a statement whose effect a rollback cannot undo', async () => {
    await withClient(database.url, async (victim) => {
      const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
      const { db } = harness(database)
      const result = await db.execute(`SELECT pg_terminate_backend(${pid})`, { rehearse: true })
      expect(result.isErr()).toBe(true)
      // The victim's session is still alive.
      const alive = await victim.query<{ one: number }>('SELECT 1 AS one')
      expect(alive.rows[0]?.one).toBe(1)
    })
  })
})

describe('settings and roles', () => {
  it('refuses SET ROLE, session_replication_role and read-only tricks without confirm', async () => {
    expect(await refusedByExecute('SET ROLE postgres')).toBe('SafetyError')
    expect(await refusedByExecute('SET session_replication_role = replica')).toBe('SafetyError')
    expect(await refusedByExecute('SET default_transaction_read_only = off')).toBe('SafetyError')
  })

  it('refuses read-only escapes passed to query()', async () => {
    await refusedByQuery('SET TRANSACTION READ WRITE')
    await refusedByQuery('SET default_transaction_read_only = off')
    await refusedByQuery('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE')
  })

  it('refuses COPY ... PROGRAM and COPY from a server file', async () => {
    expect(await refusedByExecute("COPY users TO PROGRAM 'cat > /tmp/x'")).toBe('SafetyError')
    expect(await refusedByExecute("COPY users FROM '/etc/hostname'")).toBe('SafetyError')
  })
})

describe('comments and flags in SQL never open the gate', () => {
  it('ignores text that claims an override', async () => {
    expect(await refusedByExecute('-- iKnowWhatImDoing: true\n/* confirm=true */ DROP TABLE users')).toBe('SafetyError')
    expect(await refusedByExecute('-- safe-ddl-ignore: drop-table\nDROP TABLE users')).toBe('SafetyError')
  })
})

describe('what a rehearsal leaves on its connection', () => {
  it('leaves no prepared statement or session advisory lock behind for the next caller', async () => {
    const { db } = harness(database)
    const rehearsal = await db.execute('PREPARE kept AS SELECT 1; SELECT pg_advisory_lock(4242)', { rehearse: true })
    expect(rehearsal.isOk()).toBe(true)
    // The next call reuses the pooled connection: nothing of the rehearsal may remain on it.
    const prepared = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_prepared_statements')
    expect(prepared._unsafeUnwrap().rows[0]?.n).toBe('0')
    const locks = await direct<{ n: string }>(
      database.url,
      "SELECT count(*)::text AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242",
    )
    expect(locks[0]?.n).toBe('0')
  })
})
