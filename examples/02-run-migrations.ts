/**
 * Pattern 2: run migration files.
 *
 * Each file runs in its own transaction together with its row in `public.ddl_migrations`, so a file
 * is applied once: a second run skips it, and a file changed after it was applied stops the run.
 * Every pending file is gated on its tier before the first one runs.
 */
import { fileURLToPath } from 'node:url'
import { type MigrationReport, type PostgresAPI, unwrap } from '@ddl/executor'

const migrations = fileURLToPath(new URL('migrations/', import.meta.url))

/** Applies `migrations/001_add_users_table.sql` alone, then whatever else the folder holds. */
export async function runMigrations(db: PostgresAPI): Promise<[MigrationReport, MigrationReport]> {
  const first = await unwrap(db.runMigration(`${migrations}001_add_users_table.sql`))
  const rest = await unwrap(db.runMigrationsFromDir(migrations))
  return [first, rest]
}
