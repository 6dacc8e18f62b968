import { createHash } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { NOTIFY_EVENT_TYPES, type NotifyEventType } from './notify-event.js'

/** How long one delivery may take before it counts as failed (ms), and the default budget of a command. */
export const DEFAULT_NOTIFY_TIMEOUT_MS = 3_000

/** The kinds of sink: a Standard Webhooks receiver, or a Slack incoming webhook. */
export type SinkKind = 'webhook' | 'slack'

/**
 * One entry of `notify` in `ddl.config.json`. Secrets are never written here: the URL of a Slack
 * webhook (which is itself a secret) and a webhook's signing secret are read from the environment
 * variables this names.
 *
 * @example
 * ```json
 * { "notify": [
 *   { "kind": "slack", "urlEnv": "DDL_SLACK_WEBHOOK_URL", "events": ["approval.requested", "work.committed"] },
 *   { "kind": "webhook", "url": "https://hooks.example.com/ddl", "secretEnv": "DDL_WEBHOOK_SECRET", "minTier": "cautious" }
 * ] }
 * ```
 */
export interface SinkConfig {
  readonly kind: SinkKind
  /** The receiver's URL (webhooks only: a Slack URL is a secret, give `urlEnv`). */
  readonly url?: string
  /** The environment variable holding the URL. */
  readonly urlEnv?: string
  /** The environment variable holding the signing secret (`whsec_...`); required for webhooks. */
  readonly secretEnv?: string
  /** The events to send. Default: every event. */
  readonly events?: readonly NotifyEventType[]
  /** The lowest tier of committed work to report. Default `destructive`. */
  readonly minTier?: 'cautious' | 'destructive'
  /** Send the (redacted) SQL text. Default true. */
  readonly includeSql?: boolean
  /** How long one delivery may take (ms). Default 3000. */
  readonly timeoutMs?: number
}

/** A sink ready to send to. Holds its URL and secret: never print it; show {@link ResolvedSink.label}. */
export interface ResolvedSink {
  /** Stable id: the kind and a hash of the URL (the URL itself may be a secret). */
  readonly id: string
  readonly kind: SinkKind
  /** `slack (hooks.slack.com)`: the kind and host, safe to print. */
  readonly label: string
  readonly url: string
  readonly secret?: string
  readonly events: ReadonlySet<NotifyEventType>
  readonly minTier: 'cautious' | 'destructive'
  readonly includeSql: boolean
  readonly timeoutMs: number
}

/** The sinks that can be used, and what is wrong with the others (one line each, no secret). */
export interface SinkSettings {
  readonly sinks: readonly ResolvedSink[]
  readonly problems: readonly string[]
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const KEYS = new Set(['kind', 'url', 'urlEnv', 'secretEnv', 'events', 'minTier', 'includeSql', 'timeoutMs'])

/**
 * The sinks of `ddl.config.json`'s `notify` list and of `DDL_NOTIFY_URL` (with `DDL_NOTIFY_KIND`,
 * default `webhook`, `DDL_NOTIFY_SECRET` and `DDL_NOTIFY_EVENTS`, a comma list). Secrets come only
 * from `env`. A sink that cannot be used is left out and named in `problems`; notifications never
 * stop a run, so this never fails. Never throws.
 *
 * @example
 * const { sinks, problems } = resolveSinks(config.notify, process.env)
 */
export function resolveSinks(notify: unknown, env: Readonly<Record<string, string | undefined>>): SinkSettings {
  const sinks: ResolvedSink[] = []
  const problems: string[] = []
  const add = (where: string, result: ResolvedSink | string) => {
    if (typeof result === 'string') problems.push(`${where}: ${result}`)
    else if (!sinks.some((s) => s.id === result.id)) sinks.push(result)
  }
  if (notify !== undefined) {
    if (!Array.isArray(notify))
      problems.push('"notify" must be a list of sinks, e.g. [{ "kind": "slack", "urlEnv": "SLACK_URL" }]')
    else for (const [i, entry] of notify.entries()) add(`notify[${i}]`, fromConfig(entry, env))
  }
  const url = present(env.DDL_NOTIFY_URL)
  if (url !== undefined) {
    const kind = present(env.DDL_NOTIFY_KIND) ?? 'webhook'
    const events = present(env.DDL_NOTIFY_EVENTS)
    add(
      'DDL_NOTIFY_URL',
      kind !== 'webhook' && kind !== 'slack'
        ? `DDL_NOTIFY_KIND must be "webhook" or "slack", not "${kind.slice(0, 40)}"`
        : build(kind, url, present(env.DDL_NOTIFY_SECRET), 'DDL_NOTIFY_SECRET', {
            ...(events !== undefined ? { events: events.split(',').map((e) => e.trim()) } : {}),
          }),
    )
  }
  return { sinks, problems }
}

function fromConfig(entry: unknown, env: Readonly<Record<string, string | undefined>>): ResolvedSink | string {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'a sink must be an object'
  const raw = entry as Record<string, unknown>
  for (const key of Object.keys(raw))
    if (!KEYS.has(key)) return `unknown key "${key.slice(0, 40)}" (known: ${[...KEYS].join(', ')})`
  if (raw.kind !== 'webhook' && raw.kind !== 'slack') return '"kind" must be "webhook" or "slack"'
  if ((raw.url === undefined) === (raw.urlEnv === undefined)) return 'give "url" or "urlEnv" (one of them)'
  let url: string | undefined
  if (raw.urlEnv !== undefined) {
    if (typeof raw.urlEnv !== 'string' || !ENV_NAME.test(raw.urlEnv))
      return '"urlEnv" must name an environment variable'
    url = present(env[raw.urlEnv])
    if (url === undefined) return `the environment variable ${raw.urlEnv} is not set`
  } else {
    if (typeof raw.url !== 'string') return '"url" must be a string'
    if (raw.kind === 'slack')
      return 'a Slack webhook URL is a secret: keep it in an environment variable and name it in "urlEnv"'
    url = raw.url
  }
  let secret: string | undefined
  if (raw.secretEnv !== undefined) {
    if (typeof raw.secretEnv !== 'string' || !ENV_NAME.test(raw.secretEnv))
      return '"secretEnv" must name an environment variable'
    secret = present(env[raw.secretEnv])
    if (secret === undefined) return `the environment variable ${raw.secretEnv} is not set`
  }
  return build(raw.kind, url, secret, typeof raw.secretEnv === 'string' ? raw.secretEnv : '"secretEnv"', raw)
}

function build(
  kind: SinkKind,
  url: string,
  secret: string | undefined,
  secretName: string,
  raw: Readonly<Record<string, unknown>>,
): ResolvedSink | string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'the URL is not a valid URL'
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'the URL must be http or https'
  if (parsed.username !== '' || parsed.password !== '') return 'the URL must not hold a user name or password'
  if (kind === 'webhook') {
    if (secret === undefined) return `a webhook is signed: set ${secretName} to a secret (whsec_ + base64)`
    try {
      new Webhook(secret)
    } catch {
      return `${secretName} is not a Standard Webhooks secret (whsec_ followed by base64)`
    }
  }
  let events: Set<NotifyEventType> = new Set(NOTIFY_EVENT_TYPES)
  if (raw.events !== undefined) {
    if (!Array.isArray(raw.events) || raw.events.length === 0) return '"events" must be a non-empty list of event types'
    const unknown = raw.events.find((e) => !(NOTIFY_EVENT_TYPES as readonly unknown[]).includes(e))
    if (unknown !== undefined)
      return `unknown event "${String(unknown).slice(0, 40)}" (known: ${NOTIFY_EVENT_TYPES.join(', ')})`
    events = new Set(raw.events as NotifyEventType[])
  }
  if (raw.minTier !== undefined && raw.minTier !== 'cautious' && raw.minTier !== 'destructive')
    return '"minTier" must be "cautious" or "destructive"'
  if (raw.includeSql !== undefined && typeof raw.includeSql !== 'boolean') return '"includeSql" must be true or false'
  const timeout = raw.timeoutMs
  if (
    timeout !== undefined &&
    (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 60_000)
  )
    return '"timeoutMs" must be a whole number of milliseconds from 1 to 60000'
  return {
    id: `${kind}-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`,
    kind,
    label: `${kind} (${parsed.host})`,
    url,
    ...(secret !== undefined ? { secret } : {}),
    events,
    minTier: raw.minTier === 'cautious' ? 'cautious' : 'destructive',
    includeSql: raw.includeSql !== false,
    timeoutMs: typeof timeout === 'number' ? timeout : DEFAULT_NOTIFY_TIMEOUT_MS,
  }
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}
