import type { VariableSetStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { unwrap } from '../walk.js'
import { defElem } from './util.js'

const GUARDS = new Set(['session_replication_role', 'row_security', 'check_function_bodies', 'allow_system_table_mods'])
/** The executor's own limits: turning them off (0, DEFAULT, RESET) lets a statement hold its locks without end. */
const TIMEOUTS = new Set([
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'transaction_timeout',
])

/** True when a timeout value is zero (`0`, `'0'`, `'0ms'`, `'0 s'`): no limit. */
function zero(value: string): boolean {
  return /^\s*0+(\.0*)?\s*(us|ms|s|min|h|d)?\s*$/i.test(value)
}

/** The schemas of a `SET search_path` value, lower-case, in order. */
function searchPath(s: VariableSetStmt): string[] {
  return (s.args ?? []).map((a) => {
    const w = unwrap(a)
    const c = w?.[0] === 'A_Const' ? (w[1] as { sval?: { sval?: string } }) : undefined
    return String(c?.sval?.sval ?? '?').toLowerCase()
  })
}
const READ_ONLY = new Set(['default_transaction_read_only', 'transaction_read_only'])

function firstArg(s: VariableSetStmt): string {
  const a = unwrap(s.args?.[0])
  if (a?.[0] !== 'A_Const') return ''
  const c = a[1] as {
    sval?: { sval?: string }
    boolval?: { boolval?: boolean }
    ival?: { ival?: number }
    fval?: { fval?: string }
  }
  if (c.sval !== undefined) return String(c.sval.sval ?? '').toLowerCase()
  if (c.fval !== undefined) return String(c.fval.fval ?? '0')
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
    if (TIMEOUTS.has(name)) {
      if (s.kind === 'VAR_RESET' || s.kind === 'VAR_SET_DEFAULT') return `${name} to its default`
      return zero(firstArg(s)) ? `${name} = 0` : undefined
    }
    if (name === 'search_path') {
      // pg_catalog is searched first unless the path names it later: then `lower()` may be someone's.
      const path = searchPath(s)
      const at = path.indexOf('pg_catalog')
      return at > 0 || path.includes('?') ? `search_path = ${path.join(', ')}` : undefined
    }
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
  message: (t) =>
    `SET ${t} can turn off a protection (read-only mode, triggers and foreign keys, row security, the timeouts that bound locks, which functions a name resolves to).`,
  hint: 'Leave protective settings at their defaults; if a load needs them changed, an operator runs it by hand.',
})
