import { err, ok, type Result } from 'neverthrow'
import { CONFIG_FILE, type Env, type LoadedConfig } from './config.js'
import { ConfigError } from './errors.js'

/** Where a connection string came from, and the string itself (a secret: never show it). */
export interface ConnectionTarget {
  /** The project name, or `undefined` without one. */
  readonly project: string | undefined
  /** The variable it was read from; `undefined` for a URL passed in code. */
  readonly variable: string | undefined
  readonly url: string
}

/** The variables read, in order, when no project is named. */
export const DEFAULT_URL_VARIABLES = ['DDL_DATABASE_URL', 'DATABASE_URL'] as const

/**
 * Finds the connection string for a project (through `ddl.config.json`'s `projects`) or, without a
 * project, in `DDL_DATABASE_URL` then `DATABASE_URL`. Fails with `ConfigError` naming the configured
 * projects or the variable to set; the error never contains a connection string. Never throws.
 *
 * @example
 * // ddl.config.json: { "projects": { "smoothed": "SUPABASE_POSTGRES_URL" } }
 * resolveConnection('smoothed', loaded, env) // ok({ project: 'smoothed', variable: 'SUPABASE_POSTGRES_URL', url })
 */
export function resolveConnection(
  project: string | undefined,
  loaded: LoadedConfig,
  env: Env,
): Result<ConnectionTarget, ConfigError> {
  const path = loaded.path
  const projects = loaded.config.projects ?? {}
  const names = Object.keys(projects)
  if (project !== undefined) {
    const variable = Object.hasOwn(projects, project) ? projects[project] : undefined
    if (variable === undefined) {
      if (path === undefined) {
        return err(
          new ConfigError(
            `Unknown project "${project}": there is no ${CONFIG_FILE} in this directory. ` +
              `Create one mapping project names to environment variables, e.g. ` +
              `{ "projects": { "${project}": "SUPABASE_POSTGRES_URL" } }, and put the connection string in .env.`,
          ),
        )
      }
      const known = names.length > 0 ? `Configured projects: ${names.join(', ')}.` : 'No projects are configured.'
      return err(
        new ConfigError(`Unknown project "${project}". ${known} Add it to "projects" in ${path}.`, {
          path,
        }),
      )
    }
    const url = env[variable]
    if (url === undefined || url.trim() === '') {
      return err(
        new ConfigError(
          `Project "${project}" reads its connection string from ${variable}, which is not set. ` +
            `Add ${variable}=postgres://... to .env (Supabase: Dashboard → Settings → Database → Connection string).`,
          { path },
        ),
      )
    }
    return checkUrl(url.trim(), variable).map((checked) => ({ project, variable, url: checked }))
  }
  for (const variable of DEFAULT_URL_VARIABLES) {
    const url = env[variable]
    if (url !== undefined && url.trim() !== '') {
      return checkUrl(url.trim(), variable).map((checked) => ({ project: undefined, variable, url: checked }))
    }
  }
  const hint =
    names.length > 0
      ? ` Or name a project: ${names.join(', ')} (--project NAME, or new PostgresAPI('${names[0]}')).`
      : ` Or map project names to variables in ${CONFIG_FILE}.`
  return err(
    new ConfigError(
      `No database to connect to: set DDL_DATABASE_URL or DATABASE_URL (in the environment or .env).${hint}`,
      {
        path,
      },
    ),
  )
}

/** The URL when it is a postgres:// or postgresql:// URL; the error never echoes it. */
export function checkUrl(url: string, variable: string | undefined): Result<string, ConfigError> {
  const where = variable === undefined ? 'The connection string' : variable
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return err(
      new ConfigError(
        `${where} is not a valid URL. Use the form postgres://USER:PASSWORD@HOST:5432/DATABASE ` +
          '(percent-encode special characters in the password).',
      ),
    )
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return err(new ConfigError(`${where} must start with postgres:// or postgresql://.`))
  }
  return ok(url)
}
