/**
 * Gives each test file its own fresh database on the suite's server, dropped afterwards.
 *
 * ```ts
 * const db = testDatabase()
 * it('...', async () => { const client = new pg.Client(db.url) ... })
 * ```
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, inject } from 'vitest'

export interface TestDatabase {
  /** Connection string of this file's own database (valid inside tests and hooks). */
  readonly url: string
  /** Name of the database. */
  readonly name: string
  /** The server's password, to assert that it leaks nowhere. */
  readonly password: string
  /** Connection string of the server's maintenance database. */
  readonly adminUrl: string
}

/** Creates one database per test file (in `beforeAll`) and drops it (in `afterAll`). */
export function testDatabase(prefix = 't'): TestDatabase {
  const adminUrl = inject('databaseUrl')
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  const url = withDatabase(adminUrl, name)
  beforeAll(async () => {
    await admin(adminUrl, `CREATE DATABASE ${name}`)
  })
  afterAll(async () => {
    await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
  return { url, name, adminUrl, password: inject('databasePassword') }
}

/** Runs `fn` with a connected client on `url`, and always ends it. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

async function admin(url: string, sql: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(sql)
  })
}
