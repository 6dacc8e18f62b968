import type { FuncCall } from '@pgsql/types'
import { DANGEROUS_FUNCTIONS, functionKey, PROTECTIVE_SETTINGS } from '../functions.js'
import { defineRule } from '../rule.js'
import { lastName, nameOf, unwrap } from '../walk.js'

function settingName(call: FuncCall): string | undefined {
  const first = unwrap(call.args?.[0])
  if (first?.[0] !== 'A_Const') return undefined
  const sval = first[1].sval as { sval?: string } | undefined
  return sval?.sval?.toLowerCase()
}

/** Built-ins that kill sessions, delete large objects, reach server files or other servers, or run SQL text. */
export const dangerousFunction = defineRule<FuncCall>({
  id: 'dangerous-function',
  tier: 'destructive',
  kinds: ['FuncCall'],
  check: (call) => {
    const key = functionKey(lastName(call.funcname))
    if (DANGEROUS_FUNCTIONS.has(key)) return nameOf(call.funcname)
    if (key === 'set_config') {
      const setting = settingName(call)
      // A setting we cannot read, or one that guards data, makes set_config dangerous.
      if (setting === undefined || PROTECTIVE_SETTINGS.has(setting))
        return `${nameOf(call.funcname)}(${setting ?? '?'})`
    }
    return undefined
  },
  message: (t) => {
    const key = functionKey(t.split('(')[0]?.split('.').pop() ?? t)
    const what = DANGEROUS_FUNCTIONS.get(key) ?? 'changes a setting that protects data (read-only mode, triggers, role)'
    return `${t} ${what}.`
  },
  hint: 'Do this by hand as an operator, outside safe-ddl, after checking what it touches.',
})
