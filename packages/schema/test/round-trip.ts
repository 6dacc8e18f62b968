/**
 * The round trip the diff must pass: for states N and N+1 of a migration history, the statements of
 * diff(N, N+1), applied to a copy of N, give the catalog dump of N+1 (and the reverse). Shared by the
 * fixture test and the corpus run (bench/diff-round-trip.ts).
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative } from 'node:path'
import { findMigrations } from '@ddl/executor/internal'
import {
  applyToShadow,
  type CatalogDifference,
  compareCatalogs,
  createShadowDatabase,
  diffCatalogs,
  dumpDatabase,
  readCatalog,
  type SchemaDiff,
} from '@ddl/schema'
import pg from 'pg'

/** The states of a history: database N holds its first N migrations. */
export interface HistoryStates {
  readonly names: readonly string[]
  /** URL of the database at state N (0: empty). */
  readonly urlOf: (n: number) => Promise<string>
  readonly dispose: () => Promise<void>
}

/**
 * Materialises the states of a migrations directory lazily on `adminUrl`'s server, each from a copy
 * of the directory that holds only its first N migrations.
 */
export async function historyStates(adminUrl: string, dir: string): Promise<HistoryStates> {
  const source = (await findMigrations(dir))._unsafeUnwrap()
  const scratch = await mkdtemp(join(tmpdir(), 'safe-ddl-history-'))
  const made = new Map<number, { url: string; drop: () => Promise<void> }>()
  const urlOf = async (n: number) => {
    const have = made.get(n)
    if (have !== undefined) return have.url
    const db = (await createShadowDatabase(adminUrl))._unsafeUnwrap()
    made.set(n, db)
    if (n > 0) {
      const copy = join(scratch, `state_${n}`)
      for (const entry of source.entries.slice(0, n)) {
        const target = join(copy, relative(source.dir, entry.path))
        await mkdir(dirname(target), { recursive: true })
        await copyFile(entry.path, target)
      }
      const applied = await applyToShadow({ kind: 'directory', path: copy }, db.url)
      if (applied.isErr()) throw applied.error
    }
    return db.url
  }
  return {
    names: source.entries.map((e) => e.name),
    urlOf,
    dispose: async () => {
      for (const db of made.values()) await db.drop()
      await rm(scratch, { recursive: true, force: true })
    },
  }
}

/** What one direction of one step gave. */
export interface StepResult {
  readonly diff: SchemaDiff
  /** How the database after applying the diff differs from the target (empty when it round-trips). */
  readonly remaining: CatalogDifference
  /** The statement that failed to apply, with the server's message. */
  readonly failed?: { readonly sql: string; readonly message: string }
}

/** Diffs `fromUrl` to `toUrl`, applies the statements to a copy of `fromUrl`, and compares catalogs. */
export async function roundTrip(adminUrl: string, fromUrl: string, toUrl: string): Promise<StepResult> {
  const diff = (await diffCatalogs(await readCatalog(fromUrl), await readCatalog(toUrl)))._unsafeUnwrap()
  const work = `${basename(new URL(fromUrl).pathname)}_w`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${work} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${work} TEMPLATE ${basename(new URL(fromUrl).pathname)}`)
  } finally {
    await admin.end()
  }
  const workUrl = new URL(fromUrl)
  workUrl.pathname = `/${work}`
  const client = new pg.Client({ connectionString: workUrl.toString() })
  await client.connect()
  let failed: StepResult['failed']
  try {
    for (const statement of diff.statements) {
      try {
        await client.query(statement.sql)
      } catch (error) {
        failed = { sql: statement.sql, message: (error as Error).message }
        break
      }
    }
  } finally {
    await client.end()
  }
  const after = (await dumpDatabase(workUrl.toString()))._unsafeUnwrap()
  const target = (await dumpDatabase(toUrl))._unsafeUnwrap()
  const admin2 = new pg.Client({ connectionString: adminUrl })
  await admin2.connect()
  await admin2.query(`DROP DATABASE IF EXISTS ${work} WITH (FORCE)`)
  await admin2.end()
  return { diff, remaining: compareCatalogs(target, after), ...(failed !== undefined ? { failed } : {}) }
}

/** True when nothing remains and nothing failed. */
export function passed(result: StepResult): boolean {
  const r = result.remaining
  return result.failed === undefined && r.added.length + r.removed.length + r.changed.length === 0
}
