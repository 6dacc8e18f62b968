import { unwrap } from '@ddl/executor'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { direct, type Harness, harness, tableRows } from './support.js'

const database = testDatabase('rehearse')
let h: Harness

/** Everything about the user schema that a rehearsal must leave as it was. */
async function fingerprint(): Promise<unknown> {
  return direct(
    database.url,
    `SELECT c.relname, c.relkind, c.relfilenode, (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped) AS columns
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' ORDER BY c.relname`,
  )
}

beforeAll(async () => {
  h = harness(database)
  await direct(
    database.url,
    `CREATE TABLE users (id int PRIMARY KEY, name text);
     INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 500) g;
     CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users(id));
     INSERT INTO orders SELECT g, g FROM generate_series(1, 120) g;
     CREATE TABLE order_notes (id int PRIMARY KEY, order_id int REFERENCES orders(id));
     INSERT INTO order_notes SELECT g, g FROM generate_series(1, 7) g;
     CREATE VIEW active_users AS SELECT id, name FROM users WHERE id > 10;
     CREATE VIEW user_names AS SELECT name FROM active_users;`,
  )
})

describe('rehearsal', () => {
  it('reports the rows a DELETE would remove and leaves no trace', async () => {
    const before = await fingerprint()
    const result = await unwrap(h.db.execute('DELETE FROM order_notes WHERE id <= 5', { rehearse: true }))
    expect(result.mode).toBe('rehearsal')
    expect(result.rolledBack).toBe(true)
    expect(result.statements[0]).toMatchObject({ rowCount: 5, rehearsed: true })
    expect(result.statements[0]?.locks).toContainEqual({ relation: 'public.order_notes', mode: 'RowExclusiveLock' })
    expect(await tableRows(database.url, 'order_notes')).toBe(7)
    expect(await fingerprint()).toEqual(before)
  })

  it('says how many rows a DROP TABLE would take with it, and drops nothing', async () => {
    const result = await unwrap(h.db.execute('DROP TABLE order_notes', { rehearse: true }))
    if (result.mode !== 'rehearsal') throw new Error('expected a rehearsal')
    expect(result.statements[0]?.droppedRows).toEqual([{ relation: 'public.order_notes', rows: 7 }])
    expect(result.message).toContain('loses public.order_notes with its 7 rows')
    expect(await tableRows(database.url, 'order_notes')).toBe(7)
  })

  it('needs no flag for destructive SQL and says which flag a real run needs', async () => {
    const result = await unwrap(h.db.execute('DROP TABLE users CASCADE', { rehearse: true }))
    expect(result.tier).toBe('destructive')
    expect(result.message).toContain('To run it for real: iKnowWhatImDoing: true')
    expect(await unwrap(h.db.tableExists('users'))).toBe(true)
  })

  it('lists the dependents DROP ... CASCADE would take too, from pg_depend', async () => {
    const before = await fingerprint()
    const result = await unwrap(h.db.execute('DROP TABLE users CASCADE', { rehearse: true }))
    const statement = result.statements[0]
    expect(statement?.cascades).toEqual([
      'constraint orders_user_id_fkey on table orders',
      'view active_users',
      'view user_names',
    ])
    expect(statement?.dropped).toEqual([
      'public.active_users',
      'public.user_names',
      'public.users',
      'public.users_pkey',
    ])
    expect(statement?.locks).toContainEqual({ relation: 'public.users', mode: 'AccessExclusiveLock' })
    expect(result.message).toContain('CASCADE also takes: constraint orders_user_id_fkey on table orders')
    expect(await fingerprint()).toEqual(before)
  })

  it('counts the rows TRUNCATE ... CASCADE would remove from every table it reaches', async () => {
    const result = await unwrap(h.db.execute('TRUNCATE users CASCADE', { rehearse: true }))
    const statement = result.statements[0]
    expect(statement?.truncated).toEqual([
      { relation: 'public.users', rows: 500 },
      { relation: 'public.orders', rows: 120 },
      { relation: 'public.order_notes', rows: 7 },
    ])
    expect(statement?.cascades).toEqual([
      'table public.orders (120 rows, truncated by CASCADE)',
      'table public.order_notes (7 rows, truncated by CASCADE)',
    ])
    expect(statement?.rewritten).toEqual(
      expect.arrayContaining(['public.users', 'public.orders', 'public.order_notes']),
    )
    expect(await tableRows(database.url, 'users')).toBe(500)
  })

  it('shows that a column type change rewrites the table and its indexes', async () => {
    const result = await unwrap(h.db.execute('ALTER TABLE orders ALTER COLUMN id TYPE bigint', { rehearse: true }))
    expect(result.statements[0]?.rewritten).toEqual(['public.orders', 'public.orders_pkey'])
    expect(result.statements[0]?.dropped).toEqual([])
    expect(result.statements[0]?.created).toEqual([])
    // The foreign key from order_notes is rebuilt too: that table is locked as well.
    expect(result.statements[0]?.locks).toEqual(
      expect.arrayContaining([
        { relation: 'public.orders', mode: 'AccessExclusiveLock' },
        { relation: 'public.order_notes', mode: 'AccessExclusiveLock' },
      ]),
    )
    const schema = await unwrap(h.db.getSchema('orders'))
    expect(schema.columns[0]?.type).toBe('integer')
  })

  it('shows that adding a nullable column rewrites nothing', async () => {
    const result = await unwrap(h.db.execute('ALTER TABLE orders ADD COLUMN note text', { rehearse: true }))
    expect(result.statements[0]?.rewritten).toEqual([])
  })

  it('reports each statement of a script on its own, later ones seeing earlier ones', async () => {
    const result = await unwrap(
      h.db.execute('CREATE TABLE scratch (id int);\nINSERT INTO scratch SELECT generate_series(1, 3)', {
        rehearse: true,
      }),
    )
    expect(result.statements.map((s) => [s.line, s.created, s.rowCount])).toEqual([
      [1, ['public.scratch'], null],
      [2, [], 3],
    ])
    expect(await unwrap(h.db.tableExists('scratch'))).toBe(false)
  })

  it('gives up fast under its short lock_timeout when another session holds the lock', async () => {
    await withClient(database.url, async (other) => {
      await other.query('BEGIN')
      await other.query('LOCK TABLE order_notes IN ACCESS SHARE MODE')
      const started = Date.now()
      const error = (await h.db.execute('DROP TABLE order_notes', { rehearse: true }))._unsafeUnwrapErr()
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(error.kind).toBe('PostgresError')
      expect(error.message).toContain('55P03')
      expect(error.message).toContain('lock_timeout is 1000 ms')
      await other.query('ROLLBACK')
    })
    expect(await tableRows(database.url, 'order_notes')).toBe(7)
  })

  it('does not send a statement that cannot run in a transaction, and says why', async () => {
    const result = await unwrap(
      h.db.execute('CREATE INDEX CONCURRENTLY users_name_idx ON users (name)', { rehearse: true }),
    )
    expect(result.statements[0]?.rehearsed).toBe(false)
    expect(result.statements[0]?.note).toContain('cannot run inside a transaction')
    expect((await unwrap(h.db.getSchema('users'))).indexes.map((i) => i.name)).toEqual(['users_pkey'])
  })

  it('still refuses transaction control', async () => {
    expect((await h.db.execute('COMMIT; DROP TABLE users', { rehearse: true }))._unsafeUnwrapErr().kind).toBe(
      'SafetyError',
    )
  })
})
