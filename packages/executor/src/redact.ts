/**
 * Connection strings carry passwords. These helpers keep them out of every message, log line,
 * audit record and output.
 */

import { redactSecrets } from '@ddl/audit'

const HIDDEN = '***'

/**
 * Data Postgres echoes in its messages: the input it could not read
 * (`invalid input syntax for type integer: "..."`) and the whole row a constraint refused
 * (`Failing row contains (...)`). Either may be a secret the SQL or the table held. The key of a
 * violated unique constraint (`Key (id)=(1) already exists`) is kept: it names the conflict, and a
 * secret-shaped value in it is still redacted by {@link redactSecrets}.
 */
const ECHOED: readonly (readonly [RegExp, string])[] = [
  [
    /((?:invalid input|malformed|out of range|invalid byte sequence|invalid value)[^"\n]*?: )"(?:[^"\\]|\\.|"")*"/gi,
    `$1"${HIDDEN}"`,
  ],
  [/(Failing row contains )\(.*\)/g, `$1(${HIDDEN})`],
]

/**
 * A message, detail, hint or context of the server without secrets: the connection's own secrets,
 * every form {@link redactSecrets} knows (passwords, URLs of any scheme, bearer tokens, API keys),
 * and the data Postgres echoes from the input or the table. Never throws.
 *
 * @example
 * redactServerText('invalid input syntax for type integer: "hunter2"', []) // 'invalid input syntax for type integer: "***"'
 */
export function redactServerText(text: string, secrets: readonly string[]): string {
  let out = redactSecrets(scrub(text, secrets))
  for (const [pattern, replacement] of ECHOED) out = out.replace(pattern, replacement)
  return out
}

/**
 * A connection string with its password (and any `password=` parameter) replaced by `***`.
 * Text that is not a parseable URL comes back as a placeholder, never echoed. Never throws.
 *
 * @example
 * redactUrl('postgres://postgres:s3cret@db.x.supabase.co:5432/postgres?sslmode=require')
 * // 'postgres://postgres:***@db.x.supabase.co:5432/postgres?sslmode=require'
 */
export function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // libpq key=value form: hide the password value; anything else is not shown at all.
    if (/^\s*\w+\s*=/.test(url)) return url.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, `$1${HIDDEN}`)
    return '[connection string hidden: not a valid URL]'
  }
  if (parsed.password !== '') parsed.password = HIDDEN
  for (const key of [...parsed.searchParams.keys()]) {
    if (/^(password|passfile|sslpassword)$/i.test(key)) parsed.searchParams.set(key, HIDDEN)
  }
  return parsed.toString()
}

/** `host:port/database` of a connection string: what a person needs to know where it went. Never throws. */
export function describeTarget(url: string): string {
  try {
    const parsed = new URL(url)
    const host = parsed.hostname !== '' ? parsed.hostname : (parsed.searchParams.get('host') ?? 'localhost')
    const port = parsed.port !== '' ? parsed.port : '5432'
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
    return `${host}:${port}/${database === '' ? decodeURIComponent(parsed.username) || 'postgres' : database}`
  } catch {
    return '[unknown server]'
  }
}

/** The strings that must never be shown for a connection string: itself, its password, their encodings. */
export function secretsOf(url: string): string[] {
  const secrets = new Set<string>([url])
  try {
    const parsed = new URL(url)
    const raw = parsed.password
    if (raw !== '') {
      secrets.add(raw)
      try {
        secrets.add(decodeURIComponent(raw))
      } catch {
        // a malformed escape: the raw form is already listed
      }
    }
    for (const [key, value] of parsed.searchParams) {
      if (/^(password|sslpassword)$/i.test(key) && value !== '') secrets.add(value)
    }
  } catch {
    // not a URL: only the whole string is a secret
  }
  return [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)
}

/** `text` with every secret replaced by `***`. Never throws. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret.length === 0) continue
    out = out.split(secret).join(HIDDEN)
  }
  return out
}
