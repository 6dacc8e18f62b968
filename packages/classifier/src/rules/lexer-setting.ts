import type { VariableSetStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { unwrap } from '../walk.js'

function value(s: VariableSetStmt): string {
  const a = unwrap(s.args?.[0])
  if (a?.[0] !== 'A_Const') return ''
  const c = a[1] as { sval?: { sval?: string }; boolval?: { boolval?: boolean } }
  return (c.sval?.sval ?? (c.boolval !== undefined ? String(c.boolval.boolval === true) : '')).toLowerCase()
}

/**
 * Settings that change how the server reads later SQL text: with standard_conforming_strings off, or
 * a client encoding where a backslash can be part of a character (SJIS, BIG5, GBK), the server would
 * read a statement differently from how safe-ddl read it.
 */
export const lexerSetting = defineRule<VariableSetStmt>({
  id: 'lexer-setting',
  tier: 'destructive',
  kinds: ['VariableSetStmt'],
  check: (s) => {
    const name = String(s.name ?? '').toLowerCase()
    if (s.kind === 'VAR_RESET' || s.kind === 'VAR_SET_DEFAULT') return undefined
    if (name === 'standard_conforming_strings') return ['on', 'true', '1', 'yes'].includes(value(s)) ? undefined : name
    if (name === 'client_encoding' || name === 'names') {
      const v = value(s).replace(/[-_]/g, '')
      return v === 'utf8' || v === 'unicode' ? undefined : `${name} ${v}`
    }
    if (name === 'backslash_quote') return name
    return undefined
  },
  message: (t) =>
    `SET ${t} changes how the server reads later SQL text, so it would no longer read what safe-ddl checked.`,
  hint: 'Keep standard_conforming_strings on and the client encoding UTF8; escape strings in the SQL instead.',
})
