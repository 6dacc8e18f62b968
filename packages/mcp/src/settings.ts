import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { isTier, TIERS, type Tier } from '@ddl/classifier'
import { CONFIG_FILE, ConfigError, type Env, parseConfig, type Timeouts } from '@ddl/executor'
import { err, ok, type Result } from 'neverthrow'

/** How a person may approve `cautious` and `destructive` work. */
export type ApprovalChannel = 'cli' | 'elicitation'

/** Every approval channel, in the order they are tried. */
export const APPROVAL_CHANNELS: readonly ApprovalChannel[] = ['elicitation', 'cli']

/** Where and how approvals are kept and checked. */
export interface ApprovalSettings {
  /**
   * How a person may approve: `cli` (`ddl approve ID` in their own terminal) and/or `elicitation`
   * (the MCP client's own prompt, when the client supports it). Default both.
   */
  readonly channels: readonly ApprovalChannel[]
  /** How long an approval request, and the approval given to it, stays usable. Default 900 (15 minutes). */
  readonly ttlSeconds: number
  /** The approval store: `requests/`, `grants/`, `denials/`, `used/`. */
  readonly dir: string
  /**
   * When not empty, a grant or denial counts only if its file is owned by one of these OS user ids
   * and is writable by no one else: the setup for an approver who is not the agent's OS user.
   */
  readonly approverUids: readonly number[]
  /**
   * Write the store's files 0640 and new directories 0750 instead of 0600/0700, so an approver in a
   * shared group can read requests and the server can read the approver's grants. Default false.
   */
  readonly shared: boolean
  /** How long to wait for the person to answer the client's prompt. Default 600. */
  readonly elicitationTimeoutSeconds: number
}

/** The MCP server's settings: the `mcp` key of `ddl.config.json`, then the environment, then flags. */
export interface McpSettings {
  /** Where `ddl.config.json` and `.env` are read. */
  readonly cwd: string
  /** The projects the server may touch (`default` is `DDL_DATABASE_URL` / `DATABASE_URL`). */
  readonly projects: readonly string[]
  /** The project used when a tool call names none. */
  readonly defaultProject: string | undefined
  /** True: no tool sends a write (no execute, rehearsal or migration); reads and classification only. */
  readonly readOnly: boolean
  /** Tiers that run without a person. Default `['safe']`. */
  readonly unattendedTiers: readonly Tier[]
  readonly approvals: ApprovalSettings
  /** Rehearse `cautious`/`destructive` work (run, then roll back) before asking for approval. Default true. */
  readonly rehearse: boolean
  /** Timeouts passed to the executor (override `ddl.config.json`'s `timeouts`). */
  readonly timeouts: Partial<Timeouts>
  /** The most rows a tool returns to the model. Default 200. */
  readonly maxRows: number
  /**
   * The effect check's row limit for every write the server runs: a run that deletes or updates
   * more rows (triggers and cascades included) rolls back. Default: the configuration's `maxRows`
   * (none when unset).
   */
  readonly maxChangedRows: number | undefined
  /** The migrations directory `migration_status` and `apply_migrations` use by default. */
  readonly migrationsDir: string | undefined
  /** Where the settings came from, for the startup line and docs. */
  readonly configPath: string | undefined
}

/** What flags (`ddl mcp --read-only ...`) may set. Each overrides the file and the environment. */
export interface SettingsOverrides {
  readonly cwd?: string
  readonly projects?: readonly string[]
  readonly readOnly?: boolean
  readonly unattendedTiers?: readonly Tier[]
  readonly channels?: readonly ApprovalChannel[]
  readonly ttlSeconds?: number
  readonly approvalsDir?: string
  readonly migrationsDir?: string
}

/** The default approval lifetime: 15 minutes. */
export const DEFAULT_APPROVAL_TTL_SECONDS = 900

const DEFAULT_ELICITATION_TIMEOUT_SECONDS = 600
const DEFAULT_MAX_ROWS = 200
const MCP_KEYS = [
  'projects',
  'defaultProject',
  'readOnly',
  'unattendedTiers',
  'approvals',
  'rehearse',
  'timeouts',
  'maxRows',
  'maxChangedRows',
  'migrationsDir',
]
const APPROVAL_KEYS = ['channels', 'ttlSeconds', 'dir', 'approverUids', 'shared', 'elicitationTimeoutSeconds']

/**
 * The approval store's directory: `override`, else `DDL_APPROVALS_DIR`, else the configuration's
 * `mcp.approvals.dir`, else `$XDG_STATE_HOME/safe-ddl/approvals` (`~/.local/state/safe-ddl/approvals`).
 * `ddl approve` and the server resolve it the same way (see {@link loadSettings}); this is the last
 * of those. Never throws.
 *
 * @example
 * defaultApprovalsDir({ HOME: '/home/ada' }) // '/home/ada/.local/state/safe-ddl/approvals'
 */
export function defaultApprovalsDir(env: Env): string {
  const home = present(env.HOME) ?? homedir()
  const state = present(env.XDG_STATE_HOME) ?? join(home, '.local', 'state')
  return join(state, 'safe-ddl', 'approvals')
}

/**
 * Reads the server's settings: defaults, then `ddl.config.json`'s `mcp` key in `cwd`, then the
 * environment (`DDL_MCP_READ_ONLY`, `DDL_MCP_PROJECTS`, `DDL_MCP_UNATTENDED_TIERS`,
 * `DDL_MCP_APPROVAL_TTL`, `DDL_MCP_APPROVALS`, `DDL_APPROVALS_DIR`), then `overrides`. Read-only is
 * on when any layer turns it on: no layer can turn it off again. Fails with `ConfigError`. Never throws.
 *
 * @example
 * const settings = loadSettings({ readOnly: true }, process.env) // ok({ readOnly: true, unattendedTiers: ['safe'], ... })
 */
export function loadSettings(overrides: SettingsOverrides, env: Env): Result<McpSettings, ConfigError> {
  const cwd = resolve(overrides.cwd ?? process.cwd())
  const path = join(cwd, CONFIG_FILE)
  let raw: Record<string, unknown> = {}
  let configPath: string | undefined
  try {
    const text = readFileSync(path, 'utf8')
    configPath = path
    const parsed = parseConfig(text, path)
    if (parsed.isErr()) return err(parsed.error)
    const json = JSON.parse(text) as unknown
    if (isRecord(json)) raw = json
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      return err(new ConfigError(`Cannot read ${path}: ${(error as Error).message}`, { path }))
    }
  }
  const fileProjects = isRecord(raw.projects) ? Object.keys(raw.projects) : []
  const mcp = raw.mcp === undefined ? {} : raw.mcp
  const fail = (message: string) => err(new ConfigError(`${path}: "mcp": ${message}`, { path }))
  if (!isRecord(mcp)) return fail('must be an object (see docs/agents.md).')
  for (const key of Object.keys(mcp)) {
    if (!MCP_KEYS.includes(key)) return fail(`unknown key "${key}"; known: ${MCP_KEYS.join(', ')}.`)
  }
  const approvalsRaw = mcp.approvals === undefined ? {} : mcp.approvals
  if (!isRecord(approvalsRaw)) return fail('"approvals" must be an object.')
  for (const key of Object.keys(approvalsRaw)) {
    if (!APPROVAL_KEYS.includes(key)) return fail(`unknown key "approvals.${key}"; known: ${APPROVAL_KEYS.join(', ')}.`)
  }

  const known = fileProjects.length > 0 ? fileProjects : ['default']
  const checked = all({
    projects: stringList(mcp.projects, 'projects'),
    defaultProject: optionalString(mcp.defaultProject, 'defaultProject'),
    readOnly: optionalBoolean(mcp.readOnly, 'readOnly'),
    unattended: tierList(mcp.unattendedTiers, 'unattendedTiers'),
    channels: channelList(approvalsRaw.channels, 'approvals.channels'),
    ttl: positiveInteger(approvalsRaw.ttlSeconds, 'approvals.ttlSeconds'),
    dir: optionalString(approvalsRaw.dir, 'approvals.dir'),
    uids: uidList(approvalsRaw.approverUids, 'approvals.approverUids'),
    shared: optionalBoolean(approvalsRaw.shared, 'approvals.shared'),
    elicitationTimeout: positiveInteger(approvalsRaw.elicitationTimeoutSeconds, 'approvals.elicitationTimeoutSeconds'),
    rehearse: optionalBoolean(mcp.rehearse, 'rehearse'),
    maxRows: positiveInteger(mcp.maxRows, 'maxRows'),
    maxChangedRows: nonNegativeInteger(mcp.maxChangedRows, 'maxChangedRows'),
    migrationsDir: optionalString(mcp.migrationsDir, 'migrationsDir'),
  })
  if (checked.isErr()) return fail(checked.error)
  const layers = checked.value
  let timeouts: Partial<Timeouts> = {}
  if (mcp.timeouts !== undefined) {
    const checked = parseConfig(JSON.stringify({ timeouts: mcp.timeouts }), `${path}: "mcp"`)
    if (checked.isErr()) return err(new ConfigError(checked.error.message, { path }))
    timeouts = checked.value.timeouts ?? {}
  }

  const envProjects = envList(env.DDL_MCP_PROJECTS)
  const envTiers = envList(env.DDL_MCP_UNATTENDED_TIERS)
  const envChannels = envList(env.DDL_MCP_APPROVALS)
  const envTtl = present(env.DDL_MCP_APPROVAL_TTL)
  const envChecked = all({
    tiers: envTiers === undefined ? ok(undefined) : tierList(envTiers, 'DDL_MCP_UNATTENDED_TIERS'),
    channels: envChannels === undefined ? ok(undefined) : channelList(envChannels, 'DDL_MCP_APPROVALS'),
    ttl: envTtl === undefined ? ok(undefined) : positiveInteger(Number(envTtl), 'DDL_MCP_APPROVAL_TTL'),
  })
  if (envChecked.isErr()) return err(new ConfigError(`The environment: ${envChecked.error}`))
  const fromEnv = envChecked.value

  const fileList = layers.projects
  const chosen = overrides.projects ?? envProjects ?? fileList ?? known
  for (const project of chosen) {
    if (project !== 'default' && !fileProjects.includes(project)) {
      return err(
        new ConfigError(
          `The MCP server may not use project "${project}": ${CONFIG_FILE} in ${cwd} has ${
            fileProjects.length > 0 ? `the projects ${fileProjects.join(', ')}` : 'no projects'
          }. Name one of them, or "default" for DDL_DATABASE_URL / DATABASE_URL.`,
          { path },
        ),
      )
    }
    if (fileList !== undefined && !fileList.includes(project)) {
      return err(
        new ConfigError(
          `Project "${project}" is not in "mcp.projects" (${fileList.join(', ')}) of ${path}: flags and the ` +
            'environment may narrow that list, not widen it.',
          { path },
        ),
      )
    }
  }
  if (chosen.length === 0) return fail('"projects" must name at least one project.')
  const defaultProject = layers.defaultProject ?? (chosen.length === 1 ? chosen[0] : undefined)
  if (defaultProject !== undefined && !chosen.includes(defaultProject)) {
    return fail(`"defaultProject" "${defaultProject}" is not one of the allowed projects (${chosen.join(', ')}).`)
  }

  const configDir = dirname(path)
  const fileDir = layers.dir
  const dir =
    overrides.approvalsDir !== undefined
      ? resolve(cwd, overrides.approvalsDir)
      : (present(env.DDL_APPROVALS_DIR) ??
        (fileDir !== undefined ? resolve(configDir, expandHome(fileDir, env)) : defaultApprovalsDir(env)))
  const migrations = overrides.migrationsDir ?? layers.migrationsDir

  return ok({
    cwd,
    projects: chosen,
    defaultProject,
    readOnly: overrides.readOnly === true || isTrue(env.DDL_MCP_READ_ONLY) || layers.readOnly === true,
    unattendedTiers: overrides.unattendedTiers ?? fromEnv.tiers ?? layers.unattended ?? ['safe'],
    approvals: {
      channels: overrides.channels ?? fromEnv.channels ?? layers.channels ?? [...APPROVAL_CHANNELS],
      ttlSeconds: overrides.ttlSeconds ?? fromEnv.ttl ?? layers.ttl ?? DEFAULT_APPROVAL_TTL_SECONDS,
      dir: resolve(cwd, dir),
      approverUids: layers.uids ?? [],
      shared: layers.shared === true || isTrue(env.DDL_APPROVALS_SHARED),
      elicitationTimeoutSeconds: layers.elicitationTimeout ?? DEFAULT_ELICITATION_TIMEOUT_SECONDS,
    },
    rehearse: layers.rehearse ?? true,
    timeouts,
    maxRows: layers.maxRows ?? DEFAULT_MAX_ROWS,
    maxChangedRows: layers.maxChangedRows,
    migrationsDir: migrations === undefined ? undefined : resolve(cwd, migrations),
    configPath,
  })
}

/**
 * A few lines describing the effective policy, for stderr at startup. Never throws.
 *
 * @example
 * describeSettings(settings) // 'projects: default\nruns without a person: safe; ...'
 */
export function describeSettings(settings: McpSettings): string {
  const channels = settings.approvals.channels.join(' and ')
  const lines = [
    `projects: ${settings.projects.join(', ')}${
      settings.defaultProject !== undefined && settings.projects.length > 1
        ? ` (default: ${settings.defaultProject})`
        : ''
    }`,
    settings.readOnly
      ? 'read-only: every write is refused'
      : `runs without a person: ${settings.unattendedTiers.length > 0 ? settings.unattendedTiers.join(', ') : 'nothing'}; ` +
        `other tiers wait for a person (${channels}), approvals last ${settings.approvals.ttlSeconds}s`,
    `approval store: ${settings.approvals.dir}${
      settings.approvals.approverUids.length > 0
        ? ` (grants only from uid ${settings.approvals.approverUids.join(', ')})`
        : ' (same OS user: see docs/agents.md, "Trust boundary")'
    }`,
  ]
  if (settings.unattendedTiers.includes('destructive')) {
    lines.push('WARNING: destructive work runs without a person (mcp.unattendedTiers includes "destructive").')
  }
  return lines.join('\n')
}

type Check<T> = Result<T | undefined, string>
type Values<T> = { [K in keyof T]: T[K] extends Result<infer V, string> ? V : never }

/** Every check's value, or the first problem. */
function all<T extends Record<string, Result<unknown, string>>>(checks: T): Result<Values<T>, string> {
  const out: Record<string, unknown> = {}
  for (const [key, check] of Object.entries(checks)) {
    if (check.isErr()) return err(check.error)
    out[key] = check.value
  }
  return ok(out as Values<T>)
}

function stringList(value: unknown, key: string): Check<string[]> {
  if (value === undefined) return ok(undefined)
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    return err(`"${key}" must be a list of names, e.g. ["smoothed"].`)
  }
  return ok([...new Set(value as string[])])
}

function tierList(value: unknown, key: string): Check<Tier[]> {
  if (value === undefined) return ok(undefined)
  if (!Array.isArray(value) || !value.every(isTier)) {
    return err(`"${key}" must be a list of tiers (${TIERS.join(', ')}), e.g. ["safe"].`)
  }
  return ok([...new Set(value as Tier[])])
}

function channelList(value: unknown, key: string): Check<ApprovalChannel[]> {
  if (value === undefined) return ok(undefined)
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((v) => (APPROVAL_CHANNELS as readonly unknown[]).includes(v))
  ) {
    return err(`"${key}" must list one or both of ${APPROVAL_CHANNELS.join(', ')}.`)
  }
  return ok([...new Set(value as ApprovalChannel[])])
}

function uidList(value: unknown, key: string): Check<number[]> {
  if (value === undefined) return ok(undefined)
  if (!Array.isArray(value) || !value.every((v) => Number.isSafeInteger(v) && (v as number) >= 0)) {
    return err(`"${key}" must be a list of numeric OS user ids, e.g. [1001].`)
  }
  return ok(value as number[])
}

function positiveInteger(value: unknown, key: string): Check<number> {
  if (value === undefined) return ok(undefined)
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    return err(`"${key}" must be a whole number of at least 1.`)
  }
  return ok(value)
}

function nonNegativeInteger(value: unknown, key: string): Check<number> {
  if (value === undefined) return ok(undefined)
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return err(`"${key}" must be a whole number of rows (0 or more).`)
  }
  return ok(value)
}

function optionalBoolean(value: unknown, key: string): Check<boolean> {
  if (value === undefined) return ok(undefined)
  if (typeof value !== 'boolean') return err(`"${key}" must be true or false.`)
  return ok(value)
}

function optionalString(value: unknown, key: string): Check<string> {
  if (value === undefined) return ok(undefined)
  if (typeof value !== 'string' || value === '') return err(`"${key}" must be a non-empty string.`)
  return ok(value)
}

function envList(value: string | undefined): string[] | undefined {
  const text = present(value)
  if (text === undefined) return undefined
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function expandHome(path: string, env: Env): string {
  const home = present(env.HOME) ?? homedir()
  if (path === '~') return home
  return path.startsWith('~/') ? join(home, path.slice(2)) : path
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}

function isTrue(value: string | undefined): boolean {
  return value === '1' || value?.toLowerCase() === 'true' || value?.toLowerCase() === 'yes'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
