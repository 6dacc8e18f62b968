import { tokenize } from '../lexer.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** NAMEDATALEN - 1: the bytes Postgres keeps of an identifier. */
const MAX_IDENTIFIER_BYTES = 63
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The identifier as Postgres stores it: its first 63 bytes, cut at a character boundary. */
export function truncateIdentifier(name: string): string {
  const bytes = encoder.encode(name)
  if (bytes.length <= MAX_IDENTIFIER_BYTES) return name
  let end = MAX_IDENTIFIER_BYTES
  // Back off from the middle of a multibyte character (continuation bytes are 10xxxxxx).
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--
  return decoder.decode(bytes.slice(0, end))
}

const MAY_HOLD_LONG_IDENTIFIER = /"|[A-Za-z0-9_$]{64}|[^\t\n\r -~]/

/**
 * Identifiers of a statement longer than 63 bytes, as Postgres reads them (unquoted words folded to
 * lower case, quoted ones unescaped). The parser has already truncated them in the tree, so they are
 * read from the statement's tokens.
 */
function longIdentifiers(text: string): string[] {
  // An identifier over 63 bytes is quoted, holds a non-ASCII letter, or is a run of 64 ASCII
  // identifier characters: most statements have none of these and are not tokenized.
  if (!MAY_HOLD_LONG_IDENTIFIER.test(text)) return []
  const out: string[] = []
  for (const token of tokenize(text)) {
    if (token.end - token.start <= MAX_IDENTIFIER_BYTES / 4 && token.type !== 'quoted-ident') continue
    let name: string
    if (token.type === 'word') name = text.slice(token.start, token.end).toLowerCase()
    else if (token.type === 'quoted-ident') name = text.slice(token.start + 1, token.end - 1).replaceAll('""', '"')
    else continue
    if (encoder.encode(name).length > MAX_IDENTIFIER_BYTES && !out.includes(name)) out.push(name)
  }
  return out
}

/** Statements that create or rename something, where a long name is given to an object. */
const KINDS = [
  'CreateStmt',
  'IndexStmt',
  'AlterTableStmt',
  'ViewStmt',
  'CreateSeqStmt',
  'CreateTableAsStmt',
  'CreateFunctionStmt',
  'CreatePolicyStmt',
  'CreateTrigStmt',
  'CreateSchemaStmt',
  'CreateEnumStmt',
  'CompositeTypeStmt',
  'CreateDomainStmt',
  'RenameStmt',
]

/** What check() learned, for the message: for each long name, an earlier one it collides with. */
const collisions = new WeakMap<object, Map<string, string>>()

/** Identifiers over 63 bytes: Postgres silently keeps the first 63, and two such names can collide. */
export const identifierTooLong = defineRule<Fields>({
  id: 'identifier-too-long',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: KINDS,
  check: (node, ctx) => {
    if (ctx.ancestors.length > 0) return undefined
    const names = longIdentifiers(ctx.text)
    const clashes = new Map<string, string>()
    for (const name of names) {
      const truncated = truncateIdentifier(name)
      const earlier = ctx.script.identifiers.get(truncated)
      if (earlier !== undefined && earlier !== name) clashes.set(name, earlier)
      else ctx.script.identifiers.set(truncated, name)
    }
    collisions.set(node, clashes)
    return names
  },
  message: (name, node) => {
    const truncated = truncateIdentifier(name)
    const bytes = encoder.encode(name).length
    const earlier = collisions.get(node)?.get(name)
    const clash =
      earlier === undefined
        ? ''
        : ` It collides with ${earlier}, named earlier in the script, which truncates to the same name: the statement fails with "already exists", or acts on the other object.`
    return `Identifier ${name} is ${bytes} bytes; Postgres keeps the first ${MAX_IDENTIFIER_BYTES} and names it ${truncated}, with only a NOTICE.${clash}`
  },
  hint: 'Use a name of at most 63 bytes, so the name in the catalog is the one in the migration and in the app.',
})
