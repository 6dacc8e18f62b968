/**
 * The parser floor: bare libpg-query (the package's own singleton), no classification. A file is parsed
 * whole; a file the grammar rejects is split at the scanner's `;` tokens (byte offsets) and each piece
 * is parsed alone, so a rejected statement costs what it costs the classifier to find it.
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const fromClassifier = createRequire(new URL('../../packages/classifier/package.json', import.meta.url))

/** libpg-query as the classifier resolves it (same version, same WebAssembly file). */
export async function loadLibpgQuery() {
  const lib = await import(pathToFileURL(fromClassifier.resolve('libpg-query')).href)
  await lib.loadModule()
  return lib
}

const SEMICOLON = 59

/**
 * Parses one file's text: whole, or piece by piece when rejected. Returns the number of statements
 * (parsed ones plus rejected pieces) and how the file was read: `whole`, `scan` (split at the scanner's
 * semicolons) or `lines` (the scanner itself rejects the text, in 2 corpus files: split at semicolons
 * that end a line, then each piece is read the same way, a cheaper split than the classifier's).
 */
export function floorParse(lib, text, nested = false) {
  try {
    const tree = lib.parseSync(text)
    return { statements: tree.stmts?.length ?? 0, how: 'whole' }
  } catch {
    // rejected somewhere: split below
  }
  let tokens
  try {
    tokens = lib.scanSync(text).tokens
  } catch {
    if (nested) return { statements: 1, how: 'lines' }
    let statements = 0
    for (const piece of text.split(/;[ \t]*\r?\n/)) {
      if (piece.trim() !== '') statements += floorParse(lib, piece, true).statements
    }
    return { statements, how: 'lines' }
  }
  const bytes = Buffer.from(text, 'utf8')
  let statements = 0
  let start = 0
  let meaningful = 0
  const flush = (end) => {
    if (meaningful > 0) {
      statements++
      try {
        lib.parseSync(bytes.toString('utf8', start, end))
      } catch {
        // a rejected statement: counted, not parsed
      }
    }
    start = end
    meaningful = 0
  }
  for (const token of tokens) {
    if (token.end - token.start === 1 && bytes[token.start] === SEMICOLON) flush(token.end)
    else if (token.tokenName !== 'SQL_COMMENT' && token.tokenName !== 'C_COMMENT') meaningful++
  }
  flush(bytes.length)
  return { statements, how: 'scan' }
}
