import type { VariableSetStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { unwrap } from '../walk.js'
import { defElem } from './util.js'

const GUARDS = new Set(['session_replication_role', 'row_security', 'check_function_bodies'])
const READ_ONLY = new Set(['default_transaction_read_only', 'transaction_read_only'])

function firstArg(s: VariableSetStmt): string {
  const a = unwrap(s.args?.[0])
  if (a?.[0] !== 'A_Const') return ''
  const c = a[1] as { sval?: { sval?: string }; boolval?: { boolval?: boolean }; ival?: { ival?: number } }
  if (c.sval !== undefined) return String(c.sval.sval ?? '').toLowerCase()
  if (c.boolval !== undefined) return String(c.boolval.boolval === true)
  if (c.ival !== undefined) return String(c.ival.ival ?? 0)
  return ''
}

/** Settings that turn off read-only mode, triggers or constraint checks; RESET ALL. */
export const unsafeSetting = defineRule<VariableSetStmt>({
  id: 'unsafe-setting',
  tier: 'cautious',
  kinds: ['VariableSetStmt'],
  check: (s) => {
    const name = String(s.name ?? '').toLowerCase()
    if (s.kind === 'VAR_RESET_ALL') return 'RESET ALL'
    if (GUARDS.has(name)) return name
    if (READ_ONLY.has(name)) {
      const v = firstArg(s)
      return v === 'on' || v === 'true' || v === '1' || v === 'yes' ? undefined : name
    }
    if (name === 'transaction' || name === 'session characteristics') {
      const ro = defElem(s.args, 'transaction_read_only')
      if (ro === undefined) return undefined
      const arg = unwrap(ro.arg)
      const v = arg?.[0] === 'A_Const' ? JSON.stringify(arg[1]) : ''
      return v.includes('"ival":1') || v.includes('true') ? undefined : `${name} READ WRITE`
    }
    return undefined
  },
  message: (t) => `SET ${t} can turn off a protection (read-only mode, triggers and foreign keys, row security).`,
  hint: 'Leave protective settings at their defaults; if a load needs them changed, an operator runs it by hand.',
})
