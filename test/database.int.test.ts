import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { testDatabase, withClient } from './support/database.js'

const db = testDatabase()

describe('the test Postgres', () => {
  it('answers a real query on this file’s own database', async () => {
    const row = await withClient(db.url, async (client) => {
      const result = await client.query<{ db: string; n: number }>('SELECT current_database() AS db, 40 + 2 AS n')
      return result.rows[0]
    })
    expect(row).toEqual({ db: db.name, n: 42 })
  })

  it('round-trips any text through a bound parameter', async () => {
    await withClient(db.url, async (client) => {
      await fc.assert(
        fc.asyncProperty(
          fc.string().filter((s) => !s.includes('\u0000')),
          async (text) => {
            const result = await client.query<{ t: string }>('SELECT $1::text AS t', [text])
            expect(result.rows[0]?.t).toBe(text)
          },
        ),
        { numRuns: 50 },
      )
    })
  })
})
