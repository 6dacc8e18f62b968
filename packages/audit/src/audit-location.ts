import { homedir, userInfo } from 'node:os'
import { join, resolve } from 'node:path'

/** Where the log lives when neither an option nor `DDL_AUDIT_LOG` names a file, under the home directory. */
export const DEFAULT_AUDIT_FILE = join('.safe-ddl', 'audit.jsonl')

/** What the path and actor are chosen from. */
export interface LocationInput {
  readonly path?: string | undefined
  readonly actor?: string | undefined
  readonly env?: NodeJS.ProcessEnv | undefined
  readonly cwd?: string | undefined
}

/**
 * The absolute path of the log: `path`, else `DDL_AUDIT_LOG`, else `~/.safe-ddl/audit.jsonl`. A leading
 * `~/` means the home directory; a relative path is taken from `cwd`. Never throws.
 *
 * @example
 * ```ts
 * resolveAuditPath({ env: { DDL_AUDIT_LOG: '/var/log/ddl/audit.jsonl' } }) // '/var/log/ddl/audit.jsonl'
 * ```
 */
export function resolveAuditPath(input: LocationInput = {}): string {
  const env = input.env ?? process.env
  const home = present(env.HOME) ?? homedir()
  const chosen = present(input.path) ?? present(env.DDL_AUDIT_LOG)
  if (chosen === undefined) return join(home, DEFAULT_AUDIT_FILE)
  const expanded = chosen === '~' ? home : chosen.startsWith('~/') ? join(home, chosen.slice(2)) : chosen
  return resolve(input.cwd ?? process.cwd(), expanded)
}

/**
 * Who is recorded as acting: `actor`, else `DDL_ACTOR` (an agent's name, say), else the OS user.
 * Never throws: without a user name it falls back to `USER`, then `uid-<n>`, then `unknown`.
 */
export function resolveActor(input: LocationInput = {}): string {
  const env = input.env ?? process.env
  return present(input.actor) ?? present(env.DDL_ACTOR) ?? osUser(env)
}

function osUser(env: NodeJS.ProcessEnv): string {
  try {
    const name = present(userInfo().username)
    if (name !== undefined) return name
  } catch {
    // No passwd entry for this uid (common in containers): fall through.
  }
  const uid = process.getuid?.()
  return present(env.USER) ?? present(env.LOGNAME) ?? (uid === undefined ? 'unknown' : `uid-${uid}`)
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}
