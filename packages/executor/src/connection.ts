import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import { err, ok, okAsync, type Result, ResultAsync } from 'neverthrow'
import pg from 'pg'
import type { Timeouts } from './config.js'
import { ConfigError, ConnectionError } from './errors.js'
import { describeTarget, scrub, secretsOf } from './redact.js'
import type { ConnectionTarget } from './resolve-connection.js'

/** libpq's `sslmode` values. */
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'

const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']

/** How to connect: node-postgres settings without `ssl`, and the TLS settings to try in order. */
export interface ConnectionSettings {
  readonly base: pg.ClientConfig
  /** `false` is a plain connection; tried in order while the server refuses the mode. */
  readonly attempts: readonly (false | ConnectionOptions)[]
  readonly sslMode: SslMode
}

/**
 * Turns a connection string into node-postgres settings with libpq's `sslmode` meaning (node-postgres
 * alone treats `require` as `verify-full`, which fails on Supabase's own CA):
 * `disable` plain; `allow`, `prefer` and no sslmode: TLS without verification, plain if the server
 * has no TLS; `require`: TLS without verification (verified against `sslrootcert` when given);
 * `verify-ca`: the CA is checked; `verify-full`: CA and host name. `sslrootcert`, `sslcert`, `sslkey`
 * are file paths (`sslrootcert=system` uses the system's CAs). Never throws.
 */
export function connectionSettings(url: string, timeouts: Timeouts): Result<ConnectionSettings, ConfigError> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return err(new ConfigError('The connection string is not a valid URL.'))
  }
  const params = parsed.searchParams
  const rawMode = params.get('sslmode') ?? 'prefer'
  if (!(SSL_MODES as readonly string[]).includes(rawMode)) {
    return err(new ConfigError(`sslmode=${rawMode} is not one of ${SSL_MODES.join(', ')}.`))
  }
  const sslMode = rawMode as SslMode
  const files: { ca?: string; cert?: string; key?: string } = {}
  for (const [param, field] of [
    ['sslrootcert', 'ca'],
    ['sslcert', 'cert'],
    ['sslkey', 'key'],
  ] as const) {
    const path = params.get(param)
    if (path === null || path === '' || (param === 'sslrootcert' && path === 'system')) continue
    try {
      files[field] = readFileSync(path, 'utf8')
    } catch (error) {
      return err(new ConfigError(`Cannot read ${param} file ${path}: ${(error as Error).message}`))
    }
  }
  const clientFiles = {
    ...(files.cert !== undefined ? { cert: files.cert } : {}),
    ...(files.key !== undefined ? { key: files.key } : {}),
  }
  const unverified: ConnectionOptions = { ...clientFiles, rejectUnauthorized: false }
  const caOnly: ConnectionOptions = {
    ...clientFiles,
    ...(files.ca !== undefined ? { ca: files.ca } : {}),
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
  }
  const full: ConnectionOptions = {
    ...clientFiles,
    ...(files.ca !== undefined ? { ca: files.ca } : {}),
    rejectUnauthorized: true,
  }
  let attempts: (false | ConnectionOptions)[]
  switch (sslMode) {
    case 'disable':
      attempts = [false]
      break
    case 'allow':
    case 'prefer':
      attempts = [unverified, false]
      break
    case 'require':
      attempts = [files.ca !== undefined ? caOnly : unverified]
      break
    case 'verify-ca':
      attempts = [caOnly]
      break
    case 'verify-full':
      attempts = [full]
      break
  }
  for (const key of [...params.keys()]) {
    if (key.startsWith('ssl') || key === 'uselibpqcompat') params.delete(key)
  }
  if (!params.has('application_name')) params.set('application_name', 'safe-ddl')
  return ok({
    base: {
      connectionString: parsed.toString(),
      connectionTimeoutMillis: timeouts.connectTimeoutMs,
    },
    attempts,
    sslMode,
  })
}

/** True when the server said it has no TLS, so the next (plain) attempt may follow. */
function serverHasNoTls(error: unknown): boolean {
  return error instanceof Error && /does not support SSL/i.test(error.message)
}

/**
 * A lazily opened pool of connections to one server. The first connection settles the TLS mode
 * (see {@link connectionSettings}); later ones reuse it. Connection failures become
 * `ConnectionError`s with a next step and no secret in them.
 */
export class Connector {
  readonly target: ConnectionTarget
  readonly #timeouts: Timeouts
  readonly #secrets: readonly string[]
  #pool: pg.Pool | undefined
  #closed = false

  constructor(target: ConnectionTarget, timeouts: Timeouts) {
    this.target = target
    this.#timeouts = timeouts
    this.#secrets = secretsOf(target.url)
  }

  /** Strings that must never be shown (the URL and its password). */
  get secrets(): readonly string[] {
    return this.#secrets
  }

  /** A client from the pool; give it back with `release()` (or `release(true)` to discard it). */
  connect(): ResultAsync<pg.PoolClient, ConnectionError> {
    if (this.#closed) {
      return ResultAsync.fromSafePromise(Promise.resolve()).andThen(() =>
        err(this.#error('This PostgresAPI was closed; create a new one.', undefined, undefined)),
      )
    }
    if (this.#pool !== undefined) {
      const pool = this.#pool
      return ResultAsync.fromPromise(pool.connect(), (error) => this.toConnectionError(error)).map((client) =>
        guard(client),
      )
    }
    const settings = connectionSettings(this.target.url, this.#timeouts)
    if (settings.isErr()) {
      const configError = settings.error
      return ResultAsync.fromSafePromise(Promise.resolve()).andThen(() =>
        err(this.#error(configError.message, undefined, undefined)),
      )
    }
    return ResultAsync.fromSafePromise(this.#openPool(settings.value)).andThen((opened) => {
      if (opened.ok) return okAsync(guard(opened.client))
      return err(this.toConnectionError(opened.error))
    })
  }

  async #openPool(
    settings: ConnectionSettings,
  ): Promise<{ ok: true; client: pg.PoolClient } | { ok: false; error: unknown }> {
    let lastError: unknown
    for (const ssl of settings.attempts) {
      const pool = new pg.Pool({
        ...settings.base,
        ssl,
        max: 4,
        idleTimeoutMillis: 10_000,
        allowExitOnIdle: true,
      })
      // An idle client whose server went away must not crash the process; the next connect reports it.
      pool.on('error', () => undefined)
      try {
        const client = await pool.connect()
        if (this.#closed) {
          client.release()
          await pool.end()
          return { ok: false, error: new Error('closed while connecting') }
        }
        if (this.#pool !== undefined) {
          // Another call opened the pool first: keep that one.
          client.release()
          await pool.end()
          return { ok: true, client: await this.#pool.connect() }
        }
        this.#pool = pool
        return { ok: true, client }
      } catch (error) {
        lastError = error
        await pool.end().catch(() => undefined)
        if (!serverHasNoTls(error)) break
      }
    }
    return { ok: false, error: lastError }
  }

  /** Closes every connection. Never fails. */
  async end(): Promise<void> {
    this.#closed = true
    const pool = this.#pool
    this.#pool = undefined
    if (pool !== undefined) await pool.end().catch(() => undefined)
  }

  /** A connection failure as a `ConnectionError` with a next step and no secret. */
  toConnectionError(error: unknown): ConnectionError {
    const e = error as { code?: unknown; message?: unknown }
    const code = typeof e.code === 'string' ? e.code : undefined
    const raw = typeof e.message === 'string' ? e.message : String(error)
    const where = this.#where()
    const variable = this.target.variable
    const check =
      variable !== undefined ? `Check ${variable} in .env (or the environment).` : 'Check the connection string.'
    let message: string
    switch (code) {
      case 'ECONNREFUSED':
        message = `Cannot connect to Postgres at ${where}: connection refused. Is the server running and listening there? ${check}`
        break
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        message = `Cannot connect to Postgres: host of ${where} not found. ${check}`
        break
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        message = `Cannot connect to Postgres at ${where}: the network did not answer (${code}). Check the host, port and firewall. ${check}`
        break
      case 'ECONNRESET':
        message = `Cannot connect to Postgres at ${where}: the connection was reset. If the server requires TLS, add ?sslmode=require. ${check}`
        break
      case '28P01':
        message = `Postgres at ${where} rejected the login: wrong password for the user in the connection string. ${check}`
        break
      case '28000':
        message = `Postgres at ${where} refused the login (${scrub(raw, this.#secrets)}). If the server requires TLS, add ?sslmode=require. ${check}`
        break
      case '3D000':
        message = `Postgres at ${where}: ${scrub(raw, this.#secrets)}. Check the database name at the end of the connection string.`
        break
      case '53300':
        message = `Postgres at ${where} has no free connections (too many clients). Retry later, or use a pooled connection string.`
        break
      case '57P03':
        message = `Postgres at ${where} is starting up or shutting down. Retry in a few seconds.`
        break
      default:
        if (/timeout/i.test(raw)) {
          message = `Cannot connect to Postgres at ${where}: no answer within ${this.#timeouts.connectTimeoutMs} ms. Is the host reachable? ${check}`
        } else if (/self[- ]signed|certificate|SSL|TLS/i.test(raw)) {
          message =
            `Cannot connect to Postgres at ${where}: TLS failed (${scrub(raw, this.#secrets)}). ` +
            'Use ?sslmode=require to encrypt without verifying the certificate, or give the CA with sslrootcert=FILE.'
        } else {
          message = `Cannot connect to Postgres at ${where}: ${scrub(raw, this.#secrets)}. ${check}`
        }
    }
    return this.#error(message, code, error)
  }

  #where(): string {
    const target = describeTarget(this.target.url)
    return this.target.project !== undefined ? `${target} (project ${this.target.project})` : target
  }

  #error(message: string, code: string | undefined, cause: unknown): ConnectionError {
    return new ConnectionError(
      scrub(message, this.#secrets),
      {
        project: this.target.project,
        variable: this.target.variable,
        target: describeTarget(this.target.url),
        code,
      },
      cause === undefined ? undefined : { cause: safeCause(cause, this.#secrets) },
    )
  }
}

/** The original error, unless a secret shows in it: then a copy without it. */
export function safeCause(cause: unknown, secrets: readonly string[]): unknown {
  if (!(cause instanceof Error)) return cause
  const text = `${cause.message}\n${cause.stack ?? ''}`
  if (scrub(text, secrets) === text) return cause
  const copy = new Error(scrub(cause.message, secrets))
  copy.name = cause.name
  return copy
}

/** A checked-out client whose server dies between queries must not crash the process. */
function guard(client: pg.PoolClient): pg.PoolClient {
  if (client.listenerCount('error') === 0) client.on('error', () => undefined)
  return client
}
