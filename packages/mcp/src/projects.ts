import {
  ConfigError,
  type ConnectionError,
  type ConnectionTarget,
  PostgresAPI,
  resolveConnection,
} from '@ddl/executor/internal'
import { err, ok, type Result } from 'neverthrow'
import type { McpSettings } from './settings.js'

/** A tool call named a project the server may not touch, or none when it must. */
export class ProjectError extends Error {
  readonly kind = 'ProjectError'
  constructor(message: string) {
    super(message)
    this.name = 'ProjectError'
  }
}

/**
 * The database an approval is bound to: where the server connects (read once at start) and, when
 * the server lets it be read, the cluster's `system_identifier` (`pg_control_system()`), which
 * differs between two servers even behind the same host and port.
 */
export interface DatabaseTarget {
  readonly host: string
  readonly port: number
  readonly database: string
  /** `undefined` when the role may not call `pg_control_system()`. */
  readonly systemIdentifier: string | undefined
}

/**
 * Host, port and database of a connection string, without user or password. Never throws.
 *
 * @example
 * targetOfUrl('postgres://u:p@db.example:6543/app') // { host: 'db.example', port: 6543, database: 'app', systemIdentifier: undefined }
 */
export function targetOfUrl(url: string): DatabaseTarget {
  try {
    const u = new URL(url)
    const hostParam = u.searchParams.get('host')
    const host = u.hostname !== '' ? decodeURIComponent(u.hostname) : (hostParam ?? 'localhost')
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres'
    return { host, port: u.port === '' ? 5432 : Number(u.port), database, systemIdentifier: undefined }
  } catch {
    return { host: '?', port: 0, database: '?', systemIdentifier: undefined }
  }
}

/**
 * A target on one line, for people: `db.example:6543/app (system 7301…)`. Never throws.
 *
 * @example
 * describeTarget({ host: 'localhost', port: 5432, database: 'app', systemIdentifier: '7301' }) // 'localhost:5432/app (system_identifier 7301)'
 */
export function describeTarget(target: DatabaseTarget): string {
  return `${target.host}:${target.port}/${target.database}${
    target.systemIdentifier !== undefined ? ` (system_identifier ${target.systemIdentifier})` : ''
  }`
}

/**
 * Where an API's work goes: host, port and database of its connection string, and the cluster's
 * `system_identifier` read now (when the role may read it). This is the server's own read of a
 * catalog function, not the agent's SQL, so it does not go through the gate (which rightly does not
 * know `pg_control_system()`). Fails with `ConfigError` (no database) or `ConnectionError`. Never throws.
 *
 * @example
 * await databaseTarget(api) // ok({ host: 'localhost', port: 5432, database: 'app', systemIdentifier: '7301...' })
 */
export async function databaseTarget(
  api: PostgresAPI,
  known?: DatabaseTarget,
): Promise<Result<DatabaseTarget, ConfigError | ConnectionError>> {
  const context = api.context()
  if (context.isErr()) return err(context.error)
  const connector = context.value.connector()
  if (connector.isErr()) return err(connector.error)
  const base = known ?? targetOfUrl(connector.value.target.url)
  const client = await connector.value.connect()
  if (client.isErr()) return err(client.error)
  let systemIdentifier: string | undefined
  try {
    const read = await client.value.query<{ id: string }>(
      'SELECT system_identifier::text AS id FROM pg_control_system()',
    )
    systemIdentifier = read.rows[0]?.id
  } catch {
    // A role without the right to read it binds by host, port and database alone.
    systemIdentifier = undefined
  } finally {
    client.value.release()
  }
  return ok({ ...base, systemIdentifier })
}

/**
 * The projects the server may touch, each with one `PostgresAPI` (created on first use, acting as
 * `actor()`, recording `source: 'mcp'`). Project `default` is `DDL_DATABASE_URL` / `DATABASE_URL`.
 * Every connection string, the configuration and the audit log location come from what the server
 * read at start ({@link McpSettings.snapshot}): nothing is read from `.env` or `ddl.config.json`
 * again, so a file the agent rewrites during the session moves no run to another database.
 */
export class Projects {
  readonly #settings: McpSettings
  readonly #actor: () => string
  readonly #apis = new Map<string, PostgresAPI>()
  readonly #connections = new Map<string, Result<ConnectionTarget, ConfigError>>()

  constructor(settings: McpSettings, actor: () => string) {
    this.#settings = settings
    this.#actor = actor
    const { config, env } = settings.snapshot
    for (const project of settings.projects) {
      this.#connections.set(project, resolveConnection(project === 'default' ? undefined : project, config, env))
    }
  }

  /**
   * The project a call acts on: the one it names, if the server may touch it; else the default one.
   * Fails with `ProjectError` naming the allowed projects. Never throws.
   */
  resolve(name: string | undefined): Result<string, ProjectError> {
    const allowed = this.#settings.projects
    if (name === undefined || name === '') {
      if (this.#settings.defaultProject !== undefined) return ok(this.#settings.defaultProject)
      return err(new ProjectError(`Name a project: this server may use ${allowed.join(', ')}. Nothing ran.`))
    }
    if (!allowed.includes(name)) {
      return err(
        new ProjectError(
          `This server may not use project "${name}"; it may use ${allowed.join(', ')}. Nothing ran. ` +
            "A person changes that in the server's configuration.",
        ),
      )
    }
    return ok(name)
  }

  /** One line per project for the start-up summary: its database, or a warning when none is configured. */
  describe(): string[] {
    return this.#settings.projects.map((project) => {
      const connection = this.#connections.get(project)
      if (connection === undefined || connection.isErr()) {
        return `WARNING: project "${project}" has no database: ${connection?.error.message ?? 'not configured'}`
      }
      return `database of "${project}": ${describeTarget(targetOfUrl(connection.value.url))}  [from ${
        connection.value.variable ?? 'configuration'
      }, read at start]`
    })
  }

  /**
   * Where a project's work goes: host, port and database read at start, and the cluster's
   * `system_identifier`, read now (when the role may read it). Fails with the configuration error of
   * a project without a database, or a `ConnectionError`. Never throws.
   */
  async target(project: string): Promise<Result<DatabaseTarget, ConfigError | ConnectionError>> {
    const connection = this.#connections.get(project)
    if (connection === undefined) return err(new ConfigError(`This server may not use project "${project}".`))
    if (connection.isErr()) return err(connection.error)
    const base = targetOfUrl(connection.value.url)
    // Read each time: the server behind the same host and port may have been replaced since.
    return databaseTarget(this.api(project), base)
  }

  /** The shared API of a project (resolved first with {@link Projects.resolve}). */
  api(project: string): PostgresAPI {
    let api = this.#apis.get(project)
    if (api === undefined) {
      api = this.open(project, 'mcp')
      this.#apis.set(project, api)
    }
    return api
  }

  /** A new API of a project recording `source` in the audit log; the caller closes it. */
  open(project: string, source: string): PostgresAPI {
    const { snapshot, cwd, timeouts } = this.#settings
    const connection = this.#connections.get(project)
    return new PostgresAPI(project === 'default' ? undefined : project, {
      cwd,
      env: snapshot.env,
      readDotEnv: false,
      config: snapshot.config.config,
      auditPath: snapshot.auditPath,
      ...(connection?.isOk() ? { url: connection.value.url } : {}),
      actor: this.#actor(),
      source,
      timeouts,
      ...(this.#settings.maxChangedRows !== undefined ? { maxRows: this.#settings.maxChangedRows } : {}),
    })
  }

  /** The options a migration run passes to connect as {@link Projects.open} does. */
  connectOptions(project: string) {
    const { snapshot, cwd } = this.#settings
    const connection = this.#connections.get(project)
    return {
      ...(project === 'default' ? {} : { project }),
      cwd,
      env: snapshot.env,
      readDotEnv: false,
      config: snapshot.config.config,
      auditPath: snapshot.auditPath,
      ...(connection?.isOk() ? { url: connection.value.url } : {}),
    }
  }

  /** Closes every connection. Never throws. */
  async close(): Promise<void> {
    const apis = [...this.#apis.values()]
    this.#apis.clear()
    await Promise.all(apis.map((api) => api.close()))
  }
}
