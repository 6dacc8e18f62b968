/**
 * Proof that the purpose-built splitter cuts where Postgres cuts: on every file of Postgres's own
 * regression suite, the pieces of `splitStatements` equal the pieces of libpg-query's scanner
 * (`scanSync`, split at its `;` tokens).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadModule, parseSync, type ScanToken, scanSync } from 'libpg-query'
import { beforeAll, describe, expect, it } from 'vitest'
import { corpusDir } from '../../../test/support/corpus.js'
import { type Piece, splitStatements } from '../src/lexer.js'

/** Maps each UTF-8 byte offset of `text` to its UTF-16 offset (scan reports byte offsets). */
function byteToUtf16(text: string): Int32Array {
  const map = new Int32Array(Buffer.byteLength(text, 'utf8') + 1)
  let byte = 0
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i) ?? 0
    const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
    for (let k = 0; k < len; k++) map[byte + k] = i
    byte += len
    if (cp >= 0x10000) i++
  }
  map[byte] = text.length
  return map
}

/** A `--` comment token keeps the spaces before its newline; a statement that ends in one does not. */
function trimSpaces(text: string, end: number): number {
  while (end > 0 && ' \t\v\f'.includes(text.charAt(end - 1))) end--
  return end
}

const isComment = (t: ScanToken) => t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT'
const isSemicolon = (t: ScanToken) => t.tokenName === 'ASCII_59'

/** The scanner's statements: its tokens split at `;`, each from its first to its last non-comment token. */
function scannerPieces(text: string): Piece[] {
  const map = byteToUtf16(text)
  const pieces: Piece[] = []
  let start = -1
  let end = -1
  for (const token of scanSync(text).tokens) {
    if (isSemicolon(token)) {
      if (start >= 0) pieces.push({ start, end })
      start = -1
    } else {
      if (start < 0 && !isComment(token)) start = map[token.start] ?? -1
      if (start >= 0) end = isComment(token) ? trimSpaces(text, map[token.end] ?? -1) : (map[token.end] ?? -1)
    }
  }
  if (start >= 0) pieces.push({ start, end })
  return pieces
}

function tryScannerPieces(text: string): Piece[] | undefined {
  try {
    return scannerPieces(text)
  } catch {
    return undefined
  }
}

const dir = corpusDir()
const missing =
  'The Postgres regression corpus was not found: expected ../shared/corpus/postgres-regress/*.sql next to the ' +
  'repository, or $DDL_CORPUS_DIR. The splitter proof did not run.'

if (dir === undefined) {
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
    it('finds the regression corpus (required in CI)', () => {
      expect.fail(missing)
    })
  } else {
    console.warn(`lexer.corpus.test: SKIPPED. ${missing}`)
    it.skip('cuts where libpg-query scan cuts on the regression corpus (corpus not found)', () => {})
  }
} else {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }))

  describe('splitStatements on the Postgres regression corpus', () => {
    beforeAll(async () => {
      await loadModule()
    })

    it('cuts where libpg-query scan cuts, on every file', () => {
      let wholeFiles = 0
      let wholeStatements = 0
      let piecewiseFiles = 0
      let piecewiseStatements = 0
      let unscannable = 0
      const mismatches: string[] = []

      for (const { name, text } of files) {
        const mine = splitStatements(text)
        const theirs = tryScannerPieces(text)
        if (theirs !== undefined) {
          wholeFiles++
          wholeStatements += theirs.length
          if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
            const i = mine.findIndex((p, k) => p.start !== theirs[k]?.start || p.end !== theirs[k]?.end)
            mismatches.push(`${name}: piece ${i}: mine ${JSON.stringify(mine[i])}, scan ${JSON.stringify(theirs[i])}`)
          }
          continue
        }
        // The scanner throws on this file (a lexer error such as `123abc`). Check each of our
        // pieces alone: the scanner must see one statement spanning it exactly, and the text between
        // two pieces must hold only `;` and comments.
        piecewiseFiles++
        let previousEnd = 0
        for (const piece of mine) {
          const gap = text.slice(previousEnd, piece.start)
          const gapPieces = tryScannerPieces(gap)
          if (gapPieces === undefined || gapPieces.length > 0)
            mismatches.push(`${name}: text before offset ${piece.start} is not only ';' and comments`)
          const body = text.slice(piece.start, piece.end)
          const alone = tryScannerPieces(body)
          if (alone === undefined) {
            // The scanner rejects the statement itself. With no ';' in its text it cannot hide a cut.
            if (body.includes(';')) mismatches.push(`${name}: unscannable piece at ${piece.start} holds a ';'`)
            unscannable++
          } else if (alone.length !== 1 || alone[0]?.start !== 0 || alone[0]?.end !== body.length) {
            mismatches.push(`${name}: piece at ${piece.start} is ${JSON.stringify(alone)} to the scanner`)
          } else {
            piecewiseStatements++
          }
          previousEnd = piece.end
        }
        const tail = tryScannerPieces(text.slice(previousEnd))
        if (tail === undefined || tail.length > 0) mismatches.push(`${name}: text after the last piece`)
      }

      console.info(
        `lexer.corpus: ${files.length} files; ${wholeFiles} files (${wholeStatements} statements) compared whole with ` +
          `scanSync; ${piecewiseFiles} files where scanSync throws compared piece by piece (${piecewiseStatements} ` +
          `statements agree, ${unscannable} statements the scanner itself rejects hold no ';').`,
      )
      expect(mismatches).toEqual([])
      expect(files.length).toBeGreaterThanOrEqual(217)
      expect(wholeStatements + piecewiseStatements + unscannable).toBe(
        files.reduce((n, f) => n + splitStatements(f.text).length, 0),
      )
    })

    it('with { psql: true }, cuts where the parser cuts, on every file the grammar accepts whole', () => {
      let compared = 0
      let statements = 0
      const mismatches: string[] = []
      for (const { name, text } of files) {
        let tree: ReturnType<typeof parseSync>
        try {
          tree = parseSync(text)
        } catch {
          continue
        }
        compared++
        const map = byteToUtf16(text)
        const isSpace = (c: string) => ' \t\n\r\v\f'.includes(c)
        const theirs = (tree.stmts ?? []).map((raw) => {
          const location = raw.stmt_location ?? 0
          let start = map[location] ?? -1
          let end = raw.stmt_len !== undefined && raw.stmt_len > 0 ? (map[location + raw.stmt_len] ?? -1) : text.length
          while (start < end && isSpace(text.charAt(start))) start++
          while (end > start && isSpace(text.charAt(end - 1))) end--
          return { start, end }
        })
        statements += theirs.length
        const mine = splitStatements(text, { psql: true })
        if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
          const i = mine.findIndex((p, k) => p.start !== theirs[k]?.start || p.end !== theirs[k]?.end)
          mismatches.push(`${name}: piece ${i}: mine ${JSON.stringify(mine[i])}, parser ${JSON.stringify(theirs[i])}`)
        }
      }
      console.info(`lexer.corpus: psql mode compared with parseSync on ${compared} files (${statements} statements)`)
      expect(mismatches).toEqual([])
      expect(compared).toBeGreaterThan(100)
    })

    it('splits the whole corpus much faster than scanSync', () => {
      const time = (f: () => void, rounds: number) => {
        let best = Number.POSITIVE_INFINITY
        for (let round = 0; round < rounds; round++) {
          const t0 = performance.now()
          f()
          best = Math.min(best, performance.now() - t0)
        }
        return best
      }
      const split = time(() => {
        for (const { text } of files) splitStatements(text)
      }, 5)
      const scan = time(() => {
        for (const { text } of files) tryScannerPieces(text)
      }, 1)
      console.info(`lexer.corpus: splitStatements ${split.toFixed(1)} ms, scanSync ${scan.toFixed(1)} ms`)
      expect(split * 5).toBeLessThan(scan)
    })
  })
}
