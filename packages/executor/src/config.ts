import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { allRules, compareTiers, isTier, type Policy, type Tier } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import { ALLOWABLE_EFFECTS, type AllowedEffect } from './effect-check.js'
import { ConfigError } from './errors.js'

/** The configuration file's name, looked up in the working directory. */
export const CONFIG_FILE = 'ddl.config.json'

/**
 * How long work may wait and run. All in milliseconds; `0` means no limit.
 * See {@link DEFAULT_TIMEOUTS} for the defaults and why.
 */
export interface Timeouts {
  /** `SET LOCAL lock_timeout` for execute, transaction and query. */
  readonly lockTimeoutMs: number
  /** `SET LOCAL statement_timeout` for work inside a transaction (and for query). */
  readonly statementTimeoutMs: number
  /** `statement_timeout` for a statement run alone outside a transaction (CREATE INDEX CONCURRENTLY, VACUUM). */
  readonly nonTransactionalStatementTimeoutMs: number
  /** `lock_timeout` during a rehearsal. */
  readonly rehearsalLockTimeoutMs: number
  /** How long to wait for a connection (TCP, TLS and login). */
  readonly connectTimeoutMs: number
}

/**
 * The defaults:
 * - `lockTimeoutMs: 5000`. DDL needs strong locks (ACCESS EXCLUSIVE); while it waits behind a long
 *   query, every later query on the table queues behind *it*. Five seconds is long enough to get a lock
 *   on a healthy database and short enough that a blocked change fails before the app notices.
 * - `statementTimeoutMs: 60000`. A statement in the engine's transaction holds its locks until COMMIT;
 *   a DDL statement holding ACCESS EXCLUSIVE for more than a minute is an outage. Long data changes
 *   should be batched (or given a larger limit on purpose).
 * - `nonTransactionalStatementTimeoutMs: 0` (none). CREATE INDEX CONCURRENTLY, REINDEX CONCURRENTLY and
 *   VACUUM take weak locks and are expected to run long; cutting them off leaves an invalid index.
 * - `rehearsalLockTimeoutMs: 1000`. A rehearsal changes nothing and must never be the cause of an
 *   outage; if the lock is not free within a second, that contention is itself the finding.
 * - `connectTimeoutMs: 10000`. A server that is down or firewalled fails in seconds, not minutes.
 */
export const DEFAULT_TIMEOUTS: Timeouts = Object.freeze({
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 60_000,
  nonTransactionalStatementTimeoutMs: 0,
  rehearsalLockTimeoutMs: 1_000,
  connectTimeoutMs: 10_000,
})

/** The contents of `ddl.config.json`. Keys this package does not know are left to other tools. */
export interface DdlConfig {
  /** Project name → the name of the environment variable holding its connection string. */
  readonly projects?: Readonly<Record<string, string>>
  /** Policy passed to the classifier (see `@ddl/classifier`'s `Policy`). */
  readonly policy?: Policy
  /** The Postgres major version the classifier's advice is for. */
  readonly pgVersion?: number
  readonly timeouts?: Partial<Timeouts>
  /**
   * The default row limit of the effect check: a run that deletes or updates more rows than this (in
   * all pre-existing tables, triggers and cascades included) is rolled back. Unset: no limit.
   */
  readonly maxRows?: number
  readonly audit?: {
    /** The audit log file; relative paths are relative to the configuration file. */
    readonly path?: string
    /** Also hide every string and number literal of the SQL in the audit log. */
    readonly redactLiterals?: boolean
  }
  /** Undo: what runs remove is kept in the `ddl_undo` schema (see docs/undo.md). */
  readonly undo?: UndoConfig
  /** Notification sinks, kept as written: `@ddl/notify` checks them (a bad sink never stops a run). */
  readonly notify?: unknown
}

/** The `undo` section of `ddl.config.json`. */
export interface UndoConfig {
  /** Keep what runs remove (default true). `false` opts this project out. */
  readonly enabled?: boolean
  /** Bytes a run may keep; above it the run is refused unless it gives up undo (default 1 GiB; 0: no cap). */
  readonly maxBytes?: number
  /** Days kept copies are kept by `ddl undo --purge` without `--older-than` (default 7). */
  readonly retentionDays?: number
}

/** The undo settings in force. */
export interface UndoSettings {
  readonly enabled: boolean
  readonly maxBytes: number
  readonly retentionDays: number
}

/** Undo is on, with a 1 GiB cap per run and a 7-day retention. */
export const DEFAULT_UNDO: UndoSettings = Object.freeze({ enabled: true, maxBytes: 1024 ** 3, retentionDays: 7 })

/** The configuration's undo settings over the defaults. Never throws. */
export function resolveUndo(config: UndoConfig | undefined): UndoSettings {
  return { ...DEFAULT_UNDO, ...(config ?? {}) }
}

/** A configuration and the file it came from (`undefined` when there is no file). */
export interface LoadedConfig {
  readonly config: DdlConfig
  readonly path: string | undefined
}

/** An environment: variable name → value. */
export type Env = Readonly<Record<string, string | undefined>>

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const timeoutKeys = Object.keys(DEFAULT_TIMEOUTS) as (keyof Timeouts)[]

/**
 * Reads `ddl.config.json` from `cwd`. No file is not an error: the configuration is then empty.
 * Fails with `ConfigError` on unreadable or invalid JSON or a wrong shape. Never throws.
 */
export function loadConfig(cwd: string): Result<LoadedConfig, ConfigError> {
  const path = join(resolve(cwd), CONFIG_FILE)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ok({ config: {}, path: undefined })
    return err(new ConfigError(`Cannot read ${path}: ${(error as Error).message}`, { path }))
  }
  return parseConfig(text, path).map((config) => ({ config, path }))
}

/** Parses and checks the text of a `ddl.config.json`. Never throws. */
export function parseConfig(text: string, path: string): Result<DdlConfig, ConfigError> {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    return err(new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`, { path }))
  }
  if (!isRecord(raw)) return err(new ConfigError(`${path} must hold a JSON object.`, { path }))
  const fail = (message: string) => err(new ConfigError(`${path}: ${message}`, { path }))
  const config: {
    projects?: Record<string, string>
    policy?: Policy
    pgVersion?: number
    timeouts?: Partial<Record<keyof Timeouts, number>>
    maxRows?: number
    audit?: { path?: string; redactLiterals?: boolean }
    undo?: UndoConfig
    notify?: unknown
  } = {}

  if (raw.projects !== undefined) {
    if (!isRecord(raw.projects)) return fail('"projects" must map project names to environment variable names.')
    const projects: Record<string, string> = {}
    for (const [name, variable] of Object.entries(raw.projects)) {
      if (typeof variable !== 'string') {
        return fail(`project "${name}" must name an environment variable, e.g. "SUPABASE_POSTGRES_URL".`)
      }
      if (variable.includes('://') || variable.includes('@')) {
        return fail(
          `project "${name}" must name an environment variable, not hold a connection string: ` +
            'keep the connection string (and its password) in .env, out of ddl.config.json.',
        )
      }
      if (!ENV_NAME.test(variable)) return fail(`project "${name}": "${variable}" is not an environment variable name.`)
      projects[name] = variable
    }
    config.projects = projects
  }

  if (raw.policy !== undefined) {
    const problem = policyProblem(raw.policy)
    if (problem !== undefined) return fail(`${problem} See docs/cli/check.md.`)
    config.policy = raw.policy as Policy
  }

  if (raw.pgVersion !== undefined) {
    if (typeof raw.pgVersion !== 'number' || !Number.isInteger(raw.pgVersion) || raw.pgVersion < 9) {
      return fail('"pgVersion" must be a Postgres major version, e.g. 16.')
    }
    config.pgVersion = raw.pgVersion
  }

  if (raw.timeouts !== undefined) {
    if (!isRecord(raw.timeouts)) return fail('"timeouts" must be an object of milliseconds.')
    const timeouts: Partial<Record<keyof Timeouts, number>> = {}
    for (const [key, value] of Object.entries(raw.timeouts)) {
      if (!(timeoutKeys as string[]).includes(key)) {
        return fail(`unknown timeout "${key}"; known: ${timeoutKeys.join(', ')}.`)
      }
      const check = checkTimeout(key, value)
      if (check !== undefined) return fail(check)
      timeouts[key as keyof Timeouts] = value as number
    }
    config.timeouts = timeouts
  }

  if (raw.maxRows !== undefined) {
    const problem = maxRowsProblem(raw.maxRows)
    if (problem !== undefined) return fail(problem)
    config.maxRows = raw.maxRows as number
  }

  if (raw.audit !== undefined) {
    if (!isRecord(raw.audit)) return fail('"audit" must be an object, e.g. { "path": ".safe-ddl/audit.log" }.')
    const audit: { path?: string; redactLiterals?: boolean } = {}
    if (raw.audit.path !== undefined) {
      if (typeof raw.audit.path !== 'string' || raw.audit.path === '') return fail('"audit.path" must be a file path.')
      audit.path = resolve(dirname(path), raw.audit.path)
    }
    if (raw.audit.redactLiterals !== undefined) {
      if (typeof raw.audit.redactLiterals !== 'boolean') return fail('"audit.redactLiterals" must be true or false.')
      audit.redactLiterals = raw.audit.redactLiterals
    }
    config.audit = audit
  }

  if (raw.undo !== undefined) {
    if (!isRecord(raw.undo)) return fail('"undo" must be an object, e.g. { "enabled": true, "maxBytes": 1073741824 }.')
    const undo: { enabled?: boolean; maxBytes?: number; retentionDays?: number } = {}
    for (const key of Object.keys(raw.undo)) {
      if (!['enabled', 'maxBytes', 'retentionDays'].includes(key))
        return fail(`unknown undo setting "${key}"; known: enabled, maxBytes, retentionDays.`)
    }
    if (raw.undo.enabled !== undefined) {
      if (typeof raw.undo.enabled !== 'boolean') return fail('"undo.enabled" must be true or false.')
      undo.enabled = raw.undo.enabled
    }
    for (const key of ['maxBytes', 'retentionDays'] as const) {
      const value = raw.undo[key]
      if (value === undefined) continue
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
        return fail(`"undo.${key}" must be a whole number, 0 or more.`)
      undo[key] = value
    }
    config.undo = undo
  }

  if (raw.notify !== undefined) config.notify = raw.notify
  return ok(config)
}

/** Undefined when `value` is a valid timeout in milliseconds, else the reason. */
export function checkTimeout(key: string, value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2_147_483_647) {
    return `timeout "${key}" must be a whole number of milliseconds (0 for no limit).`
  }
  return undefined
}

/** The defaults, overridden by the configuration, overridden by the caller. Never throws. */
export function resolveTimeouts(...layers: readonly (Partial<Timeouts> | undefined)[]): Timeouts {
  const out: Record<keyof Timeouts, number> = { ...DEFAULT_TIMEOUTS }
  for (const layer of layers) {
    if (layer === undefined) continue
    for (const key of timeoutKeys) {
      const value = layer[key]
      if (value !== undefined) out[key] = value
    }
  }
  return out
}

/**
 * `env` with the variables of `cwd/.env` added under it: a variable already set is never
 * overridden. Uses Node's own parser (the one `process.loadEnvFile` uses) and leaves
 * `process.env` untouched. No `.env` is not an error. Never throws.
 */
export function loadEnv(cwd: string, env: Env): Result<Env, ConfigError> {
  const path = join(resolve(cwd), '.env')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EISDIR') {
      return ok(env)
    }
    return err(new ConfigError(`Cannot read ${path}: ${(error as Error).message}`, { path }))
  }
  let parsed: Record<string, string>
  try {
    parsed = parseEnv(text) as Record<string, string>
  } catch {
    return err(new ConfigError(`${path} could not be parsed; write one NAME=value per line.`, { path }))
  }
  const merged: Record<string, string | undefined> = { ...parsed }
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value
  return ok(merged)
}

/** Rule ids a policy may name: every rule of the classifier and the token fallback's two. */
const knownRules: ReadonlySet<string> = new Set([
  ...allRules.map((rule) => rule.id),
  'unparsed-statement',
  'unparsed-destructive',
])

/** The token fallback's rules, and the tier policy can never take them below. */
const UNPARSED_FLOOR: ReadonlyMap<string, Tier> = new Map<string, Tier>([
  ['unparsed-statement', 'cautious'],
  ['unparsed-destructive', 'destructive'],
])

/**
 * What is wrong with a policy, or `undefined`: the same checks as `ddl check`, so a typo never
 * silently weakens or drops a rule and the gate never runs under a policy the linter refuses.
 */
export function policyProblem(raw: unknown): string | undefined {
  if (!isRecord(raw)) return '"policy" must be an object.'
  for (const key of Object.keys(raw)) {
    if (key !== 'rules' && key !== 'allow' && key !== 'hazardsRaiseTier' && key !== 'allowEffects') {
      return `unknown policy key "${key}" (known: rules, allow, hazardsRaiseTier, allowEffects).`
    }
  }
  const effects = allowEffectsProblem(raw.allowEffects)
  if (effects !== undefined) return effects
  if (raw.rules !== undefined) {
    if (!isRecord(raw.rules)) return '"policy.rules" must map rule ids to a tier or "off".'
    for (const [rule, value] of Object.entries(raw.rules)) {
      if (!knownRules.has(rule)) return `unknown rule "${rule}" in policy.rules.`
      if (value !== 'off' && !isTier(value)) {
        return `policy.rules["${rule}"] must be "safe", "cautious", "destructive" or "off".`
      }
      const floor = UNPARSED_FLOOR.get(rule)
      if (floor !== undefined && (value === 'off' || compareTiers(value, floor) < 0)) {
        return `policy.rules["${rule}"] cannot lower it: text the grammar rejects is never below ${floor}.`
      }
    }
  }
  if (raw.allow !== undefined) {
    if (!Array.isArray(raw.allow)) return '"policy.allow" must be a list of { rule, objects, tier? }.'
    for (const [i, entry] of raw.allow.entries()) {
      if (!isRecord(entry) || typeof entry.rule !== 'string') return `policy.allow[${i}] needs a "rule".`
      if (!knownRules.has(entry.rule)) return `unknown rule "${entry.rule}" in policy.allow[${i}].`
      if (UNPARSED_FLOOR.has(entry.rule)) {
        return `policy.allow[${i}]: "${entry.rule}" cannot be allowed through; fix the statement's syntax instead.`
      }
      if (
        !Array.isArray(entry.objects) ||
        entry.objects.length === 0 ||
        !entry.objects.every((o) => typeof o === 'string')
      ) {
        return `policy.allow[${i}].objects must be a non-empty list of names or globs.`
      }
      if (entry.tier !== undefined && !isTier(entry.tier)) {
        return `policy.allow[${i}].tier must be "safe", "cautious" or "destructive".`
      }
    }
  }
  const raise = raw.hazardsRaiseTier
  if (raise !== undefined && raise !== 'error' && raise !== 'warning' && raise !== 'info') {
    return '"policy.hazardsRaiseTier" must be "error", "warning" or "info".'
  }
  return undefined
}

/**
 * What is wrong with `policy.allowEffects`, or `undefined`: a list of `{ table, effects }` where
 * effects are among {@link ALLOWABLE_EFFECTS}. Allowed effects lower the effect check's tier for the
 * tables named: a lowering, like `policy.allow`.
 */
export function allowEffectsProblem(raw: unknown): string | undefined {
  if (raw === undefined) return undefined
  if (!Array.isArray(raw)) return '"policy.allowEffects" must be a list of { table, effects }.'
  for (const [i, entry] of raw.entries()) {
    if (!isRecord(entry) || typeof entry.table !== 'string' || entry.table.trim() === '') {
      return `policy.allowEffects[${i}] needs a "table" (schema.table, or a glob).`
    }
    if (
      !Array.isArray(entry.effects) ||
      entry.effects.length === 0 ||
      !entry.effects.every((e) => (ALLOWABLE_EFFECTS as readonly unknown[]).includes(e))
    ) {
      return `policy.allowEffects[${i}].effects must be a non-empty list of: ${ALLOWABLE_EFFECTS.join(', ')}.`
    }
  }
  return undefined
}

/** The effects a policy allows (`policy.allowEffects`), or `undefined`. Never throws. */
export function allowedEffectsOf(policy: Policy | undefined): readonly AllowedEffect[] | undefined {
  const raw = (policy as { readonly allowEffects?: unknown } | undefined)?.allowEffects
  return raw === undefined || allowEffectsProblem(raw) !== undefined ? undefined : (raw as readonly AllowedEffect[])
}

/** Undefined when `value` can be a row limit (a whole number, at least 0), else the reason. */
export function maxRowsProblem(value: unknown, name = 'maxRows'): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return `"${name}" must be a whole number of rows (0 or more).`
  }
  return undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
