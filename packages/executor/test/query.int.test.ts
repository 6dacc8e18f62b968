import { type SafetyError, unwrap } from '@ddl/executor'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { direct, type Harness, harness, tableRows } from './support.js'

const database = testDatabase('query')
let h: Harness

beforeAll(async () => {
  h = harness(database)
  await direct(
    database.url,
    `CREATE TABLE items (id int PRIMARY KEY, label text);
     INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');
     CREATE SEQUENCE counter;`,
  )
})

describe('query()', () => {
  it('returns rows, fields and the count of a read', async () => {
    const result = await unwrap(h.db.query<{ id: number; label: string }>('SELECT id, label FROM items ORDER BY id'))
    expect(result.rows).toEqual([
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
      { id: 3, label: 'three' },
    ])
    expect(result.rowCount).toBe(3)
    expect(result.fields.map((f) => f.name)).toEqual(['id', 'label'])
    expect(result.command).toBe('SELECT')
  })

  it('binds parameters and never interpolates them', async () => {
    const hostile = "one'; DROP TABLE items; --"
    const result = await unwrap(
      h.db.query('SELECT count(*)::int AS n FROM items WHERE label = $1 OR id = $2', [hostile, 2]),
    )
    expect(result.rows).toEqual([{ n: 1 }])
    expect(await tableRows(database.url, 'items')).toBe(3)
  })

  it('refuses a write before sending it', async () => {
    for (const sql of [
      "INSERT INTO items VALUES (4, 'four')",
      'DELETE FROM items WHERE id = 1',
      'WITH gone AS (DELETE FROM items RETURNING id) SELECT count(*) FROM gone',
      'SELECT * INTO items_copy FROM items',
      'EXPLAIN ANALYZE DELETE FROM items',
      'CREATE TABLE made_by_query (id int)',
    ]) {
      const error = (await h.db.query(sql))._unsafeUnwrapErr() as SafetyError
      expect(error.kind, sql).toBe('SafetyError')
      expect(error.reason).toBe('write-in-query')
      expect(error.message).toContain('Use execute() (ddl exec) for changes')
    }
    expect(await tableRows(database.url, 'items')).toBe(3)
    expect(await unwrap(h.db.tableExists('made_by_query'))).toBe(false)
  })

  it('runs in a READ ONLY transaction, so the server refuses a write the classifier cannot see', async () => {
    const error = (await h.db.query("SELECT nextval('counter')"))._unsafeUnwrapErr()
    expect(error.kind).toBe('PostgresError')
    expect(error.message).toContain('25006')
    expect(error.message).toContain('cannot execute nextval() in a read-only transaction')
    expect((await direct(database.url, 'SELECT last_value FROM counter'))[0]).toEqual({ last_value: '1' })
  })

  it('reads SHOW, VALUES, TABLE and EXPLAIN', async () => {
    expect((await unwrap(h.db.query('SHOW search_path'))).rows).toHaveLength(1)
    expect((await unwrap(h.db.query('VALUES (1), (2)'))).rowCount).toBe(2)
    expect((await unwrap(h.db.query('TABLE items'))).rowCount).toBe(3)
    expect((await unwrap(h.db.query('EXPLAIN SELECT * FROM items'))).rowCount).toBeGreaterThan(0)
  })

  it('runs one statement only', async () => {
    const error = (await h.db.query('SELECT 1; SELECT 2'))._unsafeUnwrapErr()
    expect(error.kind).toBe('InputError')
    expect(error.message).toContain('exactly one statement')
  })

  it('reports a server error with its SQLSTATE and position', async () => {
    const error = (await h.db.query('SELECT id,\n  nope FROM items'))._unsafeUnwrapErr()
    expect(error).toMatchObject({ kind: 'PostgresError', code: '42703', line: 2, column: 3 })
  })

  it('is not audited, but a refused write is', async () => {
    const q = harness(database)
    await unwrap(q.db.query('SELECT 1'))
    expect(q.records()).toEqual([])
    await q.db.query('DELETE FROM items')
    expect(q.records().map((r) => [r.outcome, r.tier])).toEqual([['blocked', 'destructive']])
  })
})
