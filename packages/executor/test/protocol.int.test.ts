import { sendStatement } from '@ddl/executor/internal'
import type pg from 'pg'
import { describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'

const database = testDatabase('proto')

describe('the extended query protocol', () => {
  it('makes the server refuse a string that smuggles a second statement', async () => {
    await withClient(database.url, async (client) => {
      await client.query('CREATE TABLE smuggle (id int); INSERT INTO smuggle VALUES (1)')
      const error = await sendStatement(client, 'SELECT 1; DROP TABLE smuggle').then(
        () => undefined,
        (e: unknown) => e as pg.DatabaseError,
      )
      expect(error?.code).toBe('42601')
      expect(error?.message).toBe('cannot insert multiple commands into a prepared statement')
      const rows = await client.query('SELECT count(*)::int AS n FROM smuggle')
      expect(rows.rows[0]).toEqual({ n: 1 })
    })
  })

  it('is needed: the simple protocol node-postgres uses by default would run both', async () => {
    await withClient(database.url, async (client) => {
      await client.query('CREATE TABLE simple_victim (id int)')
      await client.query('SELECT 1; DROP TABLE simple_victim')
      const rows = await client.query("SELECT to_regclass('simple_victim') AS t")
      expect(rows.rows[0]).toEqual({ t: null })
    })
  })

  it('binds values as parameters, never as text', async () => {
    await withClient(database.url, async (client) => {
      const hostile = "x'); DROP TABLE smuggle; --"
      const result = await sendStatement(client, 'SELECT $1::text AS t', [hostile])
      expect(result.rows).toEqual([{ t: hostile }])
      expect((await client.query("SELECT to_regclass('smuggle') IS NOT NULL AS ok")).rows[0]).toEqual({ ok: true })
    })
  })

  it('sends Parse/Bind/Execute for a statement without values', async () => {
    await withClient(database.url, async (client) => {
      // The Parse message only exists in the extended protocol; watch the connection for it.
      const connection = (client as unknown as { connection: { parse: (...args: unknown[]) => void } }).connection
      const original = connection.parse.bind(connection)
      const parsed: unknown[] = []
      connection.parse = (...args: unknown[]) => {
        parsed.push(args[0])
        original(...args)
      }
      await sendStatement(client, 'CREATE TABLE via_extended (id int)')
      connection.parse = original
      expect(parsed).toEqual([expect.objectContaining({ text: 'CREATE TABLE via_extended (id int)' })])
    })
  })
})
