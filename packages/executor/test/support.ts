/** Helpers for the executor's tests: an API on this file's database, with its audit log in a temp dir. */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditRecord } from '@ddl/audit'
import { PostgresAPI, type PostgresAPIOptions } from '@ddl/executor'
import { afterAll } from 'vitest'
import { type TestDatabase, withClient } from '../../../test/support/database.js'

export interface Harness {
  readonly db: PostgresAPI
  readonly dir: string
  readonly auditPath: string
  /** Every audit record written so far. */
  readonly records: () => AuditRecord[]
}

const opened: PostgresAPI[] = []
afterAll(async () => {
  for (const api of opened) await api.close()
})

/** A PostgresAPI on the test database, its audit log in a fresh temp dir, an empty environment. */
export function harness(database: TestDatabase, options: PostgresAPIOptions = {}, project?: string): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'ddl-executor-'))
  const auditPath = join(dir, 'audit.jsonl')
  const db = new PostgresAPI(project, { url: database.url, cwd: dir, env: {}, auditPath, ...options })
  opened.push(db)
  return {
    db,
    dir,
    auditPath,
    records: () => {
      try {
        return readFileSync(auditPath, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as AuditRecord)
      } catch {
        return []
      }
    },
  }
}

/** Runs SQL directly (not through safe-ddl) and returns the rows. */
export async function direct<R = Record<string, unknown>>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  return withClient(url, async (client) => (await client.query(sql, values)).rows as R[])
}

export function tableRows(url: string, table: string): Promise<number> {
  return direct<{ n: string }>(url, `SELECT count(*)::text AS n FROM ${table}`).then((r) => Number(r[0]?.n ?? -1))
}

/** A port on which nothing listens (bound, then closed). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** The test database's URL with its port changed to one where nothing listens. */
export async function deadUrl(database: TestDatabase): Promise<string> {
  const url = new URL(database.url)
  url.port = String(await closedPort())
  return url.toString()
}
