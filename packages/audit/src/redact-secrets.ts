import { type SqlToken, tokenizeSql } from './sql-tokens.js'

/** Options of {@link redactSecrets}. */
export interface RedactOptions {
  /** Also replace every string literal (and dollar-quoted body) with `'***'`. Default false. */
  readonly literals?: boolean
}

/** What a secret is replaced with. */
export const REDACTED = '***'
const REDACTED_LITERAL = `'${REDACTED}'`

/** Redaction passes at most (each only replaces text with `***`, so it settles in two or three). */
const MAX_PASSES = 5

/** How deep literals inside literals (a function body, an EXECUTE string) are searched. */
const MAX_DEPTH = 3

/**
 * `scheme://user:password@`: the password runs to the last `@` before a `/` (as libpq reads it), and
 * may hold `'` (RFC 3986 allows it unencoded).
 */
const URI_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/?#@"]*):([^\s"/]*)@/gi
/** libpq and similar `password=value` pairs (also `PGPASSWORD=`, `db_password=`, `pwd=`). */
const KEYWORD_PASSWORD =
  /\b([a-z0-9_]*(?:password|passwd|pwd)\s*=\s*)(''(?:[^'\\]|\\.)*?''|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s'"]+)/gi
/** HTTP credentials: `Authorization: Bearer ...`, `Basic ...`, and a bare `Bearer <token>`. */
const BEARER = /\b((?:bearer|basic)\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi
/**
 * API keys by their published shapes: OpenAI/Anthropic (`sk-...`), Stripe (`sk_live_...`), GitHub
 * (`ghp_...`, `github_pat_...`), Slack (`xoxb-...`), AWS access key ids (`AKIA...`), Google (`AIza...`),
 * GitLab (`glpat-...`).
 */
const API_KEY =
  /\b(?:sk-[A-Za-z0-9_-]{16,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|xox[abposr]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})/g
/** Option names whose value is a password (`OPTIONS (password '...', sslpassword '...')`). */
const PASSWORD_WORDS: ReadonlySet<string> = new Set(['password', 'sslpassword', 'passwd'])
/** JSON members whose key names a secret: `"password": "..."`. */
const JSON_SECRET = /("[^"\\]*(?:password|passwd|pwd|secret|token|api_?key)[^"\\]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi

/**
 * Removes secrets from SQL text or an error message, so that they never reach the audit log.
 * {@link AuditLog.append} applies it to `statement` and `error`; it is a second wall behind the
 * classifier's own token-based redaction. Never throws; redacting the result again changes nothing.
 *
 * Redacted:
 * - the string literal after a `PASSWORD` keyword (`CREATE/ALTER ROLE/USER ... PASSWORD '...'`,
 *   `OPTIONS (password '...')` of user mappings), in any case, as `'...'`, `E'...'`, `U&'...'` or
 *   dollar quotes, also inside function bodies and strings that hold SQL;
 * - the string literal after `SSLPASSWORD` (`OPTIONS (sslpassword '...')` of user mappings and servers);
 * - the password of a URI (`postgres://user:***@host`, `mysql://`, `redis://:***@`, `https://`, any
 *   scheme), also in comments;
 * - bearer and basic credentials (`Authorization: Bearer ***`) and API keys of the common published
 *   shapes (`sk-...`, `sk_live_...`, `ghp_...`, `github_pat_...`, `xoxb-...`, `AKIA...`, `AIza...`, `glpat-...`);
 * - `password=...` pairs (libpq connection strings, `PGPASSWORD=`, `pwd=`) and JSON members whose key
 *   names a password, secret, token or API key;
 * - with `literals: true`, every string literal and dollar-quoted body.
 *
 * Not redacted: table, column and other names; comments other than the forms above; literals that
 * are not after `PASSWORD` (unless `literals: true`).
 *
 * @example
 * ```ts
 * redactSecrets("CREATE ROLE app LOGIN PASSWORD 'hunter2'") // "CREATE ROLE app LOGIN PASSWORD '***'"
 * redactSecrets('postgres://app:hunter2@db:5432/app')       // 'postgres://app:***@db:5432/app'
 * redactSecrets("SELECT 'a', 1", { literals: true })         // "SELECT '***', 1"
 * ```
 */
export function redactSecrets(text: string, options: RedactOptions = {}): string {
  // One pass can expose a pattern to the other (a replaced literal closes a quote a regex then
  // sees): repeat until nothing changes, so redacting the result again gives the same text.
  let current = text
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const next = redactOnce(current, options)
    if (next === current) break
    current = next
  }
  return current
}

function redactOnce(text: string, options: RedactOptions): string {
  const redacted = redactPasswordLiterals(redactConnectionSecrets(text), 0)
  return options.literals === true ? replaceLiterals(redacted) : redacted
}

function redactConnectionSecrets(text: string): string {
  return text
    .replace(URI_PASSWORD, (_match, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(KEYWORD_PASSWORD, (_match, key: string, value: string) => `${key}${maskKeeping(value)}`)
    .replace(JSON_SECRET, (_match, key: string) => `${key}"${REDACTED}"`)
    .replace(BEARER, (_match, scheme: string) => `${scheme}${REDACTED}`)
    .replace(API_KEY, REDACTED)
}

/** Keeps the quoting of a redacted value, so the surrounding text keeps its shape. */
function maskKeeping(value: string): string {
  if (value.startsWith("''")) return `''${REDACTED}''`
  if (value.startsWith("'")) return REDACTED_LITERAL
  if (value.startsWith('"')) return `"${REDACTED}"`
  return REDACTED
}

function redactPasswordLiterals(text: string, depth: number): string {
  const tokens = tokenizeSql(text)
  const marked = markPasswordLiterals(text, tokens)
  let out = ''
  tokens.forEach((token, index) => {
    const raw = text.slice(token.start, token.end)
    if (marked.has(index)) out = joinLiteral(out, REDACTED_LITERAL)
    else if (depth >= MAX_DEPTH) out += raw
    else if (token.type === 'dollar') out += redactInsideDollar(text, token, depth)
    else if (token.type === 'string') {
      const redacted = redactInsideString(text, token, depth)
      out = redacted === raw ? out + raw : joinLiteral(out, redacted)
    } else out += raw
  })
  return out
}

/** Indexes of the literal tokens that follow a `PASSWORD` keyword (and their continuations). */
function markPasswordLiterals(text: string, tokens: readonly SqlToken[]): Set<number> {
  const significant: number[] = []
  tokens.forEach((token, index) => {
    if (token.type !== 'space' && token.type !== 'comment') significant.push(index)
  })
  const at = (k: number): SqlToken | undefined => {
    const index = significant[k]
    return index === undefined ? undefined : tokens[index]
  }
  const isOther = (k: number, char: string): boolean => {
    const token = at(k)
    return token?.type === 'other' && text.charAt(token.start) === char
  }
  const marked = new Set<number>()
  for (let k = 0; k < significant.length; k++) {
    const token = at(k)
    if (token === undefined || !isPasswordKeyword(text, token)) continue
    let m = k + 1
    // `password = '...'`, `password := '...'`, `password => '...'`
    if (isOther(m, ':') && isOther(m + 1, '=')) m += 2
    else if (isOther(m, '=')) m += isOther(m + 1, '>') ? 2 : 1
    let literal = at(m)
    if (literal === undefined || (literal.type !== 'string' && literal.type !== 'dollar')) continue
    marked.add(significant[m] as number)
    // Postgres joins string constants separated by whitespace that holds a newline: 'a'\n'b' is 'ab'.
    while (literal?.type === 'string') {
      const following = at(m + 1)
      if (following?.type !== 'string' || !text.slice(literal.end, following.start).includes('\n')) break
      m++
      marked.add(significant[m] as number)
      literal = following
    }
  }
  return marked
}

function isPasswordKeyword(text: string, token: SqlToken): boolean {
  const raw = text.slice(token.start, token.end).toLowerCase()
  return (
    (token.type === 'word' && PASSWORD_WORDS.has(raw)) ||
    (token.type === 'quoted-identifier' && PASSWORD_WORDS.has(raw.slice(1, -1)))
  )
}

/** A dollar-quoted body is usually code (a function body): redact inside it, keep the quotes. */
function redactInsideDollar(text: string, token: SqlToken, depth: number): string {
  const body = text.slice(token.bodyStart, token.bodyEnd)
  const redacted = redactPasswordLiterals(body, depth + 1)
  return text.slice(token.start, token.bodyStart) + redacted + text.slice(token.bodyEnd, token.end)
}

/** A string may hold SQL (`EXECUTE 'ALTER ROLE x PASSWORD ''secret'''`): redact inside it. */
function redactInsideString(text: string, token: SqlToken, depth: number): string {
  const raw = text.slice(token.start, token.end)
  const body = text.slice(token.bodyStart, token.bodyEnd)
  const content = token.escapes ? body.replace(/\\'|''/g, "'") : body.replace(/''/g, "'")
  const redacted = redactPasswordLiterals(content, depth + 1)
  if (redacted === content) return raw
  // Backslash escapes cannot be rebuilt exactly: drop the whole E'...' literal.
  if (token.escapes) return REDACTED_LITERAL
  const prefix = text.slice(token.start, token.bodyStart)
  return `${prefix}${redacted.replace(/'/g, "''")}${token.closed ? "'" : ''}`
}

function replaceLiterals(text: string): string {
  let out = ''
  for (const token of tokenizeSql(text)) {
    if (token.type === 'string' || token.type === 'dollar') out = joinLiteral(out, REDACTED_LITERAL)
    else out += text.slice(token.start, token.end)
  }
  return out
}

/**
 * Appends a replacement literal. After a quote or a word character a space keeps the result from
 * lexing differently (`'a''b'` would read as one literal, `E'***'` as an escape string).
 */
function joinLiteral(out: string, literal: string): string {
  return literal.startsWith("'") && /['&\w$\u0080-\uffff]$/.test(out) ? `${out} ${literal}` : out + literal
}
