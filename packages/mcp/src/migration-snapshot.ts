import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A private copy of a migrations directory, and how to remove it. */
export interface MigrationSnapshot {
  readonly dir: string
  remove(): Promise<void>
}

/**
 * Copies a migrations directory (its `*.sql` files, and Prisma's `<name>/migration.sql` folders with
 * `migration_lock.toml`) into a new private temporary directory (mode 0700). A run plans, hashes and
 * applies the copy, so the files a person approved are the files that run, even if the originals
 * change meanwhile. Throws only on I/O errors (the caller wraps it).
 */
export async function snapshotMigrations(source: string): Promise<MigrationSnapshot> {
  const dir = await mkdtemp(join(tmpdir(), 'safe-ddl-migrations-'))
  const remove = () => rm(dir, { recursive: true, force: true })
  try {
    for (const entry of await readdir(source, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue
      if (entry.isFile() && (entry.name.endsWith('.sql') || entry.name === 'migration_lock.toml')) {
        await copyFile(join(source, entry.name), join(dir, entry.name))
      } else if (entry.isDirectory()) {
        const inner = await readdir(join(source, entry.name), { withFileTypes: true })
        const sql = inner.find((e) => e.isFile() && e.name === 'migration.sql')
        if (sql === undefined) continue
        await mkdir(join(dir, entry.name), { mode: 0o700 })
        await copyFile(join(source, entry.name, 'migration.sql'), join(dir, entry.name, 'migration.sql'))
      }
    }
  } catch (error) {
    await remove()
    throw error
  }
  return { dir, remove }
}
