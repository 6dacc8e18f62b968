import type { Dirent } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { err, ok, type Result, ResultAsync } from 'neverthrow'
import { MigrationRunError } from './migration-error.js'

/**
 * How a directory holds its migrations:
 * - `flat`: `DIR/*.sql`, applied in natural order (`2_x.sql` before `10_y.sql`);
 * - `prisma`: `DIR/<timestamp>_<name>/migration.sql`, applied in folder-name order, as Prisma does.
 */
export type MigrationLayout = 'flat' | 'prisma'

/** One migration file found in a directory. */
export interface MigrationEntry {
  /** The name recorded in the tracking table: the file name (flat) or the folder name (Prisma). */
  readonly name: string
  /** Absolute path of the SQL file. */
  readonly path: string
}

/** The migrations of a directory, in the order they apply. */
export interface MigrationSource {
  readonly dir: string
  readonly layout: MigrationLayout
  readonly entries: readonly MigrationEntry[]
  /** Things a person should know (folders without `migration.sql`, ...). */
  readonly notes: readonly string[]
}

/**
 * Natural order: digit runs compare as numbers, so `2_x.sql` sorts before `10_y.sql`; ties are broken
 * by code units so the order is total and the same on every machine.
 */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' })

/** Compares two migration names in natural order. Never throws. */
export function compareMigrationNames(a: string, b: string): number {
  const byCollator = collator.compare(a, b)
  if (byCollator !== 0) return byCollator
  return a < b ? -1 : a > b ? 1 : 0
}

/** A sentence naming the layout, for people. Never throws. */
export function describeLayout(layout: MigrationLayout): string {
  return layout === 'flat'
    ? 'flat layout: *.sql files in natural order'
    : 'Prisma layout: <timestamp>_<name>/migration.sql folders'
}

/**
 * The migration a single file stands for: `.../20240101000000_init/migration.sql` is the Prisma
 * migration `20240101000000_init`; any other file is named by its file name. Never throws.
 */
export function entryOfFile(file: string): MigrationEntry {
  const path = resolve(file)
  const name = basename(path) === 'migration.sql' ? basename(dirname(path)) : basename(path)
  return { name, path }
}

/**
 * Finds the migrations of `dir` and says which layout holds them: `*.sql` files (flat), or folders
 * each holding a `migration.sql` (Prisma, whose `migration_lock.toml` must name PostgreSQL when
 * present). Hidden entries are ignored. Fails with `MigrationRunError` (`layout`) when the directory
 * cannot be read, holds no migration, or holds both layouts. Never throws.
 *
 * @example
 * const source = await findMigrations('prisma/migrations') // ok({ layout: 'prisma', entries: [...] })
 */
export function findMigrations(dir: string): ResultAsync<MigrationSource, MigrationRunError> {
  return new ResultAsync(scan(resolve(dir), dir))
}

async function scan(absolute: string, shown: string): Promise<Result<MigrationSource, MigrationRunError>> {
  let entries: Dirent[]
  try {
    entries = await readdir(absolute, { withFileTypes: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT'
        ? 'it does not exist'
        : code === 'ENOTDIR'
          ? 'it is a file, not a directory (use runMigration for one file)'
          : `it cannot be read (${code ?? (error as Error).message})`
    return err(layoutError(`Cannot read migrations from ${shown}: ${why}.`))
  }
  const visible = entries.filter((e) => !e.name.startsWith('.'))
  const flat: MigrationEntry[] = []
  const prisma: MigrationEntry[] = []
  const notes: string[] = []
  const foldersWithout: string[] = []
  for (const entry of visible) {
    const path = join(absolute, entry.name)
    if (isFile(entry) && entry.name.toLowerCase().endsWith('.sql')) {
      flat.push({ name: entry.name, path })
    } else if (await isDirectory(entry, path)) {
      const file = join(path, 'migration.sql')
      if (await isRegularFile(file)) prisma.push({ name: entry.name, path: file })
      else foldersWithout.push(entry.name)
    }
  }
  if (flat.length > 0 && prisma.length > 0) {
    return err(
      layoutError(
        `${shown} mixes two layouts: ${flat.length} *.sql file${flat.length === 1 ? '' : 's'} (e.g. ${flat[0]?.name}) ` +
          `and ${prisma.length} Prisma folder${prisma.length === 1 ? '' : 's'} (e.g. ${prisma[0]?.name}/migration.sql). ` +
          'Keep one layout per directory.',
      ),
    )
  }
  if (flat.length === 0 && prisma.length === 0) {
    const seen =
      visible.length === 0
        ? 'it is empty'
        : `it holds ${visible.length} entr${visible.length === 1 ? 'y' : 'ies'}, none a migration`
    return err(
      layoutError(
        `No migrations found in ${shown} (${seen}). Expected either *.sql files (flat layout, applied in natural ` +
          'order: 2_x.sql before 10_y.sql) or Prisma folders <timestamp>_<name>/migration.sql.',
      ),
    )
  }
  if (prisma.length > 0) {
    const provider = await prismaProvider(join(absolute, 'migration_lock.toml'))
    if (provider !== undefined && provider !== 'postgresql' && provider !== 'postgres') {
      return err(
        layoutError(
          `${shown}/migration_lock.toml says these Prisma migrations are for "${provider}", not PostgreSQL; ` +
            'they cannot be applied to Postgres.',
        ),
      )
    }
    if (foldersWithout.length > 0) {
      notes.push(
        `Ignored ${foldersWithout.length} folder${foldersWithout.length === 1 ? '' : 's'} without migration.sql: ` +
          `${foldersWithout.slice(0, 5).join(', ')}${foldersWithout.length > 5 ? ', ...' : ''}.`,
      )
    }
    return ok({ dir: absolute, layout: 'prisma', entries: sortEntries(prisma), notes })
  }
  return ok({ dir: absolute, layout: 'flat', entries: sortEntries(flat), notes })
}

function sortEntries(entries: MigrationEntry[]): MigrationEntry[] {
  return entries.sort((a, b) => compareMigrationNames(a.name, b.name))
}

function layoutError(message: string): MigrationRunError {
  return new MigrationRunError(message, { problem: 'layout' })
}

function isFile(entry: Dirent): boolean {
  return entry.isFile() || entry.isSymbolicLink()
}

async function isDirectory(entry: Dirent, path: string): Promise<boolean> {
  if (entry.isDirectory()) return true
  if (!entry.isSymbolicLink()) return false
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/** The `provider` of a Prisma `migration_lock.toml`, when the file exists and names one. */
async function prismaProvider(path: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  const match = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)
  return match?.[1]?.toLowerCase()
}
