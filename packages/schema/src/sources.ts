import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  type Env,
  type ExecutorError,
  loadConfig,
  loadEnv,
  type MigrationReport,
  redactUrl,
  resolveConnection,
  runMigration,
  runMigrationsFromDir,
} from '@ddl/executor/internal'
import { err, ok, type Result } from 'neverthrow'
import pg from 'pg'
import { SchemaError } from './errors.js'

/** Where a schema comes from. */
export type SchemaSource =
  /** A live database, read as it is. `label` names it without its password. */
  | { readonly kind: 'database'; readonly url: string; readonly label: string }
  /** A migrations directory in any layout `ddl migrate` reads, applied to a shadow database. */
  | { readonly kind: 'directory'; readonly path: string }
  /** One schema (or migration) SQL file, applied to a shadow database. */
  | { readonly kind: 'file'; readonly path: string }

/** Where a source argument is resolved: the directory of `ddl.config.json` and `.env`, and the environment. */
export interface SourceContext {
  readonly cwd: string
  readonly env: Env
}

/**
 * Reads a source argument: a `postgres://` or `postgresql://` URL, an existing directory or `.sql`
 * file (relative to `cwd`), or else the name of a project of `ddl.config.json`. Fails with
 * `SchemaError` (`source`), whose message never holds a password. Never throws.
 *
 * @example
 * await resolveSource('migrations', { cwd, env }) // ok({ kind: 'directory', path: '/app/migrations' })
 * await resolveSource('smoothed', { cwd, env })   // ok({ kind: 'database', url, label: 'project smoothed' })
 */
export async function resolveSource(arg: string, context: SourceContext): Promise<Result<SchemaSource, SchemaError>> {
  if (/^postgres(?:ql)?:\/\//i.test(arg)) return ok({ kind: 'database', url: arg, label: redactUrl(arg) })
  const path = resolve(context.cwd, arg)
  try {
    const info = await stat(path)
    if (info.isDirectory()) return ok({ kind: 'directory', path })
    if (info.isFile()) return ok({ kind: 'file', path })
  } catch {
    // Not a path: a project name.
  }
  const loaded = loadConfig(context.cwd)
  if (loaded.isErr()) return err(new SchemaError(loaded.error.message, 'source', { cause: loaded.error }))
  const env = loadEnv(context.cwd, context.env)
  if (env.isErr()) return err(new SchemaError(env.error.message, 'source', { cause: env.error }))
  if (loaded.value.path === undefined && !/^[A-Za-z0-9_.-]+$/.test(arg)) {
    return err(new SchemaError(`${arg}: no such file or directory, and not a database URL.`, 'source'))
  }
  const target = resolveConnection(arg, loaded.value, env.value)
  if (target.isErr()) {
    return err(
      new SchemaError(
        `${arg} is not a file, a directory or a database URL, nor a project: ${target.error.message}`,
        'source',
        { cause: target.error },
      ),
    )
  }
  return ok({ kind: 'database', url: target.value.url, label: `project ${arg}` })
}

/** How a source is named in output: a path, or a database without its password. */
export function sourceLabel(source: SchemaSource): string {
  return source.kind === 'database' ? source.label : source.path
}

/** A database on the shadow server, created for one materialised source. */
export interface ShadowDatabase {
  readonly url: string
  /** Drops the database. Never throws. */
  readonly drop: () => Promise<void>
}

/**
 * Creates an empty database on the shadow server (`adminUrl`: a superuser connection to it). Fails
 * with `SchemaError` (`connection`). Never throws.
 */
export async function createShadowDatabase(adminUrl: string): Promise<Result<ShadowDatabase, SchemaError>> {
  const name = `ddl_shadow_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: adminUrl })
  // A shadow database dropped WITH (FORCE) ends idle connections: never an unhandled 'error'.
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query(`CREATE DATABASE ${name} TEMPLATE template0`)
  } catch (error) {
    return err(
      new SchemaError(
        `Cannot create a database on the shadow server ${redactUrl(adminUrl)}: ${messageOf(error)}`,
        'connection',
        { cause: error },
      ),
    )
  } finally {
    await client.end().catch(() => undefined)
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return ok({
    url: url.toString(),
    drop: async () => {
      const admin = new pg.Client({ connectionString: adminUrl })
      // A shadow database dropped WITH (FORCE) ends idle connections: never an unhandled 'error'.
      admin.on('error', () => undefined)
      try {
        await admin.connect()
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } catch {
        // A leftover database on a throwaway server is harmless; the server goes with it.
      } finally {
        await admin.end().catch(() => undefined)
      }
    },
  })
}

/**
 * Applies a migrations directory or a SQL file to an empty shadow database, through the executor's
 * migration runner (every layout `ddl migrate` reads; down files never applied; each file gated and
 * run in its own transaction). The shadow is throwaway, so every tier is allowed there; its audit
 * records go to a temp file removed afterwards. Fails with `SchemaError` (`materialise`). Never throws.
 */
export async function applyToShadow(
  source: Exclude<SchemaSource, { kind: 'database' }>,
  shadowUrl: string,
): Promise<Result<MigrationReport, SchemaError>> {
  const scratch = await mkdtemp(join(tmpdir(), 'safe-ddl-shadow-audit-'))
  try {
    const options = {
      url: shadowUrl,
      cwd: scratch,
      env: {},
      readDotEnv: false,
      config: {},
      auditPath: join(scratch, 'audit.jsonl'),
      source: 'ddl diff (shadow)',
      confirm: true,
      iKnowWhatImDoing: true,
      waitMs: 0,
      timeouts: { statementTimeoutMs: 600_000, nonTransactionalStatementTimeoutMs: 600_000 },
    } as const
    const run =
      source.kind === 'directory' ? runMigrationsFromDir(source.path, options) : runMigration(source.path, options)
    const report = await run
    if (report.isErr()) {
      return err(
        new SchemaError(
          `Applying ${source.path} to the shadow database failed: ${describe(report.error)}`,
          'materialise',
          { cause: report.error },
        ),
      )
    }
    return ok(report.value)
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** Executor messages hold no connection string (the executor redacts them). */
function describe(error: ExecutorError): string {
  return error.message
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
