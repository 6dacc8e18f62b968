import { PostgresAPI } from '@ddl/executor'
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
 * The projects the server may touch, each with one `PostgresAPI` (created on first use, acting as
 * `actor()`, recording `source: 'mcp'`). Project `default` is `DDL_DATABASE_URL` / `DATABASE_URL`.
 */
export class Projects {
  readonly #settings: McpSettings
  readonly #actor: () => string
  readonly #apis = new Map<string, PostgresAPI>()

  constructor(settings: McpSettings, actor: () => string) {
    this.#settings = settings
    this.#actor = actor
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
            'A person changes that in ddl.config.json ("mcp": { "projects": [...] }).',
        ),
      )
    }
    return ok(name)
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
    return new PostgresAPI(project === 'default' ? undefined : project, {
      cwd: this.#settings.cwd,
      actor: this.#actor(),
      source,
      timeouts: this.#settings.timeouts,
      ...(this.#settings.maxChangedRows !== undefined ? { maxRows: this.#settings.maxChangedRows } : {}),
    })
  }

  /** Closes every connection. Never throws. */
  async close(): Promise<void> {
    const apis = [...this.#apis.values()]
    this.#apis.clear()
    await Promise.all(apis.map((api) => api.close()))
  }
}
