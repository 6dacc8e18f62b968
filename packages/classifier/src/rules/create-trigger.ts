import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** CREATE TRIGGER runs a function on every matching write; safe only when that function was shown harmless in the script. */
export const createTrigger = defineRule<Fields>({
  id: 'create-trigger',
  tier: 'cautious',
  kinds: ['CreateTrigStmt'],
  check: (s, ctx) => {
    const fn = Array.isArray(s.funcname)
      ? String((s.funcname.at(-1) as { String?: { sval?: string } })?.String?.sval ?? '')
      : ''
    return ctx.script.functions.get(fn.toLowerCase()) === 'safe' ? undefined : String(s.trigname ?? 'trigger')
  },
  message: (t) =>
    `CREATE TRIGGER ${t} runs a function on every matching write from now on, and that function was not shown harmless in this script.`,
  hint: 'Define the trigger function in the same script so its body is classified, or review it and run with confirm.',
})
