import type { Dirent } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { err, ok, type Result, ResultAsync } from 'neverthrow'
import { MigrationRunError } from './migration-error.js'
import { detectDialect, type SectionDialect } from './migration-sections.js'

/**
 * How a directory holds its migrations (see docs/layouts.md):
 * - `flat`: `DIR/*.sql`, applied in natural order (`2_x.sql` before `10_y.sql`);
 * - `supabase`: the Supabase CLI's `supabase/migrations/<timestamp>_<name>.sql`, in timestamp order;
 * - `postgres-migrations`: `*.sql` files of the postgres-migrations runner (Supabase storage), with its
 *   `-- postgres-migrations ignore` (skipped) and `-- postgres-migrations disable-transaction` markers;
 * - `prisma`: `DIR/<timestamp>_<name>/migration.sql`, in folder-name order;
 * - `golang-migrate`: `<version>_<name>.up.sql` applied, `<version>_<name>.down.sql` only by `migrate down`;
 * - `dbmate`: one file per migration, its `-- migrate:up` section applied, `-- migrate:down` only by `migrate down`;
 * - `node-pg-migrate`: SQL files with `-- Up Migration` and `-- Down Migration` sections, like dbmate;
 * - `diesel`: `<version>_<name>/up.sql` (and `down.sql`), in folder-name order;
 * - `flyway`: `V<version>__<desc>.sql` in version order, then `R__<desc>.sql` repeatables (re-applied when
 *   they change); `U<version>__<desc>.sql` undo files only by `migrate down`;
 * - `drizzle`: `NNNN_name.sql` in the order of `meta/_journal.json`.
 */
export type MigrationLayout =
  | 'flat'
  | 'supabase'
  | 'postgres-migrations'
  | 'prisma'
  | 'golang-migrate'
  | 'dbmate'
  | 'node-pg-migrate'
  | 'diesel'
  | 'flyway'
  | 'drizzle'

/** The down migration of an entry (`ddl migrate down`): a file, or the down section of the same file. */
export interface DownEntry {
  /** Absolute path of the SQL file. */
  readonly path: string
  /** Set when the down migration is a section of a file that holds both (dbmate, node-pg-migrate). */
  readonly dialect?: SectionDialect
}

/** One migration found in a directory. */
export interface MigrationEntry {
  /** The name recorded in the tracking table: the file name, or the folder name (Prisma, Diesel), or the Drizzle tag. */
  readonly name: string
  /** Absolute path of the SQL file. */
  readonly path: string
  /** The file holds up and down sections (dbmate, node-pg-migrate) or runner markers (postgres-migrations). */
  readonly dialect?: SectionDialect
  /** Which section of the file is the migration (`up` unless it is a down migration). */
  readonly part?: 'up' | 'down'
  /** The layout's own marker says the file runs outside a transaction (Diesel's `run_in_transaction = false`). */
  readonly outsideTransaction?: boolean
  /** A Flyway repeatable migration: applied again whenever its bytes change. */
  readonly repeatable?: boolean
  /** The down migration, for `ddl migrate down` (never applied forward). */
  readonly down?: DownEntry
}

/** The migrations of a directory, in the order they apply. */
export interface MigrationSource {
  readonly dir: string
  readonly layout: MigrationLayout
  readonly entries: readonly MigrationEntry[]
  /** Things a person should know (folders without `migration.sql`, skipped files, ...). */
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

const DESCRIPTIONS: Record<MigrationLayout, string> = {
  flat: 'flat layout: *.sql files in natural order',
  supabase: 'Supabase CLI layout: supabase/migrations/<timestamp>_<name>.sql',
  'postgres-migrations': 'postgres-migrations layout: *.sql with -- postgres-migrations markers',
  prisma: 'Prisma layout: <timestamp>_<name>/migration.sql folders',
  'golang-migrate': 'golang-migrate layout: <version>_<name>.up.sql (down files only by migrate down)',
  dbmate: 'dbmate layout: -- migrate:up sections (down sections only by migrate down)',
  'node-pg-migrate': 'node-pg-migrate layout: -- Up Migration sections (down sections only by migrate down)',
  diesel: 'Diesel layout: <version>_<name>/up.sql folders (down.sql only by migrate down)',
  flyway: 'Flyway layout: V<version>__<desc>.sql, then R__ repeatables (U undo files only by migrate down)',
  drizzle: 'Drizzle layout: NNNN_<name>.sql in meta/_journal.json order',
}

/** A sentence naming the layout, for people. Never throws. */
export function describeLayout(layout: MigrationLayout): string {
  return DESCRIPTIONS[layout]
}

const GOLANG = /^(\d+)_(.+)\.(up|down)\.sql$/i
const FLYWAY_VERSIONED = /^([VU])(\d+(?:[._]\d+)*)__(.+)\.sql$/
const FLYWAY_REPEATABLE = /^R__(.+)\.sql$/
/** Names that say "down migration" in a layout that has none: never applied forward. */
const DOWN_LIKE = /(^|[._-])down\.sql$|(^|\.)(undo|rollback|revert)\.sql$/i

/**
 * Whether a file name says it is a down migration (`1_a.down.sql`, `down.sql`, `U2__x.sql`,
 * `1_a.rollback.sql`): such a file is never applied forward, alone or in a folder. Never throws.
 */
export function looksLikeDown(fileName: string): boolean {
  const name = basename(fileName)
  if (DOWN_LIKE.test(name)) return true
  const flyway = FLYWAY_VERSIONED.exec(name)
  return flyway?.[1] === 'U'
}

/**
 * The migration a single file stands for: `.../20240101000000_init/migration.sql` is the Prisma
 * migration `20240101000000_init`, `.../<version>_<name>/up.sql` the Diesel one; any other file is
 * named by its file name. Never throws.
 */
export function entryOfFile(file: string): MigrationEntry {
  const path = resolve(file)
  const name = basename(path)
  return name === 'migration.sql' || name === 'up.sql' ? { name: basename(dirname(path)), path } : { name, path }
}

/**
 * Finds the migrations of `dir` and names the layout that holds them (see {@link MigrationLayout}).
 * Hidden entries are ignored. Fails with `MigrationRunError` (`layout`) when the directory cannot be
 * read, holds no migration, holds a mixture of layouts (the message names what was found: nothing is
 * guessed), holds files that look like down migrations in a layout without them, or is a Rails
 * `structure.sql` folder (for `ddl check` only). Never throws.
 *
 * @example
 * const source = await findMigrations('prisma/migrations') // ok({ layout: 'prisma', entries: [...] })
 */
export function findMigrations(dir: string): ResultAsync<MigrationSource, MigrationRunError> {
  return new ResultAsync(scan(resolve(dir), dir))
}

/** What one kind of thing found in a directory is called in a refusal, with its examples. */
interface Found {
  readonly what: string
  readonly examples: string[]
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
  const visible = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => compareMigrationNames(a.name, b.name))
  if (await isRegularFile(join(absolute, 'meta', '_journal.json'))) return drizzle(absolute, shown, visible)

  const notes: string[] = []
  const kinds = new Map<MigrationLayout | 'down-like' | 'rails', Found>()
  const add = (kind: MigrationLayout | 'down-like' | 'rails', what: string, example: string) => {
    const found = kinds.get(kind) ?? { what, examples: [] }
    found.examples.push(example)
    kinds.set(kind, found)
  }
  const plain: { name: string; path: string; dialect: SectionDialect | undefined }[] = []
  const golang = new Map<string, { up?: string; down?: string; name?: string }>()
  const flyway: { prefix: string; version: string; description: string; name: string; path: string }[] = []
  const repeatables: MigrationEntry[] = []
  const prisma: MigrationEntry[] = []
  const diesel: MigrationEntry[] = []
  const foldersWithout: string[] = []

  for (const entry of visible) {
    const path = join(absolute, entry.name)
    const directory = await isDirectory(entry, path)
    if (!directory && isFile(entry)) {
      if (!entry.name.toLowerCase().endsWith('.sql')) continue
      const go = GOLANG.exec(entry.name)
      const fw = FLYWAY_VERSIONED.exec(entry.name)
      if (entry.name === 'structure.sql') {
        add('rails', 'Rails structure.sql (a schema dump)', entry.name)
      } else if (go !== null) {
        const key = `${go[1]}_${go[2]}`
        const pair = golang.get(key) ?? {}
        if (go[3]?.toLowerCase() === 'up') {
          pair.up = path
          pair.name = entry.name
        } else pair.down = path
        golang.set(key, pair)
        add('golang-migrate', 'golang-migrate *.up.sql/*.down.sql files', entry.name)
      } else if (fw !== null) {
        flyway.push({
          prefix: fw[1] as string,
          version: fw[2] as string,
          description: fw[3] as string,
          name: entry.name,
          path,
        })
        add('flyway', 'Flyway V/U<version>__<desc>.sql files', entry.name)
      } else if (FLYWAY_REPEATABLE.test(entry.name)) {
        repeatables.push({ name: entry.name, path, repeatable: true })
        add('flyway', 'Flyway V/U<version>__<desc>.sql files', entry.name)
      } else if (DOWN_LIKE.test(entry.name)) {
        add('down-like', 'files named as down migrations', entry.name)
      } else {
        const head = await readText(path)
        const dialect = head === undefined ? undefined : detectDialect(head)
        plain.push({ name: entry.name, path, dialect })
        if (dialect === 'dbmate') add('dbmate', 'dbmate files (-- migrate:up)', entry.name)
        else if (dialect === 'node-pg-migrate')
          add('node-pg-migrate', 'node-pg-migrate files (-- Up Migration)', entry.name)
        else add('flat', 'plain *.sql files', entry.name)
      }
    } else if (directory) {
      const migration = join(path, 'migration.sql')
      const up = join(path, 'up.sql')
      if (await isRegularFile(migration)) {
        prisma.push({ name: entry.name, path: migration })
        add('prisma', 'Prisma folders (<name>/migration.sql)', `${entry.name}/migration.sql`)
      } else if (await isRegularFile(up)) {
        const down = join(path, 'down.sql')
        const outside = await dieselOutsideTransaction(join(path, 'metadata.toml'))
        diesel.push({
          name: entry.name,
          path: up,
          ...(outside ? { outsideTransaction: true } : {}),
          ...((await isRegularFile(down)) ? { down: { path: down } } : {}),
        })
        add('diesel', 'Diesel folders (<name>/up.sql)', `${entry.name}/up.sql`)
      } else {
        foldersWithout.push(entry.name)
      }
    }
  }

  const markerFiles = plain.filter((p) => p.dialect === 'postgres-migrations')
  const rails = kinds.get('rails')
  if (rails !== undefined && kinds.size === 1) {
    return err(
      layoutError(
        `${shown} holds a Rails structure.sql, a schema dump and not a migration: ddl migrate does not apply it. ` +
          `Check it with: ddl check ${join(shown, 'structure.sql')}. Apply Rails migrations with rails db:migrate.`,
      ),
    )
  }
  const downLike = kinds.get('down-like')
  if (downLike !== undefined) {
    return err(
      layoutError(
        `${shown} holds ${downLike.examples.length} file${downLike.examples.length === 1 ? '' : 's'} named as down ` +
          `migrations (${downLike.examples.slice(0, 3).join(', ')}) and no up migrations of a layout that pairs them ` +
          '(golang-migrate <version>_<name>.up.sql/.down.sql, Diesel <name>/up.sql + down.sql, Flyway V/U files). ' +
          'A down migration is never applied forward.',
      ),
    )
  }
  if (kinds.size > 1) {
    const parts = [...kinds.values()].map(
      (f) =>
        `${f.examples.length} ${f.what} (e.g. ${f.examples.slice(0, 2).join(', ')}${f.examples.length > 2 ? ', ...' : ''})`,
    )
    return err(
      layoutError(
        `${shown} mixes ${parts.length === 2 ? 'two' : parts.length} layouts (what several migration tools write): ` +
          `${parts.join('; ')}. ddl does not guess which files ` +
          'to apply; keep one layout per directory (docs/layouts.md).',
      ),
    )
  }
  if (kinds.size === 0) {
    const seen =
      visible.length === 0
        ? 'it is empty'
        : `it holds ${visible.length} entr${visible.length === 1 ? 'y' : 'ies'}, none a migration`
    return err(
      layoutError(
        `No migrations found in ${shown} (${seen}). Expected either *.sql files (flat layout, applied in natural ` +
          'order: 2_x.sql before 10_y.sql) or Prisma folders <timestamp>_<name>/migration.sql, or another layout ' +
          'of docs/layouts.md (golang-migrate, dbmate, Diesel, Flyway, Drizzle, node-pg-migrate, Supabase).',
      ),
    )
  }
  const layout = [...kinds.keys()][0] as MigrationLayout
  if (foldersWithout.length > 0 && (layout === 'prisma' || layout === 'diesel')) {
    notes.push(
      `Ignored ${foldersWithout.length} folder${foldersWithout.length === 1 ? '' : 's'} without ` +
        `${layout === 'prisma' ? 'migration.sql' : 'up.sql'}: ` +
        `${foldersWithout.slice(0, 5).join(', ')}${foldersWithout.length > 5 ? ', ...' : ''}.`,
    )
  }
  const source = (sorted: MigrationEntry[], l: MigrationLayout = layout): Result<MigrationSource, MigrationRunError> =>
    ok({ dir: absolute, layout: l, entries: sorted, notes })

  switch (layout) {
    case 'prisma': {
      const provider = await prismaProvider(join(absolute, 'migration_lock.toml'))
      if (provider !== undefined && provider !== 'postgresql' && provider !== 'postgres') {
        return err(
          layoutError(
            `${shown}/migration_lock.toml says these Prisma migrations are for "${provider}", not PostgreSQL; ` +
              'they cannot be applied to Postgres.',
          ),
        )
      }
      return source(sortEntries(prisma))
    }
    case 'diesel':
      return source(sortEntries(diesel))
    case 'golang-migrate': {
      const ups: MigrationEntry[] = []
      const orphans: string[] = []
      for (const pair of golang.values()) {
        if (pair.up === undefined || pair.name === undefined) {
          if (pair.down !== undefined) orphans.push(basename(pair.down))
          continue
        }
        ups.push({ name: pair.name, path: pair.up, ...(pair.down !== undefined ? { down: { path: pair.down } } : {}) })
      }
      if (orphans.length > 0) {
        notes.push(
          `Ignored ${orphans.length} down file${orphans.length === 1 ? '' : 's'} without an up file: ${orphans.slice(0, 5).join(', ')}.`,
        )
      }
      if (ups.length === 0) {
        return err(
          layoutError(
            `${shown} holds only golang-migrate down files (${orphans.slice(0, 3).join(', ')}): nothing to apply forward.`,
          ),
        )
      }
      return source(ups.sort((a, b) => compareGolang(a.name, b.name)))
    }
    case 'flyway': {
      const versioned = flyway.filter((f) => f.prefix === 'V')
      const undo = flyway.filter((f) => f.prefix === 'U')
      const seen = new Map<string, string>()
      for (const v of versioned) {
        const key = normalizeVersion(v.version)
        const other = seen.get(key)
        if (other !== undefined) {
          return err(
            layoutError(`${shown} holds two Flyway migrations of version ${v.version}: ${other} and ${v.name}.`),
          )
        }
        seen.set(key, v.name)
      }
      const ups: MigrationEntry[] = versioned
        .sort((a, b) => compareVersions(a.version, b.version))
        .map((v) => {
          const u = undo.find((x) => normalizeVersion(x.version) === normalizeVersion(v.version))
          return { name: v.name, path: v.path, ...(u !== undefined ? { down: { path: u.path } } : {}) }
        })
      const lone = undo.filter((u) => !seen.has(normalizeVersion(u.version)))
      if (lone.length > 0) {
        notes.push(
          `Ignored ${lone.length} undo file${lone.length === 1 ? '' : 's'} without a versioned migration: ${lone
            .map((u) => u.name)
            .slice(0, 5)
            .join(', ')}.`,
        )
      }
      if (ups.length === 0 && repeatables.length === 0) {
        return err(
          layoutError(
            `${shown} holds only Flyway undo files (${undo
              .map((u) => u.name)
              .slice(0, 3)
              .join(', ')}): nothing to apply forward.`,
          ),
        )
      }
      const sortedRepeatables = repeatables.sort((a, b) => compareMigrationNames(a.name, b.name))
      return source([...ups, ...sortedRepeatables])
    }
    case 'dbmate':
    case 'node-pg-migrate':
      return source(
        sortEntries(
          plain.map((p) => ({
            name: p.name,
            path: p.path,
            dialect: layout,
            part: 'up' as const,
            down: { path: p.path, dialect: layout },
          })),
        ),
      )
    default: {
      if (markerFiles.length > 0) {
        const kept: MigrationEntry[] = []
        const ignored: string[] = []
        for (const p of plain) {
          const text = await readText(p.path)
          if (text !== undefined && /^--\s*postgres-migrations\s+ignore\b/m.test(text)) ignored.push(p.name)
          else kept.push({ name: p.name, path: p.path, dialect: 'postgres-migrations' })
        }
        if (ignored.length > 0) {
          notes.push(
            `Skipped ${ignored.length} file${ignored.length === 1 ? '' : 's'} marked -- postgres-migrations ignore: ` +
              `${ignored.slice(0, 5).join(', ')}${ignored.length > 5 ? ', ...' : ''}.`,
          )
        }
        return source(sortEntries(kept), 'postgres-migrations')
      }
      const supabase = absolute.endsWith(`${sep}supabase${sep}migrations`)
      return source(sortEntries(plain.map((p) => ({ name: p.name, path: p.path }))), supabase ? 'supabase' : 'flat')
    }
  }
}

/** Drizzle: the order is the journal's; every entry's `<tag>.sql` must exist. */
async function drizzle(
  absolute: string,
  shown: string,
  visible: readonly Dirent[],
): Promise<Result<MigrationSource, MigrationRunError>> {
  const journalPath = join(absolute, 'meta', '_journal.json')
  let journal: unknown
  try {
    journal = JSON.parse(await readFile(journalPath, 'utf8'))
  } catch (error) {
    return err(layoutError(`${shown}/meta/_journal.json cannot be read as JSON (${(error as Error).message}).`))
  }
  const record = typeof journal === 'object' && journal !== null ? (journal as Record<string, unknown>) : {}
  const dialect = typeof record.dialect === 'string' ? record.dialect.toLowerCase() : undefined
  if (dialect !== undefined && dialect !== 'postgresql' && dialect !== 'pg' && dialect !== 'postgres') {
    return err(
      layoutError(`${shown}/meta/_journal.json says these Drizzle migrations are for "${dialect}", not PostgreSQL.`),
    )
  }
  const list = Array.isArray(record.entries) ? record.entries : undefined
  if (list === undefined) return err(layoutError(`${shown}/meta/_journal.json has no "entries" list.`))
  const ordered: { idx: number; tag: string }[] = []
  for (const item of list) {
    const e = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {}
    if (typeof e.tag !== 'string' || !/^[\w.-]+$/.test(e.tag) || typeof e.idx !== 'number') {
      return err(layoutError(`${shown}/meta/_journal.json has an entry without a plain "tag" and a numeric "idx".`))
    }
    ordered.push({ idx: e.idx, tag: e.tag })
  }
  ordered.sort((a, b) => a.idx - b.idx)
  const entries: MigrationEntry[] = []
  for (const { tag } of ordered) {
    const path = join(absolute, `${tag}.sql`)
    if (!(await isRegularFile(path))) {
      return err(layoutError(`${shown}/meta/_journal.json lists ${tag}, but ${tag}.sql is not in ${shown}.`))
    }
    entries.push({ name: tag, path })
  }
  const tags = new Set(ordered.map((o) => `${o.tag}.sql`))
  const stray = visible.filter((e) => isFile(e) && e.name.toLowerCase().endsWith('.sql') && !tags.has(e.name))
  const notes =
    stray.length > 0
      ? [
          `Ignored ${stray.length} *.sql file${stray.length === 1 ? '' : 's'} not in meta/_journal.json: ${stray
            .map((s) => s.name)
            .slice(0, 5)
            .join(', ')}.`,
        ]
      : []
  if (entries.length === 0) return err(layoutError(`${shown}/meta/_journal.json lists no migrations.`))
  return ok({ dir: absolute, layout: 'drizzle', entries, notes })
}

function compareGolang(a: string, b: string): number {
  const va = BigInt(GOLANG.exec(a)?.[1] ?? '0')
  const vb = BigInt(GOLANG.exec(b)?.[1] ?? '0')
  return va < vb ? -1 : va > vb ? 1 : compareMigrationNames(a, b)
}

function versionParts(version: string): bigint[] {
  return version.split(/[._]/).map((p) => BigInt(p))
}

function normalizeVersion(version: string): string {
  const parts = versionParts(version)
  while (parts.length > 1 && parts[parts.length - 1] === 0n) parts.pop()
  return parts.join('.')
}

/** Flyway version order: `1` < `1.1` < `1.10` < `2`. */
function compareVersions(a: string, b: string): number {
  const pa = versionParts(a)
  const pb = versionParts(b)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0n
    const y = pb[i] ?? 0n
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
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

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return undefined
  }
}

/** Diesel's `metadata.toml` with `run_in_transaction = false`. */
async function dieselOutsideTransaction(path: string): Promise<boolean> {
  const text = await readText(path)
  return text !== undefined && /^\s*run_in_transaction\s*=\s*false\b/m.test(text)
}

/** The `provider` of a Prisma `migration_lock.toml`, when the file exists and names one. */
async function prismaProvider(path: string): Promise<string | undefined> {
  const text = await readText(path)
  if (text === undefined) return undefined
  const match = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)
  return match?.[1]?.toLowerCase()
}
