/**
 * A purpose-built SQL tokenizer and statement splitter that reads text the way the Postgres scanner
 * (`src/backend/parser/scan.l`, with `standard_conforming_strings` on) does.
 *
 * It is the fallback for text the grammar rejects: it finds where statements end without parsing
 * them, and it never throws. One pass over char codes, no regular expression per character, no
 * allocation per token in {@link splitStatements}.
 *
 * What it follows exactly, because each can hide or reveal a `;`:
 * - `'...'` with `''`; `E'...'` with backslash escapes; `U&'...'`, `B'...'`, `X'...'`;
 *   and the SQL rule that two string literals separated by whitespace containing a newline are one
 *   literal (the continuation keeps the first part's escape rules).
 * - `$tag$ ... $tag$` (a tag is an identifier without `$`; `$1` is a parameter; `a$b$` is one
 *   identifier, since identifiers may contain `$`).
 * - `"..."` and `U&"..."` identifiers with `""`.
 * - `--` comments to the end of the line, nested `/* /* *\/ *\/` comments, and operators that stop
 *   where a comment starts (`+--x` is `+` and a comment).
 * - Numbers with trailing junk (`123abc`), which Postgres rejects, are one `number` token.
 *
 * An unterminated string, quoted identifier, dollar quote or block comment becomes one `unterminated`
 * token that runs to the end of the input, so the rest of the input is one piece, never safe.
 */

/** What a token is. `operator` covers Postgres operators and `::`, `:=`, `..`; `punct` is any other single character. */
export type TokenType =
  | 'word'
  | 'quoted-ident'
  | 'string'
  | 'dollar-string'
  | 'number'
  | 'param'
  | 'operator'
  | 'punct'
  | 'semicolon'
  | 'comment'
  | 'unterminated'

/** One token: its type and its UTF-16 offsets into the input (`end` is exclusive). */
export interface Token {
  readonly type: TokenType
  readonly start: number
  readonly end: number
}

/**
 * One statement, without the `;` that ends it: from its first token that is not a comment to the last
 * token before the `;` (or the end of the input). Comments inside it and right before its `;` are kept,
 * comments before it are not: the same span Postgres reports as the statement's location. A stretch
 * between two `;` holding only whitespace and comments is no statement and yields no piece.
 */
export interface Piece {
  readonly start: number
  readonly end: number
}

/** Options of {@link splitStatements}. */
export interface SplitOptions {
  /**
   * Cut as psql does: never at a `;` inside parentheses (multi-action `CREATE RULE ... DO (a; b)`) or
   * inside the `BEGIN ATOMIC ... END` body of `CREATE [OR REPLACE] FUNCTION|PROCEDURE`. These cuts
   * match the statements the Postgres grammar finds in valid text; with unbalanced parentheses they
   * can join several statements into one piece. Default `false`: cut at every `;` outside quotes
   * and comments, exactly where libpg-query's `scan` cuts.
   */
  readonly psql?: boolean
}

// Token kinds as small integers, so the splitter allocates nothing per token.
const WORD = 0
const QUOTED_IDENT = 1
const STRING = 2
const DOLLAR_STRING = 3
const NUMBER = 4
const PARAM = 5
const OPERATOR = 6
const PUNCT = 7
const SEMICOLON = 8
const COMMENT = 9
const UNTERMINATED = 10

const TYPE_NAMES: readonly TokenType[] = [
  'word',
  'quoted-ident',
  'string',
  'dollar-string',
  'number',
  'param',
  'operator',
  'punct',
  'semicolon',
  'comment',
  'unterminated',
]

// Character classes of the ASCII range; every code unit >= 0x80 is an identifier character, as
// scan.l's `\200-\377` makes every byte of a multi-byte UTF-8 character one.
const SPACE = 1 // [ \t\n\r\f\v]
const IDENT_START = 2 // [A-Za-z_]
const DIGIT = 4 // [0-9]
const OP_CHAR = 8 // [~!@#^&|`?+\-*/%<>=]
const NEWLINE = 16 // [\n\r]

const classes = new Uint8Array(128)
for (const c of ' \t\n\r\f\v') classes[c.charCodeAt(0)] = SPACE
classes[10] = SPACE | NEWLINE
classes[13] = SPACE | NEWLINE
for (let c = 65; c <= 90; c++) classes[c] = IDENT_START
for (let c = 97; c <= 122; c++) classes[c] = IDENT_START
classes[95] = IDENT_START
for (let c = 48; c <= 57; c++) classes[c] = DIGIT
for (const c of '~!@#^&|`?+-*/%<>=') classes[c.charCodeAt(0)] = OP_CHAR

const QUOTE = 39 // '
const DQUOTE = 34 // "
const DOLLAR = 36 // $
const DASH = 45 // -
const SLASH = 47 // /
const STAR = 42 // *
const BACKSLASH = 92 // \
const DOT = 46 // .
const COLON = 58 // :
const SEMI = 59 // ;
const AMP = 38 // &
const EQUALS = 61 // =
const PLUS = 43 // +

function isSpace(c: number): boolean {
  return c < 128 && ((classes[c] ?? 0) & SPACE) !== 0
}

function isNewline(c: number): boolean {
  return c === 10 || c === 13
}

/** `ident_start`: a letter, `_`, or any non-ASCII code unit. */
function isIdentStart(c: number): boolean {
  return c >= 128 || ((classes[c] ?? 0) & IDENT_START) !== 0
}

/** `ident_cont`: `ident_start`, a digit or `$`. */
function isIdentCont(c: number): boolean {
  return c >= 128 || ((classes[c] ?? 0) & (IDENT_START | DIGIT)) !== 0 || c === DOLLAR
}

/** `dolq_cont`: `ident_start` or a digit (no `$`). */
function isTagCont(c: number): boolean {
  return c >= 128 || ((classes[c] ?? 0) & (IDENT_START | DIGIT)) !== 0
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

function isOpChar(c: number): boolean {
  return c < 128 && ((classes[c] ?? 0) & OP_CHAR) !== 0
}

/** Index of the next `\n` or `\r` at or after `i`, or `n`. */
function lineEnd(s: string, i: number, n: number): number {
  while (i < n && !isNewline(s.charCodeAt(i))) i++
  return i
}

// String modes: how the body of a quoted literal is read.
const MODE_STANDARD = 0 // '...', U&'...': '' is a quote, backslash is a plain character
const MODE_EXTENDED = 1 // E'...': '' and backslash escapes
const MODE_BITS = 2 // B'...', X'...': the first quote ends the body

/**
 * After a closing quote at `i - 1`: the index of the quote that continues the literal, or -1.
 * Postgres joins `'a'` and `'b'` into one literal when only whitespace containing a newline (and
 * `--` comments, each ending in a newline after the first newline) separates them.
 */
function continuation(s: string, i: number, n: number): number {
  // {non_newline_whitespace}* {newline}
  for (;;) {
    if (i >= n) return -1
    const c = s.charCodeAt(i)
    if (c === 32 || c === 9 || c === 12 || c === 11) i++
    else if (c === DASH && s.charCodeAt(i + 1) === DASH) i = lineEnd(s, i + 2, n)
    else if (isNewline(c)) break
    else return -1
  }
  i++
  // {special_whitespace}* {quote}
  for (;;) {
    if (i >= n) return -1
    const c = s.charCodeAt(i)
    if (isSpace(c)) i++
    else if (c === DASH && s.charCodeAt(i + 1) === DASH) {
      i = lineEnd(s, i + 2, n)
      if (i >= n) return -1
      i++
    } else return c === QUOTE ? i : -1
  }
}

/** Reads a quoted literal whose body starts at `i`. Returns the end (after the closing quote), or -1. */
function scanString(s: string, i: number, n: number, mode: number): number {
  for (;;) {
    if (mode === MODE_EXTENDED) {
      for (;;) {
        if (i >= n) return -1
        const c = s.charCodeAt(i)
        if (c === QUOTE) break
        if (c === BACKSLASH) {
          if (i + 1 >= n) return -1
          i += 2
        } else i++
      }
    } else {
      i = s.indexOf("'", i)
      if (i < 0) return -1
    }
    // s[i] is a quote: a doubled quote inside the body, or the end of this part.
    if (mode !== MODE_BITS && s.charCodeAt(i + 1) === QUOTE) {
      i += 2
      continue
    }
    const next = continuation(s, i + 1, n)
    if (next < 0) return i + 1
    i = next + 1
  }
}

/** Reads a quoted identifier whose body starts at `i`. Returns the end, or -1. */
function scanQuotedIdent(s: string, i: number): number {
  for (;;) {
    i = s.indexOf('"', i)
    if (i < 0) return -1
    if (s.charCodeAt(i + 1) !== DQUOTE) return i + 1
    i += 2
  }
}

/** Reads a block comment whose body starts at `i` (after the first `/*`). Returns the end, or -1. */
function scanBlockComment(s: string, i: number, n: number): number {
  let depth = 0
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c === STAR && s.charCodeAt(i + 1) === SLASH) {
      if (depth === 0) return i + 2
      depth--
      i += 2
    } else if (c === SLASH && s.charCodeAt(i + 1) === STAR) {
      depth++
      i += 2
    } else i++
  }
  return -1
}

/** Skips `[0-9_]*` from `i`. */
function skipDigits(s: string, i: number, n: number): number {
  while (i < n) {
    const c = s.charCodeAt(i)
    if (!isDigit(c) && c !== 95) break
    i++
  }
  return i
}

/** Reads a number starting at `i` (a digit, or `.` then a digit), with any trailing identifier junk. */
function scanNumber(s: string, i: number, n: number): number {
  if (s.charCodeAt(i) === DOT) i = skipDigits(s, i + 1, n)
  else {
    i = skipDigits(s, i, n)
    // `1..2` is 1, `..`, 2.
    if (s.charCodeAt(i) === DOT && s.charCodeAt(i + 1) !== DOT) i = skipDigits(s, i + 1, n)
  }
  const e = s.charCodeAt(i)
  if (e === 69 || e === 101) {
    let j = i + 1
    const sign = s.charCodeAt(j)
    if (sign === PLUS || sign === DASH) j++
    if (isDigit(s.charCodeAt(j))) i = skipDigits(s, j, n)
  }
  // Trailing junk (`123abc`): Postgres rejects it; it stays one token.
  if (i < n && isIdentStart(s.charCodeAt(i))) {
    i++
    while (i < n && isIdentCont(s.charCodeAt(i))) i++
  }
  return i
}

/** Reads an operator starting at `i`: op chars up to a comment start, then scan.l's trailing `+`/`-` rule. */
function scanOperator(s: string, i: number, n: number): number {
  let j = i + 1
  while (j < n) {
    const c = s.charCodeAt(j)
    if (!isOpChar(c)) break
    const d = s.charCodeAt(j + 1)
    if ((c === DASH && d === DASH) || (c === SLASH && d === STAR)) break
    j++
  }
  let len = j - i
  const last = s.charCodeAt(j - 1)
  if (len > 1 && (last === PLUS || last === DASH)) {
    // `+` and `-` may end a multi-character operator only if it holds a character SQL operators lack.
    let k = j - 2
    for (; k >= i; k--) {
      const c = s.charCodeAt(k)
      // ~ ! @ # ^ & | ` ? %
      if (c === 126 || c === 33 || c === 64 || c === 35 || c === 94 || c === 38 || c === 124 || c === 96) break
      if (c === 63 || c === 37) break
    }
    if (k < i) {
      do len--
      while (len > 1 && (s.charCodeAt(i + len - 1) === PLUS || s.charCodeAt(i + len - 1) === DASH))
    }
  }
  return i + len
}

/** The result of scanning one token (reused, so the splitter allocates nothing per token). */
interface Scanned {
  kind: number
  end: number
}

/**
 * Scans the token that starts at `i` (a non-space character) into `out`. Never throws; every
 * character ends up in some token.
 */
function scanToken(s: string, i: number, n: number, out: Scanned): void {
  const c = s.charCodeAt(i)
  const d = i + 1 < n ? s.charCodeAt(i + 1) : -1
  let end: number
  switch (c) {
    case SEMI:
      out.kind = SEMICOLON
      out.end = i + 1
      return
    case QUOTE:
      end = scanString(s, i + 1, n, MODE_STANDARD)
      out.kind = end < 0 ? UNTERMINATED : STRING
      out.end = end < 0 ? n : end
      return
    case DQUOTE:
      end = scanQuotedIdent(s, i + 1)
      out.kind = end < 0 ? UNTERMINATED : QUOTED_IDENT
      out.end = end < 0 ? n : end
      return
    case DASH:
      if (d === DASH) {
        out.kind = COMMENT
        out.end = lineEnd(s, i + 2, n)
        return
      }
      break
    case SLASH:
      if (d === STAR) {
        end = scanBlockComment(s, i + 2, n)
        out.kind = end < 0 ? UNTERMINATED : COMMENT
        out.end = end < 0 ? n : end
        return
      }
      break
    case DOLLAR: {
      if (isDigit(d)) {
        end = i + 2
        while (end < n && isDigit(s.charCodeAt(end))) end++
        out.kind = PARAM
        out.end = end
        return
      }
      // $tag$ opens a dollar quote; `$` followed by anything else is a lone character.
      let j = i + 1
      if (j < n && isIdentStart(d)) {
        j++
        while (j < n && isTagCont(s.charCodeAt(j))) j++
      }
      if (j < n && s.charCodeAt(j) === DOLLAR) {
        const bodyStart = j + 1
        const close = s.indexOf(s.slice(i, bodyStart), bodyStart)
        out.kind = close < 0 ? UNTERMINATED : DOLLAR_STRING
        out.end = close < 0 ? n : close + (bodyStart - i)
        return
      }
      out.kind = PUNCT
      out.end = i + 1
      return
    }
    case DOT:
      if (isDigit(d)) {
        out.kind = NUMBER
        out.end = scanNumber(s, i, n)
        return
      }
      out.kind = d === DOT ? OPERATOR : PUNCT
      out.end = d === DOT ? i + 2 : i + 1
      return
    case COLON:
      out.kind = d === COLON || d === EQUALS ? OPERATOR : PUNCT
      out.end = d === COLON || d === EQUALS ? i + 2 : i + 1
      return
  }
  if (isDigit(c)) {
    out.kind = NUMBER
    out.end = scanNumber(s, i, n)
    return
  }
  if (isIdentStart(c)) {
    // One-letter prefixes of quoted literals: E'..', B'..', X'..', U&'..', U&"..". (N'..' is the
    // word `n` then a standard string, as Postgres scans it.)
    if (d === QUOTE) {
      const lower = c | 32
      const mode = lower === 101 ? MODE_EXTENDED : lower === 98 || lower === 120 ? MODE_BITS : -1
      if (mode >= 0) {
        end = scanString(s, i + 2, n, mode)
        out.kind = end < 0 ? UNTERMINATED : STRING
        out.end = end < 0 ? n : end
        return
      }
    } else if (d === AMP && (c | 32) === 117) {
      const q = s.charCodeAt(i + 2)
      if (q === QUOTE) {
        end = scanString(s, i + 3, n, MODE_STANDARD)
        out.kind = end < 0 ? UNTERMINATED : STRING
        out.end = end < 0 ? n : end
        return
      }
      if (q === DQUOTE) {
        end = scanQuotedIdent(s, i + 3)
        out.kind = end < 0 ? UNTERMINATED : QUOTED_IDENT
        out.end = end < 0 ? n : end
        return
      }
    }
    end = i + 1
    while (end < n && isIdentCont(s.charCodeAt(end))) end++
    out.kind = WORD
    out.end = end
    return
  }
  if (isOpChar(c)) {
    out.kind = OPERATOR
    out.end = scanOperator(s, i, n)
    return
  }
  // `,()[]`, a `$` that opens nothing, `\`, `{`, control characters: one character each.
  out.kind = PUNCT
  out.end = i + 1
}

/**
 * Splits SQL text into tokens, as the Postgres scanner would, including comments. Whitespace is not a
 * token. Never throws: malformed input yields `unterminated` (to the end of the input) or `punct` tokens.
 *
 * @example
 * tokenize("select 'a;b'; -- done").map((t) => t.type)
 * // ['word', 'string', 'semicolon', 'comment']
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  const n = sql.length
  const out: Scanned = { kind: 0, end: 0 }
  let i = 0
  while (i < n) {
    if (isSpace(sql.charCodeAt(i))) {
      i++
      continue
    }
    scanToken(sql, i, n, out)
    tokens.push({ type: TYPE_NAMES[out.kind] as TokenType, start: i, end: out.end })
    i = out.end
  }
  return tokens
}

/** True when `s[start, end)` is `word`, ignoring ASCII case (`word` is lower case). */
function isWord(s: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false
  for (let k = 0; k < word.length; k++) {
    if ((s.charCodeAt(start + k) | 32) !== word.charCodeAt(k)) return false
  }
  return true
}

/**
 * psqlscan.l's statement-head tracking: the first letter of each of the first four words when it is
 * one of CREATE, OR, REPLACE, FUNCTION, PROCEDURE (else 0), to know when BEGIN ... END nests.
 */
function headLetter(s: string, start: number, end: number): number {
  const len = end - start
  if (len === 6 && isWord(s, start, end, 'create')) return 99 // c
  if (len === 2 && isWord(s, start, end, 'or')) return 111 // o
  if (len === 7 && isWord(s, start, end, 'replace')) return 114 // r
  if (len === 8 && isWord(s, start, end, 'function')) return 102 // f
  if (len === 9 && isWord(s, start, end, 'procedure')) return 112 // p
  return 0
}

/** A `--` comment's token keeps the spaces before its newline; a piece that ends in one does not. */
function trimEnd(s: string, start: number, end: number): number {
  while (end > start) {
    const c = s.charCodeAt(end - 1)
    if (c !== 32 && c !== 9 && c !== 11 && c !== 12) break
    end--
  }
  return end
}

/**
 * Cuts SQL text into statements at `;` tokens outside strings, quoted identifiers, dollar quotes and
 * comments, as Postgres's scanner sees them. Each {@link Piece} spans the statement without its `;`;
 * stretches holding only whitespace and comments are dropped. Never throws. On every file of
 * Postgres's regression suite it cuts where libpg-query's `scan` cuts; with `{ psql: true }` it also
 * keeps parenthesised rule actions and `BEGIN ATOMIC` bodies whole, as psql does.
 *
 * @example
 * splitStatements('create table t (x int); drop table t;')
 * // [{ start: 0, end: 22 }, { start: 24, end: 36 }]
 */
export function splitStatements(sql: string, options: SplitOptions = {}): Piece[] {
  const psql = options.psql === true
  const pieces: Piece[] = []
  const n = sql.length
  const out: Scanned = { kind: 0, end: 0 }
  let start = -1
  let end = -1
  let endsInComment = false
  // psql mode: parentheses, BEGIN ... END depth, and the statement's head words.
  let parens = 0
  let blocks = 0
  let words = 0
  let h0 = 0
  let h1 = 0
  let h2 = 0
  let h3 = 0
  let i = 0
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (isSpace(c)) {
      i++
      continue
    }
    scanToken(sql, i, n, out)
    const kind = out.kind
    if (kind === SEMICOLON && ((parens === 0 && blocks === 0) || !psql)) {
      if (start >= 0) pieces.push({ start, end: endsInComment ? trimEnd(sql, start, end) : end })
      start = -1
      parens = 0
      blocks = 0
      words = 0
      h0 = h1 = h2 = h3 = 0
    } else {
      if (kind !== COMMENT && start < 0) start = i
      if (start >= 0) {
        end = out.end
        endsInComment = kind === COMMENT
      }
      if (psql) {
        if (kind === PUNCT) {
          if (c === 40) parens++
          else if (c === 41 && parens > 0) parens--
        } else if (kind === WORD) {
          if (words < 4) {
            const letter = headLetter(sql, i, out.end)
            if (words === 0) h0 = letter
            else if (words === 1) h1 = letter
            else if (words === 2) h2 = letter
            else h3 = letter
          }
          words++
          const routine =
            h0 === 99 && (h1 === 102 || h1 === 112 || (h1 === 111 && h2 === 114 && (h3 === 102 || h3 === 112)))
          if (routine && parens === 0) {
            if (isWord(sql, i, out.end, 'begin')) blocks++
            else if (isWord(sql, i, out.end, 'case')) {
              if (blocks >= 1) blocks++
            } else if (isWord(sql, i, out.end, 'end') && blocks > 0) blocks--
          }
        }
      }
    }
    i = out.end
  }
  if (start >= 0) pieces.push({ start, end: endsInComment ? trimEnd(sql, start, end) : end })
  return pieces
}

/**
 * Words that chain like operators: each makes one more level of the tree (`x IS NOT NULL IS NOT
 * NULL ...`, `'a' COLLATE "C" COLLATE "C" ...`, `NOT NOT ... true`, `a JOIN b ON ... JOIN c ...`).
 */
const CHAINING_WORDS = new Set([
  'and',
  'or',
  'not',
  'is',
  'isnull',
  'notnull',
  'collate',
  'at',
  'like',
  'ilike',
  'similar',
  'between',
  'overlaps',
  'in',
  'join',
  'operator',
])

/** True for `UNION`, `INTERSECT` and `EXCEPT`, ignoring case. */
function isSetOperation(s: string, start: number, end: number): boolean {
  return isWord(s, start, end, 'union') || isWord(s, start, end, 'intersect') || isWord(s, start, end, 'except')
}

function isChainingWord(s: string, start: number, end: number): boolean {
  const len = end - start
  if (len < 2 || len > 8) return false
  return CHAINING_WORDS.has(s.slice(start, end).toLowerCase())
}

/**
 * True when a statement of `sql` (a stretch between `;` tokens) would make a tree deeper than the
 * parser's C stack allows: brackets nested deeper than `maxDepth`; more than `maxChain` operators or
 * operator-like words (`IS`, `NOT`, `COLLATE`, `AND`, ...) chained, counted along the open brackets
 * and since the last `,` at each level (a list such as `VALUES (-1), (-2), ...` is wide, not deep);
 * or more than `maxChain` `UNION`/`INTERSECT`/`EXCEPT`. Counts tokens as the scanner reads them, so
 * brackets, operators and words inside strings, quoted identifiers, dollar quotes and comments do not
 * count. A deep shape it misses makes the parser fail, which is a fail-closed verdict too. Never throws.
 */
export function exceedsNesting(sql: string, maxDepth: number, maxChain: number): boolean {
  const n = sql.length
  const out: Scanned = { kind: 0, end: 0 }
  const outer: number[] = []
  let outerSum = 0
  let run = 0
  let setOperations = 0
  let i = 0
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (isSpace(c)) {
      i++
      continue
    }
    scanToken(sql, i, n, out)
    const kind = out.kind
    if (kind === SEMICOLON) {
      outer.length = 0
      outerSum = 0
      run = 0
      setOperations = 0
    } else if (kind === OPERATOR || (kind === WORD && isChainingWord(sql, i, out.end))) {
      if (++run + outerSum > maxChain) return true
    } else if (kind === WORD && isSetOperation(sql, i, out.end)) {
      if (++setOperations > maxChain) return true
    } else if (kind === PUNCT) {
      if (c === 40 || c === 91) {
        outer.push(run)
        outerSum += run
        run = 0
        if (outer.length > maxDepth) return true
      } else if (c === 41 || c === 93) {
        run = outer.pop() ?? 0
        outerSum -= run
      } else if (c === 44) run = 0
    }
    i = out.end
  }
  return false
}
