import { unwrap } from '@ddl/executor'
import { err, ok } from 'neverthrow'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { direct, type Harness, harness, tableRows } from './support.js'

const database = testDatabase('tx')
let h: Harness

const exists = async (table: string) => unwrap(h.db.tableExists(table))

beforeAll(async () => {
  h = harness(database)
  await direct(database.url, 'CREATE TABLE keep (id int); INSERT INTO keep VALUES (1), (2)')
})

describe('transaction()', () => {
  it('commits every statement together and returns the callback value', async () => {
    const value = await unwrap(
      h.db.transaction(async (tx) => {
        await unwrap(tx.execute('CREATE TABLE tx_a (id int)'))
        await unwrap(tx.execute('INSERT INTO tx_a VALUES (1), (2)'))
        const seen = await unwrap(tx.query<{ n: number }>('SELECT count(*)::int AS n FROM tx_a'))
        return seen.rows[0]?.n
      }),
    )
    expect(value).toBe(2)
    expect(await tableRows(database.url, 'tx_a')).toBe(2)
  })

  it('rolls everything back when a statement fails, even if the callback ignores the Err', async () => {
    const result = await h.db.transaction(async (tx) => {
      await tx.execute('CREATE TABLE tx_b (id int)')
      await tx.execute('INSERT INTO tx_b VALUES (1)')
      await tx.execute('INSERT INTO missing_table VALUES (1)')
      return 'done'
    })
    expect(result._unsafeUnwrapErr()).toMatchObject({ kind: 'PostgresError', code: '42P01' })
    expect(await exists('tx_b')).toBe(false)
  })

  it('rolls back when the gate refuses a statement inside it, and sends nothing after', async () => {
    const result = await h.db.transaction(async (tx) => {
      await unwrap(tx.execute('CREATE TABLE tx_c (id int)'))
      const refused = await tx.execute('DROP TABLE keep')
      expect(refused._unsafeUnwrapErr().kind).toBe('SafetyError')
      const later = await tx.execute('CREATE TABLE tx_c2 (id int)')
      expect(later._unsafeUnwrapErr().message).toContain('An earlier call in this transaction failed (SafetyError)')
    })
    expect(result._unsafeUnwrapErr().kind).toBe('SafetyError')
    expect(await exists('tx_c')).toBe(false)
    expect(await tableRows(database.url, 'keep')).toBe(2)
  })

  it('rolls back when the callback throws, as a CallbackError', async () => {
    const result = await h.db.transaction(async (tx) => {
      await unwrap(tx.execute('CREATE TABLE tx_d (id int)'))
      throw new Error('boom')
    })
    const error = result._unsafeUnwrapErr()
    expect(error.kind).toBe('CallbackError')
    expect(error.message).toBe('The transaction callback threw: boom. The transaction was rolled back.')
    expect(await exists('tx_d')).toBe(false)
  })

  it('passes a thrown ExecutorError through as itself', async () => {
    const result = await h.db.transaction(async (tx) => {
      await unwrap(tx.execute('DROP TABLE keep'))
    })
    expect(result._unsafeUnwrapErr().kind).toBe('SafetyError')
  })

  it('rolls back on an Err returned by the callback', async () => {
    const result = await h.db.transaction(async (tx) => {
      await unwrap(tx.execute('CREATE TABLE tx_e (id int)'))
      return err('changed my mind' as const)
    })
    expect(result._unsafeUnwrapErr()).toBe('changed my mind')
    expect(await exists('tx_e')).toBe(false)
    const fine = await h.db.transaction(async () => ok(42))
    expect(fine._unsafeUnwrap()).toBe(42)
  })

  it('refuses a statement that cannot run in a transaction', async () => {
    const result = await h.db.transaction(async (tx) => tx.execute('CREATE INDEX CONCURRENTLY keep_idx ON keep (id)'))
    const error = result._unsafeUnwrapErr()
    expect(error.kind).toBe('SafetyError')
    expect(error.message).toContain('Cannot run inside transaction()')
  })

  it('refuses calls on a handle after the transaction ended', async () => {
    let saved: Parameters<Parameters<typeof h.db.transaction>[0]>[0] | undefined
    await unwrap(
      h.db.transaction(async (tx) => {
        saved = tx
      }),
    )
    const late = await saved?.execute('CREATE TABLE too_late (id int)')
    expect(late?._unsafeUnwrapErr().message).toContain('This transaction has ended')
    expect(await exists('too_late')).toBe(false)
  })

  it('releases its connection every time, so many transactions in a row never starve the pool', async () => {
    for (let i = 0; i < 12; i++) {
      await h.db.transaction(async (tx) => {
        await tx.execute(i % 2 === 0 ? 'SELECT 1' : 'SELECT * FROM nowhere')
        if (i % 3 === 0) throw new Error('again')
      })
    }
    expect(await tableRows(database.url, 'keep')).toBe(2)
    const active = await direct<{ n: number }>(
      database.url,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'safe-ddl' AND state <> 'idle'",
    )
    expect(active[0]?.n).toBe(0)
  })

  it('audits each statement: intents as they are sent, outcomes at the end', async () => {
    const t = harness(database)
    await t.db.transaction(async (tx) => {
      await tx.execute('CREATE TABLE tx_f (id int)')
      await tx.execute('INSERT INTO nowhere VALUES (1)')
    })
    expect(t.records().map((r) => [r.outcome, r.statement])).toEqual([
      ['intent', 'CREATE TABLE tx_f (id int)'],
      ['intent', 'INSERT INTO nowhere VALUES (1)'],
      ['rolled_back', 'CREATE TABLE tx_f (id int)'],
      ['failed', 'INSERT INTO nowhere VALUES (1)'],
    ])
  })
})
