import { AuditLog } from '@ddl/audit'
import type { ClassifyOptions, Policy } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import type { AuditScope } from './audit-trail.js'
import {
  allowedEffectsOf,
  checkTimeout,
  type DdlConfig,
  type Env,
  type LoadedConfig,
  loadConfig,
  loadEnv,
  maxRowsProblem,
  resolveTimeouts,
  type Timeouts,
} from './config.js'
import { Connector } from './connection.js'
import type { AllowedEffect } from './effect-check.js'
import { ConfigError } from './errors.js'
import type { FlagStyle } from './gate.js'
import { type EffectivePolicy, effectivePolicy, readPolicyApprovals } from './pinned-policy.js'
import type { RunContext } from './plan-runner.js'
import { checkUrl, resolveConnection } from './resolve-connection.js'

/** Options of `new PostgresAPI(project, options)`. All optional. */
export interface PostgresAPIOptions {
  /** A connection string to use instead of a project or `DDL_DATABASE_URL` / `DATABASE_URL`. */
  readonly url?: string
  /** Where `ddl.config.json` and `.env` are read. Default `process.cwd()`. */
  readonly cwd?: string
  /** The environment. Default `process.env`; `.env` adds to it without overriding. */
  readonly env?: Env
  /**
   * Read `.env` in `cwd` (adding to `env`). Default true. The MCP server passes false with the
   * environment it read once at start, so a `.env` written later changes nothing.
   */
  readonly readDotEnv?: boolean
  /** A configuration to use instead of reading `ddl.config.json`. */
  readonly config?: DdlConfig
  /**
   * The classifier policy (overrides the configuration's). Like the configuration's, its parts that
   * lower a tier apply only once a person approved this exact policy (`ddl policy approve`).
   */
  readonly policy?: Policy
  /** The Postgres major version the classifier's advice is for. */
  readonly pgVersion?: number
  /** Timeouts in ms (override the configuration's, which override the defaults). */
  readonly timeouts?: Partial<Timeouts>
  /** The audit log file (overrides `DDL_AUDIT_LOG` and the configuration's `audit.path`). */
  readonly auditPath?: string
  /** An audit log opened by the caller (overrides `auditPath`). */
  readonly auditLog?: AuditLog
  /** Who acts, in the audit log. Default `DDL_ACTOR`, else the OS user. */
  readonly actor?: string
  /** Where the SQL comes from, recorded in the audit log (a script's name, `cli`). */
  readonly source?: string
  /** How flags are named in messages: `api` (`iKnowWhatImDoing: true`, default) or `cli` (`--i-know-what-im-doing`). */
  readonly flagStyle?: FlagStyle
  /**
   * The effect check's default row limit: a run that deletes or updates more rows (triggers and
   * cascades included) rolls back. Overrides the configuration's `maxRows`; a call's own wins.
   */
  readonly maxRows?: number
}

/** What the effect check holds every run of a context to, beyond the caller's flags. */
export interface EffectSettings {
  /** The default row limit (undefined: none). */
  readonly maxRows: number | undefined
  /** `policy.allowEffects`: a lowering (see `AllowedEffect`). */
  readonly allowEffects: readonly AllowedEffect[] | undefined
}

/**
 * Everything an operation needs, resolved once per `PostgresAPI`: configuration, environment,
 * timeouts, classifier options, the audit log, and (lazily, so a dry run needs no database) the
 * connection. The migrations engine builds on it.
 */
export interface ExecutorContext {
  /** The project name, or `'default'` without one (as the audit log records it). */
  readonly project: string
  readonly projectName: string | undefined
  readonly cwd: string
  readonly env: Env
  readonly config: LoadedConfig
  readonly timeouts: Timeouts
  readonly classifyOptions: ClassifyOptions
  /** The policy as it applies: its lowering parts only when a person approved it (see `ddl policy`). */
  readonly policy: EffectivePolicy
  readonly audit: AuditScope
  readonly flagStyle: FlagStyle
  /** The effect check's settings (row limit, allowed effects). */
  readonly effects: EffectSettings
  /** The pool to the server, created on first use; `ConfigError` when no connection string is configured. */
  connector(): Result<Connector, ConfigError>
  /** Closes the pool, if one was opened. */
  close(): Promise<void>
}

/**
 * Resolves a context. Fails with `ConfigError` for a malformed `ddl.config.json` or `.env`, bad
 * timeouts, or an unknown project (naming the configured ones). A missing connection string is only
 * an error when a connection is needed. Never throws.
 */
export function createContext(
  projectName: string | undefined,
  options: PostgresAPIOptions = {},
): Result<ExecutorContext, ConfigError> {
  const cwd = options.cwd ?? process.cwd()
  const envResult =
    options.readDotEnv === false ? ok(options.env ?? process.env) : loadEnv(cwd, options.env ?? process.env)
  if (envResult.isErr()) return err(envResult.error)
  const env = envResult.value
  let config: LoadedConfig
  if (options.config !== undefined) {
    config = { config: options.config, path: undefined }
  } else {
    const loaded = loadConfig(cwd)
    if (loaded.isErr()) return err(loaded.error)
    config = loaded.value
  }
  for (const [key, value] of Object.entries(options.timeouts ?? {})) {
    const problem = checkTimeout(key, value)
    if (problem !== undefined) return err(new ConfigError(problem))
  }
  if (
    projectName !== undefined &&
    options.url === undefined &&
    !Object.hasOwn(config.config.projects ?? {}, projectName)
  ) {
    // An unknown project is an error at once (even for a dry run); a missing variable only on connect.
    const unknown = resolveConnection(projectName, config, {})
    if (unknown.isErr()) return err(unknown.error)
  }
  if (options.maxRows !== undefined) {
    const problem = maxRowsProblem(options.maxRows)
    if (problem !== undefined) return err(new ConfigError(problem))
  }
  const timeouts = resolveTimeouts(config.config.timeouts, options.timeouts)
  const pgVersion = options.pgVersion ?? config.config.pgVersion
  const envAudit = env.DDL_AUDIT_LOG
  const auditPath =
    options.auditPath ?? (envAudit !== undefined && envAudit.trim() !== '' ? undefined : config.config.audit?.path)
  const redactLiterals = config.config.audit?.redactLiterals
  const log =
    options.auditLog ??
    AuditLog.open({
      env: env as NodeJS.ProcessEnv,
      cwd,
      ...(auditPath !== undefined ? { path: auditPath } : {}),
      ...(options.actor !== undefined ? { actor: options.actor } : {}),
      ...(redactLiterals !== undefined ? { redactLiterals } : {}),
    })
  // Approvals are read from the audit log only when the policy has something to lower.
  const policy = effectivePolicy(options.policy ?? config.config.policy, () => readPolicyApprovals(log.path))
  const classifyOptions: ClassifyOptions = {
    ...(policy.policy !== undefined ? { policy: policy.policy } : {}),
    ...(policy.hash !== undefined ? { policyHash: policy.hash } : {}),
    ...(pgVersion !== undefined ? { pgVersion } : {}),
    // Every run sets lock_timeout itself, so a script need not (no missing-lock-timeout advice).
    lockTimeoutSet: timeouts.lockTimeoutMs > 0,
  }
  const project = projectName ?? 'default'
  const audit: AuditScope = {
    log,
    project,
    ...(options.source !== undefined ? { source: options.source } : {}),
    ...(options.actor !== undefined ? { actor: options.actor } : {}),
  }
  let connector: Connector | undefined
  let closed = false
  return ok({
    project,
    projectName,
    cwd,
    env,
    config,
    timeouts,
    classifyOptions,
    policy,
    audit,
    flagStyle: options.flagStyle ?? 'api',
    // allowEffects lowers what the effect check allows: only from a policy a person approved.
    effects: { maxRows: options.maxRows ?? config.config.maxRows, allowEffects: allowedEffectsOf(policy.policy) },
    connector(): Result<Connector, ConfigError> {
      if (connector !== undefined) return ok(connector)
      if (closed) return err(new ConfigError('This PostgresAPI was closed; create a new one.'))
      const target =
        options.url !== undefined
          ? checkUrl(options.url, undefined).map((url) => ({ project: projectName, variable: undefined, url }))
          : resolveConnection(projectName, config, env)
      if (target.isErr()) return err(target.error)
      connector = new Connector(target.value, timeouts)
      return ok(connector)
    },
    async close(): Promise<void> {
      closed = true
      // Outcomes are written with `flush: 'with-next'` (docs/audit.md): make them durable now.
      await audit.log.flush()
      await connector?.end()
    },
  })
}

/** How a run words errors for a connector: its secrets, and its connection errors. */
export function runContextOf(connector: Connector): RunContext {
  return { secrets: connector.secrets, connectionError: (error) => connector.toConnectionError(error) }
}
