import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { AuditLog } from '@ddl/audit'
import { isTier, TIERS, type Tier } from '@ddl/classifier'
import {
  CONFIG_FILE,
  ConfigError,
  type Env,
  type LoadedConfig,
  loadEnv,
  parseConfig,
  type Timeouts,
} from '@ddl/executor/internal'
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
  /**
   * The approver's Ed25519 public key (read once at start from `--approval-key` or
   * `DDL_APPROVAL_PUBLIC_KEY`, never from the working tree). When set, a grant counts only with a
   * valid signature by the matching private key (`ddl approve --key`).
   */
  readonly publicKey: KeyObject | undefined
  /** Where {@link ApprovalSettings.publicKey} was read. */
  readonly publicKeyPath: string | undefined
}

/** A setting the start-up summary names, with where its value came from. */
export type SettingName =
  | 'projects'
  | 'readOnly'
  | 'unattendedTiers'
  | 'channels'
  | 'ttlSeconds'
  | 'approvalsDir'
  | 'approverUids'
  | 'approvalKey'
  | 'auditLog'

/** A file the server read at start, and the SHA-256 of what it held then (`undefined`: absent). */
export interface WatchedFile {
  readonly path: string
  readonly sha256: string | undefined
}

/**
 * Everything the server read from files and the environment, once, at start. Connection strings,
 * policy and the audit log location come from here for the whole session: a `.env` or
 * `ddl.config.json` written later is reported (see {@link changedSettingsFiles}) and ignored.
 */
export interface StartSnapshot {
  /** The server's environment with `.env` added (the environment wins), as at start. */
  readonly env: Env
  /** `ddl.config.json` as at start. */
  readonly config: LoadedConfig
  /** `.env` and `ddl.config.json` under `cwd`, with their digests at start. */
  readonly files: readonly WatchedFile[]
  /** The audit log file, resolved at start. */
  readonly auditPath: string
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
  /** Where each trust setting came from: `--read-only`, `environment DDL_MCP_READ_ONLY`, `.env ...`, `ddl.config.json ...`, `default`. */
  readonly sources: Readonly<Record<SettingName, string>>
  /** What was read at start (and is not read again). */
  readonly snapshot: StartSnapshot
  /** Things a person should know about the settings: ignored keys, widening from the working tree. */
  readonly warnings: readonly string[]
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
  readonly approverUids?: readonly number[]
  /** The approver's public key file (PEM, Ed25519). */
  readonly approvalKey?: string
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
 * Reads the server's settings once, from the same sources in the same order as the CLI: `overrides`
 * (the server's flags), then the server's own environment `env` (both from the client's
 * configuration), then `.env` under `cwd`, then `ddl.config.json`'s `mcp` key, then defaults.
 * Variables: `DDL_MCP_READ_ONLY`, `DDL_MCP_PROJECTS`, `DDL_MCP_UNATTENDED_TIERS`,
 * `DDL_MCP_APPROVAL_TTL`, `DDL_MCP_APPROVALS`, `DDL_APPROVALS_DIR`, `DDL_APPROVER_UIDS`,
 * `DDL_APPROVAL_PUBLIC_KEY` (the last only from the environment, never `.env`). Read-only is on when
 * any source turns it on: no source can turn it off again. The result also holds what was read
 * ({@link StartSnapshot}) so nothing is read again during the session. Fails with `ConfigError`.
 * Never throws.
 *
 * @example
 * const settings = loadSettings({ readOnly: true }, process.env) // ok({ readOnly: true, unattendedTiers: ['safe'], ... })
 */
export function loadSettings(overrides: SettingsOverrides, env: Env): Result<McpSettings, ConfigError> {
  const cwd = resolve(overrides.cwd ?? process.cwd())
  const path = join(cwd, CONFIG_FILE)
  const envPath = join(cwd, '.env')
  const merged = loadEnv(cwd, env)
  if (merged.isErr()) return err(merged.error)
  const allEnv = merged.value
  const envFileText = readOptional(envPath)
  let raw: Record<string, unknown> = {}
  let configPath: string | undefined
  let configText: string | undefined
  let parsedConfig: LoadedConfig = { config: {}, path: undefined }
  try {
    const text = readFileSync(path, 'utf8')
    configPath = path
    configText = text
    const parsed = parseConfig(text, path)
    if (parsed.isErr()) return err(parsed.error)
    parsedConfig = { config: parsed.value, path }
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

  // A variable set in the server's own environment wins over .env (as loadEnv merges them).
  const where = (name: string) => (present(env[name]) !== undefined ? `environment ${name}` : `.env ${name}`)
  const envProjects = envList(allEnv.DDL_MCP_PROJECTS)
  const envTiers = envList(allEnv.DDL_MCP_UNATTENDED_TIERS)
  const envChannels = envList(allEnv.DDL_MCP_APPROVALS)
  const envTtl = present(allEnv.DDL_MCP_APPROVAL_TTL)
  const envUids = envList(allEnv.DDL_APPROVER_UIDS)
  const envChecked = all({
    tiers: envTiers === undefined ? ok(undefined) : tierList(envTiers, 'DDL_MCP_UNATTENDED_TIERS'),
    channels: envChannels === undefined ? ok(undefined) : channelList(envChannels, 'DDL_MCP_APPROVALS'),
    ttl: envTtl === undefined ? ok(undefined) : positiveInteger(Number(envTtl), 'DDL_MCP_APPROVAL_TTL'),
    uids: envUids === undefined ? ok(undefined) : uidList(envUids.map(Number), 'DDL_APPROVER_UIDS'),
  })
  if (envChecked.isErr()) return err(new ConfigError(`The environment: ${envChecked.error}`))
  const fromEnv = envChecked.value
  const configKey = (key: string) => `${CONFIG_FILE} mcp.${key}`

  const fileList = layers.projects
  const chosen = overrides.projects ?? envProjects ?? fileList ?? known
  const projectsFrom =
    overrides.projects !== undefined
      ? '--project'
      : envProjects !== undefined
        ? where('DDL_MCP_PROJECTS')
        : fileList !== undefined
          ? configKey('projects')
          : fileProjects.length > 0
            ? `${CONFIG_FILE} projects`
            : 'default'
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
  const envDir = present(allEnv.DDL_APPROVALS_DIR)
  const dir =
    overrides.approvalsDir !== undefined
      ? resolve(cwd, overrides.approvalsDir)
      : (envDir ?? (fileDir !== undefined ? resolve(configDir, expandHome(fileDir, env)) : defaultApprovalsDir(env)))
  const dirFrom =
    overrides.approvalsDir !== undefined
      ? '--approvals-dir'
      : envDir !== undefined
        ? where('DDL_APPROVALS_DIR')
        : fileDir !== undefined
          ? configKey('approvals.dir')
          : 'default'
  const migrations = overrides.migrationsDir ?? layers.migrationsDir

  const readOnlyFrom =
    overrides.readOnly === true
      ? '--read-only'
      : isTrue(allEnv.DDL_MCP_READ_ONLY)
        ? where('DDL_MCP_READ_ONLY')
        : layers.readOnly === true
          ? configKey('readOnly')
          : 'default'
  const unattendedTiers = overrides.unattendedTiers ?? fromEnv.tiers ?? layers.unattended ?? ['safe']
  const tiersFrom =
    overrides.unattendedTiers !== undefined
      ? '--unattended'
      : fromEnv.tiers !== undefined
        ? where('DDL_MCP_UNATTENDED_TIERS')
        : layers.unattended !== undefined
          ? configKey('unattendedTiers')
          : 'default'
  const channelsFrom =
    overrides.channels !== undefined
      ? '--approvals'
      : fromEnv.channels !== undefined
        ? where('DDL_MCP_APPROVALS')
        : layers.channels !== undefined
          ? configKey('approvals.channels')
          : 'default'
  const ttlFrom =
    overrides.ttlSeconds !== undefined
      ? '--approval-ttl'
      : fromEnv.ttl !== undefined
        ? where('DDL_MCP_APPROVAL_TTL')
        : layers.ttl !== undefined
          ? configKey('approvals.ttlSeconds')
          : 'default'
  const approverUids = overrides.approverUids ?? fromEnv.uids ?? layers.uids ?? []
  const uidsFrom =
    overrides.approverUids !== undefined
      ? '--approver-uid'
      : fromEnv.uids !== undefined
        ? where('DDL_APPROVER_UIDS')
        : layers.uids !== undefined
          ? configKey('approvals.approverUids')
          : 'default'

  const warnings: string[] = []
  // The approver's key is trusted only from the client's configuration: a path the agent can write
  // into .env would let it name a key of its own.
  const keyPath = overrides.approvalKey ?? present(env.DDL_APPROVAL_PUBLIC_KEY)
  const keyFrom =
    overrides.approvalKey !== undefined
      ? '--approval-key'
      : keyPath !== undefined
        ? 'environment DDL_APPROVAL_PUBLIC_KEY'
        : 'none'
  if (keyPath === undefined && present(allEnv.DDL_APPROVAL_PUBLIC_KEY) !== undefined) {
    warnings.push(
      "DDL_APPROVAL_PUBLIC_KEY in .env is ignored: the approver key is read only from the server's own " +
        'arguments or environment (the MCP client configuration), never from the working tree.',
    )
  }
  let publicKey: KeyObject | undefined
  let publicKeyPath: string | undefined
  if (keyPath !== undefined) {
    publicKeyPath = resolve(cwd, expandHome(keyPath, env))
    try {
      publicKey = createPublicKey(readFileSync(publicKeyPath, 'utf8'))
    } catch (error) {
      return err(
        new ConfigError(
          `Cannot read the approver's public key ${publicKeyPath}: ${(error as Error).message}. ` +
            'Make one with: ddl approve --init-key DIR',
        ),
      )
    }
    if (publicKey.asymmetricKeyType !== 'ed25519') {
      return err(
        new ConfigError(`${publicKeyPath} is not an Ed25519 public key (make one with ddl approve --init-key).`),
      )
    }
  }
  const fromTree = (from: string) => from.startsWith('.env') || from.startsWith(CONFIG_FILE)
  if (unattendedTiers.some((t) => t !== 'safe') && fromTree(tiersFrom)) {
    warnings.push(
      `Unattended tiers beyond safe come from ${tiersFrom}, a file in the working tree an agent can write: ` +
        'set them in the MCP client configuration (--unattended) instead.',
    )
  }

  const envAudit = present(allEnv.DDL_AUDIT_LOG)
  const configAudit = parsedConfig.config.audit?.path
  // Resolved as the executor resolves it (DDL_AUDIT_LOG, else audit.path, else the home default), once.
  const auditPath = AuditLog.open({
    env: allEnv as NodeJS.ProcessEnv,
    cwd,
    ...(envAudit === undefined && configAudit !== undefined ? { path: configAudit } : {}),
  }).path
  const auditFrom =
    envAudit !== undefined
      ? where('DDL_AUDIT_LOG')
      : configAudit !== undefined
        ? `${CONFIG_FILE} audit.path`
        : 'default'

  return ok({
    cwd,
    projects: chosen,
    defaultProject,
    readOnly: readOnlyFrom !== 'default',
    unattendedTiers,
    approvals: {
      channels: overrides.channels ?? fromEnv.channels ?? layers.channels ?? [...APPROVAL_CHANNELS],
      ttlSeconds: overrides.ttlSeconds ?? fromEnv.ttl ?? layers.ttl ?? DEFAULT_APPROVAL_TTL_SECONDS,
      dir: resolve(cwd, dir),
      approverUids,
      shared: layers.shared === true || isTrue(allEnv.DDL_APPROVALS_SHARED),
      elicitationTimeoutSeconds: layers.elicitationTimeout ?? DEFAULT_ELICITATION_TIMEOUT_SECONDS,
      publicKey,
      publicKeyPath,
    },
    rehearse: layers.rehearse ?? true,
    timeouts,
    maxRows: layers.maxRows ?? DEFAULT_MAX_ROWS,
    maxChangedRows: layers.maxChangedRows,
    migrationsDir: migrations === undefined ? undefined : resolve(cwd, migrations),
    configPath,
    sources: {
      projects: projectsFrom,
      readOnly: readOnlyFrom,
      unattendedTiers: tiersFrom,
      channels: channelsFrom,
      ttlSeconds: ttlFrom,
      approvalsDir: dirFrom,
      approverUids: uidsFrom,
      approvalKey: keyFrom,
      auditLog: auditFrom,
    },
    snapshot: {
      env: allEnv,
      config: parsedConfig,
      files: [
        { path: envPath, sha256: digest(envFileText) },
        { path, sha256: digest(configText) },
      ],
      auditPath,
    },
    warnings,
  })
}

/**
 * The settings files (`.env`, `ddl.config.json`) whose content differs from what the server read at
 * start. The server keeps what it read; this is for telling the person and the agent. Never throws.
 *
 * @example
 * changedSettingsFiles(settings.snapshot) // ['/work/app/.env']
 */
export function changedSettingsFiles(snapshot: StartSnapshot): string[] {
  return snapshot.files.filter((f) => digest(readOptional(f.path)) !== f.sha256).map((f) => f.path)
}

/**
 * True when no approver principal is configured: the agent, with a shell as the same OS user, can
 * write grants (run `ddl approve`) itself. Never throws.
 */
export function singleAccount(settings: McpSettings): boolean {
  return settings.approvals.approverUids.length === 0 && settings.approvals.publicKey === undefined
}

/** The single-account warning when it applies to these settings, else `undefined`. Never throws. */
export function singleAccountWarning(settings: McpSettings): string | undefined {
  return singleAccount(settings) ? SINGLE_ACCOUNT_WARNING : undefined
}

/** What every pending approval and the start-up summary say in a single-account setup. */
export const SINGLE_ACCOUNT_WARNING =
  'Single-account setup: no approver account (approverUids) and no approver key are configured, so an agent ' +
  'with a shell as this OS user can approve its own requests (run `ddl approve` or write a grant file). ' +
  'See docs/agents.md, "Trust boundary".'

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

function digest(text: string | undefined): string | undefined {
  return text === undefined ? undefined : createHash('sha256').update(text, 'utf8').digest('hex')
}

/**
 * The start-up summary for stderr: each trust setting and where it came from, the database of each
 * project (or a warning when none is configured), and the setup's limits. Never throws.
 *
 * @example
 * describeSettings(settings) // 'projects: default (from default)\nread-only: off (from default)\n...'
 */
export function describeSettings(settings: McpSettings, databases?: readonly string[]): string {
  const src = settings.sources
  const channels = settings.approvals.channels.join(' and ')
  const lines = [
    `projects: ${settings.projects.join(', ')}${
      settings.defaultProject !== undefined && settings.projects.length > 1
        ? ` (default: ${settings.defaultProject})`
        : ''
    }  [from ${src.projects}]`,
    `read-only: ${settings.readOnly ? 'every write is refused' : 'off'}  [from ${src.readOnly}]`,
    `runs without a person: ${settings.unattendedTiers.length > 0 ? settings.unattendedTiers.join(', ') : 'nothing'}  [from ${src.unattendedTiers}]`,
    `approval channels: ${channels}  [from ${src.channels}]; approvals last ${settings.approvals.ttlSeconds}s  [from ${src.ttlSeconds}]`,
    `approval store: ${settings.approvals.dir}  [from ${src.approvalsDir}]`,
    `approver accounts: ${
      settings.approvals.approverUids.length > 0 ? `uid ${settings.approvals.approverUids.join(', ')}` : 'none'
    }  [from ${src.approverUids}]`,
    `approver key: ${settings.approvals.publicKeyPath ?? 'none'}  [from ${src.approvalKey}]`,
    `audit log: ${settings.snapshot.auditPath}  [from ${src.auditLog}]`,
    ...(databases ?? []),
    `settings are read once: later changes to ${CONFIG_FILE} or .env under ${settings.cwd} are reported and ignored`,
  ]
  if (settings.unattendedTiers.includes('destructive')) {
    lines.push('WARNING: destructive work runs without a person (unattended tiers include "destructive").')
  }
  if (!settings.readOnly && singleAccount(settings)) lines.push(`WARNING: ${SINGLE_ACCOUNT_WARNING}`)
  for (const warning of settings.warnings) lines.push(`WARNING: ${warning}`)
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
