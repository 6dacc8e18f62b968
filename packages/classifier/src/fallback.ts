/**
 * The verdict for text the Postgres grammar rejects, read from {@link tokenize}'s tokens, never from
 * raw-text patterns. It can only fail closed: an unreadable statement is at least `cautious`, and
 * `destructive` when any of its words, or any word inside its strings and dollar-quoted bodies, is a
 * destructive verb or names a dangerous function.
 */
import { DANGEROUS_FUNCTIONS } from './functions.js'
import { type Token, tokenize } from './lexer.js'
import type { Tier } from './tier.js'
import type { Finding } from './types.js'

/**
 * Statement verbs (and keywords) that can lose data, privileges or the engine's transaction. A word
 * token matches in any case; a quoted identifier never does (`"drop"` is a name, not a verb).
 */
const DESTRUCTIVE_VERBS: ReadonlySet<string> = new Set([
  'drop',
  'delete',
  'truncate',
  'update',
  'alter',
  'merge',
  'grant',
  'revoke',
  'reassign',
  'copy',
  'do',
  'execute',
  'call',
  'commit',
  'rollback',
  'end',
  'abort',
  'set',
  'reset',
  'lock',
  'vacuum',
  'cluster',
  'reindex',
  'load',
  'import',
  // Beyond the list in the issue: each loses state, privileges or the engine's transaction.
  'prepare', // PREPARE TRANSACTION detaches the transaction from the session
  'discard',
  'checkpoint',
  'replace', // CREATE OR REPLACE overwrites a function, view or rule
  'superuser',
  'bypassrls',
  'security', // SECURITY DEFINER, SECURITY LABEL
])

/** Functions beyond the classifier's catalog ({@link DANGEROUS_FUNCTIONS}) that the fallback also treats as destructive. */
const EXTRA_FUNCTIONS = [
  'set_config',
  'pg_write_file',
  'pg_switch_xlog',
  'pg_xlog_replay_pause',
  'pg_xlog_replay_resume',
  'pg_logdir_ls',
  'pg_logical_slot_get_changes',
  'pg_logical_slot_get_binary_changes',
  'pg_copy_logical_replication_slot',
  'pg_copy_physical_replication_slot',
  'pg_replication_origin_create',
  'pg_replication_origin_advance',
  'pg_replication_origin_session_setup',
  'pg_stat_reset_single_table_counters',
  'pg_stat_reset_single_function_counters',
  'pg_stat_reset_slru',
  'pg_stat_reset_replication_slot',
  'pg_stat_reset_subscription_stats',
  'pg_clear_relation_stats',
  'pg_clear_attribute_stats',
  'pg_restore_relation_stats',
  'pg_restore_attribute_stats',
  'pg_log_backend_memory_contexts',
  'lo_from_bytea',
  'lo_create',
  'lo_creat',
  'lo_open',
  'dblink_disconnect',
  'dblink_get_result',
  'cursor_to_xml',
  'setval',
]

const DANGEROUS_NAMES: ReadonlySet<string> = new Set([...DANGEROUS_FUNCTIONS.keys(), ...EXTRA_FUNCTIONS])

/** How much text (in UTF-16 units) the nested reading may cover, as a multiple of the input, before it gives up (fail closed). */
const NESTED_BUDGET_FACTOR = 16
const NESTED_BUDGET_MIN = 1 << 16

/** What the reading found. */
interface Evidence {
  /** Destructive words and dangerous function names, in order of first appearance. */
  readonly hits: Map<string, 'verb' | 'function'>
  /** True when a hit was inside a string, dollar quote or unterminated text. */
  nested: boolean
  /** True when nesting was too deep to read within the budget. */
  exhausted: boolean
}

/**
 * Classifies a statement the Postgres grammar rejected: `cautious` (rule `unparsed-statement`), or
 * `destructive` (rule `unparsed-destructive`) when its tokens, or the tokens inside its strings and
 * dollar-quoted bodies, carry a destructive verb (DROP, DELETE, TRUNCATE, UPDATE, ALTER, GRANT, SET, ...)
 * or a dangerous function (`pg_terminate_backend`, `lo_unlink`, `dblink_exec`, `set_config`, ...).
 * Never `safe`; never throws. One finding, whose message names what was found.
 *
 * @example
 * fallbackVerdict('DROP TABEL users').tier // 'destructive'
 * fallbackVerdict('CREATE TABEL users (id int)').tier // 'cautious'
 */
export function fallbackVerdict(text: string): { readonly tier: Tier; readonly findings: readonly Finding[] } {
  const evidence: Evidence = { hits: new Map(), nested: false, exhausted: false }
  const tokens = tokenize(text)
  read(text, tokens, evidence)
  const subject = describe(text, tokens)
  if (evidence.hits.size === 0 && !evidence.exhausted) {
    return {
      tier: 'cautious',
      findings: [
        {
          rule: 'unparsed-statement',
          tier: 'cautious',
          severity: 'warning',
          message: `${subject} cannot be parsed by the Postgres grammar, so what it changes or loses cannot be known.`,
          hint: 'Fix the syntax so the Postgres parser can read it, then run ddl check again to get its real tier.',
        },
      ],
    }
  }
  return {
    tier: 'destructive',
    findings: [
      {
        rule: 'unparsed-destructive',
        tier: 'destructive',
        severity: 'error',
        message: `${subject} cannot be parsed by the Postgres grammar, and ${whatWasFound(evidence)}: it may drop objects, delete rows or change privileges, and nothing proves otherwise.`,
        hint: '1. Fix the syntax so the Postgres parser can read it. 2. Run ddl check again: the statement then gets its real tier from its parse tree.',
      },
    ],
  }
}

/** Reads `text` and every string, dollar-quoted body and unterminated tail inside it, breadth by breadth. */
function read(text: string, topTokens: readonly Token[], evidence: Evidence): void {
  let budget = Math.max(NESTED_BUDGET_MIN, NESTED_BUDGET_FACTOR * text.length)
  const pending: string[] = [text]
  let depthZero = true
  while (pending.length > 0) {
    const sql = pending.pop() as string
    budget -= sql.length
    if (budget < 0) {
      evidence.exhausted = true
      return
    }
    const tokens = depthZero ? topTokens : tokenize(sql)
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] as Token
      const raw = sql.slice(token.start, token.end)
      switch (token.type) {
        case 'word': {
          const word = raw.toLowerCase()
          if (DESTRUCTIVE_VERBS.has(word)) hit(evidence, word, 'verb', !depthZero)
          if (DANGEROUS_NAMES.has(word)) hit(evidence, word, 'function', !depthZero)
          break
        }
        case 'quoted-ident': {
          // A quoted name is never a verb, but `"pg_terminate_backend"(pid)` still calls the function.
          for (const name of quotedNames(raw, uescapeAfter(sql, tokens, i))) {
            const key = name.toLowerCase()
            if (DANGEROUS_NAMES.has(key)) hit(evidence, key, 'function', !depthZero)
          }
          break
        }
        case 'string':
          for (const body of stringBodies(raw, uescapeAfter(sql, tokens, i))) pending.push(body)
          break
        case 'dollar-string': {
          const tag = raw.indexOf('$', 1) + 1
          pending.push(raw.slice(tag, raw.length - tag))
          break
        }
        case 'unterminated':
          // Fail closed: whatever follows the opening quote or comment is read as SQL too.
          pending.push(raw.slice(openingLength(raw)))
          break
        default:
          break
      }
    }
    depthZero = false
  }
}

function hit(evidence: Evidence, name: string, what: 'verb' | 'function', nested: boolean): void {
  if (!evidence.hits.has(name)) evidence.hits.set(name, what)
  if (nested) evidence.nested = true
}

/** Length of the opening delimiter of an unterminated token: `'`, `E'`, `U&'`, `"`, `U&"`, `$tag$` or `/*`. */
function openingLength(raw: string): number {
  const first = raw.charCodeAt(0)
  if (first === 36) return raw.indexOf('$', 1) + 1 // $tag$
  if (first === 39 || first === 34) return 1 // ' "
  if (first === 47) return 2 // /*
  return raw.charCodeAt(1) === 38 ? 3 : 2 // U&' U&" E' B' X'
}

/** The escape character a `UESCAPE 'c'` after token `i` names, or `\`. */
function uescapeAfter(sql: string, tokens: readonly Token[], i: number): string {
  let j = i + 1
  while (tokens[j]?.type === 'comment') j++
  const word = tokens[j]
  if (word?.type !== 'word' || sql.slice(word.start, word.end).toLowerCase() !== 'uescape') return '\\'
  j++
  while (tokens[j]?.type === 'comment') j++
  const literal = tokens[j]
  if (literal?.type !== 'string') return '\\'
  const text = sql.slice(literal.start, literal.end)
  return text.length === 3 ? text.charAt(1) : '\\'
}

/**
 * The names a quoted identifier may stand for: its text with `""` undone and, for `U&"..."`, its
 * Unicode escapes decoded too (both are returned, so a doubt counts as a match).
 */
function quotedNames(raw: string, escapeChar: string): string[] {
  if (raw.charCodeAt(0) !== 34) {
    const body = raw.slice(3, -1).replaceAll('""', '"')
    return [body, decodeUnicodeEscapes(body, escapeChar)]
  }
  return [raw.slice(1, -1).replaceAll('""', '"')]
}

/**
 * The text a string literal stands for: its parts joined (as Postgres joins `'a'` newline `'b'`), and
 * each part alone too, so adding a newline between two literals never hides a word. `''` is undone;
 * for `E'...'` and `U&'...'` the escapes are decoded, and the raw body is kept as well.
 */
function stringBodies(raw: string, escapeChar: string): string[] {
  const first = raw.charCodeAt(0) | 32
  const extended = first === 101 && raw.charCodeAt(1) === 39
  const unicode = first === 117 && raw.charCodeAt(1) === 38
  const bits = (first === 98 || first === 120) && raw.charCodeAt(1) === 39
  let i = unicode ? 3 : raw.charCodeAt(0) === 39 ? 1 : 2
  const parts: string[] = []
  const n = raw.length
  for (;;) {
    // Read one part, up to its closing quote.
    let part = ''
    while (i < n) {
      const c = raw.charCodeAt(i)
      if (c === 92 && extended) {
        part += raw.slice(i, i + 2)
        i += 2
      } else if (c === 39) {
        if (!bits && raw.charCodeAt(i + 1) === 39) {
          part += extended ? "\\'" : "'"
          i += 2
        } else break
      } else {
        part += raw.charAt(i)
        i++
      }
    }
    parts.push(part)
    // Skip the closing quote, then whitespace and `--` comments up to the next part's quote.
    i++
    while (i < n && raw.charCodeAt(i) !== 39) {
      if (raw.charCodeAt(i) === 45 && raw.charCodeAt(i + 1) === 45) {
        while (i < n && raw.charCodeAt(i) !== 10 && raw.charCodeAt(i) !== 13) i++
      } else i++
    }
    if (i >= n) break
    i++
  }
  const bodies = parts.length > 1 ? [parts.join(''), ...parts] : parts
  const out: string[] = []
  for (const body of bodies) {
    out.push(body)
    const decoded = extended ? decodeBackslashEscapes(body) : unicode ? decodeUnicodeEscapes(body, escapeChar) : body
    if (decoded !== body) out.push(decoded)
  }
  return out
}

function fromCodePoint(cp: number): string {
  return cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : ''
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/** Decodes the escapes of an `E'...'` body: `\n`, `\x41`, `\101`, `\u0041`, `\U00000041`, `\'`, `\\`. */
function decodeBackslashEscapes(body: string): string {
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const c = body.charAt(i)
    if (c !== '\\' || i + 1 >= body.length) {
      out += c
      continue
    }
    const e = body.charAt(++i)
    const mapped = SIMPLE_ESCAPES[e]
    if (mapped !== undefined) out += mapped
    else if (e === 'x' && isHex(body.charAt(i + 1))) {
      const len = isHex(body.charAt(i + 2)) ? 2 : 1
      out += fromCodePoint(Number.parseInt(body.slice(i + 1, i + 1 + len), 16))
      i += len
    } else if (e >= '0' && e <= '7') {
      let len = 1
      while (len < 3 && body.charAt(i + len) >= '0' && body.charAt(i + len) <= '7') len++
      out += fromCodePoint(Number.parseInt(body.slice(i, i + len), 8))
      i += len - 1
    } else if ((e === 'u' || e === 'U') && allHex(body, i + 1, e === 'u' ? 4 : 8)) {
      const len = e === 'u' ? 4 : 8
      out += fromCodePoint(Number.parseInt(body.slice(i + 1, i + 1 + len), 16))
      i += len
    } else out += e
  }
  return out
}

/** Decodes `U&` escapes: `<esc>XXXX`, `<esc>+XXXXXX` and a doubled escape character. */
function decodeUnicodeEscapes(body: string, escapeChar: string): string {
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const c = body.charAt(i)
    if (c !== escapeChar) {
      out += c
      continue
    }
    if (body.charAt(i + 1) === escapeChar) {
      out += escapeChar
      i++
    } else if (body.charAt(i + 1) === '+' && allHex(body, i + 2, 6)) {
      out += fromCodePoint(Number.parseInt(body.slice(i + 2, i + 8), 16))
      i += 7
    } else if (allHex(body, i + 1, 4)) {
      out += fromCodePoint(Number.parseInt(body.slice(i + 1, i + 5), 16))
      i += 4
    } else out += c
  }
  return out
}

function isHex(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

function allHex(s: string, from: number, length: number): boolean {
  if (from + length > s.length) return false
  for (let k = from; k < from + length; k++) if (!isHex(s.charAt(k))) return false
  return true
}

/** Names the statement by its first words (never its literals, which may hold secrets). */
function describe(text: string, tokens: readonly Token[]): string {
  const words: string[] = []
  let more = false
  for (const token of tokens) {
    if (token.type === 'comment') continue
    if (token.type !== 'word' || words.length === 4) {
      more = true
      break
    }
    words.push(text.slice(token.start, token.end))
  }
  if (words.length === 0) return 'This statement'
  let shown = words.join(' ')
  if (shown.length > 60) {
    shown = shown.slice(0, 57)
    more = true
  }
  return `The statement \`${shown}${more ? ' ...' : ''}\``
}

function whatWasFound(evidence: Evidence): string {
  if (evidence.exhausted && evidence.hits.size === 0) return 'its quoted bodies nest too deeply to read'
  const verbs: string[] = []
  const functions: string[] = []
  for (const [name, what] of evidence.hits) (what === 'verb' ? verbs : functions).push(name)
  const parts: string[] = []
  if (verbs.length > 0) parts.push(`contains ${list(verbs.map((v) => v.toUpperCase()))}`)
  if (functions.length > 0) parts.push(`calls ${list(functions)}`)
  const where = evidence.nested ? ' (inside a string or body too)' : ''
  return `it ${parts.join(' and ')}${where}`
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, 3)
  const more = names.length - shown.length
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ')
}
