import { isUtf8 } from 'node:buffer'
import { readFile } from 'node:fs/promises'
import { err, ok, type Result, ResultAsync } from 'neverthrow'
import { InputError } from './errors.js'

/** 1-based line and column of a UTF-16 offset in `text`. Never throws. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  const end = Math.min(Math.max(offset, 0), text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: end - lineStart + 1 }
}

/**
 * Checks SQL text before it is classified: not empty, no NUL byte (Postgres cannot receive one), no
 * unpaired surrogate (not valid Unicode). Fails with `InputError` saying where and what to do. Never throws.
 */
export function checkSqlText(sql: string, path?: string): Result<string, InputError> {
  const from = path !== undefined ? ` in ${path}` : ''
  if (typeof sql !== 'string') {
    return err(new InputError('The SQL must be a string.', { problem: 'options', path }))
  }
  if (sql.trim() === '') {
    return err(new InputError(`No SQL to run${from}: the input is empty.`, { problem: 'empty', path }))
  }
  const nul = sql.indexOf('\u0000')
  if (nul !== -1) {
    const at = lineColumn(sql, nul)
    return err(
      new InputError(
        `The SQL${from} contains a NUL byte at line ${at.line}, column ${at.column}; Postgres cannot receive it. ` +
          'If this is a file, it may be binary or UTF-16: save it as UTF-8 text.',
        { problem: 'nul-byte', ...at, path },
      ),
    )
  }
  const bad = firstLoneSurrogate(sql)
  if (bad < sql.length) {
    const at = lineColumn(sql, bad)
    return err(
      new InputError(
        `The SQL${from} is not valid Unicode (an unpaired surrogate at line ${at.line}, column ${at.column}). ` +
          'Fix the text where it was built or decoded.',
        { problem: 'invalid-unicode', ...at, path },
      ),
    )
  }
  return ok(sql)
}

/**
 * Decodes the bytes of a SQL file as strict UTF-8 (a UTF-8 byte-order mark is dropped). Fails with
 * `InputError` for UTF-16 or invalid UTF-8, naming the line and the byte. Never throws.
 */
export function decodeSql(bytes: Uint8Array, path: string): Result<string, InputError> {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return err(
      new InputError(`${path} is UTF-16 text; safe-ddl reads UTF-8. Convert it, e.g. iconv -f UTF-16 -t UTF-8.`, {
        problem: 'utf16',
        path,
      }),
    )
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  const body = bytes.subarray(start)
  if (!isUtf8(body)) {
    const offset = firstInvalidUtf8(body)
    let line = 1
    let lineStart = 0
    for (let i = 0; i < offset; i++) {
      if (body[i] === 10) {
        line++
        lineStart = i + 1
      }
    }
    const byte = body[offset] ?? 0
    return err(
      new InputError(
        `${path} is not valid UTF-8: byte 0x${byte.toString(16).padStart(2, '0')} at line ${line} ` +
          `(byte ${offset - lineStart + 1} of the line). Save the file as UTF-8 (it may be Latin-1 or binary).`,
        { problem: 'invalid-utf8', line, path },
      ),
    )
  }
  return ok(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
}

/**
 * Reads a `.sql` file as strict UTF-8 and checks it with {@link checkSqlText}. Fails with `InputError`
 * (unreadable, UTF-16, invalid UTF-8, empty, NUL byte). Never throws.
 *
 * @example
 * const sql = await readSqlFile('migrations/001_users.sql') // ResultAsync<string, InputError>
 */
export function readSqlFile(path: string): ResultAsync<string, InputError> {
  return ResultAsync.fromPromise(
    readFile(path),
    (error) =>
      new InputError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, {
        problem: 'unreadable',
        path,
      }),
  ).andThen((bytes) => decodeSql(bytes, path).andThen((sql) => checkSqlText(sql, path)))
}

function firstLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
      return i
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i
  }
  return text.length
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i] ?? 0
    let need: number
    let min: number
    if (b < 0x80) {
      i++
      continue
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1
      min = 0x80
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      min = 0x800
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      min = 0x10000
    } else {
      return i
    }
    let cp = b & (0xff >> (need + 2))
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]
      if (c === undefined || (c & 0xc0) !== 0x80) return i
      cp = (cp << 6) | (c & 0x3f)
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i
    i += need + 1
  }
  return bytes.length
}
