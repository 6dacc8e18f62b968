/**
 * Pattern 5: debugging and inspection.
 *
 * `getSchema` lists a table's columns (iterate it directly), indexes and constraints. `query` runs a
 * read with bound parameters inside a READ ONLY transaction: a statement that writes is refused
 * before it is sent, and the server refuses any write a function attempts.
 */
import { type PostgresAPI, unwrap } from '@ddl/executor'

export async function inspectUsers(db: PostgresAPI, log: (line: string) => void = console.log): Promise<void> {
  const schema = await unwrap(db.getSchema('users'))
  for (const col of schema) log(`${col.name}: ${col.type}`)

  const results = await unwrap(db.query('SELECT count(*) FROM users WHERE created_at > $1', ['2026-01-01']))
  log(`users since 2026: ${results.rows[0]?.count}`)
}
