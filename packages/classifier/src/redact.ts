import { tokenize } from './lexer.js'

/** Words after which the next string literal is a secret: `PASSWORD 'x'`, `CONNECTION 'host=... password=...'`. */
const SECRET_KEYWORDS = new Set(['password', 'connection'])

function looksSecret(literal: string): boolean {
  const lower = literal.toLowerCase()
  return lower.includes('password') || /:\/\/[^/\s:@]*:[^@\s]*@/.test(literal)
}

/**
 * Replaces secrets in SQL with `'***'`, reading tokens (never raw text): the literal after PASSWORD
 * (CREATE/ALTER ROLE/USER, user mappings), after CONNECTION (subscriptions), and any literal that
 * holds a connection string with a password or a `password=` setting. With `literals: true`, every
 * string literal is replaced. Never throws.
 *
 * @example
 * redactSql("CREATE ROLE app LOGIN PASSWORD 'hunter2'") // "CREATE ROLE app LOGIN PASSWORD '***'"
 */
export function redactSql(sql: string, options: { readonly literals?: boolean } = {}): string {
  const tokens = tokenize(sql)
  let out = ''
  let last = 0
  let previousWord = ''
  for (const token of tokens) {
    if (token.type === 'comment') continue
    const text = sql.slice(token.start, token.end)
    if (token.type === 'string' || token.type === 'dollar-string' || token.type === 'unterminated') {
      if (options.literals === true || SECRET_KEYWORDS.has(previousWord) || looksSecret(text)) {
        out += `${sql.slice(last, token.start)}'***'`
        last = token.end
      }
    }
    previousWord =
      token.type === 'word' ? text.toLowerCase() : token.type === 'punct' && text === '(' ? previousWord : ''
  }
  return out + sql.slice(last)
}
