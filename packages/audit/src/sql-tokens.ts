/**
 * A small lexer that finds the boundaries of SQL string literals, quoted identifiers and comments,
 * so that redaction can act on whole literals. It is not a parser, it never fails, and it reads any
 * text (an error message too): an unterminated literal or comment runs to the end.
 */

/** What a token is. `string` covers '...', E'...', U&'...', B'...', X'...' and N'...'. */
export type SqlTokenType = 'space' | 'comment' | 'word' | 'quoted-identifier' | 'string' | 'dollar' | 'other'

/** One token: `text.slice(start, end)`. */
export interface SqlToken {
  readonly type: SqlTokenType
  readonly start: number
  readonly end: number
  /** For `string` and `dollar`: where the content starts and ends (quotes and prefix excluded). */
  readonly bodyStart: number
  readonly bodyEnd: number
  /** For `string`: backslash escapes apply (E'...'). */
  readonly escapes: boolean
  /** False when the literal, identifier or comment runs to the end of the text unclosed. */
  readonly closed: boolean
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/
const SPACE = /\s/
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/

/** Splits `text` into tokens that cover it exactly, in order. */
export function tokenizeSql(text: string): SqlToken[] {
  const tokens: SqlToken[] = []
  let i = 0
  const push = (type: SqlTokenType, start: number, end: number, extra?: Partial<SqlToken>): void => {
    tokens.push({ type, start, end, bodyStart: start, bodyEnd: end, escapes: false, closed: true, ...extra })
    i = end
  }
  while (i < text.length) {
    const start = i
    const c = text.charAt(i)
    const next = text.charAt(i + 1)
    if (SPACE.test(c)) {
      let j = i + 1
      while (j < text.length && SPACE.test(text.charAt(j))) j++
      push('space', start, j)
    } else if (c === '-' && next === '-') {
      const newline = text.indexOf('\n', i)
      push('comment', start, newline === -1 ? text.length : newline)
    } else if (c === '/' && next === '*') {
      const { end, closed } = blockComment(text, i)
      push('comment', start, end, { closed })
    } else if (c === "'") {
      pushString(text, start, start, false, push)
    } else if ((c === 'e' || c === 'E') && next === "'") {
      pushString(text, start, start + 1, true, push)
    } else if ((c === 'u' || c === 'U') && next === '&' && text.charAt(i + 2) === "'") {
      pushString(text, start, start + 2, false, push)
    } else if ((c === 'u' || c === 'U') && next === '&' && text.charAt(i + 2) === '"') {
      const { end, closed } = quoted(text, i + 2, '"', false)
      push('quoted-identifier', start, end, { closed })
    } else if ('bBxXnN'.includes(c) && next === "'") {
      pushString(text, start, start + 1, false, push)
    } else if (c === '"') {
      const { end, closed } = quoted(text, i, '"', false)
      push('quoted-identifier', start, end, { closed })
    } else if (c === '$' && DOLLAR_TAG.test(text.slice(i, i + 256))) {
      const tag = (DOLLAR_TAG.exec(text.slice(i, i + 256)) as RegExpExecArray)[0]
      const close = text.indexOf(tag, i + tag.length)
      const bodyStart = i + tag.length
      if (close === -1) {
        push('dollar', start, text.length, { bodyStart, bodyEnd: text.length, closed: false })
      } else {
        push('dollar', start, close + tag.length, { bodyStart, bodyEnd: close })
      }
    } else if (WORD_START.test(c)) {
      let j = i + 1
      while (j < text.length && WORD_PART.test(text.charAt(j))) j++
      push('word', start, j)
    } else {
      push('other', start, i + 1)
    }
  }
  return tokens
}

type Push = (type: SqlTokenType, start: number, end: number, extra?: Partial<SqlToken>) => void

function pushString(text: string, start: number, quote: number, escapes: boolean, push: Push): void {
  const { end, closed } = quoted(text, quote, "'", escapes)
  push('string', start, end, { bodyStart: quote + 1, bodyEnd: closed ? end - 1 : end, escapes, closed })
}

/** Scans a quoted run starting at the opening quote; a doubled quote is part of the content. */
function quoted(text: string, open: number, quote: string, escapes: boolean): { end: number; closed: boolean } {
  let j = open + 1
  while (j < text.length) {
    const c = text.charAt(j)
    if (escapes && c === '\\') {
      j += 2
    } else if (c === quote) {
      if (text.charAt(j + 1) === quote) j += 2
      else return { end: j + 1, closed: true }
    } else {
      j++
    }
  }
  return { end: text.length, closed: false }
}

/** Postgres block comments nest. */
function blockComment(text: string, open: number): { end: number; closed: boolean } {
  let depth = 0
  let j = open
  while (j < text.length) {
    if (text.startsWith('/*', j)) {
      depth++
      j += 2
    } else if (text.startsWith('*/', j)) {
      depth--
      j += 2
      if (depth === 0) return { end: j, closed: true }
    } else {
      j++
    }
  }
  return { end: text.length, closed: false }
}
