import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { findMigrations, type MigrationLayout } from '@ddl/executor/internal'
import { err, ok, type Result } from 'neverthrow'
import { SchemaError } from './errors.js'

/** Layouts `--write` can add a file to. */
const WRITABLE: readonly MigrationLayout[] = ['flat', 'supabase', 'golang-migrate', 'prisma']

/** Where a written migration went. */
export interface WrittenMigration {
  readonly path: string
  readonly layout: MigrationLayout
}

/** `20260101123000`: a UTC timestamp as Supabase and Prisma name their migrations. */
function timestamp(now: Date): string {
  return now.toISOString().replace(/\D/g, '').slice(0, 14)
}

/** A name safe in a file name: lower case, words joined by `_`. */
function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return s === '' ? 'schema_diff' : s.slice(0, 60)
}

/**
 * The next number after the highest numeric prefix in `names`, in the same width (`007` -> `008`); a
 * prefix of 14 digits or more is a timestamp, and the next one is now's (or one past the highest).
 */
function nextVersion(names: readonly string[], now: Date): string {
  const prefixes = names.map((n) => /^(\d+)/.exec(basename(n))?.[1]).filter((p): p is string => p !== undefined)
  if (prefixes.length === 0) return '0001'
  const highest = prefixes.reduce((a, b) => (BigInt(b) > BigInt(a) ? b : a))
  if (highest.length >= 14) {
    const stamp = timestamp(now)
    return BigInt(stamp) > BigInt(highest) ? stamp : (BigInt(highest) + 1n).toString()
  }
  return (BigInt(highest) + 1n).toString().padStart(highest.length, '0')
}

/**
 * Writes `sql` as the next migration of `dir`, in the directory's layout: flat and Supabase
 * `<version>_<name>.sql`, golang-migrate `<version>_<name>.up.sql`, Prisma
 * `<timestamp>_<name>/migration.sql`. An empty or missing directory gets a flat `0001_<name>.sql`.
 * Never overwrites a file. Fails with `SchemaError` (`write`) for other layouts or a write error.
 * Never throws.
 *
 * @example
 * await writeMigration('supabase/migrations', sql, 'add_phone') // ok({ path: '.../20260101123000_add_phone.sql', layout: 'supabase' })
 */
export async function writeMigration(
  dir: string,
  sql: string,
  name: string,
  now: Date = new Date(),
): Promise<Result<WrittenMigration, SchemaError>> {
  const absolute = resolve(dir)
  let existing: string[] = []
  try {
    existing = (await readdir(absolute)).filter((n) => !n.startsWith('.'))
  } catch {
    existing = []
  }
  let layout: MigrationLayout = 'flat'
  if (existing.length > 0) {
    const found = await findMigrations(absolute)
    if (found.isErr()) return err(new SchemaError(found.error.message, 'write', { cause: found.error }))
    layout = found.value.layout
  }
  if (!WRITABLE.includes(layout)) {
    return err(
      new SchemaError(
        `--write does not know how to add a migration to a ${layout} directory yet (it writes ${WRITABLE.join(', ')}). ` +
          'Print the diff and save it by hand.',
        'write',
      ),
    )
  }
  const version = layout === 'supabase' || layout === 'prisma' ? timestamp(now) : nextVersion(existing, now)
  const file =
    layout === 'golang-migrate'
      ? `${version}_${slug(name)}.up.sql`
      : layout === 'prisma'
        ? join(`${version}_${slug(name)}`, 'migration.sql')
        : `${version}_${slug(name)}.sql`
  const path = join(absolute, file)
  try {
    await mkdir(join(path, '..'), { recursive: true })
    await writeFile(path, sql, { flag: 'wx' })
  } catch (error) {
    return err(
      new SchemaError(`Cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`, 'write', {
        cause: error,
      }),
    )
  }
  return ok({ path, layout })
}
