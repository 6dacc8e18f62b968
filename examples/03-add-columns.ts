/**
 * Pattern 3: add columns to an existing table.
 *
 * ADD COLUMN keeps every row, so it is `safe`. (A volatile default or a NOT NULL without a default
 * is a hazard that `ddl check` reports: the first rewrites the table, the second fails on a table
 * that has rows.)
 */
import { type PostgresAPI, unwrap } from '@ddl/executor'

export async function addColumns(db: PostgresAPI): Promise<void> {
  await unwrap(db.execute('ALTER TABLE users ADD COLUMN phone text'))
  await unwrap(db.execute('ALTER TABLE users ADD COLUMN verified boolean DEFAULT false'))
}
